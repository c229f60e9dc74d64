/* libFuzzer target: the intensity series parsers (fp_series_parse). The
 * first byte picks the format (AUTO, ELECTRICITYMAPS, ECO2MIX, PLAIN) and
 * the kind; the rest is the file. Lookups run over what parsed. */
#include "fuzz.h"

#include "footprint/series.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fp_error_t err = { 0 };
	fp_series_format_t fmt;
	fp_intensity_kind_t kind;
	fp_series_t *s;
	char *text;

	if (size < 1)
		return 0;
	fmt = (fp_series_format_t)(data[0] & 3);
	kind = (fp_intensity_kind_t)((data[0] >> 2) % 3);
	text = fuzz_strndup(data + 1, size - 1);
	s = fp_series_parse("fuzz.csv", text, size - 1, fmt, kind, &err);
	if (s) {
		time_t first, end;
		double v;

		if (fp_series_span(s, &first, &end)) {
			fp_series_value(s, first, &v, &err);
			fp_series_value(s, end - 1, &v, &err);
			fp_series_mean(s, first, end, &v, &err);
			fp_series_mean(s, first + 1800, end, &v, &err);
		}
		fp_series_check_range(s, 0, 2000, &err);
		(void)fp_series_hours(s);
		(void)fp_series_kind(s);
		(void)fp_series_format(s);
		fp_series_free(s);
	}
	/* The time parser on its own, as the series files use it. */
	{
		char *nl = strchr(text, '\n');
		time_t t;

		if (nl)
			*nl = '\0';
		fp_iso8601_parse(text, &t);
	}
	free(text);
	return 0;
}
