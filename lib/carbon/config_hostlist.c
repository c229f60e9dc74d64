/* The hostlists of footprint.conf (Nodes=): each checked at its line, no
 * node in two NodeTypes, and the plain comma-list matcher of the tools. */
#include "config_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slurm would refuse a malformed Nodes= only when a node is looked up
 * ("node n1 is in no Site"): said here, at its line. Brackets hold ranges
 * of digits, lo-hi with lo <= hi, comma separated; no nesting. */
int fp_config_hostlist_check(struct ctx *c, const struct kv *kv)
{
	const char *p = kv->val, *why = NULL;

	if (!*p)
		why = "empty";
	while (*p && !why) {
		if (*p == ']') {
			why = "']' without '['";
		} else if (*p == '[') {
			for (p++; !why;) {
				char *end;
				unsigned long lo, hi;

				if (!isdigit((unsigned char)*p)) {
					why = *p ? "a range must be digits, "
						   "like [1-4,7]"
						 : "'[' without ']'";
					break;
				}
				lo = hi = strtoul(p, &end, 10);
				p = end;
				if (*p == '-') {
					if (!isdigit((unsigned char)p[1])) {
						why = "a range must be digits, "
						      "like [1-4,7]";
						break;
					}
					hi = strtoul(p + 1, &end, 10);
					p = end;
				}
				if (hi < lo)
					why = "a range goes down (write "
					      "[lo-hi])";
				else if (*p == ',')
					p++;
				else if (*p == ']')
					break;
				else
					why = *p ? "a range must be digits, "
						   "like [1-4,7]"
						 : "'[' without ']'";
			}
		} else if (isspace((unsigned char)*p)) {
			why = "contains a space";
		} else if (*p == ',' &&
			   (p == kv->val || p[1] == ',' || !p[1])) {
			/* "n[1-4],," would be read as n1..n4 and nothing. */
			why = "empty name";
		}
		if (*p)
			p++;
	}
	if (why)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': '%s' is not a "
			    "hostlist: %s",
			    c->name, c->line, kv->key, kv->val, why);
	return 0;
}

/* The names of a checked hostlist, expanded (n[01-03] is n01 n02 n03), for
 * the one check that needs them; -1 past *budget names or on ENOMEM. */
struct names {
	char **v;
	size_t n, cap, budget;
};

static int _add_name(struct names *ns, const char *name)
{
	if (ns->n >= ns->budget)
		return -1;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 64;
		char **v = realloc(ns->v, cap * sizeof(*v));

		if (!v)
			return -1;
		ns->v = v;
		ns->cap = cap;
	}
	if (!(ns->v[ns->n] = strdup(name)))
		return -1;
	ns->n++;
	return 0;
}

static int _expand_item(struct names *ns, char *out, size_t used, size_t size,
			const char *p, const char *end)
{
	const char *open = memchr(p, '[', (size_t)(end - p)), *close;

	if (!open) {
		if (used + (size_t)(end - p) >= size)
			return -1;
		memcpy(out + used, p, (size_t)(end - p));
		out[used + (size_t)(end - p)] = '\0';
		return _add_name(ns, out);
	}
	close = memchr(open, ']', (size_t)(end - open));
	if (!close || used + (size_t)(open - p) >= size)
		return -1;
	memcpy(out + used, p, (size_t)(open - p));
	used += (size_t)(open - p);
	for (const char *r = open + 1; r < close;) {
		char *e;
		unsigned long lo = strtoul(r, &e, 10), hi = lo;
		int width = (int)(e - r);

		if (*e == '-')
			hi = strtoul(e + 1, &e, 10);
		for (unsigned long k = lo; k <= hi; k++) {
			int w = snprintf(out + used, size - used, "%0*lu",
					 width, k);

			if (w < 0 || (size_t)w >= size - used ||
			    _expand_item(ns, out, used + (size_t)w, size,
					 close + 1, end))
				return -1;
		}
		r = *e == ',' ? e + 1 : e;
	}
	return 0;
}

static int _expand_hostlist(struct names *ns, const char *hl)
{
	char out[512];

	for (const char *p = hl; *p;) {
		const char *q = p;
		int depth = 0;

		for (; *q && (depth || *q != ','); q++)
			depth += *q == '[' ? 1 : *q == ']' ? -1 : 0;
		if (_expand_item(ns, out, 0, sizeof(out), p, q))
			return -1;
		p = *q ? q + 1 : q;
	}
	return 0;
}

static void _free_names(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int _cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A node in two NodeType lines would take the first one's embodied figure
 * silently: an error naming both lines. Hostlists too large to expand
 * (over a million names) are left unchecked. */
int fp_config_hostlist_check_node_types(struct ctx *c)
{
	const fp_config_t *cfg = c->cfg;
	int rc = 0;

	for (size_t i = 0; i + 1 < cfg->nnode_types && !rc; i++) {
		struct names a = { .budget = 1u << 20 };

		if (_expand_hostlist(&a, cfg->node_types[i].nodes)) {
			_free_names(&a);
			continue;
		}
		qsort(a.v, a.n, sizeof(*a.v), _cmp_name);
		for (size_t j = i + 1; j < cfg->nnode_types && !rc; j++) {
			struct names b = { .budget = 1u << 20 };
			const fp_node_type_t *t = &cfg->node_types[j];

			if (!_expand_hostlist(&b, t->nodes))
				for (size_t k = 0; k < b.n && !rc; k++)
					if (bsearch(&b.v[k], a.v, a.n,
						    sizeof(*a.v), _cmp_name))
						rc = FAIL(
							c, FP_EINVAL,
							"%s:%u: "
							"NodeType '%s': node "
							"'%s' is also in "
							"NodeType '%s' of "
							"line %u",
							c->name, t->line,
							t->name, b.v[k],
							cfg->node_types[i].name,
							cfg->node_types[i].line);
			_free_names(&b);
		}
		_free_names(&a);
	}
	return rc;
}

int fp_config_hostlist_match_plain(const char *hostlist, const char *node,
				   void *ctx)
{
	size_t n = strlen(node);

	(void)ctx;
	for (const char *p = hostlist; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !strncmp(p, node, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}
