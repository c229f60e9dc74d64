/* Benchmark: job summaries signed (and verified) per second with ES256 and
 * RS256, to size the signing workers of the jobcomp path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "footprint/sign.h"
#include "footprint/summary.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A summary of the size the plugin signs: one site, four nodes. */
static char *payload(void)
{
	fp_result_t r = { 0 };
	fp_site_result_t site = { 0 };
	fp_carbon_node_t nodes[4];
	char names[4][16];
	fp_error_t err = { 0 };

	memset(nodes, 0, sizeof(nodes));
	r.job_id = 4242;
	r.user = "alice";
	r.account = "proj";
	r.start = 1705276800;
	r.end = r.start + 3600;
	r.complete = true;
	r.energy_source = FP_ENERGY_MEASURED;
	r.energy_it_j = r.energy_facility_j = 7.2e6;
	r.footprint_g = 202.7;
	r.reference_name = "standard-datacenter";
	r.reference_intensity = "site";
	site.site = "paris";
	site.intensity_series = "/etc/slurm/FR_2024_hourly.csv";
	site.useful_heat_series = "months:10-4";
	site.displaced = "gas";
	site.displaced_source = "ADEME Base Carbone";
	r.sites = &site;
	r.nsites = 1;
	for (int i = 0; i < 4; i++) {
		snprintf(names[i], sizeof(names[i]), "qh%03d", i + 1);
		nodes[i].node = names[i];
		nodes[i].site = "paris";
		nodes[i].node_type = "qh-h1";
		nodes[i].embodied_source = "vendor PCF";
		nodes[i].cpus = 32;
	}
	r.nodes = nodes;
	r.nnodes = 4;
	memset(r.config_digest, 'a', 64);
	return fp_summary_dumps(&r, &err);
}

static int bench(const char *dir, const char *alg, const char *body)
{
	char prefix[256], path[300];
	fp_error_t err = { 0 };
	fp_key_t *priv, *pub;
	double t0, dt;
	long n, v;

	snprintf(prefix, sizeof(prefix), "%s/%s", dir, alg);
	if (fp_sign_keygen(prefix, alg, NULL, &err))
		goto fail;
	snprintf(path, sizeof(path), "%s.key", prefix);
	priv = fp_sign_key_load_private(path, &err);
	snprintf(path, sizeof(path), "%s.pub", prefix);
	pub = fp_sign_key_load_public(path, &err);
	if (!priv || !pub)
		goto fail;
	/* Every signed summary is checked once, outside the timing. */
	{
		char *tok = fp_sign(priv, body, &err);
		char *p = tok ? fp_sign_verify(pub, tok, &err) : NULL;

		free(tok);
		if (!p)
			goto fail;
		free(p);
	}
	t0 = now();
	n = 0;
	do {
		free(fp_sign(priv, body, &err));
		n++;
	} while ((dt = now() - t0) < 1.0);
	printf("bench_sign: %s: %.0f summaries signed/s (%zu-byte payload)\n",
	       alg, n / dt, strlen(body));
	{
		char *tok = fp_sign(priv, body, &err);

		t0 = now();
		v = 0;
		do {
			free(fp_sign_verify(pub, tok, &err));
			v++;
		} while ((dt = now() - t0) < 1.0);
		free(tok);
	}
	printf("bench_sign: %s: %.0f summaries verified/s\n", alg, v / dt);
	fp_sign_key_free(priv);
	fp_sign_key_free(pub);
	return 0;
fail:
	fprintf(stderr, "bench_sign: %s: %s\n", alg, err.msg);
	return 1;
}

int main(void)
{
	char dir[] = "/tmp/fp-bench-sign-XXXXXX", cmd[64];
	char *body = payload();
	int rc;

	if (!body || !mkdtemp(dir)) {
		fprintf(stderr, "bench_sign: setup failed\n");
		return 1;
	}
	rc = bench(dir, "ES256", body) || bench(dir, "RS256", body);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		rc = 1;
	free(body);
	return rc;
}
