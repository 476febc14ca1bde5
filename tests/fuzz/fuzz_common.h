/*
 * tests/fuzz/fuzz_common.h - shared by the libFuzzer targets: a cursor
 * over the input bytes and the invariant check.
 *
 * A target turns its input into operations with the fz_* readers (which
 * return zeros once the input is used up, so every input is valid) and
 * checks invariants with FZ_CHECK: a violation prints what broke and
 * aborts, which libFuzzer records as a crash with its reproducer.
 */
#ifndef UMBRA_TESTS_FUZZ_COMMON_H
#define UMBRA_TESTS_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(cond, ...)                                                        \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "INVARIANT %s:%d: %s: ", __FILE__, __LINE__, \
				#cond);                                            \
			fprintf(stderr, __VA_ARGS__);                              \
			fputc('\n', stderr);                                       \
			abort();                                                   \
		}                                                                  \
	} while (0)

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline struct fz fz_init(const uint8_t *data, size_t size)
{
	return (struct fz){ data, size };
}

static inline bool fz_empty(const struct fz *f)
{
	return f->n == 0;
}

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

/* Little-endian, @bytes <= 8. */
static inline uint64_t fz_bytes(struct fz *f, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)fz_u8(f) << (8 * i);
	return v;
}

static inline uint16_t fz_u16(struct fz *f) { return (uint16_t)fz_bytes(f, 2); }
static inline uint32_t fz_u32(struct fz *f) { return (uint32_t)fz_bytes(f, 4); }
static inline uint64_t fz_u64(struct fz *f) { return fz_bytes(f, 8); }
static inline bool fz_bool(struct fz *f) { return fz_u8(f) & 1; }

/* A value in [0, n) (n > 0). */
static inline uint32_t fz_below(struct fz *f, uint32_t n)
{
	return n <= 256 ? fz_u8(f) % n : fz_u32(f) % n;
}

/* Take the next @len bytes (fewer at the end of the input). */
static inline const uint8_t *fz_take(struct fz *f, size_t *len)
{
	const uint8_t *p = f->p;
	if (*len > f->n)
		*len = f->n;
	f->p += *len;
	f->n -= *len;
	return p;
}

#endif
