/* sfootprint: the user's tool for job footprints — show, aggregate, verify,
 * replay, keygen, sign. This file only dispatches to the subcommands. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/file.h"

#include "sfootprint.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct subcommand commands[] = {
	{ "replay", fpt_cmd_replay,
	  "replay TRACE... [--json] [--plain-out FILE | --zstd-out FILE] [--compact]   recompute per-step energy from a node trace (plain or zstd, whole or compact; --*-out converts)" },
	{ "sensor-check", fpt_cmd_sensor_check,
	  "sensor-check FILE [--max-age S] [--ceiling W]   validate a wall-meter feed" },
	{ "keygen", fpt_cmd_keygen,
	  "keygen [--alg ES256|RS256] [--out PREFIX]   make a signing key pair" },
	{ "verify", fpt_cmd_verify,
	  "verify FILE [--pubkey PEM]... [--pubkeys DIR]... [--config FILE] [--accept-high-s]   check a signed summary" },
	{ "sign", fpt_cmd_sign,
	  "sign --key KEY SUMMARY.json   sign a summary's exact bytes (prints the JWS)" },
	{ "compute", fpt_cmd_compute,
	  "compute --config FILE JOBDESC.json [--json]   footprint of a job description" },
	{ "show", fpt_cmd_show,
	  "show -j JOBID [--config FILE] [--json | --html FILE]   report of one job (also: sfootprint -j JOBID)" },
	{ "show", fpt_cmd_show,
	  "show [-j JOBID,...] [-u USER] [-A ACCOUNT] [-S START] [-E END] [-o FIELDS] [-n] [-p|--json]   table of jobs (also without `show`; bare sfootprint: your jobs since 00:00)" },
	{ "signals", fpt_cmd_signals,
	  "signals update [--config FILE] [--site NAME]   append each Feed= site's newest grid intensity" },
	{ "whatif", fpt_cmd_whatif,
	  "whatif -j JOBID [--hours N] [--top N] [--json]   where and when it would have emitted least (also: -j JOBID --whatif)" },
};

char *fpt_cli_read_text(const char *path, size_t max, char *why, size_t whysz)
{
	char *buf = fp_file_read_whole(path, max);

	if (!buf && errno == EFBIG)
		snprintf(why, whysz, "larger than %zu MiB", max >> 20);
	else if (!buf && errno == EILSEQ)
		snprintf(why, whysz, "a NUL byte: not text");
	else if (!buf && errno == ENOMEM)
		snprintf(why, whysz, "out of memory");
	else if (!buf)
		snprintf(why, whysz, "%s", strerror(errno));
	return buf;
}

int fpt_cli_number(const char *cmd, const char *opt, const char *arg, double lo,
		   double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < lo || v > hi) {
		fprintf(stderr,
			"sfootprint %s: %s '%s': not a number from %.10g to "
			"%.10g\n",
			cmd, opt, arg, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static void _usage(FILE *out)
{
	fprintf(out, "usage: sfootprint [COMMAND] [ARGS]   (sfootprint "
		     "--version)\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  sfootprint %s\n", commands[i].help);
}

int main(int argc, char **argv)
{
	/* As sacct: without arguments, the caller's jobs since midnight. */
	if (argc < 2)
		return fpt_cmd_show(argc, argv);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		_usage(stdout);
		return FP_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("sfootprint %s\n", FP_VERSION);
		return FP_EXIT_OK;
	}
	/* `sfootprint -j 42 --whatif`: the what-if of that job. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--whatif")) {
			for (int k = i; k < argc; k++)
				argv[k] = argv[k + 1];
			argv[0] = "whatif";
			return fpt_cmd_whatif(argc - 1, argv);
		}
	/* sacct/seff habits: `sfootprint -j 42`, `sfootprint -u alice -p`. */
	if (argv[1][0] == '-' && strcmp(argv[1], "-"))
		return fpt_cmd_show(argc, argv);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sfootprint: unknown command '%s'\n", argv[1]);
	_usage(stderr);
	return FP_EXIT_USAGE;
}
