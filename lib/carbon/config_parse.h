/* The parser's state, shared by the files that read footprint.conf's lines
 * (config_parse.c, config_key.c, config_hostlist.c): private to them. */
#ifndef FP_CONFIG_PARSE_H
#define FP_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "footprint/config.h"

/* One Key=Value pair of a line. */
struct kv {
	char *key;
	char *val;
};

struct ctx {
	const char *name;
	char *dir; /* for relative paths */
	unsigned line;
	fp_config_t *cfg;
	fp_error_t *err;
	bool reference_seen;
	unsigned global_line[24]; /* where each global key was given */
};

#define FAIL(c, code, ...) fp_error_set((c)->err, code, __VA_ARGS__)

/* config_key.c: the keys of an entity's line (kv[0] names it) or one
 * global key, and the defaults set before the first line. */
int fp_config_key_site(struct ctx *c, struct kv *kv, size_t n);
int fp_config_key_node_type(struct ctx *c, struct kv *kv, size_t n);
int fp_config_key_reference(struct ctx *c, struct kv *kv, size_t n);
int fp_config_key_defaults(struct ctx *c);
/* The value readers the key files share; each fails naming the line. */
int fp_config_key_dup(struct ctx *c, char **dst, const char *src);
int fp_config_key_uint(struct ctx *c, const struct kv *kv, unsigned lo,
		       unsigned hi, unsigned *out);
int fp_config_key_path(struct ctx *c, const char *p, char **out);
int fp_config_key_paths(struct ctx *c, const char *p, char ***list, size_t *n);

/* config_global.c: one global key, and the defaults of all of them. */
int fp_config_global_set(struct ctx *c, struct kv *kv);
int fp_config_global_defaults(struct ctx *c);

/* config_hostlist.c */
int fp_config_hostlist_check(struct ctx *c, const struct kv *kv);
int fp_config_hostlist_check_node_types(struct ctx *c);

/* config.c: frees what a signal spec holds and zeroes it. */
void fp_config_spec_free(fp_signal_spec_t *s);

#endif
