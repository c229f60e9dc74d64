/* Node busy time per CPU from /proc/stat, read incrementally: a poll parses
 * again only the cpu lines' numbers whose bytes changed. */
#include "activity_state.h"

#include <errno.h>
#include <string.h>

/* 1: the cpu lines did not all fit in the buffer; 0: parsed; -1: bad. */
static int _stat_full(fp_activity_t *a, const char *nb, size_t n,
		      size_t *bad_at)
{
	struct numfile *f = &a->stat;
	size_t p = 0, ncpu_lines = 0;
	bool eof = n < f->cap;

	f->ntok = 0;
	f->base = 0;
	for (size_t c = 0; c < a->ncpus; c++)
		a->cpu_tok[c] = -1;
	/* the all-CPU line is skipped: the region starts after it */
	if (n >= 4 && !memcmp(nb, "cpu ", 4)) {
		const char *nl = memchr(nb, '\n', n);

		if (!nl)
			return eof ? -1 : 1;
		f->base = p = (size_t)(nl - nb) + 1;
	}
	while (p < n) {
		const char *nl;
		size_t le, t0, nf;
		uint64_t id = 0;

		if (n - p < 4) {
			if (!eof)
				return 1;
			break;
		}
		if (memcmp(nb + p, "cpu", 3) || nb[p + 3] < '0' ||
		    nb[p + 3] > '9')
			break;
		nl = memchr(nb + p, '\n', n - p);
		if (!nl && !eof)
			return 1;
		le = nl ? (size_t)(nl - nb) + 1 : n;
		t0 = f->ntok;
		if (fp_numfile_tokenize(f, nb, p, le))
			return -2;
		nf = f->ntok - t0 - 1;
		if (fp_numfile_digits(nb + p + 3, &id) !=
			    f->tok[t0].end - f->tok[t0].off - 3 ||
		    nf < 4 || nf > 255) {
			*bad_at = p;
			return -1;
		}
		for (size_t t = t0 + 1; t < f->ntok; t++)
			if (!f->tok[t].num) {
				*bad_at = f->tok[t].off;
				return -1;
			}
		if (id < a->ncpus) {
			if (a->cpu_tok[id] >= 0) {
				*bad_at = p;
				return -1;
			}
			a->cpu_tok[id] = (int)t0;
			a->cpu_nf[id] = (uint8_t)nf;
		}
		ncpu_lines++;
		p = le;
	}
	if (p >= n && !eof)
		return 1;
	if (!ncpu_lines) {
		*bad_at = p;
		return -1;
	}
	f->plen = p;
	f->tok[f->ntok].off = (uint32_t)p;
	return 0;
}

/* Whether the new bytes keep the last layout's frame: same all-CPU line
 * length, the cpu lines end where they ended, and no cpu line follows. */
static bool _stat_same_frame(const struct numfile *f, const char *nb, size_t n)
{
	if (f->base && (f->base > n || nb[f->base - 1] != '\n' ||
			memchr(nb, '\n', f->base - 1)))
		return false;
	if (f->plen > n || nb[f->plen - 1] != '\n')
		return false;
	if (f->plen == n)
		return n < f->cap;
	return n - f->plen >= 3 && memcmp(nb + f->plen, "cpu", 3);
}

static uint64_t _ticks_ns(const fp_activity_t *a, uint64_t ticks)
{
	if (a->tick_ns)
		return ticks * a->tick_ns;
	return ticks / (uint64_t)a->hz * 1000000000ULL +
	       ticks % (uint64_t)a->hz * 1000000000ULL / (uint64_t)a->hz;
}

int fp_activity_stat_read(fp_activity_t *a, fp_error_t *err)
{
	struct numfile *f = &a->stat;

	for (;;) {
		ssize_t n = fp_numfile_read(f, &a->rbuf, &a->rcap, false);
		const char *nb = a->rbuf;
		size_t bad_at = 0;
		int r;

		if (n < 0)
			return fp_error_set(
				err, errno == ENOMEM ? FP_ENOMEM : FP_EIO,
				"%s: read: %s", a->proc_stat, strerror(errno));
		if (f->parsed && _stat_same_frame(f, nb, (size_t)n) &&
		    fp_numfile_update(f, nb))
			break;
		f->parsed = false;
		r = _stat_full(a, nb, (size_t)n, &bad_at);
		if (r == 1) {
			f->cap *= 2;
			continue;
		}
		if (r == -1)
			return fp_error_set(
				err, FP_EPARSE,
				"%s: byte %zu: not a 'cpuN user nice "
				"system idle ...' line",
				a->proc_stat, bad_at);
		if (r == -2 || fp_numfile_keep(f, nb, f->plen) ||
		    fp_numfile_index(f))
			return fp_error_set(err, FP_ENOMEM, "%s: out of memory",
					    a->proc_stat);
		f->parsed = true;
		break;
	}
	for (size_t c = 0; c < a->ncpus; c++) {
		const struct tok *v;
		uint64_t ticks;
		unsigned nf;

		if (a->cpu_tok[c] < 0)
			continue; /* offline: keep the last value */
		v = f->tok + a->cpu_tok[c] + 1;
		nf = a->cpu_nf[c];
		/* user nice system idle iowait irq softirq steal guest
		 * guest_nice: guest is already inside user */
		ticks = v[0].val + v[1].val + v[2].val;
		for (unsigned k = 5; k < 8 && k < nf; k++)
			ticks += v[k].val;
		a->busy_ns[c] = _ticks_ns(a, ticks);
	}
	return 0;
}
