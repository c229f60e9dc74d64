/* Reading the compact form (docs/trace-format.md, "Compact traces"): a step's
 * cpu_ns_moved applied to its counters of the previous sample. */
#include "trace_scan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A step's "cpu_ns_moved": [[cpu, value], ...], each cpu once and in
 * increasing order, into r->moves; applied by fp_trace_compact_step_base once the whole
 * step is read (its id may come after it). */
int fp_trace_compact_step_moves(fp_trace_reader_t *r, const char *field)
{
	size_t cpus = r->desc->cpus;
	bool first = true;
	int e;

	r->nmoves = 0;
	fp_trace_scan_ws(r);
	/* as the writer writes them, digits, commas and brackets only, by a
	 * loop of their own (the line ends in a newline or NUL, neither of
	 * which it takes); at anything else, or a pair it would refuse, the
	 * general scanner reads them again from the start and says why */
	if (r->p < r->end && *r->p == '[') {
		const char *q = r->p + 1;

		if (*q == ']') {
			r->p = q + 1;
			return 0;
		}
		while (*q == '[') {
			uint64_t x[2];

			for (int k = 0; k < 2; k++) {
				const char *d = ++q;

				if ((unsigned)(*q - '0') > 9)
					goto slow;
				x[k] = (uint64_t)(*q++ - '0');
				if (x[k]) {
					while ((unsigned)(*q - '0') <= 9)
						x[k] = x[k] * 10 +
						       (uint64_t)(*q++ - '0');
					if (q - d > 19)
						goto slow;
				}
				if (*q != (k ? ']' : ','))
					goto slow;
			}
			if (x[0] >= cpus ||
			    (r->nmoves && x[0] <= r->moves[2 * r->nmoves - 2]))
				goto slow;
			r->moves[2 * r->nmoves] = x[0];
			r->moves[2 * r->nmoves + 1] = x[1];
			r->nmoves++;
			q++;
			if (*q == ']') {
				r->p = q + 1;
				return 0;
			}
			if (*q != ',')
				goto slow;
			q++;
		}
slow:
		r->nmoves = 0;
	}
	while ((e = fp_trace_scan_element(r, &first, "cpu_ns_moved")) > 0) {
		uint64_t c = 0, v = 0;

		if (fp_trace_scan_expect(r, '[', "cpu_ns_moved"))
			return fp_trace_scan_fault(r, "%s.cpu_ns_moved: %s",
						   field, r->fault);
		fp_trace_scan_ws(r);
		if (fp_trace_scan_u64(r, &c, "cpu_ns_moved"))
			return fp_trace_scan_fault(r, "%s.%s", field, r->fault);
		if (fp_trace_scan_expect(r, ',', "cpu_ns_moved"))
			return fp_trace_scan_fault(
				r,
				"%s.cpu_ns_moved: %s (a [cpu, value] "
				"pair)",
				field, r->fault);
		fp_trace_scan_ws(r);
		if (fp_trace_scan_u64(r, &v, "cpu_ns_moved"))
			return fp_trace_scan_fault(r, "%s.%s", field, r->fault);
		if (fp_trace_scan_expect(r, ']', "cpu_ns_moved"))
			return fp_trace_scan_fault(
				r,
				"%s.cpu_ns_moved: %s (a [cpu, value] "
				"pair)",
				field, r->fault);
		if (c >= cpus)
			return fp_trace_scan_fault(
				r,
				"%s.cpu_ns_moved: cpu %" PRIu64
				" out of range (cpus %zu)",
				field, c, cpus);
		if (r->nmoves && c <= r->moves[2 * r->nmoves - 2])
			return fp_trace_scan_fault(
				r,
				"%s.cpu_ns_moved: cpu %" PRIu64
				" after cpu %" PRIu64 " (each cpu once, "
				"in increasing order)",
				field, c, r->moves[2 * r->nmoves - 2]);
		r->moves[2 * r->nmoves] = c;
		r->moves[2 * r->nmoves + 1] = v;
		r->nmoves++;
	}
	return e;
}

/* Step i has cpu_ns_moved: it takes back its array of the previous sample
 * (the same index, as steps mostly stay where they were, else found by id)
 * and its moved counters are written into it. */
int fp_trace_compact_step_base(fp_trace_reader_t *r, size_t i,
			       const char *field)
{
	fp_step_sample_t *st = &r->pool[i];
	size_t j = r->nbase;
	uint64_t *b;

	if (i < r->nbase && !strcmp(r->base_id[i], st->id))
		j = i;
	else
		for (j = 0; j < r->nbase; j++)
			if (!strcmp(r->base_id[j], st->id))
				break;
	if (j == r->nbase)
		return fp_trace_scan_fault(
			r,
			"%s (%s): cpu_ns_moved, but the step is not "
			"in the previous sample%s: nothing to apply it "
			"to (a keyframe is missing)",
			field, st->id,
			!r->first ? ""
				  : " (none: the file's first sample must be "
				    "whole)");
	if (!r->base[j])
		return fp_trace_scan_fault(r, "step %s listed twice", st->id);
	/* room for it was made in fp_trace_compact_rotate */
	r->spare[r->nspare++] = st->cpu_ns;
	st->cpu_ns = b = r->base[j];
	r->base[j] = NULL;
	for (size_t k = 0; k < r->nmoves; k++)
		b[r->moves[2 * k]] = r->moves[2 * k + 1];
	return 0;
}

/* Room for n more pointers in r->spare. */
static int _spare_reserve(fp_trace_reader_t *r, size_t n)
{
	size_t cap = r->sparecap ? r->sparecap : 16;
	uint64_t **g;

	if (r->nspare + n <= r->sparecap)
		return 0;
	while (cap < r->nspare + n)
		cap *= 2;
	g = realloc(r->spare, cap * sizeof(*g));
	if (!g)
		return fp_trace_scan_fault(r, "out of memory");
	r->spare = g;
	r->sparecap = cap;
	return 0;
}

/* A compact trace, before a sample: the previous sample's steps' arrays
 * and ids are set aside as the bases of cpu_ns_moved (none at the start of
 * a file), and the pool gets spare arrays for the steps written whole. */
int fp_trace_compact_rotate(fp_trace_reader_t *r)
{
	size_t n = r->file_start ? 0 : r->sample->nsteps;
	size_t cpus = r->desc->cpus;

	r->first = r->file_start;
	r->file_start = false;
	r->nbase = 0;
	/* each base goes back to the spares once, or a step's array in its
	 * place (fp_trace_compact_step_base) */
	if (_spare_reserve(r, n))
		return -1;
	if (n > r->basecap) {
		uint64_t **b = realloc(r->base, n * sizeof(*b));
		char **id;
		size_t *cap;

		if (b)
			r->base = b;
		id = realloc(r->base_id, n * sizeof(*id));
		if (id)
			r->base_id = id;
		cap = realloc(r->base_idcap, n * sizeof(*cap));
		if (cap)
			r->base_idcap = cap;
		if (!b || !id || !cap)
			return fp_trace_scan_fault(r, "out of memory");
		for (size_t k = r->basecap; k < n; k++) {
			r->base[k] = NULL;
			r->base_id[k] = NULL;
			r->base_idcap[k] = 0;
		}
		r->basecap = n;
	}
	for (size_t k = 0; k < n; k++) {
		fp_step_sample_t *st = &r->pool[k];
		uint64_t *b = r->nspare ? r->spare[--r->nspare]
					: malloc(cpus * sizeof(*b));
		char *id = r->base_id[k];
		size_t cap = r->base_idcap[k];

		if (!b)
			return fp_trace_scan_fault(r, "out of memory");
		r->base[k] = st->cpu_ns;
		st->cpu_ns = b;
		/* the id is written again as the sample is read */
		r->base_id[k] = st->id;
		r->base_idcap[k] = r->idcap[k];
		st->id = id;
		r->idcap[k] = cap;
		r->nbase = k + 1;
	}
	return 0;
}

/* After a sample of a compact trace: the bases its steps did not take back
 * are spare. */
void fp_trace_compact_settle(fp_trace_reader_t *r)
{
	for (size_t k = 0; k < r->nbase; k++) {
		if (r->base[k])
			r->spare[r->nspare++] = r->base[k];
		r->base[k] = NULL;
	}
	r->nbase = 0;
}
