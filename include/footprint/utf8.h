/* UTF-8 checks for text bound for JSON, job records and metrics: jansson
 * refuses invalid UTF-8, so it is found where text enters, not where dumped. */
#ifndef FP_UTF8_H
#define FP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1 to 4) of the well-formed sequence at s[0..len) (RFC 3629: no
 * overlong form, no surrogate, nothing above U+10FFFF), 0 when s[0] starts
 * none. */
size_t fp_utf8_seq(const char *s, size_t len);

/* True when s[0..len) is well-formed UTF-8; otherwise *bad (may be NULL)
 * gets the offset of the first byte that is not. */
bool fp_utf8_valid(const char *s, size_t len, size_t *bad);

/* Text that is valid UTF-8 comes back as a plain copy. Otherwise every byte
 * that is not part of valid UTF-8 is written \xNN (two lowercase hex
 * digits) and every backslash is doubled, so the original bytes can be told
 * from the copy. *repaired (may be NULL) says which case it was. NULL in,
 * NULL out; NULL when out of memory. The caller free()s it. */
char *fp_utf8_escape(const char *s, bool *repaired);

/* Every byte that is not part of valid UTF-8 written \xNN, and with
 * controls also the control characters (C0, DEL, C1), each of their bytes;
 * every backslash doubled, valid text otherwise as it is. NULL in, NULL out;
 * NULL when out of memory. The caller free()s it. */
char *fp_utf8_escape_bytes(const char *s, bool controls);

#define FP_UTF8_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

#endif
