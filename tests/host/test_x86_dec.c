/*
 * tests/host/test_x86_dec.c - unit tests for the instruction decoder
 * (kernel/x86_dec.c).
 *
 * 1. A table of hand-checked encodings: length, sizes, prefixes, REX and
 *    SIB corner cases, 16-bit and RIP-relative addressing, immediates,
 *    invalid opcodes, the 15-byte limit, truncation.
 * 2. Millions of seeded random byte strings in every mode: the decoder
 *    never reads beyond what it was given, its length is 1..15 or an
 *    error, and decoding exactly the first len bytes gives the same result.
 * 3. Lengths of random valid instructions cross-checked against the host's
 *    objdump (binutils), in 64-, 32- and 16-bit modes, Intel and AMD
 *    rules, when objdump is installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/x86_dec.h"

static int failures;
static int checks;

#define FAIL(...)                                                            \
	do {                                                                 \
		failures++;                                                  \
		if (failures < 40) {                                         \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

/* xorshift64*: seeded, reproducible */
static u64 rng_state = 0x9e3779b97f4a7c15ULL;
static u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t parse_hex(const char *s, u8 *out, size_t max)
{
	size_t n = 0;
	while (*s && n < max) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		out[n++] = (u8)strtoul(s, (char **)&s, 16);
	}
	return n;
}

static void hexdump(char *buf, const u8 *b, size_t n)
{
	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		sprintf(buf + 3 * i, "%02x ", b[i]);
}

/* ------------------------------------------------------------ the table */

#define NONE X86_REG_NONE
#define NOMEM 0 /* scale 0: no memory operand expected */
#define M16 X86_DEC_MODE16
#define M32 X86_DEC_MODE32
#define M64 X86_DEC_MODE64
#define AMD X86_DEC_AMD

struct dec_case {
	u8 mode;
	unsigned int flags;
	const char *hex;
	int status;
	u8 len, opsize, addrsize;
	u8 base, index, scale; /* scale 0: no memory operand */
	s64 disp;
	u8 seg;
	u64 imm;
};

#define OK X86_DEC_OK
#define BAD X86_DEC_INVALID
#define RAX X86_RAX
#define RCX X86_RCX
#define RBX X86_RBX
#define RSP X86_RSP
#define RBP X86_RBP
#define RSI X86_RSI
#define RDI X86_RDI
#define RIP X86_REG_RIP
#define DS X86_SEG_DS
#define SS X86_SEG_SS
#define ES X86_SEG_ES
#define FS X86_SEG_FS
#define GS X86_SEG_GS

static const struct dec_case cases[] = {
	/* mode flags bytes status len os as base index scale disp seg imm */
	{ M64, 0, "90", OK, 1, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "48 89 d8", OK, 3, 8, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "89 04 24", OK, 3, 4, 8, RSP, NONE, 1, 0, SS, 0 },
	{ M64, 0, "89 44 24 08", OK, 4, 4, 8, RSP, NONE, 1, 8, SS, 0 },
	{ M64, 0, "8b 05 78 56 34 12", OK, 6, 4, 8, RIP, NONE, 1, 0x12345678, DS, 0 },
	{ M64, 0, "67 8b 05 78 56 34 12", OK, 7, 4, 4, RIP, NONE, 1, 0x12345678, DS, 0 },
	{ M64, 0, "8b 05 f0 ff ff ff", OK, 6, 4, 8, RIP, NONE, 1, -16, DS, 0 },
	/* SIB: no base (mod 00, base 101), no index (100) */
	{ M64, 0, "8b 04 25 78 56 34 12", OK, 7, 4, 8, NONE, NONE, 1, 0x12345678, DS, 0 },
	/* REX.X makes index 100 R12, a real index */
	{ M64, 0, "42 8b 04 25 00 00 00 00", OK, 8, 4, 8, NONE, X86_R12, 1, 0, DS, 0 },
	/* REX.B: rm 100 is still SIB; base R12 defaults to DS */
	{ M64, 0, "41 8b 04 24", OK, 4, 4, 8, X86_R12, NONE, 1, 0, DS, 0 },
	{ M64, 0, "41 8b 45 00", OK, 4, 4, 8, X86_R13, NONE, 1, 0, DS, 0 },
	/* REX.B with mod 00 rm 101: still RIP-relative */
	{ M64, 0, "41 8b 05 00 01 00 00", OK, 7, 4, 8, RIP, NONE, 1, 0x100, DS, 0 },
	/* REX.B with SIB base 101 mod 00: still no base */
	{ M64, 0, "41 8b 04 25 10 00 00 00", OK, 8, 4, 8, NONE, NONE, 1, 0x10, DS, 0 },
	{ M64, 0, "8b 6c 8d f0", OK, 4, 4, 8, RBP, RCX, 4, -16, SS, 0 },
	{ M64, 0, "8b 0c cd 00 10 00 00", OK, 7, 4, 8, NONE, RCX, 8, 0x1000, DS, 0 },
	{ M64, 0, "4f 8b 84 f4 00 00 00 80", OK, 8, 8, 8, X86_R12, X86_R14, 8, -0x80000000LL, DS, 0 },
	{ M64, 0, "8b 44 24 80", OK, 4, 4, 8, RSP, NONE, 1, -128, SS, 0 },
	/* immediates */
	{ M64, 0, "66 b8 34 12", OK, 4, 2, 8, NONE, NONE, NOMEM, 0, DS, 0x1234 },
	{ M64, 0, "48 b8 88 77 66 55 44 33 22 11", OK, 10, 8, 8, NONE, NONE, NOMEM, 0, DS, 0x1122334455667788ULL },
	{ M64, 0, "b8 78 56 34 12", OK, 5, 4, 8, NONE, NONE, NOMEM, 0, DS, 0x12345678 },
	{ M64, 0, "48 c7 c0 ff ff ff ff", OK, 7, 8, 8, NONE, NONE, NOMEM, 0, DS, 0xffffffff },
	{ M64, 0, "48 c7 40 08 01 00 00 00", OK, 8, 8, 8, RAX, NONE, 1, 8, DS, 1 },
	{ M64, 0, "66 c7 00 34 12", OK, 5, 2, 8, RAX, NONE, 1, 0, DS, 0x1234 },
	{ M64, 0, "c6 00 7f", OK, 3, 1, 8, RAX, NONE, 1, 0, DS, 0x7f },
	{ M64, 0, "83 00 ff", OK, 3, 4, 8, RAX, NONE, 1, 0, DS, 0xff },
	{ M64, 0, "66 81 00 34 12", OK, 5, 2, 8, RAX, NONE, 1, 0, DS, 0x1234 },
	{ M64, 0, "48 81 00 78 56 34 12", OK, 7, 8, 8, RAX, NONE, 1, 0, DS, 0x12345678 },
	/* moffs: address-size offsets */
	{ M64, 0, "48 a1 88 77 66 55 44 33 22 11", OK, 10, 8, 8, NONE, NONE, 1, 0x1122334455667788LL, DS, 0 },
	{ M64, 0, "67 a1 78 56 34 12", OK, 6, 4, 4, NONE, NONE, 1, 0x12345678, DS, 0 },
	{ M64, 0, "65 a2 00 00 00 00 00 00 00 00", OK, 10, 1, 8, NONE, NONE, 1, 0, GS, 0 },
	{ M32, 0, "a1 78 56 34 12", OK, 5, 4, 4, NONE, NONE, 1, 0x12345678, DS, 0 },
	{ M32, 0, "66 67 a1 34 12", OK, 5, 2, 2, NONE, NONE, 1, 0x1234, DS, 0 },
	{ M16, 0, "a1 34 12", OK, 3, 2, 2, NONE, NONE, 1, 0x1234, DS, 0 },
	/* segment overrides: last wins; ES/CS/SS/DS ignored in 64-bit mode */
	{ M64, 0, "64 8b 00", OK, 3, 4, 8, RAX, NONE, 1, 0, FS, 0 },
	{ M64, 0, "26 8b 00", OK, 3, 4, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "36 8b 00", OK, 3, 4, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "2e 8b 45 00", OK, 4, 4, 8, RBP, NONE, 1, 0, SS, 0 },
	{ M64, 0, "64 26 8b 00", OK, 4, 4, 8, RAX, NONE, 1, 0, FS, 0 },
	{ M64, 0, "64 65 8b 00", OK, 4, 4, 8, RAX, NONE, 1, 0, GS, 0 },
	{ M32, 0, "26 8b 00", OK, 3, 4, 4, RAX, NONE, 1, 0, ES, 0 },
	{ M32, 0, "2e 36 8b 00", OK, 4, 4, 4, RAX, NONE, 1, 0, SS, 0 },
	{ M32, 0, "3e 8b 45 00", OK, 4, 4, 4, RBP, NONE, 1, 0, DS, 0 },
	{ M32, 0, "8b 45 00", OK, 3, 4, 4, RBP, NONE, 1, 0, SS, 0 },
	/* REX placement: ignored unless right before the opcode; last wins;
	 * REX.W beats 66 */
	{ M64, 0, "48 66 8b 00", OK, 4, 2, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "66 48 8b 00", OK, 4, 8, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "48 40 8b 00", OK, 4, 4, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "49 48 8b 00", OK, 4, 8, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "41 66 8b 00", OK, 4, 2, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M32, 0, "48", OK, 1, 4, 4, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M32, 0, "40", OK, 1, 4, 4, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "40", X86_DEC_TRUNCATED, 1, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	/* strings and REP */
	{ M64, 0, "f3 48 ab", OK, 3, 8, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f3 67 a4", OK, 3, 1, 4, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "64 a5", OK, 2, 4, 8, NONE, NONE, NOMEM, 0, FS, 0 },
	/* the intercepted instructions whose length AMD without NRIPS needs */
	{ M64, 0, "0f a2", OK, 2, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f 32", OK, 2, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f 30", OK, 2, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f4", OK, 1, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f 08", OK, 2, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f 01 d1", OK, 3, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f 01 d9", OK, 3, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f 01 c1", OK, 3, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "2e 66 0f a2", OK, 4, 2, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M16, 0, "66 0f 32", OK, 3, 4, 2, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f3 0f 01 d8", OK, 4, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f0 0f a2", BAD, 3, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	/* near branches: 66 in 64-bit mode, Intel vs AMD */
	{ M64, 0, "e8 00 00 00 00", OK, 5, 8, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "66 e8 00 00 00 00", OK, 6, 8, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, AMD, "66 e8 00 00", OK, 4, 2, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "66 0f 84 00 00 00 00", OK, 7, 8, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, AMD, "66 0f 84 00 00", OK, 5, 2, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M32, 0, "66 e9 00 00", OK, 4, 2, 4, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M16, 0, "e9 00 00", OK, 3, 2, 2, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "66 ff 30", OK, 3, 2, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "ff 30", OK, 2, 8, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "8f 00", OK, 2, 8, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M32, 0, "8f 00", OK, 2, 4, 4, RAX, NONE, 1, 0, DS, 0 },
	/* 16-bit addressing */
	{ M16, 0, "8b 00", OK, 2, 2, 2, RBX, RSI, 1, 0, DS, 0 },
	{ M16, 0, "8b 03", OK, 2, 2, 2, RBP, RDI, 1, 0, SS, 0 },
	{ M16, 0, "8b 46 fe", OK, 3, 2, 2, RBP, NONE, 1, -2, SS, 0 },
	{ M16, 0, "8b 06 34 12", OK, 4, 2, 2, NONE, NONE, 1, 0x1234, DS, 0 },
	{ M16, 0, "8b 87 34 12", OK, 4, 2, 2, RBX, NONE, 1, 0x1234, DS, 0 },
	{ M16, 0, "8b 42 10", OK, 3, 2, 2, RBP, RSI, 1, 0x10, SS, 0 },
	{ M16, 0, "8b 84 00 80", OK, 4, 2, 2, NONE, RSI, 1, -0x8000, DS, 0 },
	{ M16, 0, "3e 8b 46 00", OK, 4, 2, 2, RBP, NONE, 1, 0, DS, 0 },
	{ M16, 0, "67 8b 04 24", OK, 4, 2, 4, RSP, NONE, 1, 0, SS, 0 },
	{ M16, 0, "66 67 8b 44 24 04", OK, 6, 4, 4, RSP, NONE, 1, 4, SS, 0 },
	{ M32, 0, "67 8b 46 fe", OK, 4, 4, 2, RBP, NONE, 1, -2, SS, 0 },
	{ M32, 0, "8b 05 78 56 34 12", OK, 6, 4, 4, NONE, NONE, 1, 0x12345678, DS, 0 },
	{ M32, 0, "8b 04 25 78 56 34 12", OK, 7, 4, 4, NONE, NONE, 1, 0x12345678, DS, 0 },
	/* LES/LDS vs VEX outside 64-bit mode */
	{ M32, 0, "c4 00", OK, 2, 4, 4, RAX, NONE, 1, 0, DS, 0 },
	{ M32, 0, "c5 f8 77", OK, 3, 4, 4, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "c5 f8 77", OK, 3, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "c5 f9 6f 00", OK, 4, 4, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "c4 e3 79 0f c1 08", OK, 6, 4, 8, NONE, NONE, NOMEM, 0, DS, 8 },
	{ M64, 0, "c4 c1 79 6f 04 24", OK, 6, 4, 8, X86_R12, NONE, 1, 0, DS, 0 },
	{ M64, 0, "66 c5 f9 6f 00", BAD, 2, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "48 c5 f9 6f 00", BAD, 2, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "c4 e4 79 0f c1 08", BAD, 4, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "62 f1 7c 48 58 c0", OK, 6, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "62 f1 7c 48 58 40 01", OK, 7, 4, 8, RAX, NONE, 1, 1, DS, 0 },
	{ M64, 0, "62 f3 7d 48 0f c1 05", OK, 7, 4, 8, NONE, NONE, NOMEM, 0, DS, 5 },
	{ M32, 0, "62 00", OK, 2, 4, 4, RAX, NONE, 1, 0, DS, 0 },
	/* XOP (AMD only) */
	{ M64, AMD, "8f e8 78 a2 c0 01", OK, 6, 4, 8, NONE, NONE, NOMEM, 0, DS, 1 },
	{ M64, AMD, "8f ea 78 10 c0 01 00 00 00", OK, 9, 4, 8, NONE, NONE, NOMEM, 0, DS, 1 },
	{ M64, 0, "8f e8 78 a2 c0 01", BAD, 1, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "8f 08", BAD, 2, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	/* 3DNow!, MOV CR (mod ignored), ENTER, far pointers */
	{ M64, 0, "0f 0f c1 b4", OK, 4, 4, 8, NONE, NONE, NOMEM, 0, DS, 0xb4 },
	{ M64, 0, "0f 0f 40 10 b4", OK, 5, 4, 8, RAX, NONE, 1, 0x10, DS, 0xb4 },
	{ M64, 0, "0f 20 c0", OK, 3, 8, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f 22 05", OK, 3, 8, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M32, 0, "0f 20 00", OK, 3, 4, 4, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M32, AMD, "f0 0f 20 c0", OK, 4, 4, 4, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M32, 0, "f0 0f 20 c0", BAD, 4, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "c8 10 00 01", OK, 4, 8, 8, NONE, NONE, NOMEM, 0, DS, 0x10 },
	{ M32, 0, "9a 78 56 34 12 08 00", OK, 7, 4, 4, NONE, NONE, NOMEM, 0, DS, 0x12345678 },
	{ M16, 0, "9a 34 12 08 00", OK, 5, 2, 2, NONE, NONE, NOMEM, 0, DS, 0x1234 },
	{ M16, 0, "66 ea 78 56 34 12 08 00", OK, 8, 4, 2, NONE, NONE, NOMEM, 0, DS, 0x12345678 },
	{ M64, 0, "c2 08 00", OK, 3, 8, 8, NONE, NONE, NOMEM, 0, DS, 8 },
	{ M64, 0, "6a ff", OK, 2, 8, 8, NONE, NONE, NOMEM, 0, DS, 0xff },
	{ M64, 0, "66 68 34 12", OK, 4, 2, 8, NONE, NONE, NOMEM, 0, DS, 0x1234 },
	{ M64, 0, "c7 f8 00 00 00 00", OK, 6, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "66 c7 f8 00 00", OK, 5, 2, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "c6 f8 05", OK, 3, 1, 8, NONE, NONE, NOMEM, 0, DS, 5 },
	{ M64, 0, "c6 08 05", BAD, 2, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "48 63 c3", OK, 3, 8, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f 38 f0 00", OK, 4, 4, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "66 0f 3a 0f c1 08", OK, 6, 2, 8, NONE, NONE, NOMEM, 0, DS, 8 },
	{ M64, AMD, "66 0f 78 c0 01 02", OK, 6, 2, 8, NONE, NONE, NOMEM, 0, DS, 1 },
	{ M64, 0, "0f 78 c0", OK, 3, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f3 0f b8 c0", OK, 4, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f b8 c0", BAD, 3, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	/* groups */
	{ M64, 0, "f6 00 12", OK, 3, 1, 8, RAX, NONE, 1, 0, DS, 0x12 },
	{ M64, 0, "f6 10", OK, 2, 1, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "f7 00 78 56 34 12", OK, 6, 4, 8, RAX, NONE, 1, 0, DS, 0x12345678 },
	{ M64, 0, "66 f7 08 34 12", OK, 5, 2, 8, RAX, NONE, 1, 0, DS, 0x1234 },
	{ M64, 0, "f7 18", OK, 2, 4, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "fe 10", BAD, 2, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "ff 38", BAD, 2, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "ff d8", BAD, 2, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f ba 20 05", OK, 4, 4, 8, RAX, NONE, 1, 0, DS, 5 },
	{ M64, 0, "0f ba 00 05", BAD, 3, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	/* LOCK legality */
	{ M64, 0, "f0 01 00", OK, 3, 4, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "f0 01 c0", BAD, 3, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f0 03 00", BAD, 3, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f0 90", BAD, 2, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f0 83 38 01", BAD, 3, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f0 83 30 01", OK, 4, 4, 8, RAX, NONE, 1, 0, DS, 1 },
	{ M64, 0, "f0 48 0f c7 0e", OK, 5, 8, 8, RSI, NONE, 1, 0, DS, 0 },
	{ M64, 0, "f0 0f c7 c8", BAD, 4, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f0 86 00", OK, 3, 1, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "f0 f6 10", OK, 3, 1, 8, RAX, NONE, 1, 0, DS, 0 },
	{ M64, 0, "f0 f6 00 01", BAD, 3, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f0 0f ba 28 01", OK, 5, 4, 8, RAX, NONE, 1, 0, DS, 1 },
	{ M64, 0, "f0 0f ba 20 01", BAD, 4, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "f0 0f a3 00", BAD, 4, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	/* memory-only operands */
	{ M64, 0, "8d c0", BAD, 2, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "8d 04 40", OK, 3, 4, 8, RAX, RAX, 2, 0, DS, 0 },
	{ M64, 0, "0f c3 c0", BAD, 3, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M32, 0, "0f b2 c0", BAD, 3, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M32, 0, "0f c7 c8", BAD, 3, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	/* invalid opcodes */
	{ M64, 0, "9a", BAD, 1, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "06", BAD, 1, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "d4 0a", BAD, 1, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M32, 0, "d4 0a", OK, 2, 4, 4, NONE, NONE, NOMEM, 0, DS, 0x0a },
	{ M64, 0, "d6", BAD, 1, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f 04", BAD, 2, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f 0b", OK, 2, 4, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "0f ff 00", OK, 3, 4, 8, RAX, NONE, 1, 0, DS, 0 },
	/* the 15-byte limit, truncation */
	{ M64, 0, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", OK, 15, 2, 8, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", X86_DEC_TOO_LONG, 15, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "66 66 66 66 66 66 66 66 66 66 66 48 b8 00 00 00 00 00", X86_DEC_TOO_LONG, 15, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "26 26 26 26 26 26 26 26 26 26 26 89 84 24 00 00 00 00", X86_DEC_TOO_LONG, 15, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "8b", X86_DEC_TRUNCATED, 1, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "b8 00 00", X86_DEC_TRUNCATED, 3, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "", X86_DEC_TRUNCATED, 0, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
	{ M64, 0, "62 f4 7c 48 58 c0", X86_DEC_UNDECODABLE, 5, 0, 0, NONE, NONE, NOMEM, 0, DS, 0 },
};

static void test_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct dec_case *c = &cases[i];
		struct x86_insn in;
		u8 b[32];
		size_t n = parse_hex(c->hex, b, sizeof(b));
		int r = x86_dec_decode(&in, b, n, c->mode, c->flags);
		checks++;
		if (r != c->status) {
			FAIL("[%s] mode %u: status %s, want %s", c->hex, c->mode * 8, x86_dec_status_name(r),
			     x86_dec_status_name(c->status));
			continue;
		}
		if (r != BAD && r != X86_DEC_UNDECODABLE && in.len != c->len)
			FAIL("[%s]: len %u, want %u", c->hex, in.len, c->len);
		if (r != OK)
			continue;
		if (in.opsize != c->opsize || in.addrsize != c->addrsize)
			FAIL("[%s]: opsize %u addrsize %u, want %u %u", c->hex, in.opsize, in.addrsize, c->opsize,
			     c->addrsize);
		if (in.has_mem != (c->scale != NOMEM))
			FAIL("[%s]: has_mem %d", c->hex, in.has_mem);
		if (in.has_mem && (in.ea.base != c->base || in.ea.index != c->index || in.ea.scale != c->scale ||
				   in.ea.disp != c->disp))
			FAIL("[%s]: ea base %u index %u scale %u disp %lld, want %u %u %u %lld", c->hex, in.ea.base,
			     in.ea.index, in.ea.scale, (long long)in.ea.disp, c->base, c->index, c->scale,
			     (long long)c->disp);
		if (in.seg != c->seg)
			FAIL("[%s]: seg %u, want %u", c->hex, in.seg, c->seg);
		if (in.imm != c->imm)
			FAIL("[%s]: imm %#llx, want %#llx", c->hex, (unsigned long long)in.imm,
			     (unsigned long long)c->imm);
		if (memcmp(in.bytes, b, in.len))
			FAIL("[%s]: bytes not copied", c->hex);
	}
}

/* Specific field checks the table does not cover. */
static void test_fields(void)
{
	struct x86_insn in;
	u8 b[16];
	size_t n;

	n = parse_hex("66 f2 f3 41 0f b1 4c 24 08", b, sizeof(b));
	checks++;
	if (x86_dec_decode(&in, b, n, M64, 0) != OK || in.len != 9 || in.rep != 0xf3 || in.simd_pfx != 0xf3 ||
	    in.rex != 0x41 || in.map != X86_MAP_0F || in.opcode != 0xb1 || in.reg != 1 || !in.has_sib ||
	    in.ea.base != X86_R12 || in.prefix_len != 5 ||
	    in.prefixes != (X86_PFX_OPSIZE | X86_PFX_REP | X86_PFX_REPNE | X86_PFX_REX))
		FAIL("fields of cmpxchg with prefixes");

	n = parse_hex("c8 34 12 05", b, sizeof(b));
	checks++;
	if (x86_dec_decode(&in, b, n, M32, 0) != OK || in.imm != 0x1234 || in.imm2 != 5 || in.imm_size != 2 ||
	    in.imm2_size != 1)
		FAIL("ENTER immediates");

	n = parse_hex("44 88 e0", b, sizeof(b)); /* mov al, r12b */
	checks++;
	if (x86_dec_decode(&in, b, n, M64, 0) != OK || in.reg != 12 || in.rm != 0 || in.mod != 3)
		FAIL("REX.R register");

	n = parse_hex("40 88 e0", b, sizeof(b)); /* mov al, spl */
	checks++;
	if (x86_dec_decode(&in, b, n, M64, 0) != OK || x86_dec_byte_reg_high(&in, in.reg))
		FAIL("REX 40: spl, not ah");
	n = parse_hex("88 e0", b, sizeof(b)); /* mov al, ah */
	checks++;
	if (x86_dec_decode(&in, b, n, M64, 0) != OK || !x86_dec_byte_reg_high(&in, in.reg))
		FAIL("no REX: ah");

	n = parse_hex("83 c0 80", b, sizeof(b));
	checks++;
	if (x86_dec_decode(&in, b, n, M64, 0) != OK || x86_dec_simm(&in) != -128)
		FAIL("simm");

	n = parse_hex("c4 e2 f9 f7 c1", b, sizeof(b)); /* shlx rax, rcx, rax: VEX.W */
	checks++;
	if (x86_dec_decode(&in, b, n, M64, 0) != OK || in.enc != X86_ENC_VEX || in.map != X86_MAP_0F38 ||
	    in.opsize != 8 || in.simd_pfx != 0x66 || in.vex_len != 3 || in.prefix_len != 3)
		FAIL("VEX fields");

	/* every prefix of a valid instruction is truncated */
	n = parse_hex("f0 48 0f c7 8c 24 78 56 34 12", b, sizeof(b));
	for (size_t k = 0; k < n; k++) {
		checks++;
		if (x86_dec_decode(&in, b, k, M64, 0) != X86_DEC_TRUNCATED)
			FAIL("prefix of %zu bytes not truncated", k);
	}
	checks++;
	if (x86_dec_decode(&in, b, n, 3, 0) != X86_DEC_INVALID)
		FAIL("bad mode accepted");
}

/* ------------------------------------------------------------ fuzzing */

static const u8 modes[3] = { M16, M32, M64 };

/* Random bytes biased toward prefixes and escapes so every path runs. */
static void random_bytes(u8 *b, size_t n)
{
	static const u8 interesting[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64,
					  0x65, 0x40, 0x48, 0x4f, 0x0f, 0x38, 0x3a, 0xc4, 0xc5, 0x62,
					  0x8f, 0xff, 0xf7, 0xc7, 0x80, 0x04, 0x05, 0x24, 0x25 };
	u64 v = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0)
			v = rnd();
		u8 x = v >> (8 * (i % 8));
		if ((x & 3) == 0 && i < 8)
			x = interesting[(x >> 2) % sizeof(interesting)];
		b[i] = x;
	}
}

static void test_fuzz(long iterations)
{
	long ok = 0, st[5] = { 0 };

	for (long it = 0; it < iterations; it++) {
		u8 buf[16];
		struct x86_insn in, in2;
		random_bytes(buf, 16);
		size_t avail = (rnd() & 3) ? 16 : rnd() % 17;
		enum x86_dec_mode m = modes[rnd() % 3];
		unsigned int fl = (rnd() & 1) ? AMD : 0;

		/* the decoder must not read past avail: give it a heap copy
		 * of exactly avail bytes so ASan catches over-reads */
		u8 *copy = malloc(avail ? avail : 1);
		memcpy(copy, buf, avail);
		int r = x86_dec_decode(&in, copy, avail, m, fl);
		free(copy);
		checks++;
		st[-r]++;
		if (r < X86_DEC_UNDECODABLE || r > OK) {
			FAIL("status %d", r);
			continue;
		}
		if (in.len > X86_MAX_INSN_LEN || in.len > avail)
			FAIL("len %u > avail %zu", in.len, avail);
		if (r == X86_DEC_TOO_LONG && avail < 15)
			FAIL("too long with %zu bytes", avail);
		if (r != OK)
			continue;
		ok++;
		if (in.len < 1 || in.prefix_len >= in.len)
			FAIL("len %u prefix_len %u", in.len, in.prefix_len);
		if (in.has_mem && (in.ea.scale != 1 && in.ea.scale != 2 && in.ea.scale != 4 && in.ea.scale != 8))
			FAIL("scale %u", in.ea.scale);
		if ((in.opsize != 1 && in.opsize != 2 && in.opsize != 4 && in.opsize != 8) ||
		    (in.addrsize != 2 && in.addrsize != 4 && in.addrsize != 8))
			FAIL("sizes %u %u", in.opsize, in.addrsize);
		unsigned int sum = in.prefix_len + 1 + in.has_modrm + in.has_sib + in.disp_size + in.imm_size +
				   in.imm2_size;
		if (sum != in.len)
			FAIL("parts add to %u, len %u", sum, in.len);
		/* exactly len bytes decode the same; one fewer is truncated */
		if (x86_dec_decode(&in2, buf, in.len, m, fl) != OK || memcmp(&in, &in2, sizeof(in)))
			FAIL("decode of exactly len bytes differs");
		if (x86_dec_decode(&in2, buf, in.len - 1, m, fl) != X86_DEC_TRUNCATED)
			FAIL("len-1 bytes not truncated");
	}
	printf("fuzz: %ld decodes, %ld ok, %ld invalid, %ld too long, %ld truncated, %ld undecodable\n",
	       iterations, ok, st[1], st[2], st[3], st[4]);
}

/* ------------------------------------------------------------ objdump */

/* Random bytes shaped like an instruction: some prefixes, maybe REX,
 * an opcode from a random map, random operand bytes. */
static void random_insn(u8 *b, enum x86_dec_mode m)
{
	static const u8 pfx[] = { 0x66, 0x67, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67 };
	size_t n = 0;
	unsigned int np = rnd() % 4;

	for (unsigned int i = 0; i < np; i++)
		b[n++] = pfx[rnd() % sizeof(pfx)];
	if (rnd() % 64 == 0)
		b[n++] = 0xf0;
	if (m == M64 && (rnd() & 1))
		b[n++] = 0x40 | (rnd() & 15);
	switch (rnd() % 20) {
	case 0 ... 8:
		break;
	case 9 ... 14:
		b[n++] = 0x0f;
		break;
	case 15:
		b[n++] = 0x0f;
		b[n++] = 0x38;
		break;
	case 16:
		b[n++] = 0x0f;
		b[n++] = 0x3a;
		break;
	case 17:
		n = 0; /* VEX3 */
		if (rnd() & 1)
			b[n++] = 0x67;
		b[n++] = 0xc4;
		b[n++] = (m == M64 ? (rnd() & 0xe0) : 0xe0) | (1 + rnd() % 3);
		break;
	case 18:
		n = 0; /* VEX2 */
		b[n++] = 0xc5;
		b[n++] = m == M64 ? rnd() : (0xc0 | rnd());
		break;
	default:
		n = 0; /* EVEX */
		b[n++] = 0x62;
		b[n++] = (m == M64 ? (rnd() & 0xf0) : 0xf0) | (1 + rnd() % 3);
		b[n++] = rnd() | 4;
		b[n++] = rnd();
		break;
	}
	while (n < 16)
		b[n++] = rnd();
}

static bool is_prefix_word(const char *w, size_t n)
{
	static const char *const names[] = { "data16", "data32", "addr16", "addr32", "lock", "rep",
					     "repz", "repnz", "repe", "repne", "cs", "ds", "es", "ss",
					     "fs", "gs", "bnd", "notrack", "xacquire", "xrelease" };
	if (n >= 3 && !strncmp(w, "rex", 3))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n && !strncmp(w, names[i], n))
			return true;
	return false;
}

/* objdump prints prefixes it considers unused on a line of their own
 * ("ss data16 rex.WXB"); such a line belongs to the next one. */
static bool is_prefix_pseudo(const char *mn)
{
	while (*mn) {
		size_t n = strcspn(mn, " ");
		if (!is_prefix_word(mn, n))
			return false;
		mn += n;
		while (*mn == ' ')
			mn++;
	}
	return true;
}

#define SLOT 32

static bool verbose;

struct od_line {
	unsigned long addr;
	unsigned int len;
	bool bad;
	bool pseudo;
};

static struct od_line *od_lines;
static size_t od_count;

static bool run_objdump(const char *path, const char *machine, const char *opts)
{
	char cmd[512], line[512];

	snprintf(cmd, sizeof(cmd), "objdump -D -b binary -m %s %s --insn-width=16 %s", machine, opts, path);
	FILE *p = popen(cmd, "r");
	if (!p)
		return false;
	od_count = 0;
	while (fgets(line, sizeof(line), p)) {
		char *colon = strstr(line, ":\t");
		if (!colon)
			continue;
		char *end;
		unsigned long addr = strtoul(line, &end, 16);
		if (end != colon)
			continue;
		char *bytes = colon + 2;
		char *tab = strchr(bytes, '\t');
		char *mn = tab ? tab + 1 : bytes + strlen(bytes);
		if (tab)
			*tab = 0;
		unsigned int len = 0;
		for (char *s = bytes; *s;) {
			while (*s == ' ')
				s++;
			if (!*s || *s == '\n')
				break;
			len++;
			while (*s && *s != ' ')
				s++;
		}
		while (*mn == ' ')
			mn++;
		char *nl = strchr(mn, '\n');
		if (nl)
			*nl = 0;
		for (char *s = mn + strlen(mn); s > mn && s[-1] == ' ';)
			*--s = 0;
		struct od_line *l = &od_lines[od_count++];
		l->addr = addr;
		l->len = len;
		l->bad = strstr(mn, "(bad)") != NULL;
		l->pseudo = is_prefix_pseudo(mn);
	}
	return pclose(p) == 0;
}

/*
 * Each decoded instruction goes in its own 32-byte slot, padded with NOPs:
 * whatever objdump makes of it, its decoding is back in step at the next
 * slot (an instruction starting in the first 15 bytes ends by byte 30).
 */
static void objdump_check(enum x86_dec_mode m, unsigned int fl, long count)
{
	const char *machine = m == M64 ? "i386:x86-64" : m == M32 ? "i386" : "i8086";
	const char *opts = m == M64 && !(fl & AMD) ? "-M intel64" : "";
	char path[] = "/tmp/umbra_x86_dec_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		FAIL("mkstemp");
		return;
	}
	u8 *img = malloc(count * SLOT);
	u8 (*insns)[16] = malloc(count * 16);
	u8 *lens = malloc(count);
	long valid = 0, compared = 0, od_bad = 0, od_split = 0, mismatches = 0;

	for (long i = 0; i < count; i++) {
		struct x86_insn in;
		int r;
		do {
			random_insn(insns[i], m);
			r = x86_dec_decode(&in, insns[i], 16, m, fl);
		} while (r != OK);
		lens[i] = in.len;
		memset(img + i * SLOT, 0x90, SLOT);
		memcpy(img + i * SLOT, insns[i], in.len);
	}
	if (write(fd, img, count * SLOT) != count * SLOT)
		FAIL("write");
	close(fd);
	od_lines = malloc(sizeof(*od_lines) * count * SLOT);
	if (!run_objdump(path, machine, opts)) {
		printf("objdump: not usable, cross-check skipped\n");
		goto out;
	}
	size_t li = 0;
	for (long i = 0; i < count; i++) {
		unsigned long base = i * SLOT;
		while (li < od_count && od_lines[li].addr < base)
			li++;
		if (li == od_count || od_lines[li].addr != base) {
			FAIL("objdump lost sync at slot %ld", i);
			break;
		}
		unsigned int len = 0;
		size_t k = li;
		while (k < od_count && od_lines[k].pseudo && od_lines[k].addr + od_lines[k].len < base + SLOT &&
		       k + 1 < od_count && od_lines[k + 1].addr == od_lines[k].addr + od_lines[k].len)
			len += od_lines[k++].len;
		len += od_lines[k].len;
		valid++;
		if (od_lines[k].bad) {
			od_bad++;
			if (verbose) {
				struct x86_insn in;
				char hex[64];
				x86_dec_decode(&in, insns[i], 16, m, fl);
				hexdump(hex, insns[i], in.len);
				printf("bad: enc %u map %u op %02x: %s\n", in.enc, in.map, in.opcode, hex);
			}
			continue;
		}
		/* objdump restarts decoding after prefixes it prints on their
		 * own line (several REX, REX before a legacy prefix), dropping
		 * 66/67 that still apply on hardware (SDM vol. 2 §2.2.1): the
		 * table tests cover those; here they are not compared */
		if (k != li) {
			od_split++;
			continue;
		}
		compared++;
		if (len != lens[i]) {
			mismatches++;
			char hex[64];
			hexdump(hex, insns[i], 15);
			FAIL("mode %u%s: [%s] len %u, objdump %u", m * 8, fl & AMD ? " amd" : "", hex, lens[i], len);
		}
	}
	printf("objdump mode %u %s: %ld instructions, %ld compared, %ld (bad) to objdump, %ld split "
	       "prefixes, %ld length mismatches\n",
	       m * 8, fl & AMD ? "amd" : "intel", valid, compared, od_bad, od_split, mismatches);
	checks += compared;
out:
	unlink(path);
	free(od_lines);
	free(img);
	free(insns);
	free(lens);
}

int main(int argc, char **argv)
{
	long fuzz = argc > 1 ? atol(argv[1]) : 3000000;
	long od = argc > 2 ? atol(argv[2]) : 30000;

	verbose = argc > 3;

	test_table();
	test_fields();
	test_fuzz(fuzz);
	if (od > 0 && system("objdump --version > /dev/null 2>&1") == 0) {
		for (int i = 0; i < 3; i++) {
			objdump_check(modes[i], 0, od);
			objdump_check(modes[i], AMD, od);
		}
	} else {
		printf("objdump: not installed or not asked for, cross-check skipped\n");
	}
	printf("x86_dec: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
