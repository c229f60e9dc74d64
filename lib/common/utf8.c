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

char *fp_utf8_escape_bytes(const char *s, bool controls)
{
	size_t len, n = 0;
	char *out;

	if (!s)
		return NULL;
	len = strlen(s);
	out = malloc(4 * len + 1); /* each byte at most "\xNN" */
	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		unsigned char ch = (unsigned char)s[i];
		size_t k = fp_utf8_seq(s + i, len - i);

		/* C1 controls are U+0080..U+009F: 0xc2 0x80..0x9f. */
		if (!k || (controls && (ch < 0x20 || ch == 0x7f ||
					(k == 2 && ch == 0xc2 &&
					 (unsigned char)s[i + 1] < 0xa0)))) {
			if (!k)
				k = 1;
			for (size_t b = 0; b < k; b++)
				n += (size_t)sprintf(out + n, "\\x%02x",
						     (unsigned char)s[i + b]);
		} else if (ch == '\\') {
			out[n++] = '\\';
			out[n++] = '\\';
		} else {
			memcpy(out + n, s + i, k);
			n += k;
		}
		i += k;
	}
	out[n] = '\0';
	return out;
}

char *fp_utf8_escape(const char *s, bool *repaired)
{
	bool valid = !s || fp_utf8_valid(s, strlen(s), NULL);

	if (repaired)
		*repaired = !valid;
	if (valid)
		return s ? strdup(s) : NULL;
	return fp_utf8_escape_bytes(s, false);
}
