/* sfootprint signals update: keeps every Feed= site's intensity series
 * current from its provider (lib/feed), for a systemd timer or cron. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "footprint/config.h"
#include "footprint/feed.h"
#include "footprint/report.h"
#include "sfootprint.h"
#include "footprint/series.h"

static void _usage(FILE *out)
{
	fprintf(out,
		"usage: sfootprint signals update [--config FILE] [--site NAME]"
		" [--timeout S] [--retries N] [--since TIME]\n"
		"  fetches the newest points of each site with a Feed= and "
		"appends them to its\n  Intensity=file: series (a new file "
		"starts at --since, default 24 h ago)\n");
}

/* Warnings of lib/feed: one line each on stderr. */
static void _log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "sfootprint: signals update: %s%s\n",
		level == FP_LOG_ERROR ? "error: " : "", msg);
}

static int _update(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "site", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "since", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *site = NULL;
	fp_feed_options_t o;
	char path[4096];
	fp_error_t err = { 0 };
	fp_config_t *cfg;
	size_t nfeeds = 0, nfailed = 0;
	double v;
	int c;

	fp_feed_options_default(&o);
	o.log = _log;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
			site = optarg;
			break;
		case 't':
			if (fpt_cli_number("signals update", "--timeout",
					   optarg, 1, 3600, &v))
				return FP_EXIT_USAGE;
			o.timeout = (long)v;
			if (o.connect_timeout > o.timeout)
				o.connect_timeout = o.timeout;
			break;
		case 'r':
			if (fpt_cli_number("signals update", "--retries",
					   optarg, 0, 10, &v) ||
			    v != floor(v))
				return FP_EXIT_USAGE;
			o.retries = (unsigned)v;
			break;
		case 'S':
			if (fp_iso8601_parse(optarg, &o.since)) {
				fprintf(stderr,
					"sfootprint: signals update: "
					"--since: '%s' is not an ISO 8601 "
					"time\n",
					optarg);
				return FP_EXIT_USAGE;
			}
			break;
		case 'h':
			_usage(stdout);
			return FP_EXIT_OK;
		default:
			_usage(stderr);
			return FP_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		_usage(stderr);
		return FP_EXIT_USAGE;
	}
	if (fp_report_conf_path(config, getenv("FOOTPRINT_CONF"), NULL, path,
				sizeof(path))) {
		fprintf(stderr, "sfootprint: out of memory\n");
		return FP_EXIT_FAIL;
	}
	cfg = fp_config_load(path, &err);
	if (!cfg) {
		fprintf(stderr, "sfootprint: signals update: %s\n", err.msg);
		return FP_EXIT_FAIL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "sfootprint: signals update: libcurl did not "
				"start\n");
		fp_config_free(cfg);
		return FP_EXIT_FAIL;
	}
	for (size_t i = 0; i < cfg->nsites; i++) {
		const fp_site_conf_t *s = &cfg->sites[i];
		fp_feed_result_t res;
		char a[21], b[21];

		if (site && strcmp(site, s->name))
			continue;
		if (!s->feed.provider) {
			if (site)
				fprintf(stderr,
					"sfootprint: signals update: "
					"%s: site '%s' has no Feed=\n",
					path, s->name);
			nfailed += site != NULL;
			continue;
		}
		nfeeds++;
		/* one site's fault does not keep the others stale */
		if (fp_feed_update(s, &o, &res, &err)) {
			fprintf(stderr, "sfootprint: signals update: %s\n",
				err.msg);
			nfailed++;
			continue;
		}
		if (!res.appended) {
			printf("site '%s': %s: up to date (%zu points already "
			       "there)\n",
			       s->name, s->intensity.path, res.known);
			continue;
		}
		fp_iso8601_format(res.first, a);
		fp_iso8601_format(res.last, b);
		printf("site '%s': %s: %zu points appended, %s to %s "
		       "(%zu already there, %zu duplicates, %zu gaps)\n",
		       s->name, s->intensity.path, res.appended, a, b,
		       res.known, res.duplicates, res.gaps);
	}
	if (site && !nfeeds && !nfailed) {
		fprintf(stderr,
			"sfootprint: signals update: %s: no site '%s'\n", path,
			site);
		nfailed++;
	} else if (!site && !nfeeds) {
		printf("%s: no site has a Feed=\n", path);
	}
	curl_global_cleanup();
	fp_config_free(cfg);
	return nfailed ? FP_EXIT_FAIL : FP_EXIT_OK;
}

int fpt_cmd_signals(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "update"))
		return _update(argc - 1, argv + 1);
	if (argc >= 2 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		_usage(stdout);
		return FP_EXIT_OK;
	}
	_usage(stderr);
	return FP_EXIT_USAGE;
}
