/* The incremental reader of counter files, private to the activity reader:
 * a file's tokens and their values, updated from the bytes that changed. */
#ifndef FP_NUMFILE_H
#define FP_NUMFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* Zeroed slack after every read buffer: the digit parser loads 8 bytes at a
 * time and may look past the last byte read. */
#define FP_PAD 16

/*
 * A file of whitespace-separated tokens (numbers, or labels like "cpu3"),
 * read at offset 0 of a descriptor kept open. A poll compares the new bytes
 * with the last ones and parses again only the tokens that changed: most of
 * a step's per-CPU counters (every CPU outside its cpuset) and many
 * /proc/stat fields are the same from poll to poll, and parsing every number
 * would cost several times the read itself. Reads land in one buffer shared
 * by all files (it stays in cache); each file keeps only its last bytes.
 */
/* A token's place, whether it is a number, and its value (0 for labels):
 * an update touches one line for all of them. */
struct tok {
	uint32_t off;
	uint32_t end : 31;
	uint32_t num : 1;
	uint64_t val;
};

struct numfile {
	int fd;
	char *b; /* the last bytes, which tok[] describes */
	size_t bcap;
	size_t cap;	   /* bytes a read asks for */
	size_t base, plen; /* the tokenized region of b */
	struct tok *tok;   /* token i: bytes [off, end); tok[ntok].off=plen */
	size_t ntok, tcap;
	bool parsed;
	uint64_t *chg; /* or NULL: bit t set when token t changed */
	size_t chg_bits;
	uint32_t *blk; /* per 8 bytes of b: the token at its start */
	size_t blkcap;
};

static const uint64_t _pow10[9] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
};

static inline bool fp_numfile_isws(char c)
{
	return c == ' ' || c == '\n' || c == '\t';
}

/*
 * The decimal digits at p, 8 bytes at a time (SWAR; p must have 8 readable
 * bytes after any digit, see FP_PAD). Returns how many digits, 0 when there
 * is none or the value does not fit 64 bits.
 */
static inline size_t fp_numfile_digits(const char *p, uint64_t *v)
{
	uint64_t x = 0;
	size_t n = 0;

	for (;;) {
		uint64_t w, m, d;
		unsigned k;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(&w, p + n, 8);
		/* a byte is not a digit when its high nibble is not 3 or its
		 * low nibble is above 9; no carry crosses bytes */
		m = ((w & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL) |
		    (((w & 0x0F0F0F0F0F0F0F0FULL) + 0x0606060606060606ULL) &
		     0xF0F0F0F0F0F0F0F0ULL);
		k = m ? (unsigned)__builtin_ctzll(m) / 8 : 8;
		if (k) {
			/* leading zero bytes become leading zero digits */
			d = k == 8 ? w : w << (8 * (8 - k));
			d = ((d & 0x0F0F0F0F0F0F0F0FULL) * 2561) >> 8;
			d = ((d & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
			d = (uint32_t)(((d & 0x0000FFFF0000FFFFULL) *
					42949672960001ULL) >>
				       32);
		}
#else
		for (k = 0, d = 0; k < 8 && p[n + k] >= '0' && p[n + k] <= '9';
		     k++)
			d = d * 10 + (uint64_t)(p[n + k] - '0');
#endif
		if (k) {
			if (__builtin_mul_overflow(x, _pow10[k], &x) ||
			    __builtin_add_overflow(x, d, &x))
				return 0;
			n += k;
		}
		if (k < 8)
			break;
	}
	*v = x;
	return n;
}

void fp_numfile_init(struct numfile *f);
/* Closes the file and frees what f holds; f is then as after init. */
void fp_numfile_fini(struct numfile *f);
/* *buf of at least size + FP_PAD bytes (the new part zeroed); -1 when out
 * of memory, *buf unchanged. */
int fp_numfile_fit(char **buf, size_t *cap, size_t size);
/* Opens path for reading; -1 with errno. */
int fp_numfile_open(struct numfile *f, const char *path);
/* Reads f->cap bytes at offset 0 into *buf (grown with fp_numfile_fit,
 * NUL-terminated); with whole, grows f->cap until the file fits. The bytes
 * read, or -1 with errno. */
ssize_t fp_numfile_read(struct numfile *f, char **buf, size_t *cap, bool whole);
/* Keeps the n bytes just parsed in full as f's last bytes. */
int fp_numfile_keep(struct numfile *f, const char *nb, size_t n);
/* Appends the tokens of b[from, to). */
int fp_numfile_tokenize(struct numfile *f, const char *b, size_t from,
			size_t to);
/* Indexes the tokens just parsed by byte (after tokenize). */
int fp_numfile_index(struct numfile *f);
/* Updates the values from the new bytes nb over the tokenized region,
 * parsing only the tokens whose bytes changed. False when the layout
 * changed (a number grew a digit, a label changed): the caller then parses
 * the whole region. */
bool fp_numfile_update(struct numfile *f, const char *nb);

#endif
