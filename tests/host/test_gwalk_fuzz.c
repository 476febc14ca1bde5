/*
 * tests/host/test_gwalk_fuzz.c - random page tables, random CPU state,
 * random addresses and accesses: the walker must agree with the reference
 * model (outcome, error code, translation, A/D updates), read no more
 * entries than the format has levels, and never touch memory outside the
 * fake guest memory (ASan watches the exact-size block; the callbacks
 * reject out-of-range and misaligned entries).
 *
 * Deterministic: a fixed-seed xorshift generator.
 */
#include <inttypes.h>
#include <string.h>

#include "tests/host/gwalk_fake.h"

void gwalk_test_fuzz(unsigned long iterations);

#define FUZZ_PAGES 12
#define FUZZ_MEM (FUZZ_PAGES * 4096ULL)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static bool chance(unsigned percent)
{
	return rnd() % 100 < percent;
}

/* A page frame: mostly inside the fake memory, sometimes just past it,
 * sometimes anywhere below 2^52. */
static uint64_t rnd_frame(void)
{
	unsigned r = rnd() % 100;
	if (r < 80)
		return (rnd() % FUZZ_PAGES) << 12;
	if (r < 90)
		return (FUZZ_PAGES + rnd() % 4) << 12;
	return rnd() & 0x000ffffffffff000ULL;
}

static uint64_t rnd_entry(bool wide)
{
	uint64_t v = rnd_frame();
	if (chance(88))
		v |= PTE_P;
	v |= rnd() & 0xffe; /* RW US PWT PCD A D PS G and ignored 11:9 */
	if (!chance(30))
		v &= ~PTE_PS;
	if (!wide)
		return v & 0xffffffffULL;
	if (chance(25))
		v |= PTE_NX;
	if (chance(10))
		v |= rnd() & GENMASK(62, 52); /* ignored (4/5-level), reserved (PAE) */
	if (chance(6))
		v |= 1ULL << (12 + rnd() % 40); /* often a reserved bit */
	if (chance(6))
		v |= 1ULL << (13 + rnd() % 17); /* reserved in large leaves */
	return v;
}

static void fill_tables(struct fmem *fm, bool wide)
{
	unsigned size = wide ? 8 : 4;
	for (uint64_t gpa = 0; gpa < fm->size; gpa += size)
		fm_put(fm, gpa, size, chance(15) ? rnd() & (wide ? ~0ULL : 0xffffffffULL) : rnd_entry(wide));
}

/* A linear address whose indices mostly hit populated entries. */
static uint64_t rnd_la(int top_bit)
{
	uint64_t la = rnd();
	if (top_bit && chance(90)) {
		/* sign-extend from @top_bit */
		unsigned s = 63 - top_bit;
		la = (uint64_t)((int64_t)(la << s) >> s);
	}
	return la;
}

static const unsigned maxphys[] = { 32, 36, 39, 40, 46, 48, 52 };

void gwalk_test_fuzz(unsigned long iterations)
{
	/* Tables of 8-byte entries, and of 4-byte ones for 32-bit paging;
	 * each refilled after 64 walks. */
	struct fmem mem[2];
	unsigned long used[2] = { 0, 0 };
	unsigned long n = 0, outcomes[5] = { 0 };
	static const unsigned long levels[5] = { 0, 2, 3, 4, 5 };
	char what[64];

	fm_init(&mem[0], FUZZ_MEM);
	fm_init(&mem[1], FUZZ_MEM);
	for (unsigned long it = 0; it < iterations; it++) {
		int fmt = rnd() % 5; /* off, 32, PAE, 4L, 5L */
		bool wide = fmt != 1;
		struct fmem *fm = &mem[wide];
		if (used[wide]++ % 64 == 0)
			fill_tables(fm, wide);
		struct ref_cpu cpu = {
			.cr0 = BIT(0) | (fmt ? BIT(31) : 0) | (chance(50) ? BIT(16) : 0),
			.cr4 = rnd() & (BIT(4) | BIT(7) | BIT(20) | BIT(21) | BIT(22)),
			.efer = chance(50) ? BIT(11) : 0,
			.pkru = chance(50) ? (uint32_t)rnd() : 0,
			.cpl = chance(50) ? 3 : (unsigned)(rnd() % 3),
			.ac = chance(50),
			.maxphyaddr = maxphys[rnd() % (sizeof(maxphys) / sizeof(maxphys[0]))],
			.gbpages = chance(70),
			.la57 = true,
			.pse36 = chance(80),
			.amd = chance(50),
		};
		int top_bit = 0;
		if (fmt == 1) {
			cpu.cr4 &= ~BIT(22);
			cpu.cr3 = ((rnd() % FUZZ_PAGES) << 12) | (rnd() & 0x18);
		} else if (fmt == 2) {
			cpu.cr4 |= BIT(5);
			cpu.cr3 = ((rnd() % FUZZ_PAGES) << 12) | ((rnd() % 128) << 5);
			if (chance(10))
				cpu.cr3 = FUZZ_MEM - 16; /* PDPT straddles the end */
		} else if (fmt >= 3) {
			cpu.cr4 |= BIT(5) | (fmt == 4 ? BIT(12) : 0);
			cpu.efer |= BIT(8) | BIT(10);
			cpu.cr3 = (rnd() % FUZZ_PAGES) << 12;
			top_bit = fmt == 4 ? 56 : 47;
		}
		if (fmt == 2) {
			/* PDPTE registers, as MOV to CR3 would load them; if that
			 * would #GP, walk with in-memory PDPTEs instead. */
			struct gwalk_env env;
			fm_env_from_cpu(&cpu, &env);
			if (chance(20) || gwalk_load_pdptes(&fm_ops, fm, &env.mode, cpu.cr3, cpu.pdpte) != E_OK)
				cpu.pdpte_in_memory = true;
		}
		struct ref_access a = {
			.la = rnd_la(top_bit),
			.type = (int)(rnd() % 3),
			.peek = chance(10),
		};
		a.implicit = a.type != REF_FETCH && chance(15);

		snprintf(what, sizeof(what), "fuzz #%lu fmt %d", it, fmt);
		unsigned long reads = fm->reads;
		struct gwalk_result res;
		fm_differential(fm, &cpu, &a, what, &res);
		CHECK(fm->reads - reads <= levels[fmt], "%s: %lu entry reads", what, fm->reads - reads);
		if (res.status == GWALK_OK && !a.peek && chance(25)) {
			/* Let some A/D bits stick, as a real guest's would. */
			struct gwalk_env env;
			fm_env_from_cpu(&cpu, &env);
			gwalk_walk(&fm_ops, fm, &env, a.la, fm_access_flags(&cpu, &a), &res);
		}
		if (res.status >= 0 && res.status < 5)
			outcomes[res.status]++;
		n++;
	}
	fm_free(&mem[0]);
	fm_free(&mem[1]);
	printf("fuzz: %lu walks: %lu ok, %lu #PF, %lu non-canonical, %lu unreadable, %lu retry\n", n, outcomes[0],
	       outcomes[1], outcomes[2], outcomes[3], outcomes[4]);
}
