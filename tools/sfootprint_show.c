/* sfootprint -j / -u / -A / -S / -E: the seff-like report of one job (its
 * signed summary, else its accounting record) and sacct-like job tables. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <math.h>
#include <sys/wait.h>

#include <jansson.h>

#include "footprint/config.h"
#include "footprint/file.h"
#include "footprint/report.h"
#include "footprint/report_html.h"
#include "footprint/series.h"
#include "footprint/sign.h"
#include "footprint/slurmconf.h"
#include "footprint/step.h"
#include "footprint/summary.h"
#include "footprint/whatif.h"

#include "sfootprint.h"
#include "db.h"

#define JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(12))

struct options {
	char *jobs; /* canonical comma list (fp_report_job_ids) */
	size_t njobs;
	const char *users, *accounts, *start, *end, *config, *format;
	const char *html; /* --html FILE: the report as a web page */
	bool parsable, json, all_users, noheader;
	time_t from, to; /* -S and -E, read before anything else */
};

/* Exported by libslurm, not declared in its public headers. */
extern char *slurm_job_state_string(uint32_t inx);

/* What the report stands on: footprint.conf (NULL when unreadable and not
 * asked for explicitly) and the cluster. */
struct context {
	fp_config_t *cfg;
	char conf_path[4096];
	char cluster[256];
	char conf_note[600];	/* why cfg is NULL */
	char cluster_note[600]; /* why cluster is empty */
};

static void _usage(FILE *out)
{
	fprintf(out,
		"usage: sfootprint -j JOBID [--config FILE] [--json | --html "
		"FILE]\n"
		"       sfootprint [-j JOBID[,...]] [-u USER[,...]] "
		"[-A ACCOUNT[,...]] [-a]\n"
		"                  [-S START] [-E END] [-o FIELD[,...]] "
		"[-n] [-p|--json] [--config FILE]\n"
		"  (also as `sfootprint show ...`) START/END: "
		"YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY], HH:MM[:SS], now[-N"
		"[seconds|minutes|hours|days|weeks]]\n"
		"  FIELD: " FP_REPORT_COLUMNS "\n");
}

static int _load_context(struct context *c, const char *option)
{
	const char *env = getenv("FOOTPRINT_CONF");
	fp_error_t err = { 0 };
	char sconf[4096];
	int rc;

	if (fp_report_conf_path(option, env, NULL, c->conf_path,
				sizeof(c->conf_path))) {
		fprintf(stderr, "sfootprint: out of memory\n");
		return -1;
	}
	c->cfg = fp_config_load(c->conf_path, &err);
	if (!c->cfg) {
		/* Asked for by name: the user wants that file. Found by
		 * default: accounting records still make a report. */
		if ((option && *option) || (env && *env)) {
			fprintf(stderr, "sfootprint: %s\n", err.msg);
			return -1;
		}
		snprintf(c->conf_note, sizeof(c->conf_note), "%s", err.msg);
	}
	snprintf(sconf, sizeof(sconf), "%s", fp_slurmconf_path(NULL));
	rc = fp_slurmconf_get(sconf, "ClusterName", c->cluster,
			      sizeof(c->cluster), &err);
	if (rc < 0 || !c->cluster[0]) {
		c->cluster[0] = '\0';
		if (rc < 0)
			snprintf(c->cluster_note, sizeof(c->cluster_note),
				 "%s (set SLURM_CONF)", err.msg);
		else
			snprintf(c->cluster_note, sizeof(c->cluster_note),
				 "%s: no ClusterName", sconf);
	}
	return 0;
}

/* Accounting needs the cluster's name: 0, or -1 with why. */
static int _need_cluster(const struct context *c, char *why, size_t size)
{
	if (c->cluster[0])
		return 0;
	snprintf(why, size, "%s", c->cluster_note);
	return -1;
}

/* Our FP1 part of the field the configuration names, else of the other one
 * (a report must not depend on footprint.conf being readable). */
static int _job_record(const struct context *c, const slurmdb_job_rec_t *j,
		       fp_record_t *rec, fp_error_t *err)
{
	bool system = c->cfg &&
		      !strcasecmp(c->cfg->job_record_field, "SystemComment");
	const char *first = system ? j->system_comment : j->admin_comment;
	const char *second = system ? j->admin_comment : j->system_comment;
	int rc = fp_summary_record_parse(first, rec, err);

	if (rc == 1)
		rc = fp_summary_record_parse(second, rec, err);
	return rc;
}

static char *_user_name(const slurmdb_job_rec_t *j, char *buf, size_t size)
{
	struct passwd *pw;

	if (j->user && *j->user)
		snprintf(buf, size, "%s", j->user);
	else if ((pw = getpwuid(j->uid)))
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "%u", j->uid);
	return buf;
}

/* A count of tres_alloc_str ("1=2,2=1000,3=120,..."): id 1 is the CPUs,
 * 3 the energy in J (Slurm's TRES_CPU, TRES_ENERGY); NAN when absent. */
static double _tres_count(const char *tres, unsigned id)
{
	for (const char *p = tres; p && *p;
	     p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		char *end;
		unsigned long k = strtoul(p, &end, 10);

		if (end != p && *end == '=' && k == id) {
			double v = strtod(end + 1, NULL);

			/* NO_VAL64 and INFINITE64: none (sacct prints
			 * nothing) */
			return v >= 9.2e18 ? NAN : v;
		}
	}
	return NAN;
}

static void _step_name(const slurmdb_step_rec_t *s, char *buf, size_t size)
{
	if (s->step_id.step_id < FP_STEP_INTERACTIVE &&
	    s->step_id.step_het_comp != NO_VAL)
		snprintf(buf, size, "%u+%u", s->step_id.step_id,
			 s->step_id.step_het_comp);
	else
		fp_step_id_format(buf, size, 0, s->step_id.step_id);
}

/* What sacct and seff show of a job, as they compute it: ExitCode is
 * "status:signal", the CPU time seff's, the steps' user + system summed
 * (the job record's own is 0 in slurmdbd's answer), the job row's
 * ConsumedEnergy its TRES energy (unknown when slurmctld had none as the
 * job ended, where sacct prints nothing). *steps (the caller free()s it)
 * holds each step's energy. */
static fp_report_acct_t _job_acct(const slurmdb_job_rec_t *j,
				  fp_report_acct_step_t **steps)
{
	fp_report_acct_t a = fp_report_acct_unknown();
	double energy = _tres_count(j->tres_alloc_str, 3);

	a.name = j->jobname;
	a.state = slurm_job_state_string(j->state & JOB_STATE_BASE);
	if (j->exitcode != NO_VAL) {
		a.exit_code = WEXITSTATUS(j->exitcode);
		a.exit_signal = WIFSIGNALED(j->exitcode) ? WTERMSIG(j->exitcode)
							 : 0;
	}
	a.start = j->start;
	a.end = j->end;
	a.elapsed_s = j->elapsed;
	a.cpu_time_s = (double)j->tot_cpu_sec + j->tot_cpu_usec / 1e6;
	a.alloc_cpus = _tres_count(j->tres_alloc_str, 1);
	a.energy_j = energy;
	*steps = NULL;
	if (j->steps && slurm_list_count(j->steps) > 0) {
		struct listIterator *it = slurm_list_iterator_create(j->steps);
		slurmdb_step_rec_t *st;
		size_t n = 0;

		*steps = calloc(slurm_list_count(j->steps), sizeof(**steps));
		a.cpu_time_s = 0;
		while (*steps && (st = slurm_list_next(it))) {
			a.cpu_time_s += (double)st->tot_cpu_sec +
					st->tot_cpu_usec / 1e6;
			_step_name(st, (*steps)[n].name,
				   sizeof((*steps)[n].name));
			(*steps)[n].energy_j =
				st->stats.consumed_energy == NO_VAL64
					? NAN
					: (double)st->stats.consumed_energy;
			n++;
		}
		slurm_list_iterator_destroy(it);
		a.steps = *steps;
		a.nsteps = n;
	}
	return a;
}

/* The signed summary of a job: 0 valid (*payload, *status "valid (...)"),
 * 1 none readable (*status says why), -1 INVALID or not verifiable (*status
 * the reason). Every trusted key, current and retired: the summary's kid
 * picks one; a legacy high-S signature is as authentic, and the report
 * says so. */
static int _signed_summary(const struct context *c, unsigned long id,
			   char **payload, char *status, size_t size,
			   json_t **sig)
{
	char path[4096], key_note[4200];
	fp_summary_file_t f;
	fp_error_t err = { 0 };
	fp_keyset_t *ks;
	const char *what;
	bool unverified;

	*payload = NULL;
	if (!c->cfg) {
		snprintf(status, size, "unsigned record only (%s)",
			 c->conf_note);
		*sig = json_pack("{s:s, s:s}", "status", "unsigned", "reason",
				 c->conf_note);
		return 1;
	}
	fp_summary_load_path(path, sizeof(path), c->cfg->spool_dir, id);
	/* Keys that cannot be read say nothing of the summary, and nothing
	 * at all when there is none: without them (NULL) a summary there is
	 * unverified. f.info.key is one of ks's: ks lives until the end. */
	ks = fp_sign_keyset_new_config(c->cfg, &err);
	fp_summary_load(&f, path, ks, id);
	if (f.state == FP_SUMMARY_ABSENT || f.state == FP_SUMMARY_UNREADABLE) {
		snprintf(status, size, "unsigned record only (%s)", f.err.msg);
		*sig = json_pack("{s:s, s:s}", "status", "unsigned", "reason",
				 f.err.msg);
		fp_summary_load_clear(&f);
		fp_sign_keyset_free(ks);
		return 1;
	}
	if (f.state != FP_SUMMARY_VALID) {
		const char *why = ks ? f.err.msg : err.msg;

		unverified = f.state == FP_SUMMARY_UNVERIFIED;
		what = unverified ? "NOT VERIFIED" : "INVALID";
		snprintf(status, size, "%s: %s", what, why);
		*sig = json_pack("{s:s, s:s}", "status",
				 unverified ? "unverified" : "invalid",
				 "reason", why);
		fp_summary_load_clear(&f);
		fp_sign_keyset_free(ks);
		return -1;
	}
	snprintf(key_note, sizeof(key_note), "key %s%s",
		 fp_sign_key_path(f.info.key),
		 f.info.high_s ? ", legacy high-S signature" : "");
	snprintf(status, size, "valid (kid %s, %s, %s)",
		 fp_sign_key_kid(f.info.key), fp_sign_key_alg(f.info.key),
		 key_note);
	*sig = json_pack("{s:s, s:s, s:s, s:s, s:b}", "status", "valid", "kid",
			 fp_sign_key_kid(f.info.key), "alg",
			 fp_sign_key_alg(f.info.key), "key",
			 fp_sign_key_path(f.info.key), "high_s", f.info.high_s);
	*payload = f.payload;
	f.payload = NULL;
	fp_summary_load_clear(&f);
	fp_sign_keyset_free(ks);
	return 0;
}

/* The page of --html into path ("-": stdout). */
static int _write_html(struct context *c, const fp_report_t *r,
		       const char *status, const char *path,
		       const char *payload)
{
	fp_error_t err = { 0 };
	char why[sizeof(err.msg)] = "";
	FILE *f;
	int rc = -1;

	if (!c->cfg || r->from_record)
		snprintf(why, sizeof(why),
			 "No what-if: it needs the signed "
			 "summary and footprint.conf%s%.400s%s",
			 c->cfg ? "" : " (", c->cfg ? "" : c->conf_note,
			 c->cfg ? "" : ")");
	f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f) {
		fp_error_set(&err, FP_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = fp_report_html_page(r, status, payload, c->cfg, *why ? why : NULL,
				 f, &err);
	if ((f != stdout && fclose(f)) || (f == stdout && fflush(f))) {
		if (!rc)
			fp_error_set(&err, FP_EIO, "%s: %s", path,
				     strerror(errno));
		rc = -1;
	}
out:
	if (rc)
		fprintf(stderr, "sfootprint: job %llu: --html: %s\n",
			(unsigned long long)r->job_id, err.msg);
	return rc;
}

static int _print_report(const fp_report_t *r, const char *status, json_t *sig,
			 const char *payload, bool as_json)
{
	if (as_json) {
		json_t *o = fp_report_json(r);
		char *s;

		if (!o)
			return -1;
		json_object_set(o, "signature", sig ? sig : json_null());
		json_object_set_new(o, "summary",
				    payload ? json_loads(payload, 0, NULL)
					    : json_null());
		s = json_dumps(o, JSON_FLAGS);
		json_decref(o);
		if (!s)
			return -1;
		printf("%s\n", s);
		free(s);
	} else {
		char *s = fp_report_text(r, status);
		json_t *sum = payload ? json_loads(payload, 0, NULL) : NULL;
		char *parts = sum ? fp_summary_parts_text(sum) : NULL;

		json_decref(sum);
		if (!s) {
			free(parts);
			return -1;
		}
		fputs(s, stdout);
		/* energy by part and the GPUs held: summaries since issue
		 * #15 with the nodes' step records (NodePartsDir=) */
		if (parts)
			fputs(parts, stdout);
		free(s);
		free(parts);
	}
	return 0;
}

/* Resolves "42_3" to the raw job id through accounting. */
static slurmdb_job_rec_t *_first_job(struct xlist *jobs)
{
	struct listIterator *it = slurm_list_iterator_create(jobs);
	slurmdb_job_rec_t *j = slurm_list_next(it);

	slurm_list_iterator_destroy(it);
	return j;
}

/* Adds what accounting says (or why it could not) to the report. */
static int _add_acct(fp_report_t *r, const slurmdb_job_rec_t *j,
		     const char *why, fp_error_t *err)
{
	fp_report_acct_step_t *steps;
	fp_report_acct_t a;
	int rc;

	if (!j)
		return fp_report_set_acct_note(r, why, err);
	a = _job_acct(j, &steps);
	rc = fp_report_set_acct(r, &a, err);
	free(steps);
	return rc;
}

static int _show_job(struct context *c, const struct options *o)
{
	char status[5000] = "", why[600] = "", *payload = NULL;
	const char *job = o->jobs;
	unsigned long id = strtoul(job, NULL, 10);
	bool numeric = !strpbrk(job, "_+");
	fp_error_t err = { 0 };
	fp_report_t *r = NULL;
	json_t *sig = NULL;
	void *db = NULL;
	struct xlist *jobs = NULL;
	slurmdb_job_rec_t *j = NULL;
	fp_record_t rec;
	int sum = 1, rc = FP_EXIT_FAIL;
	fpt_db_query_t q = { .job = job };

	/* State, exit code, CPU time and sacct's energy are accounting's
	 * even when the summary has the footprint; an array task or het
	 * component needs it for its raw id, which names the summary. */
	if (_need_cluster(c, why, sizeof(why)) ||
	    !(db = fpt_db_open(why, sizeof(why))) ||
	    !(jobs = fpt_db_jobs(db, c->cluster, &q, why, sizeof(why))))
		;
	else if (!(j = _first_job(jobs)))
		snprintf(why, sizeof(why),
			 "not in the accounting of cluster "
			 "%s",
			 c->cluster);
	if (!numeric) {
		if (!j) {
			fprintf(stderr, "sfootprint: job %s: %s\n", job, why);
			goto out;
		}
		id = j->jobid;
	}
	sum = _signed_summary(c, id, &payload, status, sizeof(status), &sig);
	if (sum == 0) {
		r = fp_report_from_summary(job, payload, &err);
		if (!r || _add_acct(r, j, why, &err)) {
			fprintf(stderr, "sfootprint: job %s: %s\n", job,
				err.msg);
			goto out;
		}
		rc = (o->html ? _write_html(c, r, status, o->html, payload)
			      : _print_report(r, status, sig, payload, o->json))
			     ? FP_EXIT_FAIL
			     : FP_EXIT_OK;
		goto out;
	}
	if (!j) {
		/* Says why the summary was not enough. */
		fprintf(stderr, "sfootprint: job %s: %s%s; no accounting "
			"record: %s\n", job, sum < 0 ? "signed summary " : "",
			sum < 0 ? status : json_string_value(json_object_get(
				sig, "reason")) ?: status, why);
		goto out;
	}
	switch (_job_record(c, j, &rec, &err)) {
	case 0:
		break;
	case 1:
		fprintf(stderr,
			"sfootprint: job %s: no footprint yet (no FP1 "
			"record in its accounting; %s)\n",
			job, status);
		goto out;
	default:
		fprintf(stderr, "sfootprint: job %s: %s\n", job, err.msg);
		goto out;
	}
	{
		char user[64];

		r = fp_report_from_record(&rec,
					  _user_name(j, user, sizeof(user)),
					  j->account, &err);
	}
	if (!r || _add_acct(r, j, why, &err)) {
		fprintf(stderr, "sfootprint: job %s: %s\n", job, err.msg);
		goto out;
	}
	if (o->html ? _write_html(c, r, status, o->html, NULL)
		    : _print_report(r, status, sig, NULL, o->json))
		goto out;
	/* The figures shown are the record's, but a forged or damaged
	 * summary is a fault the caller must see. */
	rc = sum < 0 ? FP_EXIT_FAIL : FP_EXIT_OK;
	if (sum < 0)
		fprintf(stderr, "sfootprint: job %s: signature %s\n", job,
			status);
out:
	fp_report_free(r);
	free(payload);
	json_decref(sig);
	if (jobs)
		slurm_list_destroy(jobs);
	fpt_db_close(db);
	return rc;
}

/* "alice,1001" -> "1000,1001" (slurmdbd selects users by uid). */
static char *_uid_list(const char *users)
{
	char *copy = strdup(users), *save = NULL, *tok, *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	bool first = true, ok = true;

	for (tok = strtok_r(copy, ",", &save); ok && tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct passwd *pw = getpwnam(tok);
		char *end;
		unsigned long uid = strtoul(tok, &end, 10);

		if (pw)
			uid = pw->pw_uid;
		else if (!*tok || *end) {
			fprintf(stderr, "sfootprint: user '%s': no such user\n",
				tok);
			ok = false;
		}
		fprintf(f, "%s%lu", first ? "" : ",", uid);
		first = false;
	}
	free(copy);
	fclose(f);
	if (!ok || first) {
		if (ok)
			fprintf(stderr, "sfootprint: -u '%s': no user\n",
				users);
		free(out);
		return NULL;
	}
	return out;
}

static int _aggregate(struct context *c, const struct options *o)
{
	fpt_db_query_t q = { .job = o->jobs,
			     .accounts = o->accounts,
			     .start = o->from,
			     .end = o->to };
	fp_error_t err = { 0 };
	fp_report_table_t *t = NULL;
	char *uids = NULL, why[600], *text;
	void *db = NULL;
	struct xlist *jobs = NULL;
	struct listIterator *it;
	slurmdb_job_rec_t *j;
	int rc = FP_EXIT_FAIL;

	if (o->users) {
		if (!(uids = _uid_list(o->users)))
			return FP_EXIT_FAIL;
	} else if (getuid() != 0 && !o->all_users && !o->jobs) {
		/* As sacct: a user sees their own jobs unless -a. */
		if (asprintf(&uids, "%u", (unsigned)getuid()) < 0)
			return FP_EXIT_FAIL;
	}
	q.uids = uids;
	if (_need_cluster(c, why, sizeof(why)) ||
	    !(db = fpt_db_open(why, sizeof(why))) ||
	    !(jobs = fpt_db_jobs(db, c->cluster, &q, why, sizeof(why)))) {
		fprintf(stderr, "sfootprint: %s\n", why);
		goto out;
	}
	t = fp_report_table_new();
	if (!t || fp_report_table_set_format(
			  t, o->format ? o->format : FP_REPORT_DEFAULT_COLUMNS,
			  &err)) {
		fprintf(stderr, "sfootprint: %s\n",
			t ? err.msg : "out of memory");
		goto out;
	}
	fp_report_table_set_noheader(t, o->noheader);
	it = slurm_list_iterator_create(jobs);
	while ((j = slurm_list_next(it))) {
		char name[64], user[64];
		fp_record_t rec;
		int found = _job_record(c, j, &rec, &err);
		fp_report_acct_step_t *steps;
		fp_report_acct_t a = _job_acct(j, &steps);

		fpt_db_job_name(j, name, sizeof(name));
		if (found < 0)
			fprintf(stderr, "sfootprint: job %s: %s\n", name,
				err.msg);
		found = fp_report_table_add(t, name,
					    _user_name(j, user, sizeof(user)),
					    j->account,
					    found == 0 ? &rec : NULL, &a, &err);
		free(steps);
		if (found) {
			fprintf(stderr, "sfootprint: %s\n", err.msg);
			break;
		}
	}
	slurm_list_iterator_destroy(it);
	if (j)
		goto out;
	if (o->json) {
		json_t *root = fp_report_table_json(t);
		char fmt[2][21];

		/* JSON keeps UTC; text is local, as sacct prints. */
		fp_iso8601_format(q.start, fmt[0]);
		fp_iso8601_format(q.end, fmt[1]);
		if (o->jobs) {
			json_object_set_new(root, "start", json_null());
			json_object_set_new(root, "end", json_null());
		} else {
			json_object_set_new(root, "start", json_string(fmt[0]));
			json_object_set_new(root, "end", json_string(fmt[1]));
		}
		json_object_set_new(root, "cluster", json_string(c->cluster));
		text = json_dumps(root, JSON_FLAGS);
		json_decref(root);
		if (text)
			printf("%s\n", text);
	} else {
		text = fp_report_table_text(t, o->parsable);
		if (text)
			fputs(text, stdout);
	}
	if (text)
		rc = FP_EXIT_OK;
	free(text);
out:
	fp_report_table_free(t);
	if (jobs)
		slurm_list_destroy(jobs);
	fpt_db_close(db);
	free(uids);
	return rc;
}

/* -S/-E as sacct: since 00:00 today, until now. */
static int _read_window(struct options *o)
{
	time_t now = time(NULL);
	fp_error_t err = { 0 };
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	o->from = mktime(&tm);
	o->to = now;
	if (o->start && fp_report_parse_time(o->start, now, &o->from, &err)) {
		fprintf(stderr, "sfootprint: -S: %s\n", err.msg);
		return -1;
	}
	if (o->end && fp_report_parse_time(o->end, now, &o->to, &err)) {
		fprintf(stderr, "sfootprint: -E: %s\n", err.msg);
		return -1;
	}
	if (o->to < o->from) {
		fprintf(stderr, "sfootprint: -S %s is after -E %s\n",
			o->start ? o->start : "(midnight)",
			o->end ? o->end : "(now)");
		return -1;
	}
	return 0;
}

/* Everything the command line says is checked here, before slurm.conf,
 * footprint.conf or accounting is read: 0, or FP_EXIT_USAGE said. */
static int _read_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "user", required_argument, NULL, 'u' },
		{ "users", required_argument, NULL, 'u' },
		{ "account", required_argument, NULL, 'A' },
		{ "accounts", required_argument, NULL, 'A' },
		{ "allusers", no_argument, NULL, 'a' },
		{ "starttime", required_argument, NULL, 'S' },
		{ "endtime", required_argument, NULL, 'E' },
		{ "format", required_argument, NULL, 'o' },
		{ "noheader", no_argument, NULL, 'n' },
		{ "parsable", no_argument, NULL, 'p' },
		{ "parsable2", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'J' },
		{ "html", required_argument, NULL, 'W' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	fp_error_t err = { 0 };
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":j:u:A:aS:E:o:nph", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'j':
			if (fp_report_job_ids(optarg, &o->jobs, &o->njobs,
					      &err)) {
				fprintf(stderr, "sfootprint: -j: %s\n",
					err.msg);
				return FP_EXIT_USAGE;
			}
			break;
		case 'u':
			o->users = optarg;
			break;
		case 'A':
			o->accounts = optarg;
			break;
		case 'a':
			o->all_users = true;
			break;
		case 'S':
			o->start = optarg;
			break;
		case 'E':
			o->end = optarg;
			break;
		case 'o':
			o->format = optarg;
			break;
		case 'n':
			o->noheader = true;
			break;
		case 'p':
			o->parsable = true;
			break;
		case 'J':
			o->json = true;
			break;
		case 'W':
			o->html = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'h':
			_usage(stdout);
			return -1;
		case ':':
			fprintf(stderr,
				"sfootprint: option '%s' needs a "
				"value\n",
				argv[optind - 1]);
			_usage(stderr);
			return FP_EXIT_USAGE;
		default:
			fprintf(stderr, "sfootprint: unknown option '%s'\n",
				argv[optind - 1]);
			_usage(stderr);
			return FP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sfootprint: unexpected argument '%s'\n",
			argv[optind]);
		_usage(stderr);
		return FP_EXIT_USAGE;
	}
	if (o->jobs &&
	    (o->users || o->accounts || o->start || o->end || o->all_users)) {
		fprintf(stderr,
			"sfootprint: -j selects jobs by id; -u, -A, "
			"-a, -S and -E select the jobs of a time window\n");
		return FP_EXIT_USAGE;
	}
	if (o->html && (o->njobs != 1 || o->json || o->parsable || o->format ||
			o->noheader || !*o->html)) {
		fprintf(stderr,
			"sfootprint: --html FILE writes the report of "
			"one job (-j JOBID), without --json, -p, -o or -n\n");
		return FP_EXIT_USAGE;
	}
	if (o->parsable && o->json) {
		fprintf(stderr, "sfootprint: -p and --json exclude each "
				"other\n");
		return FP_EXIT_USAGE;
	}
	if (o->format) {
		fp_report_table_t *t = fp_report_table_new();
		int rc = !t || fp_report_table_set_format(t, o->format, &err);

		fp_report_table_free(t);
		if (rc) {
			fprintf(stderr, "sfootprint: -o: %s\n",
				t ? err.msg : "out of memory");
			return FP_EXIT_USAGE;
		}
	}
	if (_read_window(o))
		return FP_EXIT_USAGE;
	return 0;
}

int fpt_cmd_show(int argc, char **argv)
{
	struct options o = { 0 };
	struct context c = { 0 };
	int rc = _read_options(argc, argv, &o);

	if (rc) {
		free(o.jobs);
		return rc < 0 ? FP_EXIT_OK : rc;
	}
	if (_load_context(&c, o.config)) {
		free(o.jobs);
		return FP_EXIT_FAIL;
	}
	/* One job: seff's report; several, -p, -o or -n: sacct's table
	 * (`-j ID -p` is the job's line, as `sacct -j ID -p`). */
	if (o.njobs == 1 && !o.parsable && !o.format && !o.noheader)
		rc = _show_job(&c, &o);
	else
		rc = _aggregate(&c, &o);
	fp_config_free(c.cfg);
	free(o.jobs);
	return rc;
}
