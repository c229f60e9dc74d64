/* The aggregate table of many jobs (sfootprint -u/-A/-S/-E): sacct-like
 * columns and a TOTAL line, as text, parsable text or JSON. */
#include "footprint/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report_parts.h"

enum {
	COL_JOB,
	COL_NAME,
	COL_USER,
	COL_ACCOUNT,
	COL_STATE,
	COL_EXIT,
	COL_START,
	COL_END,
	COL_ELAPSED,
	COL_CPUS,
	COL_CPUTIME,
	COL_CPUEFF,
	COL_CONSUMED,
	COL_ENERGY,
	COL_FOOTPRINT,
	COL_AVOIDED,
	COL_NET,
	COL_REFERENCE,
	COL_SOURCE,
	NCOLS
};

/* name: -o and sacct -p's header (no parentheses); header: the text's. */
static const struct column {
	const char *name, *header;
	bool right, summed;
} columns[NCOLS] = {
	[COL_JOB] = { "JobID", "JobID", false, false },
	[COL_NAME] = { "JobName", "JobName", false, false },
	[COL_USER] = { "User", "User", false, false },
	[COL_ACCOUNT] = { "Account", "Account", false, false },
	[COL_STATE] = { "State", "State", false, false },
	[COL_EXIT] = { "ExitCode", "ExitCode", false, false },
	[COL_START] = { "Start", "Start", false, false },
	[COL_END] = { "End", "End", false, false },
	[COL_ELAPSED] = { "Elapsed", "Elapsed", true, false },
	[COL_CPUS] = { "AllocCPUS", "AllocCPUS", true, false },
	[COL_CPUTIME] = { "TotalCPU", "TotalCPU", true, false },
	[COL_CPUEFF] = { "CPUEff", "CPUEff", true, false },
	[COL_CONSUMED] = { "ConsumedEnergy", "ConsumedEnergy(J)", true, true },
	[COL_ENERGY] = { "EnergyWh", "Energy(Wh)", true, true },
	[COL_FOOTPRINT] = { "FootprintG", "Footprint(g)", true, true },
	[COL_AVOIDED] = { "AvoidedG", "Avoided(g)", true, true },
	[COL_NET] = { "NetG", "Net(g)", true, true },
	[COL_REFERENCE] = { "ReferenceG", "Reference(g)", true, true },
	[COL_SOURCE] = { "Source", "Source", false, false },
};

#define CELL 160

typedef struct row {
	char *job, *user, *account; /* as given: escaped when written */
	bool has;
	fp_record_t rec;
	bool has_acct;
	char *name, *state;
	int exit_code, exit_signal;
	time_t start, end;
	double elapsed_s, cpu_time_s, alloc_cpus, energy_j;
} row_t;

struct fp_report_table {
	row_t *rows;
	size_t n, cap;
	int cols[NCOLS];
	size_t ncols;
	bool noheader;
};

static int _set_columns(fp_report_table_t *t, const char *csv, fp_error_t *err)
{
	char *copy = strdup(csv), *p, *tok;
	int cols[NCOLS];
	size_t n = 0;

	if (!copy)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	for (p = copy; (tok = strsep(&p, ","));) {
		int c;

		tok += strspn(tok, " \t");
		tok[strcspn(tok, " \t")] = '\0';
		for (c = 0; c < NCOLS; c++)
			if (!strcasecmp(tok, columns[c].name))
				break;
		if (c == NCOLS || n == NCOLS) {
			fp_error_set(err, FP_EPARSE,
				     "format '%s': %s '%s'; the "
				     "columns are " FP_REPORT_COLUMNS,
				     csv,
				     c == NCOLS ? "no column"
						: "too many columns at",
				     tok);
			free(copy);
			return -1;
		}
		cols[n++] = c;
	}
	free(copy);
	memcpy(t->cols, cols, n * sizeof(*cols));
	t->ncols = n;
	return 0;
}

fp_report_table_t *fp_report_table_new(void)
{
	fp_report_table_t *t = calloc(1, sizeof(fp_report_table_t));

	if (t && _set_columns(t, FP_REPORT_DEFAULT_COLUMNS, NULL)) {
		free(t);
		return NULL;
	}
	return t;
}

int fp_report_table_set_format(fp_report_table_t *t, const char *columns,
			       fp_error_t *err)
{
	fp_error_clear(err);
	return _set_columns(t, columns ? columns : "", err);
}

void fp_report_table_set_noheader(fp_report_table_t *t, bool noheader)
{
	t->noheader = noheader;
}

static void _row_free(row_t *r)
{
	free(r->job);
	free(r->user);
	free(r->account);
	free(r->name);
	free(r->state);
}

void fp_report_table_free(fp_report_table_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		_row_free(&t->rows[i]);
	free(t->rows);
	free(t);
}

size_t fp_report_table_rows(const fp_report_table_t *t)
{
	return t->n;
}

int fp_report_table_add(fp_report_table_t *t, const char *job, const char *user,
			const char *account, const fp_record_t *rec,
			const fp_report_acct_t *acct, fp_error_t *err)
{
	row_t *r;

	fp_error_clear(err);
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		row_t *n = realloc(t->rows, cap * sizeof(*n));

		if (!n)
			return fp_error_set(err, FP_ENOMEM,
					    "job %s: out of memory", job);
		t->rows = n;
		t->cap = cap;
	}
	r = &t->rows[t->n];
	memset(r, 0, sizeof(*r));
	if (fp_report_dup_or_null(&r->job, job) ||
	    fp_report_dup_or_null(&r->user, user) ||
	    fp_report_dup_or_null(&r->account, account) ||
	    (acct && (fp_report_dup_or_null(&r->name, acct->name) ||
		      fp_report_dup_or_null(&r->state, acct->state)))) {
		_row_free(r);
		return fp_error_set(err, FP_ENOMEM, "job %s: out of memory",
				    job);
	}
	if (rec) {
		r->has = true;
		r->rec = *rec;
	}
	if (acct) {
		r->has_acct = true;
		r->exit_code = acct->exit_code;
		r->exit_signal = acct->exit_signal;
		r->start = acct->start;
		r->end = acct->end;
		r->elapsed_s = acct->elapsed_s;
		r->cpu_time_s = acct->cpu_time_s;
		r->alloc_cpus = acct->alloc_cpus;
		r->energy_j = acct->energy_j;
	}
	t->n++;
	return 0;
}

typedef struct totals {
	double energy, footprint, avoided, net, reference, consumed;
	size_t jobs, with, none, incomplete, simulated;
} totals_t;

static void _add_fig(double *sum, double x)
{
	if (isfinite(x))
		*sum += x;
}

static totals_t _sum_rows(const fp_report_table_t *t)
{
	totals_t s = { 0 };

	for (size_t i = 0; i < t->n; i++) {
		const row_t *r = &t->rows[i];

		s.jobs++;
		if (r->has_acct)
			_add_fig(&s.consumed, r->energy_j);
		if (!r->has) {
			s.none++;
			continue;
		}
		s.with++;
		if (!r->rec.complete)
			s.incomplete++;
		if (r->rec.source == FP_ENERGY_SIMULATED)
			s.simulated++;
		_add_fig(&s.energy, r->rec.energy_wh);
		_add_fig(&s.footprint, r->rec.footprint_g);
		_add_fig(&s.avoided, r->rec.avoided_g);
		_add_fig(&s.net, r->rec.net_g);
		_add_fig(&s.reference, r->rec.reference_g);
	}
	return s;
}

/* An escaped name cut to the cell, never inside a character. */
static void _name_cell(char *cell, const char *raw)
{
	char *e = fp_report_escape(raw ? raw : "");
	size_t n;

	if (!e) {
		snprintf(cell, CELL, "?");
		return;
	}
	n = strlen(e);
	if (n >= CELL) {
		n = CELL - 1;
		while (n && ((unsigned char)e[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(cell, e, n);
	cell[n] = '\0';
	free(e);
}

static void _fill_cell(char *cell, const row_t *r, int c)
{
	fp_report_acct_t a = fp_report_acct_unknown();
	double eff;

	switch (c) {
	case COL_JOB:
		_name_cell(cell, r->job);
		return;
	case COL_USER:
		_name_cell(cell, r->user);
		return;
	case COL_ACCOUNT:
		_name_cell(cell, r->account);
		return;
	default:
		break;
	}
	snprintf(cell, CELL, "-");
	if (c <= COL_CONSUMED && r->has_acct) {
		switch (c) {
		case COL_NAME:
			_name_cell(cell, r->name);
			break;
		case COL_STATE:
			_name_cell(cell, r->state ? r->state : "-");
			break;
		case COL_EXIT:
			if (r->exit_code >= 0)
				snprintf(cell, CELL, "%d:%d", r->exit_code,
					 r->exit_signal < 0 ? 0
							    : r->exit_signal);
			break;
		case COL_START:
			fp_report_local_time(r->start, cell, CELL);
			break;
		case COL_END:
			fp_report_local_time(r->end, cell, CELL);
			break;
		case COL_ELAPSED:
			fp_report_duration(r->elapsed_s, cell, CELL);
			break;
		case COL_CPUS:
			if (isfinite(r->alloc_cpus))
				snprintf(cell, CELL, "%.0f", r->alloc_cpus);
			break;
		case COL_CPUTIME:
			fp_report_duration(r->cpu_time_s, cell, CELL);
			break;
		case COL_CPUEFF:
			a.elapsed_s = r->elapsed_s;
			a.cpu_time_s = r->cpu_time_s;
			a.alloc_cpus = r->alloc_cpus;
			eff = fp_report_cpu_efficiency(&a);
			if (isfinite(eff))
				snprintf(cell, CELL, "%.2f%%", eff);
			break;
		case COL_CONSUMED:
			fp_report_joules(cell, CELL, r->energy_j);
			break;
		}
		return;
	}
	if (!r->has)
		return;
	switch (c) {
	case COL_ENERGY:
		fp_report_fig(cell, CELL, r->rec.energy_wh);
		break;
	case COL_FOOTPRINT:
		fp_report_fig(cell, CELL, r->rec.footprint_g);
		break;
	case COL_AVOIDED:
		fp_report_fig(cell, CELL, r->rec.avoided_g);
		break;
	case COL_NET:
		fp_report_fig(cell, CELL, r->rec.net_g);
		break;
	case COL_REFERENCE:
		fp_report_fig(cell, CELL, r->rec.reference_g);
		break;
	case COL_SOURCE:
		snprintf(cell, CELL, "%s%s",
			 fp_carbon_energy_source_str(r->rec.source),
			 r->rec.complete ? "" : "*");
		break;
	}
}

static void _fill_total(char *cell, const totals_t *s, int c, bool parsable)
{
	cell[0] = '\0';
	switch (c) {
	case COL_JOB:
		snprintf(cell, CELL, "TOTAL");
		break;
	case COL_CONSUMED:
		fp_report_joules(cell, CELL, s->consumed);
		break;
	case COL_ENERGY:
		fp_report_fig(cell, CELL, s->energy);
		break;
	case COL_FOOTPRINT:
		fp_report_fig(cell, CELL, s->footprint);
		break;
	case COL_AVOIDED:
		fp_report_fig(cell, CELL, s->avoided);
		break;
	case COL_NET:
		fp_report_fig(cell, CELL, s->net);
		break;
	case COL_REFERENCE:
		fp_report_fig(cell, CELL, s->reference);
		break;
	case COL_SOURCE:
		/* A parsable line has nowhere else for the counts. */
		if (parsable)
			snprintf(cell, CELL, "%zu jobs, %zu no footprint",
				 s->jobs, s->none);
		break;
	}
}

static void _print_cells(FILE *f, const fp_report_table_t *t,
			 char (*cells)[CELL], const int *width, bool parsable)
{
	char *line = NULL;
	size_t len = 0;
	FILE *l = open_memstream(&line, &len);

	if (!l)
		return;
	for (size_t k = 0; k < t->ncols; k++) {
		int c = t->cols[k];

		if (parsable)
			fprintf(l, "%s|", cells[k]);
		else if (k == t->ncols - 1 && !columns[c].right)
			fprintf(l, "%s", cells[k]);
		else
			fprintf(l, columns[c].right ? "%*s " : "%-*s ",
				width[k], cells[k]);
	}
	if (fclose(l)) {
		free(line);
		return;
	}
	/* No trailing blanks (the TOTAL line's last cells are empty). */
	while (!parsable && len && line[len - 1] == ' ')
		line[--len] = '\0';
	fprintf(f, "%s\n", line);
	free(line);
}

char *fp_report_table_text(const fp_report_table_t *t, bool parsable)
{
	char *buf = NULL, (*cells)[CELL];
	size_t len = 0, nlines = t->n + 1, nc = t->ncols;
	int width[NCOLS];
	totals_t s = _sum_rows(t);
	FILE *f;

	cells = calloc(nlines * nc, sizeof(*cells));
	if (!cells)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		for (size_t k = 0; k < nc; k++)
			_fill_cell(cells[i * nc + k], &t->rows[i], t->cols[k]);
	for (size_t k = 0; k < nc; k++)
		_fill_total(cells[t->n * nc + k], &s, t->cols[k], parsable);
	for (size_t k = 0; k < nc; k++) {
		width[k] = (int)strlen(columns[t->cols[k]].header);
		for (size_t i = 0; i < nlines; i++)
			if ((int)strlen(cells[i * nc + k]) > width[k])
				width[k] = (int)strlen(cells[i * nc + k]);
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		free(cells);
		return NULL;
	}
	if (!t->noheader && parsable) {
		for (size_t k = 0; k < nc; k++)
			fprintf(f, "%s|", columns[t->cols[k]].name);
		fprintf(f, "\n");
	} else if (!t->noheader) {
		char(*head)[CELL] = calloc(nc, sizeof(*head));

		for (size_t k = 0; head && k < nc; k++)
			snprintf(head[k], CELL, "%s",
				 columns[t->cols[k]].header);
		if (head)
			_print_cells(f, t, head, width, false);
		free(head);
		for (size_t k = 0; k < nc; k++) {
			int c = t->cols[k];
			int w = k == nc - 1 && !columns[c].right
					? (int)strlen(columns[c].header)
					: width[k];

			for (int i = 0; i < w; i++)
				fputc('-', f);
			fputc(k == nc - 1 ? '\n' : ' ', f);
		}
	}
	for (size_t i = 0; i < nlines; i++)
		_print_cells(f, t, &cells[i * nc], width, parsable);
	free(cells);
	if (!parsable) {
		fprintf(f,
			"%zu job%s: %zu with a footprint, %zu no "
			"footprint",
			s.jobs, s.jobs == 1 ? "" : "s", s.with, s.none);
		if (s.incomplete)
			fprintf(f, ", %zu incomplete (*)", s.incomplete);
		fprintf(f, "\n");
		if (s.simulated)
			fprintf(f,
				"simulated energy in %zu job%s (fp-simnode): "
				"not a measurement\n",
				s.simulated, s.simulated == 1 ? "" : "s");
	}
	return fp_report_close_stream(f, &buf);
}

static json_t *_row_acct_json(const row_t *r)
{
	fp_report_acct_t a = fp_report_acct_unknown();

	a.name = r->name;
	a.state = r->state;
	a.exit_code = r->exit_code;
	a.exit_signal = r->exit_signal;
	a.start = r->start;
	a.end = r->end;
	a.elapsed_s = r->elapsed_s;
	a.cpu_time_s = r->cpu_time_s;
	a.alloc_cpus = r->alloc_cpus;
	a.energy_j = r->energy_j;
	return fp_report_json_acct(&a);
}

json_t *fp_report_table_json(const fp_report_table_t *t)
{
	json_t *jobs = json_array();
	totals_t s = _sum_rows(t);
	bool ok = true;

	for (size_t i = 0; jobs && i < t->n; i++) {
		const row_t *r = &t->rows[i];
		const fp_record_t *c = &r->rec;
		json_t *o;

		if (!r->has)
			o = json_pack("{s:o, s:o, s:o, s:b}", "job",
				      fp_report_json_name(r->job), "user",
				      fp_report_json_name(r->user), "account",
				      fp_report_json_name(r->account),
				      "footprint", 0);
		else
			o = json_pack(
				"{s:o, s:o, s:o, s:b, s:b, s:s, s:o, s:o, "
				"s:o, s:o, s:o}",
				"job", fp_report_json_name(r->job), "user",
				fp_report_json_name(r->user), "account",
				fp_report_json_name(r->account), "footprint", 1,
				"complete", c->complete, "source",
				fp_carbon_energy_source_str(c->source),
				"energy_Wh", fp_report_json_fig(c->energy_wh),
				"footprint_g",
				fp_report_json_fig(c->footprint_g), "avoided_g",
				fp_report_json_fig(c->avoided_g), "net_g",
				fp_report_json_fig(c->net_g), "reference_g",
				fp_report_json_fig(c->reference_g));
		if (o && json_object_set_new(o, "accounting",
					     r->has_acct ? _row_acct_json(r)
							 : json_null())) {
			json_decref(o);
			o = NULL;
		}
		fp_report_json_append(jobs, o, &ok);
	}
	if (!ok) {
		json_decref(jobs);
		return NULL;
	}
	return json_pack("{s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I,"
			 " s:I, s:I, s:I}}",
			 "jobs", jobs, "total", "energy_Wh",
			 json_real(s.energy), "footprint_g",
			 json_real(s.footprint), "avoided_g",
			 json_real(s.avoided), "net_g", json_real(s.net),
			 "reference_g", json_real(s.reference),
			 "consumed_energy_J", json_real(s.consumed), "jobs",
			 (json_int_t)s.jobs, "with_footprint",
			 (json_int_t)s.with, "no_footprint", (json_int_t)s.none,
			 "incomplete", (json_int_t)s.incomplete, "simulated",
			 (json_int_t)s.simulated);
}
