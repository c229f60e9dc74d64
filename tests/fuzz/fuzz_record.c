/* libFuzzer target: the FP1 job-record form (fp_summary_record_parse) and merging
 * ours into a field that holds other tools' content (fp_summary_record_merge). The
 * input is "existing field" NUL "our record", the second part optional. */
#include "fuzz.h"

#include "footprint/report.h"
#include "footprint/summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	const char *ours = "FP1:{\"v\":1,\"job\":1}";
	fp_error_t err = { 0 };
	fp_record_t rec;
	size_t n = strlen(text);
	char *m;

	if (n + 1 < size)
		ours = text + n + 1;
	if (fp_summary_record_parse(text, &rec, &err) == 0) {
		fp_report_t *r = fp_report_from_record(&rec, "u", "a", &err);

		if (r) {
			free(fp_report_text(r, "unsigned record only"));
			fp_report_free(r);
		}
	}
	m = fp_summary_record_merge(text, ours, &err);
	if (m) {
		fp_summary_record_parse(m, &rec, &err);
		free(m);
	}
	free(text);
	return 0;
}
