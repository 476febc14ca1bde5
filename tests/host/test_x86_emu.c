/*
 * tests/host/test_x86_emu.c - unit tests for the instruction emulator
 * (kernel/x86_emu*.c).
 *
 * 1. Flags: every ALU operation at every size against the host CPU
 *    executing the same instruction (inline asm), random and edge
 *    operands, random input flags; every condition code against SETcc.
 * 2. The random differential test against the host CPU
 *    (test_x86_emu_native.c).
 * 3. Hand-checked cases for what the host cannot run in user mode
 *    (test_x86_emu_cases.c).
 * 4. Random bytes through x86_emu_step in every mode: never a crash, and
 *    nothing changes unless the instruction completed
 *    (test_x86_emu_cases.c).
 */
#include <stdlib.h>
#include <string.h>

#include "kernel/x86_emu_priv.h"
#include "tests/host/test_x86_emu.h"

int failures;
long checks;

static u64 rng_state = 0x2545f4914f6cdd1dULL;

/* See test_x86_emu.h. xorshift64*, seeded. */
u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* See test_x86_emu.h. */
u64 rnd_operand(void)
{
	static const u64 edges[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
				     0x80000000, 0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
				     ~0ULL, 0xf, 0x10 };
	switch (rnd() % 8) {
	case 0:
		return edges[rnd() % ARRAY_SIZE(edges)];
	case 1:
		return edges[rnd() % ARRAY_SIZE(edges)] + (rnd() % 3) - 1;
	case 2:
		return rnd() % 256;
	default:
		return rnd();
	}
}

/* See test_x86_emu.h. */
bool host_is_amd(void)
{
	u32 a = 0, b, c, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
	return b == 0x68747541; /* "Auth"enticAMD */
}

/* ------------------------------------------------------------ flags */

#define FL_ARITH 0x8d5ULL

/* Run "mn src, dst" (or "mn dst") on the host with RFLAGS = *fl. The
 * stack pointer moves past the red zone before pushing. */
#define HOST_ASM2(mn, x, y, f, cx, cy)                                                      \
	__asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\t" mn " %[y], %[x]\n\t" \
			 "pushfq\n\tpop %[f]\n\tlea 128(%%rsp), %%rsp"                       \
			 : [x] cx(x), [f] "+r"(f)                                            \
			 : [y] cy(y)                                                         \
			 : "cc")
#define HOST_ASM1(mn, x, f, cx)                                                             \
	__asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\t" mn " %[x]\n\t"       \
			 "pushfq\n\tpop %[f]\n\tlea 128(%%rsp), %%rsp"                       \
			 : [x] cx(x), [f] "+r"(f)                                            \
			 :                                                                   \
			 : "cc")

#define HOST_BIN(name, mn)                                                   \
	static u64 host_##name(unsigned int size, u64 a, u64 b, u64 *fl)     \
	{                                                                    \
		u64 f = *fl;                                                 \
		switch (size) {                                              \
		case 1: {                                                    \
			u8 x = a, y = b;                                     \
			HOST_ASM2(mn, x, y, f, "+q", "q");                   \
			a = x;                                               \
			break;                                               \
		}                                                            \
		case 2: {                                                    \
			u16 x = a, y = b;                                    \
			HOST_ASM2(mn, x, y, f, "+r", "r");                   \
			a = x;                                               \
			break;                                               \
		}                                                            \
		case 4: {                                                    \
			u32 x = a, y = b;                                    \
			HOST_ASM2(mn, x, y, f, "+r", "r");                   \
			a = x;                                               \
			break;                                               \
		}                                                            \
		default: {                                                   \
			u64 x = a, y = b;                                    \
			HOST_ASM2(mn, x, y, f, "+r", "r");                   \
			a = x;                                               \
			break;                                               \
		}                                                            \
		}                                                            \
		*fl = f;                                                     \
		return a;                                                    \
	}

#define HOST_UN(name, mn)                                                    \
	static u64 host_##name(unsigned int size, u64 a, u64 b, u64 *fl)     \
	{                                                                    \
		u64 f = *fl;                                                 \
		(void)b;                                                     \
		switch (size) {                                              \
		case 1: {                                                    \
			u8 x = a;                                            \
			HOST_ASM1(mn, x, f, "+q");                           \
			a = x;                                               \
			break;                                               \
		}                                                            \
		case 2: {                                                    \
			u16 x = a;                                           \
			HOST_ASM1(mn, x, f, "+r");                           \
			a = x;                                               \
			break;                                               \
		}                                                            \
		case 4: {                                                    \
			u32 x = a;                                           \
			HOST_ASM1(mn, x, f, "+r");                           \
			a = x;                                               \
			break;                                               \
		}                                                            \
		default: {                                                   \
			u64 x = a;                                           \
			HOST_ASM1(mn, x, f, "+r");                           \
			a = x;                                               \
			break;                                               \
		}                                                            \
		}                                                            \
		*fl = f;                                                     \
		return a;                                                    \
	}

HOST_BIN(add, "add")
HOST_BIN(or, "or")
HOST_BIN(adc, "adc")
HOST_BIN(sbb, "sbb")
HOST_BIN(and, "and")
HOST_BIN(sub, "sub")
HOST_BIN(xor, "xor")
HOST_BIN(cmp, "cmp")
HOST_BIN(test, "test")
HOST_UN(inc, "inc")
HOST_UN(dec, "dec")
HOST_UN(neg, "neg")
HOST_UN(not, "not")

static const struct {
	const char *name;
	unsigned int op;
	u64 (*host)(unsigned int, u64, u64, u64 *);
	bool logic; /* AF undefined */
	bool nowrite;
} alu_ops[] = {
	{ "add", X86_ALU_ADD, host_add, false, false },  { "or", X86_ALU_OR, host_or, true, false },
	{ "adc", X86_ALU_ADC, host_adc, false, false },  { "sbb", X86_ALU_SBB, host_sbb, false, false },
	{ "and", X86_ALU_AND, host_and, true, false },   { "sub", X86_ALU_SUB, host_sub, false, false },
	{ "xor", X86_ALU_XOR, host_xor, true, false },   { "cmp", X86_ALU_CMP, host_cmp, false, true },
	{ "test", X86_ALU_TEST, host_test, true, true }, { "inc", X86_ALU_INC, host_inc, false, false },
	{ "dec", X86_ALU_DEC, host_dec, false, false },  { "neg", X86_ALU_NEG, host_neg, false, false },
	{ "not", X86_ALU_NOT, host_not, false, false },
};

static void test_alu_flags(long per_op)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	long undefined_diff = 0, n = 0;

	for (size_t o = 0; o < ARRAY_SIZE(alu_ops); o++) {
		for (size_t s = 0; s < 4; s++) {
			unsigned int size = sizes[s];
			for (long i = 0; i < per_op; i++) {
				u64 a = rnd_operand(), b = rnd_operand();
				u64 fin = 0x202 | (rnd() & FL_ARITH);
				u64 hf = fin, ef = fin;
				u64 m = x86_emu_mask(size);
				u64 hr = alu_ops[o].host(size, a, b, &hf) & m;
				u64 er = x86_emu_alu(alu_ops[o].op, size, a, b, &ef);
				u64 mask = alu_ops[o].logic ? FL_ARITH & ~0x10ULL : FL_ARITH;
				n++;
				checks++;
				if (!alu_ops[o].nowrite && hr != er)
					FAIL("%s%u %#llx, %#llx: result %#llx, host %#llx", alu_ops[o].name, size * 8,
					     (unsigned long long)a, (unsigned long long)b, (unsigned long long)er,
					     (unsigned long long)hr);
				if ((hf ^ ef) & mask)
					FAIL("%s%u %#llx, %#llx (flags in %#llx): flags %#llx, host %#llx",
					     alu_ops[o].name, size * 8, (unsigned long long)a, (unsigned long long)b,
					     (unsigned long long)fin, (unsigned long long)(ef & FL_ARITH),
					     (unsigned long long)(hf & FL_ARITH));
				else if ((hf ^ ef) & FL_ARITH)
					undefined_diff++;
				if ((ef & ~FL_ARITH) != (fin & ~FL_ARITH))
					FAIL("%s changed non-arithmetic flags", alu_ops[o].name);
			}
		}
	}
	printf("alu: %ld operations vs the host CPU (13 ops x 4 sizes), %ld with undefined AF differing\n", n,
	       undefined_diff);
}

static bool host_cond(unsigned int cc, u64 fl)
{
	u8 r = 0;
	switch (cc) {
	case 0: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; seto %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 1: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setno %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 2: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setb %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 3: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setae %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 4: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; sete %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 5: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setne %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 6: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setbe %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 7: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; seta %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 8: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; sets %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 9: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setns %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 10: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setp %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 11: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setnp %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 12: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setl %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 13: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setge %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	case 14: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setle %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	default: __asm__ volatile("lea -128(%%rsp),%%rsp; push %1; popfq; setg %0; lea 128(%%rsp),%%rsp" : "=q"(r) : "r"(fl) : "cc"); break;
	}
	return r;
}

static void test_conditions(void)
{
	for (unsigned int cc = 0; cc < 16; cc++) {
		for (unsigned int bits = 0; bits < 64; bits++) {
			/* the six arithmetic flags in every combination */
			static const u64 fb[6] = { 0x1, 0x4, 0x10, 0x40, 0x80, 0x800 };
			u64 fl = 0x202;
			for (int i = 0; i < 6; i++)
				if (bits & (1u << i))
					fl |= fb[i];
			checks++;
			if (x86_emu_cond(cc, fl) != host_cond(cc, fl))
				FAIL("condition %x with flags %#llx", cc, (unsigned long long)fl);
		}
	}
}

int main(int argc, char **argv)
{
	long native = argc > 1 ? atol(argv[1]) : 300000;
	long steps = argc > 2 ? atol(argv[2]) : 500000;

	test_alu_flags(20000);
	test_conditions();
	test_real_mode();
	test_segmentation();
	test_rep_and_faults();
	test_lock_races();
	test_io();
	test_legacy_modes();
	test_fetch_and_unsupported();
	test_random_steps(steps);
	native_tests(native);
	printf("x86_emu: %ld checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
