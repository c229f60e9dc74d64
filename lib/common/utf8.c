/* UTF-8 validation (RFC 3629) and the escaped copy of text that is not:
 * footprint.conf refuses it, Slurm-provided names are escaped. */
#include "footprint/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t fp_utf8_seq(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (!len)
		return 0;
	if (u[0] < 0x80)
		return 1;
	if (u[0] < 0xc2) /* continuation byte, or overlong 0xc0/0xc1 */
		return 0;
	if (u[0] < 0xe0) {
		n = 2;
	} else if (u[0] < 0xf0) {
		n = 3;
		if (u[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (u[0] == 0xed)
			hi = 0x9f; /* UTF-16 surrogates */
	} else if (u[0] < 0xf5) {
		n = 4;
		if (u[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (u[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (len < n || u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (u[i] < 0x80 || u[i] > 0xbf)
			return 0;
	return n;
}

bool fp_utf8_valid(const char *s, size_t len, size_t *bad)
{
	size_t i = 0, n;

	while (i < len) {
		n = fp_utf8_seq(s + i, len - i);
		if (!n) {
			if (bad)
				*bad = i;
			return false;
		}
		i += n;
	}
	return true;
}

char *fp_utf8_escape(const char *s, bool *repaired)
{
	size_t len, i = 0, o = 0, n;
	char *out;

	if (repaired)
		*repaired = false;
	if (!s)
		return NULL;
	len = strlen(s);
	if (fp_utf8_valid(s, len, NULL))
		return strdup(s);
	if (repaired)
		*repaired = true;
	out = malloc(4 * len + 1); /* each byte at most "\xNN" */
	if (!out)
		return NULL;
	while (i < len) {
		n = fp_utf8_seq(s + i, len - i);
		if (!n) {
			snprintf(out + o, 5, "\\x%02x", (unsigned char)s[i]);
			o += 4;
			i++;
		} else if (s[i] == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
			i++;
		} else {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	return out;
}
