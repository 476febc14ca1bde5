/*
 * tests/host/test_pmm.c - host unit test of mm/pmm.c.
 *
 * Fake physical memory is one MAP_NORESERVE mapping (8 GiB of address
 * space, only the metadata and zeroed frames are ever touched), so
 * physical addresses above 4 GiB are real. A frame-state model checks every
 * allocation: alignment, zone, no overlap, never outside usable RAM or in a
 * reserved range, high-first / low-first placement and accounting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "mm/pmm.h"

#define CHECK(c)                                                          \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #c);                            \
			exit(1);                                          \
		}                                                         \
	} while (0)

#define FAKE_SIZE (8ULL << 30)
static u8 *fake;
static u64 p2v_calls;

static void *fake_p2v(hpa_t pa)
{
	CHECK(pa < FAKE_SIZE);
	p2v_calls++;
	return fake + pa;
}

/* Address space only: p2v for the big sparse layout must stay low. */
static void *sparse_p2v(hpa_t pa)
{
	CHECK(pa < 4 * GiB);
	return fake + pa;
}

/* ------------------------------------------------------------- model */

enum { F_NONE, F_FREE, F_USED };
enum { MZ_NORMAL, MZ_LOW, MZ_FW };

static u8 *frames;      /* state per pfn */
static u64 model_pfns;  /* frames[] length */
static struct pmm_report rep;
static u64 model_free[3];

struct live {
	hpa_t pa;
	unsigned order;
};
static struct live *lives;
static size_t n_live, cap_live;

static u64 rng_state;
static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int mzone(u64 pfn)
{
	if (pfn < (MiB >> PAGE_SHIFT))
		return MZ_FW;
	if (pfn >= rep.low_base >> PAGE_SHIFT && pfn < rep.low_end >> PAGE_SHIFT)
		return MZ_LOW;
	return MZ_NORMAL;
}

static void mark(const struct pmm_range *r, size_t n, u8 v, bool inward)
{
	for (size_t i = 0; i < n; i++) {
		u64 lo = inward ? ALIGN_UP(r[i].base, PAGE_SIZE)
				: ALIGN_DOWN(r[i].base, PAGE_SIZE);
		u64 hi = inward ? ALIGN_DOWN(r[i].base + r[i].len, PAGE_SIZE)
				: ALIGN_UP(r[i].base + r[i].len, PAGE_SIZE);
		for (u64 p = lo >> PAGE_SHIFT; p < hi >> PAGE_SHIFT && p < model_pfns; p++)
			frames[p] = v;
	}
}

/* Init pmm and a matching model; checks the report. */
static void setup(const struct pmm_range *u, size_t nu,
		  const struct pmm_range *r, size_t nr, u64 lowpool)
{
	u64 managed = 0, meta_lo, meta_hi;

	CHECK(pmm_init(u, nu, r, nr, lowpool, fake_p2v, &rep) == E_OK);
	model_pfns = rep.top >> PAGE_SHIFT;
	free(frames);
	frames = calloc(model_pfns, 1);
	CHECK(frames);
	mark(u, nu, F_FREE, true);
	mark(r, nr, F_NONE, false);
	frames[0] = F_NONE;
	/* metadata: below 4 GiB, above 1 MiB, inside free usable RAM */
	meta_lo = rep.meta_base >> PAGE_SHIFT;
	meta_hi = rep.meta_end >> PAGE_SHIFT;
	CHECK(rep.meta_base >= MiB && rep.meta_end <= 4 * GiB);
	CHECK(meta_hi > meta_lo && IS_ALIGNED(rep.meta_base, PAGE_SIZE));
	for (u64 p = meta_lo; p < meta_hi; p++) {
		CHECK(frames[p] == F_FREE);
		frames[p] = F_NONE;
	}
	/* low pool: below 4 GiB, above 1 MiB, not overlapping metadata */
	CHECK(rep.low_end <= 4 * GiB);
	CHECK(rep.low_base == rep.low_end || rep.low_base >= MiB);
	CHECK(rep.low_end <= rep.meta_base || rep.low_base >= rep.meta_end ||
	      rep.low_base == rep.low_end);
	memset(model_free, 0, sizeof(model_free));
	for (u64 p = 0; p < model_pfns; p++) {
		if (frames[p] == F_FREE) {
			managed++;
			model_free[mzone(p)]++;
		}
	}
	CHECK(rep.managed_bytes == managed << PAGE_SHIFT);
	CHECK(rep.low_bytes == model_free[MZ_LOW] << PAGE_SHIFT);
	/* the low pool is the top of free RAM below 4 GiB */
	for (u64 p = rep.low_end >> PAGE_SHIFT;
	     rep.low_bytes && p < MIN(model_pfns, 4 * GiB >> PAGE_SHIFT); p++)
		CHECK(frames[p] != F_FREE);
	n_live = 0;
}

static void check_accounting(void)
{
	struct pmm_stats st;

	pmm_stats(&st);
	CHECK(st.free_normal == model_free[MZ_NORMAL] << PAGE_SHIFT);
	CHECK(st.free_low == model_free[MZ_LOW] << PAGE_SHIFT);
	CHECK(st.free_below_1m == model_free[MZ_FW] << PAGE_SHIFT);
	CHECK(st.total_bytes == rep.managed_bytes);
	CHECK(st.low_base == rep.low_base && st.low_end == rep.low_end);
	CHECK(st.meta_base == rep.meta_base && st.meta_end == rep.meta_end);
	CHECK(st.allocs - st.frees == n_live);
}

/* Whether [pfn, pfn + 2^k) is free and within one zone in the model. */
static bool region_free(u64 pfn, unsigned k, int *zone)
{
	int z = mzone(pfn);

	if (pfn + (1ULL << k) > model_pfns)
		return false;
	for (u64 p = pfn; p < pfn + (1ULL << k); p++)
		if (frames[p] != F_FREE || mzone(p) != z)
			return false;
	*zone = z;
	return true;
}

/* Expected high-first result for (order, zone), or ~0 if none. */
static u64 expect_high(unsigned k, int zone)
{
	u64 n = 1ULL << k;
	u64 top = zone == MZ_LOW ? rep.low_end >> PAGE_SHIFT : model_pfns;
	int z;

	for (u64 pfn = ALIGN_DOWN(top, n); pfn >= n;) {
		pfn -= n;
		if (region_free(pfn, k, &z) && z == zone)
			return pfn << PAGE_SHIFT;
	}
	return ~0ULL;
}

/* Expected pmm_alloc_below result: lowest fitting block in NORMAL, else
 * below 1 MiB; ~0 if none. */
static u64 expect_low(unsigned k, hpa_t limit)
{
	u64 n = 1ULL << k;
	int z;

	for (int want = MZ_NORMAL; want != -1; want = want == MZ_NORMAL ? MZ_FW : -1)
		for (u64 pfn = 0; pfn + n <= model_pfns && (pfn + n) << PAGE_SHIFT <= limit; pfn += n)
			if (region_free(pfn, k, &z) && z == want)
				return pfn << PAGE_SHIFT;
	return ~0ULL;
}

static void model_alloc(hpa_t pa, unsigned k, int zone, hpa_t limit)
{
	u64 pfn = pa >> PAGE_SHIFT;

	CHECK(IS_ALIGNED(pa, PAGE_SIZE << k));
	CHECK(pa + (PAGE_SIZE << k) <= limit);
	for (u64 p = pfn; p < pfn + (1ULL << k); p++) {
		CHECK(p < model_pfns && frames[p] == F_FREE);
		if (zone >= 0)
			CHECK(mzone(p) == zone);
		else
			CHECK(mzone(p) != MZ_LOW);
		frames[p] = F_USED;
		model_free[mzone(p)]--;
	}
	if (n_live == cap_live) {
		cap_live = cap_live ? cap_live * 2 : 1024;
		lives = realloc(lives, cap_live * sizeof(*lives));
		CHECK(lives);
	}
	lives[n_live++] = (struct live){ pa, k };
}

static void model_free_at(size_t i)
{
	u64 pfn = lives[i].pa >> PAGE_SHIFT;

	for (u64 p = pfn; p < pfn + (1ULL << lives[i].order); p++) {
		CHECK(frames[p] == F_USED);
		frames[p] = F_FREE;
		model_free[mzone(p)]++;
	}
	lives[i] = lives[--n_live];
}

static bool is_live(hpa_t pa, unsigned k)
{
	for (size_t i = 0; i < n_live; i++)
		if (lives[i].pa == pa && lives[i].order == k)
			return true;
	return false;
}

static void free_all(void)
{
	while (n_live) {
		CHECK(pmm_free(lives[n_live - 1].pa, lives[n_live - 1].order) == E_OK);
		model_free_at(n_live - 1);
	}
	check_accounting();
}

static unsigned rand_order(void)
{
	u64 r = rnd() % 100;

	if (r < 70)
		return 0;
	if (r < 90)
		return 1 + rnd() % 4;
	if (r < 98)
		return 5 + rnd() % 6;
	return 11 + rnd() % 8;
}

/* Long random sequence against the model. */
static void random_run(u64 seed, int ops)
{
	u64 p2v_before = p2v_calls;

	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (int op = 0; op < ops; op++) {
		bool verify = op % 8 == 0;
		u64 r = rnd() % 100;
		hpa_t pa = 0;

		if (n_live && (r < 45 || n_live > 3000)) {
			size_t i = rnd() % n_live;
			CHECK(pmm_free(lives[i].pa, lives[i].order) == E_OK);
			model_free_at(i);
		} else if (r < 92) {
			int zone = rnd() % 6 ? PMM_NORMAL : PMM_LOW;
			unsigned k = zone == PMM_LOW ? rand_order() % 6 : rand_order();
			u64 want = verify || k >= 11 ? expect_high(k, zone) : 0;
			int err = pmm_alloc(k, zone, &pa);
			if (err) {
				CHECK(err == E_NOMEM);
				if (verify || k >= 11)
					CHECK(want == ~0ULL);
			} else {
				if (verify || k >= 11)
					CHECK(pa == want);
				model_alloc(pa, k, zone, ~0ULL);
			}
		} else if (r < 96) {
			static const hpa_t limits[] = { MiB, 16 * MiB, 4 * GiB };
			unsigned k = rnd() % 4;
			hpa_t limit = limits[rnd() % 3];
			u64 want = expect_low(k, limit);
			int err = pmm_alloc_below(k, limit, &pa);
			if (want == ~0ULL) {
				CHECK(err == E_NOMEM);
			} else {
				CHECK(err == E_OK && pa == want);
				model_alloc(pa, k, -1, limit);
			}
		} else {
			/* bogus free: must be refused and change nothing */
			unsigned k = rnd() % 19;
			hpa_t bad;
			struct pmm_stats a, b;
			if (n_live && rnd() % 2) {
				size_t i = rnd() % n_live;
				unsigned lk = lives[i].order;
				bad = lives[i].pa;
				switch (rnd() % 3) {
				case 0: k = lk + 1; break;
				case 1: k = lk ? lk - 1 : 0; bad += PAGE_SIZE << k; break;
				default: k = lk ? lk - 1 : lk + 1; break;
				}
			} else {
				bad = (rnd() % (model_pfns + 10)) << PAGE_SHIFT;
			}
			if (is_live(bad, k))
				continue;
			pmm_stats(&a);
			CHECK(pmm_free(bad, k) != E_OK);
			pmm_stats(&b);
			CHECK(b.bad_frees == a.bad_frees + 1);
			CHECK(a.free_normal == b.free_normal && a.free_low == b.free_low);
		}
		if (verify)
			check_accounting();
	}
	check_accounting();
	CHECK(p2v_calls == p2v_before); /* pmm never touched frames */
}

/* ------------------------------------------------------------- layouts */

/* A 6 GiB PC: 640 KiB, 1 MiB..3 GiB, hole, 4..7 GiB; messy input. */
static const struct pmm_range pc_usable[] = {
	{ 4 * GiB, 3 * GiB },
	{ 0, 0x9FC00 },
	{ 0x100000, 0xBFFDF123 - 0x100000 },
	{ 0x80000000, 0x1000000 },       /* overlaps */
	{ 0x10000100, 0x2000 },          /* unaligned, inside */
	{ 6 * GiB + 0x800, 0x10000 },    /* overlaps */
	{ 0xFFFFF000, 0x800 },           /* less than a frame */
};
static const struct pmm_range pc_reserved[] = {
	{ 0x100000, 0x200123 },          /* Umbra image */
	{ 0x5000000, 0x1234567 },        /* module */
	{ 0x9000, 0x100 },               /* boot info */
	{ 5 * GiB + 0x3000, 0x5000 },    /* above 4 GiB */
	{ 0xBFF00000, 0x200000 },        /* straddles the end of RAM */
};

static void test_pc(void)
{
	hpa_t pa, pa2, first[19];
	int n1g = 0;

	setup(pc_usable, ARRAY_SIZE(pc_usable), pc_reserved,
	      ARRAY_SIZE(pc_reserved), 16 * MiB);
	CHECK(rep.low_end == 0xBFF00000);
	CHECK(rep.low_base == 0xBFF00000 - 16 * MiB);
	CHECK(rep.low_bytes == 16 * MiB);
	CHECK(rep.top == 7 * GiB);
	CHECK(rep.largest_free_block == GiB);
	CHECK(rep.meta_base == 0x301000); /* lowest fit after the image */
	printf("pc: managed %llu MiB, meta %llu KiB, largest run %llu MiB\n",
	       (unsigned long long)(rep.managed_bytes >> 20),
	       (unsigned long long)((rep.meta_end - rep.meta_base) >> 10),
	       (unsigned long long)(rep.largest_free_run >> 20));
	check_accounting();

	/* high-first */
	CHECK(pmm_alloc(0, PMM_NORMAL, &pa) == E_OK && pa == 7 * GiB - PAGE_SIZE);
	model_alloc(pa, 0, MZ_NORMAL, ~0ULL);
	CHECK(pmm_alloc(0, PMM_LOW, &pa) == E_OK && pa == 0xBFF00000 - PAGE_SIZE);
	model_alloc(pa, 0, MZ_LOW, ~0ULL);
	/* every order aligned, highest available */
	for (unsigned k = 0; k <= PMM_MAX_ORDER; k++) {
		u64 want = expect_high(k, MZ_NORMAL);
		CHECK(pmm_alloc(k, PMM_NORMAL, &first[k]) == E_OK);
		CHECK(first[k] == want);
		model_alloc(first[k], k, MZ_NORMAL, ~0ULL);
	}
	for (unsigned k = 0; k <= 8; k++) {
		CHECK(pmm_alloc(k, PMM_LOW, &pa) == E_OK);
		model_alloc(pa, k, MZ_LOW, ~0ULL);
	}
	CHECK(pmm_alloc(19, PMM_NORMAL, &pa) == E_INVAL);
	CHECK(pmm_alloc(0, 7, &pa) == E_INVAL);
	check_accounting();

	/* double free, wrong order, misaligned, never allocated */
	pa = lives[n_live - 1].pa;
	CHECK(pmm_free(first[3], 2) == E_NOENT);
	CHECK(pmm_free(first[3], 4) != E_OK);
	CHECK(pmm_free(first[3] + PAGE_SIZE, 0) == E_NOENT);
	CHECK(pmm_free(first[3] + 8, 0) == E_INVAL);
	CHECK(pmm_free(0x100000, 0) == E_NOENT);      /* reserved */
	CHECK(pmm_free(rep.meta_base, 0) == E_NOENT); /* metadata */
	CHECK(pmm_free(0xC0000000, 0) == E_NOENT);    /* hole */
	CHECK(pmm_free(64 * GiB, 0) == E_INVAL);      /* beyond RAM */
	for (size_t i = 0; i < n_live; i++) {
		if (lives[i].pa == first[3]) {
			CHECK(pmm_free(first[3], 3) == E_OK);
			model_free_at(i);
			break;
		}
	}
	CHECK(pmm_free(first[3], 3) == E_NOENT);
	check_accounting();

	/* below: lowest first, respects the limit, skips reserved frames */
	CHECK(pmm_alloc_below(0, MiB, &pa) == E_OK && pa == 0x1000);
	model_alloc(pa, 0, -1, MiB);
	CHECK(pmm_alloc_below(0, 0x2000, &pa2) == E_NOMEM);
	CHECK(pmm_alloc_below(3, MiB, &pa2) == E_OK && pa2 == 0x10000);
	model_alloc(pa2, 3, -1, MiB);
	CHECK(pmm_alloc_below(PMM_MAX_ORDER, MiB, &pa2) == E_NOMEM);
	CHECK(pmm_alloc_below(0, 4 * GiB, &pa2) == E_OK && pa2 == rep.meta_end);
	model_alloc(pa2, 0, -1, 4 * GiB);
	CHECK(pmm_alloc_below(4, 2 * MiB, &pa2) == E_OK && pa2 == 0x20000);
	model_alloc(pa2, 4, -1, 2 * MiB);
	free_all();

	/* zeroed allocation really zeroes (and only then touches frames) */
	CHECK(pmm_alloc(1, PMM_NORMAL, &pa) == E_OK);
	memset(fake + pa, 0xAB, 2 * PAGE_SIZE);
	CHECK(pmm_free(pa, 1) == E_OK);
	CHECK(pmm_alloc_zeroed(1, PMM_NORMAL, &pa2) == E_OK && pa2 == pa);
	for (u64 i = 0; i < 2 * PAGE_SIZE; i++)
		CHECK(fake[pa + i] == 0);
	CHECK(pmm_free(pa, 1) == E_OK);
	madvise(fake + pa, 2 * PAGE_SIZE, MADV_DONTNEED);

	/* count 1 GiB blocks; exhaust NORMAL; LOW is separate; recover */
	while (pmm_alloc(PMM_MAX_ORDER, PMM_NORMAL, &pa) == E_OK) {
		model_alloc(pa, PMM_MAX_ORDER, MZ_NORMAL, ~0ULL);
		n1g++;
	}
	CHECK(n1g == 3); /* 1-2, 4-5, 6-7 GiB (5-6 has a reserved hole) */
	for (int k = PMM_MAX_ORDER; k >= 0; k--)
		while (pmm_alloc(k, PMM_NORMAL, &pa) == E_OK)
			model_alloc(pa, k, MZ_NORMAL, ~0ULL);
	CHECK(model_free[MZ_NORMAL] == 0);
	check_accounting();
	CHECK(pmm_alloc(0, PMM_NORMAL, &pa) == E_NOMEM);
	CHECK(pmm_alloc(0, PMM_LOW, &pa) == E_OK); /* pool untouched */
	model_alloc(pa, 0, MZ_LOW, ~0ULL);
	while (pmm_alloc(0, PMM_LOW, &pa) == E_OK)
		model_alloc(pa, 0, MZ_LOW, ~0ULL);
	CHECK(model_free[MZ_LOW] == 0);
	CHECK(pmm_alloc(0, PMM_LOW, &pa) == E_NOMEM); /* no fallback */
	pa = lives[n_live / 2].pa;
	{
		unsigned k = lives[n_live / 2].order;
		CHECK(pmm_free(pa, k) == E_OK);
		model_free_at(n_live / 2);
		if (mzone(pa >> PAGE_SHIFT) == MZ_NORMAL) {
			CHECK(pmm_alloc(k, PMM_NORMAL, &pa2) == E_OK && pa2 == pa);
			model_alloc(pa2, k, MZ_NORMAL, ~0ULL);
		}
	}
	check_accounting();
	free_all();
	n1g = 0;
	while (pmm_alloc(PMM_MAX_ORDER, PMM_NORMAL, &pa) == E_OK) {
		model_alloc(pa, PMM_MAX_ORDER, MZ_NORMAL, ~0ULL);
		n1g++;
	}
	CHECK(n1g == 3); /* everything coalesced back */
	free_all();

	for (u64 seed = 1; seed <= 6; seed++) {
		clock_t t0 = clock();
		random_run(seed, 40000);
		struct pmm_stats st;
		pmm_stats(&st);
		printf("pc: seed %llu ok (%.0f ms): %llu allocs, %llu failed, "
		       "%llu bad frees refused\n", (unsigned long long)seed,
		       (double)(clock() - t0) * 1000 / CLOCKS_PER_SEC,
		       (unsigned long long)st.allocs,
		       (unsigned long long)st.failed_allocs,
		       (unsigned long long)st.bad_frees);
		free_all();
	}
}

/* A 512 MiB machine; low pool sizes 0, default-ish, too large. */
static void test_small(void)
{
	static const struct pmm_range u[] = {
		{ 0, 0x9FC00 }, { MiB, 512 * MiB - 128 * KiB - MiB },
	};
	static const struct pmm_range r[] = { { MiB, 2 * MiB } };
	hpa_t pa;

	setup(u, 2, r, 1, 0);
	CHECK(rep.low_base == rep.low_end && rep.low_bytes == 0);
	CHECK(pmm_alloc(0, PMM_LOW, &pa) == E_NOMEM);
	CHECK(pmm_alloc(0, PMM_NORMAL, &pa) == E_OK &&
	      pa == 512 * MiB - 128 * KiB - PAGE_SIZE);
	model_alloc(pa, 0, MZ_NORMAL, ~0ULL);
	free_all();

	setup(u, 2, r, 1, 5 * MiB + 1);
	CHECK(rep.low_bytes == 5 * MiB + PAGE_SIZE);
	CHECK(rep.low_end == 512 * MiB - 128 * KiB);
	random_run(42, 20000);
	free_all();

	setup(u, 2, r, 1, 64 * GiB); /* clamped to half of low RAM */
	CHECK(rep.low_bytes <= 256 * MiB && rep.low_bytes >= 250 * MiB);
	random_run(7, 20000);
	free_all();
}

/* Hundreds of GiB: metadata stays small and low, init is quick. */
static void test_big(void)
{
	static const struct pmm_range u[] = {
		{ 0, 0x9FC00 }, { MiB, 2 * GiB }, { 4 * GiB, 380 * GiB },
	};
	static const struct pmm_range r[] = { { MiB, 4 * MiB } };
	struct pmm_report br;
	struct pmm_stats st;
	clock_t t0 = clock();
	hpa_t pa;

	CHECK(pmm_init(u, 3, r, 1, 32 * MiB, sparse_p2v, &br) == E_OK);
	printf("big: %llu GiB managed, metadata %llu KiB, init %.1f ms\n",
	       (unsigned long long)(br.managed_bytes >> 30),
	       (unsigned long long)((br.meta_end - br.meta_base) >> 10),
	       (double)(clock() - t0) * 1000 / CLOCKS_PER_SEC);
	CHECK(br.meta_end - br.meta_base < 384 * GiB / 4096 + MiB);
	CHECK(br.meta_end <= 4 * GiB);
	CHECK(pmm_alloc(PMM_MAX_ORDER, PMM_NORMAL, &pa) == E_OK &&
	      pa == 383 * GiB);
	CHECK(pmm_alloc(0, PMM_NORMAL, &pa) == E_OK && pa == 382 * GiB + 1023 * MiB + 1020 * KiB);
	t0 = clock();
	for (int i = 0; i < 200000; i++)
		CHECK(pmm_alloc(0, PMM_NORMAL, &pa) == E_OK);
	for (int i = 0; i < 200000; i++)
		CHECK(pmm_free(pa + (u64)i * PAGE_SIZE, 0) == E_OK);
	printf("big: 200k order-0 alloc+free %.1f ms\n",
	       (double)(clock() - t0) * 1000 / CLOCKS_PER_SEC);
	pmm_stats(&st);
	CHECK(st.free_normal + st.free_low + st.free_below_1m ==
	      st.total_bytes - GiB - PAGE_SIZE);
}

/* Malformed input. */
static void test_errors(void)
{
	static struct pmm_range many[PMM_MAX_RANGES + 8];
	struct pmm_range tiny = { 0x1000, 0x9F000 }; /* nothing above 1 MiB */

	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct pmm_range){ MiB + i * 3 * PAGE_SIZE, PAGE_SIZE };
	CHECK(pmm_init(many, ARRAY_SIZE(many), NULL, 0, 0, fake_p2v, NULL) == E_RANGE);
	CHECK(pmm_init(&tiny, 1, NULL, 0, 0, fake_p2v, NULL) == E_NOMEM);
	CHECK(pmm_init(NULL, 0, NULL, 0, 0, fake_p2v, NULL) == E_NOMEM);
	hpa_t pa;
	CHECK(pmm_alloc(0, PMM_NORMAL, &pa) == E_NOMEM);
	CHECK(pmm_free(MiB, 0) == E_INVAL);
}

int main(void)
{
	fake = mmap(NULL, FAKE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(fake != MAP_FAILED);
	test_errors();
	test_pc();
	test_small();
	test_big();
	printf("pmm: all tests passed\n");
	return 0;
}
