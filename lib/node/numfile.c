/* The incremental reader of counter files (/proc/stat, cpuacct.usage_percpu):
 * each poll parses again only the numbers whose bytes changed. */
#include "numfile.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fp_numfile_init(struct numfile *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

void fp_numfile_fini(struct numfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->b);
	free(f->tok);
	free(f->chg);
	free(f->blk);
	fp_numfile_init(f);
}

/* A buffer of size + FP_PAD bytes, the new part zeroed. */
int fp_numfile_fit(char **buf, size_t *cap, size_t size)
{
	char *b;

	if (size <= *cap && *buf)
		return 0;
	b = realloc(*buf, size + FP_PAD);
	if (!b)
		return -1;
	memset(b + *cap, 0, size + FP_PAD - *cap);
	*buf = b;
	*cap = size;
	return 0;
}

int fp_numfile_open(struct numfile *f, const char *path)
{
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	f->parsed = false;
	return f->fd < 0 ? -1 : 0;
}

ssize_t fp_numfile_read(struct numfile *f, char **buf, size_t *cap, bool whole)
{
	for (;;) {
		ssize_t n;

		if (fp_numfile_fit(buf, cap, f->cap)) {
			errno = ENOMEM;
			return -1;
		}
		n = pread(f->fd, *buf, f->cap, 0);
		if (n < 0)
			return -1;
		if (!whole || (size_t)n < f->cap) {
			(*buf)[n] = '\0';
			return n;
		}
		f->cap *= 2;
	}
}

/* Keeps the bytes just parsed in full. */
int fp_numfile_keep(struct numfile *f, const char *nb, size_t n)
{
	if (fp_numfile_fit(&f->b, &f->bcap, n))
		return -1;
	memcpy(f->b, nb, n);
	return 0;
}

static int _push(struct numfile *f, size_t off, size_t end, uint64_t v,
		 bool num)
{
	if (end >= 1U << 31)
		return -1; /* a 2 GiB file of counters is not one */
	if (f->ntok + 2 > f->tcap) {
		size_t cap = f->tcap ? f->tcap * 2 : 256;
		struct tok *t = realloc(f->tok, cap * sizeof(*t));

		if (!t)
			return -1;
		f->tok = t;
		f->tcap = cap;
	}
	f->tok[f->ntok] = (struct tok){
		.off = (uint32_t)off, .end = (uint32_t)end, .num = num, .val = v
	};
	f->ntok++;
	return 0;
}

/* Appends the tokens of b[from, to). */
int fp_numfile_tokenize(struct numfile *f, const char *b, size_t from,
			size_t to)
{
	size_t i = from;

	while (i < to) {
		uint64_t v = 0;
		size_t n, j;
		bool num;

		if (fp_numfile_isws(b[i])) {
			i++;
			continue;
		}
		n = fp_numfile_digits(b + i, &v);
		j = i + n;
		num = n && (j == to || (j < to && fp_numfile_isws(b[j])));
		if (!num) {
			for (j = i; j < to && !fp_numfile_isws(b[j]); j++)
				;
			v = 0;
		}
		if (_push(f, i, j, v, num))
			return -1;
		i = j;
	}
	return 0;
}

/*
 * First index in [i, n) where a and b differ, or n: the comparison of the
 * new bytes with the last ones runs over every byte read, so it goes 64
 * bytes a step with AVX2 where the CPU has it (chosen once, at run time),
 * 16 with SSE2 (every x86-64), else 8.
 */
static size_t _mismatch_words(const char *a, const char *b, size_t i, size_t n)
{
	while (n - i >= 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return i + (size_t)__builtin_ctzll(x ^ y) / 8;
#else
			break;
#endif
		}
		i += 8;
	}
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static size_t
_mismatch_avx2(const char *a, const char *b, size_t i, size_t n)
{
	while (n - i >= 64) {
		__m256i x0 = _mm256_loadu_si256((const __m256i *)(a + i));
		__m256i y0 = _mm256_loadu_si256((const __m256i *)(b + i));
		__m256i x1 = _mm256_loadu_si256((const __m256i *)(a + i + 32));
		__m256i y1 = _mm256_loadu_si256((const __m256i *)(b + i + 32));
		uint32_t m0 = (uint32_t)_mm256_movemask_epi8(
			_mm256_cmpeq_epi8(x0, y0));
		uint32_t m1 = (uint32_t)_mm256_movemask_epi8(
			_mm256_cmpeq_epi8(x1, y1));

		if ((m0 & m1) != 0xFFFFFFFFu)
			return m0 != 0xFFFFFFFFu
				       ? i + (size_t)__builtin_ctz(~m0)
				       : i + 32 + (size_t)__builtin_ctz(~m1);
		i += 64;
	}
	return _mismatch_words(a, b, i, n);
}

static size_t _mismatch_sse2(const char *a, const char *b, size_t i, size_t n)
{
	while (n - i >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(a + i));
		__m128i y = _mm_loadu_si128((const __m128i *)(b + i));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y));

		if (m != 0xFFFFu)
			return i + (size_t)__builtin_ctz(~m);
		i += 16;
	}
	return _mismatch_words(a, b, i, n);
}

static size_t (*_mismatch_fn)(const char *, const char *, size_t, size_t);

static inline size_t _mismatch(const char *a, const char *b, size_t i, size_t n)
{
	uint64_t x, y;

	/* the next change is often a few bytes on (/proc/stat) */
	for (int k = 0; k < 4 && n - i >= 8; k++) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return i + (size_t)__builtin_ctzll(x ^ y) / 8;
		i += 8;
	}
	if (!_mismatch_fn) {
		__builtin_cpu_init();
		_mismatch_fn = __builtin_cpu_supports("avx2") ? _mismatch_avx2
							      : _mismatch_sse2;
	}
	return _mismatch_fn(a, b, i, n);
}
#else
static inline size_t _mismatch(const char *a, const char *b, size_t i, size_t n)
{
	return _mismatch_words(a, b, i, n);
}
#endif

/* Indexes the tokens just parsed by byte: blk[k] is the last token that
 * starts at or before byte 8k (0 before the first). */
int fp_numfile_index(struct numfile *f)
{
	size_t nblk = f->plen / 8 + 1, t = 0;

	if (nblk > f->blkcap) {
		uint32_t *blk = realloc(f->blk, nblk * sizeof(*blk));

		if (!blk)
			return -1;
		f->blk = blk;
		f->blkcap = nblk;
	}
	for (size_t k = 0; k < nblk; k++) {
		while (t + 1 < f->ntok && f->tok[t + 1].off <= k * 8)
			t++;
		f->blk[k] = (uint32_t)t;
	}
	return 0;
}

/* The last token starting at or before byte i (i >= off[0]): from its
 * block's, at most a few tokens on. */
static inline size_t _tok_at(const struct numfile *f, size_t i)
{
	size_t t = f->blk[i / 8];

	while (t + 1 < f->ntok && f->tok[t + 1].off <= i)
		t++;
	return t;
}

/*
 * Updates the values from the new bytes nb over the tokenized region,
 * parsing only the tokens whose bytes changed. False when the layout changed
 * (a number grew a digit, a label changed): the caller then parses the whole
 * region.
 */
/* Copies the n <= 24 bytes of a number without a call to memcpy (a few
 * hundred numbers change per poll): overlapping 8-byte moves. */
static inline void _copy_short(char *dst, const char *src, size_t n)
{
	uint64_t w[3];

	if (n < 8) {
		for (size_t k = 0; k < n; k++)
			dst[k] = src[k];
		return;
	}
	memcpy(&w[0], src, 8);
	memcpy(&w[1], src + n - 8, 8);
	if (n > 16) {
		memcpy(&w[2], src + 8, 8);
		memcpy(dst + 8, &w[2], 8);
	}
	memcpy(dst, &w[0], 8);
	memcpy(dst + n - 8, &w[1], 8);
}

bool fp_numfile_update(struct numfile *f, const char *nb)
{
	char *ob = f->b;
	size_t i = f->base, t, plen = f->plen;

	/* the last bytes are cold (a second of jobs ran since): ask for all
	 * their lines at once rather than one miss after another */
	for (size_t k = i; k < plen; k += 64)
		__builtin_prefetch(ob + k);

	while (i < plen) {
		uint64_t v = 0;
		size_t n, o, e;

		i = _mismatch(nb, ob, i, plen);
		if (i >= plen)
			break;
		if (!f->ntok || i < f->tok[0].off)
			return false;
		t = _tok_at(f, i);
		o = f->tok[t].off;
		e = f->tok[t].end;
		if (!f->tok[t].num)
			return false;
		n = fp_numfile_digits(nb + o, &v);
		if (o + n != e)
			return false;
		for (size_t k = e; k < f->tok[t + 1].off; k++)
			if (nb[k] != ob[k])
				return false;
		f->tok[t].val = v;
		if (f->chg && t < f->chg_bits)
			f->chg[t / 64] |= 1ULL << (t % 64);
		_copy_short(ob + o, nb + o, n);
		i = f->tok[t + 1].off;
	}
	return true;
}
