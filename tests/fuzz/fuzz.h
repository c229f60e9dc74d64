/* Shared bits of the libFuzzer targets (make fuzz): NUL-terminated copies
 * of the input and scratch files on tmpfs. */
#ifndef FP_FUZZ_H
#define FP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The parsers take C strings or (text, len): a heap copy with a NUL after
 * it, so ASan sees a read one byte past the input. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A file only this process uses, on tmpfs when there is one. */
static inline void fuzz_tmp_path(char *buf, size_t len, const char *what)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(buf, len, "%s/fp-fuzz-%s-%ld", dir, what, (long)getpid());
}

#endif
