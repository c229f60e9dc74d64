/* Test helpers for readers of generated sysfs trees (powercap, hwmon): a
 * log sink that counts warnings and keeps the last, and a file writer.
 * Include after cmocka.h. */
#ifndef FP_TEST_SYSFS_TREE_H
#define FP_TEST_SYSFS_TREE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/error.h"

typedef struct logs {
	int n;
	char last[768];
} logs_t;

/* An fp_log_fn: ctx is a logs_t; only warnings and errors count. */
static inline void _log(void *ctx, int level, const char *msg)
{
	logs_t *l = ctx;

	if (level > FP_LOG_WARN)
		return;
	l->n++;
	snprintf(l->last, sizeof(l->last), "%s", msg);
}

/* Writes text as dir/file (created or truncated). */
static inline void _put(const char *dir, const char *file, const char *text)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A new temporary directory from tmpl ("/tmp/name.XXXXXX"). Free it with
 * _rm. */
static inline char *_tree_root(const char *tmpl)
{
	char t[256];

	snprintf(t, sizeof(t), "%s", tmpl);
	assert_non_null(mkdtemp(t));
	return strdup(t);
}

/* Removes the tree and frees root. */
static inline void _rm(char *root)
{
	char cmd[1100];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	free(root);
}

#endif
