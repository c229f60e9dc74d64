/* Error reporting for libfootprint: a caller-owned status with a message that
 * names the input and the fault. Nothing in lib/ prints or exits. */
#ifndef FP_ERROR_H
#define FP_ERROR_H

#include <stdarg.h>

enum fp_errcode {
	FP_OK = 0,
	FP_EIO,	   /* a file could not be opened or read */
	FP_EPARSE, /* malformed input (JSON, numbers, lists) */
	FP_EINVAL, /* a value out of range or inconsistent */
	FP_ENOMEM,
	FP_ESTALE,   /* data too old to be used */
	FP_ENOTSUP,  /* the facility does not exist on this machine */
	FP_ECONSERV, /* an energy balance did not hold */
	FP_EACCES,   /* a file is there but may not be read */
};

typedef struct fp_error {
	int code;
	char msg[512];
} fp_error_t;

/* Where a module must say something without failing (a zone skipped, a
 * sensor reading rejected), it calls the owner's log function, if any; the
 * Slurm plugin routes it to error()/log_flag(), the CLI to stderr. Modules
 * say each distinct problem once, not at every poll. */
enum fp_loglevel { FP_LOG_ERROR, FP_LOG_WARN, FP_LOG_INFO, FP_LOG_DEBUG };
typedef void (*fp_log_fn)(void *ctx, int level, const char *msg);
/* A module's say: fmt's message to log (nothing when log is NULL), cut at
 * FP_LOG_MAX bytes. Each module's own logger is a wrapper of it. */
#define FP_LOG_MAX 1024
void fp_error_vlog(fp_log_fn log, void *ctx, int level, const char *fmt,
		   va_list ap) __attribute__((format(printf, 4, 0)));

/* Sets err (if not NULL) and returns -1, so callers can `return fp_error_set(...)`. */
int fp_error_set(fp_error_t *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fp_error_clear(fp_error_t *err);
const char *fp_error_str(int code);

#endif
