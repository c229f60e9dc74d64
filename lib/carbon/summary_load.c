/* Reading a job's signed summary back from the spool: where it lies, and
 * whether it is there, verified, and this job's (the tools and the worker). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/file.h"
#include "footprint/sign.h"
#include "footprint/summary.h"

char *fp_summary_load_path(char *buf, size_t size, const char *spool_dir,
			   uint64_t job_id)
{
	snprintf(buf, size, "%s/summaries/%llu.jws", spool_dir,
		 (unsigned long long)job_id);
	return buf;
}

/* The summary's job id: job.id, or the job_id of the first summaries. */
static bool _job_id(const json_t *root, uint64_t *id)
{
	const json_t *v = json_object_get(json_object_get(root, "job"), "id");

	if (!v)
		v = json_object_get(root, "job_id");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*id = (uint64_t)json_integer_value(v);
	return true;
}

static fp_summary_state_t _fail(fp_summary_file_t *f, fp_summary_state_t s,
				const char *why)
{
	f->state = s;
	free(f->payload);
	json_decref(f->root);
	f->payload = NULL;
	f->root = NULL;
	fp_error_set(&f->err, s == FP_SUMMARY_UNREADABLE ? FP_EIO : FP_EINVAL,
		     "%s: %s", f->path, why);
	return s;
}

fp_summary_state_t fp_summary_load(fp_summary_file_t *f, const char *path,
				   const fp_keyset_t *trusted, uint64_t job_id)
{
	fp_error_t err = { 0 };
	json_error_t jerr;
	char *token;
	uint64_t id;

	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	token = fp_file_read_whole(path, FP_SIGN_TOKEN_MAX);
	if (!token) {
		/* there, but damaged or forged: never taken for a missing
		 * one */
		if (errno == EILSEQ)
			return _fail(f, FP_SUMMARY_INVALID,
				     "a NUL byte: not a signed summary");
		if (errno == EFBIG)
			return _fail(f, FP_SUMMARY_INVALID,
				     "too long for a signed summary");
		if (errno == ENOENT)
			return _fail(f, FP_SUMMARY_ABSENT,
				     "no signed summary (yet)");
		return _fail(f, FP_SUMMARY_UNREADABLE, strerror(errno));
	}
	/* A high S is what summaries signed before low-S signing carry half
	 * the time; the content is as authentic, and `sfootprint verify`
	 * (strict) tells the two forms apart. */
	f->payload = trusted ? fp_sign_keyset_verify(trusted, token,
						     FP_VERIFY_ACCEPT_HIGH_S,
						     &f->info, &err)
			     : NULL;
	free(token);
	if (!f->payload) {
		/* no usable key says nothing of the summary */
		bool no_key = !trusted || f->info.fault == FP_VERIFY_OK ||
			      f->info.fault == FP_VERIFY_NO_KEYS;

		return _fail(
			f, no_key ? FP_SUMMARY_UNVERIFIED : FP_SUMMARY_INVALID,
			trusted ? err.msg : "no trusted key");
	}
	f->root = json_loads(f->payload, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(f->root)) {
		char why[300];

		snprintf(why, sizeof(why),
			 "the signed content is not a "
			 "summary: %s",
			 jerr.text);
		return _fail(f, FP_SUMMARY_INVALID, why);
	}
	/* a valid summary of another job is not this job's */
	if (job_id && (!_job_id(f->root, &id) || id != job_id)) {
		char why[100];

		snprintf(why, sizeof(why),
			 "the signed summary is not job "
			 "%llu's",
			 (unsigned long long)job_id);
		return _fail(f, FP_SUMMARY_INVALID, why);
	}
	f->state = FP_SUMMARY_VALID;
	return f->state;
}

void fp_summary_load_clear(fp_summary_file_t *f)
{
	free(f->payload);
	json_decref(f->root);
	memset(f, 0, sizeof(*f));
}
