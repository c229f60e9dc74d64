/* The seff-like report of one job (sfootprint -j): what the summary or
 * record says, and what accounting says beside it. */
#include "footprint/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_parts.h"

static bool _near(double a, double b)
{
	return fabs(a - b) <= fmax(1.0, 0.005 * fmax(fabs(a), fabs(b)));
}

static double _step_energy(const fp_report_t *r, const char *name)
{
	for (size_t i = 0; i < r->nacct_steps; i++)
		if (!strcmp(r->acct_steps[i].name, name))
			return r->acct_steps[i].energy_j;
	return NAN;
}

/* sacct's ConsumedEnergy next to the footprint's energy, and why they
 * differ when they do. The job row is what slurmctld adds up as steps end:
 * with PrologFlags=Contain only the extern step, else every step that
 * ended before the job did (the batch step usually ends after), so it is
 * not the steps' sum. */
static void _put_sacct_energy(FILE *f, const fp_report_t *r)
{
	char a[32], b[32], c[32];
	double job = r->sacct_energy_j, sum = 0, batch, ext;
	double it = r->energy_it_wh * 3600;
	size_t known = 0;

	fprintf(f, "sacct ConsumedEnergy: %s J (%s Wh) on the job's row",
		fp_report_joules(a, sizeof(a), job),
		fp_report_fig(b, sizeof(b), job / 3600));
	for (size_t i = 0; i < r->nacct_steps; i++) {
		const fp_report_acct_step_t *s = &r->acct_steps[i];

		fprintf(f, "%s %s %s J", i ? "," : "; steps:", s->name,
			fp_report_joules(a, sizeof(a), s->energy_j));
		if (isfinite(s->energy_j)) {
			sum += s->energy_j;
			known++;
		}
	}
	fputs("\n", f);
	if (!known && !isfinite(job)) {
		fputs("  sacct has no energy for this job (the node's energy "
		      "plugin reported none)\n",
		      f);
		return;
	}
	if (!isfinite(it)) {
		fputs("  the footprint's IT energy is in the signed summary "
		      "only (the record has the facility energy)\n",
		      f);
		return;
	}
	if (isfinite(job) && _near(job, it)) {
		fputs("  = the footprint's IT energy (its facility energy "
		      "adds the PUE)\n",
		      f);
		return;
	}
	batch = _step_energy(r, "batch");
	ext = _step_energy(r, "extern");
	if (!isfinite(job))
		fprintf(f,
			"  sacct shows no energy on the job's row "
			"(slurmctld adds a step's energy as the step ends, "
			"and had none when the job ended); its steps add up "
			"to %s J\n",
			fp_report_joules(a, sizeof(a), sum));
	if (isfinite(job) && known && !_near(job, sum)) {
		if (isfinite(batch) && batch > 0 && _near(job + batch, sum))
			fprintf(f,
				"  sacct's job row omits the batch step "
				"(%s J); its steps add up to %s J\n",
				fp_report_joules(a, sizeof(a), batch),
				fp_report_joules(b, sizeof(b), sum));
		else if (isfinite(ext) && _near(job, ext))
			fprintf(f,
				"  sacct's job row has only the extern "
				"step's energy (PrologFlags=Contain); its "
				"steps add up to %s J\n",
				fp_report_joules(a, sizeof(a), sum));
		else
			fprintf(f,
				"  sacct's job row is not the sum of its "
				"steps (%s J)\n",
				fp_report_joules(a, sizeof(a), sum));
	}
	if (known && _near(sum, it))
		fprintf(f,
			"  the footprint's IT energy is the sum of every "
			"step: %s J = %s Wh\n",
			fp_report_joules(a, sizeof(a), it),
			fp_report_fig(b, sizeof(b), r->energy_it_wh));
	else
		fprintf(f,
			"  the footprint's IT energy (%s J) differs from "
			"sacct's %s (%s J): it shares each node's measured "
			"energy among the jobs on it by their CPU activity "
			"(docs/methodology.md), sacct keeps what the energy "
			"plugin reported\n",
			fp_report_joules(a, sizeof(a), it),
			known ? "steps" : "job row",
			fp_report_joules(c, sizeof(c), known ? sum : job));
}

/* Start and end: the summary's (UTC) shown local, as sacct does, else
 * accounting's. */
static void _put_times(FILE *f, const fp_report_t *r)
{
	char a[32], b[32], d[32], e[32];
	time_t start = r->start ? fp_report_parse_utc(r->start) : -1;
	time_t end = r->end ? fp_report_parse_utc(r->end) : -1;
	double elapsed = isfinite(r->elapsed_s) ? r->elapsed_s
						: r->acct_elapsed_s;

	if (start < 0)
		start = r->has_acct ? r->acct_start : 0;
	if (end < 0)
		end = r->has_acct ? r->acct_end : 0;
	if (!start && !end && !isfinite(elapsed))
		return;
	fprintf(f, "Start/End: %s / %s (local time)\n",
		fp_report_local_time(start, a, sizeof(a)),
		fp_report_local_time(end, b, sizeof(b)));
	fprintf(f, "Elapsed: %s (%s core-hours)\n",
		fp_report_duration(elapsed, d, sizeof(d)),
		fp_report_fig(e, sizeof(e), r->core_hours));
}

/* seff's first line: state and exit code. */
static void _put_acct(FILE *f, const fp_report_t *r)
{
	if (!r->has_acct) {
		if (r->acct_note) {
			fputs("State: - (no accounting record: ", f);
			fp_report_put_name(f, r->acct_note);
			fputs(")\n", f);
		}
		return;
	}
	fputs("State: ", f);
	fp_report_put_name(f, r->state ? r->state : "-");
	if (r->exit_code >= 0)
		fprintf(f, " (exit code %d:%d)\n", r->exit_code,
			r->exit_signal < 0 ? 0 : r->exit_signal);
	else
		fputs(" (exit code -)\n", f);
}

/* seff's CPU efficiency, after the elapsed time it is measured over. */
static void _put_cpu(FILE *f, const fp_report_t *r)
{
	fp_report_acct_t a = fp_report_acct_unknown();
	char b[32], c[32], d[32], e[32];
	double eff;

	if (!r->has_acct)
		return;
	a.elapsed_s = r->acct_elapsed_s;
	a.cpu_time_s = r->cpu_time_s;
	a.alloc_cpus = r->alloc_cpus;
	eff = fp_report_cpu_efficiency(&a);
	fprintf(f,
		"CPU efficiency: %s%s of %s core-walltime (total CPU time "
		"%s, %s CPUs)\n",
		isfinite(eff) ? (snprintf(b, sizeof(b), "%.2f", eff), b) : "-",
		isfinite(eff) ? " %" : "",
		fp_report_duration(a.elapsed_s * a.alloc_cpus, c, sizeof(c)),
		fp_report_duration(a.cpu_time_s, d, sizeof(d)),
		isfinite(a.alloc_cpus) && a.alloc_cpus < 1e9
			? (snprintf(e, sizeof(e), "%.0f", a.alloc_cpus), e)
			: "-");
}

/* The filled times as the rest of the report shows times, local: the
 * clock alone within one day (the date is on the Start/End line), else
 * the whole times. */
static void _put_span(FILE *f, time_t first, time_t end)
{
	struct tm a, b;
	time_t last = end - 1;
	char x[32], y[32];

	if (!first || !end || end <= first || !localtime_r(&first, &a) ||
	    !localtime_r(&last, &b) || a.tm_yday != b.tm_yday ||
	    a.tm_year != b.tm_year) {
		fprintf(f, "%s-%s", fp_report_local_time(first, x, sizeof(x)),
			fp_report_local_time(end, y, sizeof(y)));
		return;
	}
	localtime_r(&end, &b);
	strftime(x, sizeof(x), a.tm_sec || b.tm_sec ? "%H:%M:%S" : "%H:%M", &a);
	strftime(y, sizeof(y), a.tm_sec || b.tm_sec ? "%H:%M:%S" : "%H:%M", &b);
	fprintf(f, "%s-%s", x, y);
}

/* What IntensityFallback= filled at a site, so that a reader knows how
 * much of its figure is not the published series. */
static void _put_fallback(FILE *f, const fp_report_site_t *s)
{
	char h[32], p[32];

	if (!s->fallback)
		return;
	fputs("  ", f);
	fp_report_put_name(f, s->name);
	fputs(": intensity fallback '", f);
	fp_report_put_name(f, s->fallback);
	fputs("' for ", f);
	_put_span(f, s->fallback_first, s->fallback_end);
	if (isfinite(s->fallback_hours))
		snprintf(h, sizeof(h), "%.2f", s->fallback_hours);
	else
		snprintf(h, sizeof(h), "-");
	fprintf(f,
		" (%s h, %s %% of the site's energy): the series did not "
		"cover them within SeriesWait\n",
		h, fp_report_percent(p, sizeof(p), 100 * s->fallback_share));
}

char *fp_report_text(const fp_report_t *r, const char *signature)
{
	char *buf = NULL, a[32], b[32], c[32], d[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "Job ID: %llu\n", (unsigned long long)r->job_id);
	if (r->has_acct && r->job_name) {
		fputs("Job name: ", f);
		fp_report_put_name(f, r->job_name);
		fputs("\n", f);
	}
	if (r->user || r->account) {
		fputs("User/Account: ", f);
		fp_report_put_name(f, r->user);
		fputs("/", f);
		fp_report_put_name(f, r->account);
		fputs("\n", f);
	}
	if (r->cluster) {
		fputs("Cluster: ", f);
		fp_report_put_name(f, r->cluster);
		fputs("\n", f);
	}
	_put_acct(f, r);
	_put_times(f, r);
	_put_cpu(f, r);
	fprintf(f, "Origin: %s\n",
		r->from_record ? "accounting record (FP1, unsigned)"
			       : "signed summary");
	if (r->from_record)
		fprintf(f, "Energy: %s Wh facility (%s J); %s\n",
			fp_report_fig(a, sizeof(a), r->energy_wh),
			fp_report_joules(b, sizeof(b), r->energy_wh * 3600),
			fp_report_source_text(r->source));
	else
		fprintf(f,
			"Energy: %s Wh IT (%s J), %s Wh facility (%s J); "
			"%s\n",
			fp_report_fig(a, sizeof(a), r->energy_it_wh),
			fp_report_joules(b, sizeof(b), r->energy_it_wh * 3600),
			fp_report_fig(c, sizeof(c), r->energy_wh),
			fp_report_joules(d, sizeof(d), r->energy_wh * 3600),
			fp_report_source_text(r->source));
	if (r->has_acct)
		_put_sacct_energy(f, r);
	fprintf(f, "Operational: %s gCO2e\n",
		fp_report_fig(a, sizeof(a), r->operational_g));
	fprintf(f, "Embodied: %s gCO2e\n",
		fp_report_fig(a, sizeof(a), r->embodied_g));
	fprintf(f, "Footprint: %s gCO2e (operational + embodied)\n",
		fp_report_fig(a, sizeof(a), r->footprint_g));
	fprintf(f, "Avoided: %s gCO2e by heat reuse",
		fp_report_fig(a, sizeof(a), r->avoided_g));
	if (isfinite(r->reused_wh))
		fprintf(f, " (%s Wh of heat reused)",
			fp_report_fig(b, sizeof(b), r->reused_wh));
	fprintf(f, "; separate, not subtracted from the footprint\n");
	fprintf(f, "Net: %s gCO2e (footprint - avoided; not a footprint)\n",
		fp_report_fig(a, sizeof(a), r->net_g));
	fputs("Versus ", f);
	fp_report_put_name(f, fp_report_ref_name(r));
	if (isfinite(r->reference_pue))
		fprintf(f, " (PUE %.2f)", r->reference_pue);
	fprintf(f, ": reference %s gCO2e; ",
		fp_report_fig(a, sizeof(a), r->reference_g));
	fp_report_put_saving(f, r->saved_g, r->saved_with_heat_g,
			     r->reference_g);
	fputs("\n", f);
	if (!r->from_record) {
		fprintf(f, "Intensity used: %s gCO2e/kWh",
			fp_report_fig(a, sizeof(a), r->intensity));
		if (isfinite(r->pue))
			fprintf(f, " (PUE %.3f)", r->pue);
		fprintf(f, "\nPer core-hour: %s gCO2e\n",
			fp_report_fig(a, sizeof(a), r->per_core_hour_g));
	}
	fputs("Completeness: ", f);
	fp_report_put_complete(f, r);
	fputs("\n", f);
	if (r->nsites) {
		fprintf(f, "Sites:\n");
		for (size_t i = 0; i < r->nsites; i++) {
			const fp_report_site_t *s = &r->sites[i];
			char e[32], g[32];

			fputs("  ", f);
			fp_report_put_name(f, s->name);
			fprintf(f,
				": %s Wh, PUE %s, %s gCO2e/kWh, "
				"operational %s g, embodied %s g, avoided "
				"%s g\n",
				fp_report_fig(a, sizeof(a), s->energy_wh),
				fp_report_fig(b, sizeof(b), s->pue),
				fp_report_fig(c, sizeof(c), s->intensity),
				fp_report_fig(d, sizeof(d), s->operational_g),
				fp_report_fig(e, sizeof(e), s->embodied_g),
				fp_report_fig(g, sizeof(g), s->avoided_g));
			_put_fallback(f, s);
		}
	}
	/* A one-node job's node line would repeat its site line. */
	if (r->nnodes > 1) {
		fprintf(f, "Nodes:\n");
		for (size_t i = 0; i < r->nnodes; i++) {
			const fp_report_node_t *n = &r->nodes[i];
			char e[32];

			fputs("  ", f);
			fp_report_put_name(f, n->name);
			fputs(" (", f);
			fp_report_put_name(f, n->site);
			fprintf(f,
				"): %s Wh IT, operational %s g, "
				"embodied %s g, avoided %s g\n",
				fp_report_fig(a, sizeof(a), n->energy_it_wh),
				fp_report_fig(b, sizeof(b), n->operational_g),
				fp_report_fig(d, sizeof(d), n->embodied_g),
				fp_report_fig(e, sizeof(e), n->avoided_g));
		}
	}
	for (size_t i = 0, first = 1; i < r->nsteps; i++) {
		const fp_report_step_t *s = &r->steps[i];

		if (!(s->nnodes > 1))
			continue;
		if (first)
			fprintf(f, "Energy split over nodes:\n");
		first = 0;
		fputs("  step ", f);
		fp_report_put_name(f, s->id);
		fprintf(f, ": %s nodes, %s Wh IT, split by ",
			isfinite(s->nnodes) && s->nnodes < 1e9
				? (snprintf(b, sizeof(b), "%.0f", s->nnodes), b)
				: "-",
			fp_report_fig(a, sizeof(a), s->energy_it_wh));
		fp_report_put_name(f, s->split);
		fputs("\n", f);
	}
	if (r->config[0]) {
		fputs("Config: sha256 ", f);
		fp_report_put_name(f, r->config);
		fprintf(f, "%s\n", r->from_record ? "..." : "");
	}
	fputs("signature: ", f);
	fp_report_put_name(f, signature ? signature : "unknown");
	fputs("\n", f);
	return fp_report_close_stream(f, &buf);
}
