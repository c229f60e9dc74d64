/* JSON text the library writes: jansson's dump, with every real number in
 * the shortest form that reads back (strtod) to the very same double. */
#ifndef FP_JSON_H
#define FP_JSON_H

#include <stddef.h>

#include <jansson.h>

/* Writes finite x into buf in its shortest round-trip form (no float noise
 * such as 0.10000000000000001, no digit lost), in jansson's style: "2.0",
 * "0.0004", "1.5e-7", integers below 1e17 without an exponent. Returns the
 * length, or -1 when x is not finite or size is too small (32 is enough). */
int fp_json_format_real(double x, char *buf, size_t size);

/* json_dumps(root, flags) with each real written by fp_json_format_real
 * (JSON_REAL_PRECISION in flags is ignored). NULL when out of memory. The
 * caller free()s it. */
char *fp_json_dumps(const json_t *root, size_t flags);

/* o's member key as a double: NAN when o is not an object, or the member is
 * absent, null or not a number. */
double fp_json_number(const json_t *o, const char *key);

#endif
