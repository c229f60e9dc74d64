/* libFuzzer target: a job summary's JSON payload as sfootprint and the
 * mail wrapper read it (fp_report_from_summary), then every rendering of
 * the report: text, JSON, mail, and a table row. */
#include "fuzz.h"

#include "footprint/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	fp_error_t err = { 0 };
	fp_report_t *r = fp_report_from_summary("summary", text, &err);

	if (r) {
		json_t *j = fp_report_json(r);

		free(fp_report_text(r, "fuzz"));
		free(fp_report_mail(r, "fuzz"));
		json_decref(j);
		fp_report_free(r);
	}
	free(text);
	return 0;
}
