/* Error reporting for libfootprint: fills a caller-owned fp_error_t. */
#include "footprint/error.h"

#include <stdarg.h>
#include <stdio.h>

void fp_error_vlog(fp_log_fn log, void *ctx, int level, const char *fmt,
		   va_list ap)
{
	char msg[FP_LOG_MAX];

	if (!log)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log(ctx, level, msg);
}

int fp_error_set(fp_error_t *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void fp_error_clear(fp_error_t *err)
{
	if (!err)
		return;
	err->code = FP_OK;
	err->msg[0] = '\0';
}

const char *fp_error_str(int code)
{
	switch (code) {
	case FP_OK:
		return "ok";
	case FP_EIO:
		return "i/o error";
	case FP_EPARSE:
		return "malformed input";
	case FP_EINVAL:
		return "invalid value";
	case FP_ENOMEM:
		return "out of memory";
	case FP_ESTALE:
		return "stale data";
	case FP_ENOTSUP:
		return "not supported";
	case FP_ECONSERV:
		return "conservation violated";
	case FP_EACCES:
		return "permission denied";
	}
	return "unknown error";
}
