/* libFuzzer target: the trace v1 reader (fp_trace_reader_*), and every
 * sample it accepts pushed through the attribution engine. */
#include "fuzz.h"

#include "footprint/engine.h"
#include "footprint/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fp_error_t err = { 0 };
	fp_trace_reader_t *r;
	fp_engine_t *e = NULL;
	const fp_sample_t *s;
	FILE *f;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	r = fp_trace_reader_new(f, "fuzz.jsonl", &err);
	if (r) {
		fp_engine_opts_t opts;

		fp_engine_opts_default(&opts);
		/* Reach the calibrated and estimated-idle paths quickly. */
		opts.min_calibration_intervals = 2;
		opts.min_idle_intervals = 2;
		e = fp_engine_new(fp_trace_reader_desc(r), &opts, &err);
		while (fp_trace_reader_next(r, &s, &err) > 0) {
			if (e)
				fp_engine_push(e, s, &err);
		}
		(void)fp_trace_reader_line(r);
		(void)fp_trace_reader_bytes(r);
	}
	if (e) {
		fp_engine_node_t node;
		fp_engine_step_t st;
		fp_job_result_t job;

		fp_engine_node(e, &node);
		for (size_t i = 0; i < fp_engine_nsteps(e); i++)
			fp_engine_step_at(e, i, &st);
		for (size_t i = 0; i < fp_engine_njobs(e); i++)
			fp_engine_job_at(e, i, &job);
		fp_engine_check_conservation(e, &err);
		fp_engine_forget_absent(e, 0);
		fp_engine_free(e);
	}
	fp_trace_reader_free(r);
	fclose(f);
	return 0;
}
