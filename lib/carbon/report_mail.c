/* The footprint section of the job-end mail (footprint-mail), or why
 * there is none yet. */
#include "footprint/report.h"

#include <stdio.h>

#include "report_parts.h"

char *fp_report_mail(const fp_report_t *r, const char *signature)
{
	return fp_report_mail_with(r, signature, NULL);
}

char *fp_report_mail_with(const fp_report_t *r, const char *signature,
			  const char *parts)
{
	char *buf = NULL, a[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "Carbon footprint of job %llu (slurm-footprint)\n",
		(unsigned long long)r->job_id);
	fprintf(f, "  energy:     %s Wh (%s)\n",
		fp_report_fig(a, sizeof(a), r->energy_wh),
		fp_report_source_text(r->source));
	fprintf(f, "  footprint:  %s gCO2e\n",
		fp_report_fig(a, sizeof(a), r->footprint_g));
	fprintf(f,
		"  avoided:    %s gCO2e by heat reuse (separate, not in "
		"the footprint)\n",
		fp_report_fig(a, sizeof(a), r->avoided_g));
	fprintf(f, "  net:        %s gCO2e (footprint - avoided)\n",
		fp_report_fig(a, sizeof(a), r->net_g));
	fputs("  vs ", f);
	fp_report_put_name(f, fp_report_ref_name(r));
	fprintf(f, ": %s gCO2e, ", fp_report_fig(a, sizeof(a), r->reference_g));
	fp_report_put_saving(f, r->saved_g, r->saved_with_heat_g,
			     r->reference_g);
	fputs("\n  completeness: ", f);
	fp_report_put_complete(f, r);
	fputs("\n  signature:  ", f);
	fp_report_put_name(f, signature ? signature : "unknown");
	fputs("\n", f);
	if (parts)
		fputs(parts, f);
	fprintf(f, "Details: sfootprint -j %llu\n",
		(unsigned long long)r->job_id);
	return fp_report_close_stream(f, &buf);
}

char *fp_report_mail_unavailable(uint64_t job_id, const char *why)
{
	char *s = NULL;

	if (asprintf(&s,
		     "Carbon footprint of job %llu: not available yet%s"
		     "%s%s.\nIt is computed shortly after the job ends; get it "
		     "later with:\n  sfootprint -j %llu\n",
		     (unsigned long long)job_id, why ? " (" : "",
		     why ? why : "", why ? ")" : "",
		     (unsigned long long)job_id) < 0)
		return NULL;
	return s;
}
