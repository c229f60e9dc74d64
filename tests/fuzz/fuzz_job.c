/* libFuzzer target: the job description the worker and `sfootprint
 * compute` read (fp_carbon_job_from_json), then the footprint computed from it
 * against a fixed configuration, and its summary and record written. */
#include "fuzz.h"

#include "footprint/carbon.h"
#include "footprint/config.h"
#include "footprint/summary.h"

static const char conf[] =
	"Site=home Nodes=n1,n2 Intensity=40 HeatRecovery=0.9 "
	"DisplacedHeating=gas UsefulHeat=months:10-4\n"
	"Site=dc Nodes=n3 Intensity=56 PUE=1.35\n"
	"NodeType=h1 Nodes=n1,n2,n3 Embodied=1100 Lifetime=6 CPUs=32\n"
	"Reference=standard-datacenter PUE=1.5 Intensity=site\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fp_config_t *cfg;
	fp_error_t err = { 0 };
	fp_job_t *job;
	fp_result_t *res;

	if (!cfg) {
		cfg = fp_config_parse("fuzz.conf", conf, sizeof(conf) - 1,
				      &err);
		if (!cfg || fp_config_load_series(cfg, &err))
			abort();
	}
	job = fp_carbon_job_from_json("job.json", (const char *)data, size,
				      &err);
	if (!job)
		return 0;
	res = fp_carbon_compute(cfg, job, fp_config_hostlist_match_plain, NULL,
				&err);
	if (res) {
		free(fp_summary_dumps(res, &err));
		free(fp_summary_record_format(res, &err));
		fp_carbon_result_free(res);
	}
	fp_carbon_job_free(job);
	return 0;
}
