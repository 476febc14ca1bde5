/*
 * tests/host/test_kmem.c - host unit test of mm/kmem.c (on top of mm/pmm.c).
 *
 * Fake physical memory is one anonymous mapping; p2v/v2p are offsets into
 * it. Random alloc/free sequences are checked against a list of live
 * objects: zeroed on allocation, aligned, non-overlapping (each object is
 * filled with a pattern that must survive until its free), bogus frees
 * refused, and every frame returned to the pmm at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mm/kmem.h"
#include "mm/pmm.h"

#define CHECK(c)                                                          \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #c);                            \
			exit(1);                                          \
		}                                                         \
	} while (0)

#define FAKE_SIZE (1ULL << 30)
static u8 *fake;

static void *fake_p2v(hpa_t pa)
{
	CHECK(pa < FAKE_SIZE);
	return fake + pa;
}

static hpa_t fake_v2p(const void *va)
{
	const u8 *p = va;
	return p >= fake && p < fake + FAKE_SIZE ? (hpa_t)(p - fake) : ~0ULL;
}

static u64 rng_state;
static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static u64 pmm_free_bytes(void)
{
	struct pmm_stats st;
	pmm_stats(&st);
	return st.free_normal + st.free_low + st.free_below_1m;
}

static void setup(u64 ram_top)
{
	const struct pmm_range u[] = { { 0, 0x9FC00 }, { MiB, ram_top - MiB } };
	const struct pmm_range r[] = { { MiB, 2 * MiB } };
	struct pmm_report rep;

	CHECK(pmm_init(u, 2, r, 1, MiB, fake_p2v, &rep) == E_OK);
	kmem_init(fake_p2v, fake_v2p);
}

/* ---------------------------------------------------------------- model */

struct obj {
	u8 *p;
	size_t size;  /* bytes we may use */
	int cache;    /* index into caches[], -1 for kzalloc */
	u8 pat;
};
static struct obj *objs;
static size_t n_objs, cap_objs;

#define N_CACHES 8
static struct kmem_cache *caches[N_CACHES];
static const size_t cache_size[N_CACHES] = { 24, 100, 512, 600, 4096, 3000, 1, 40000 };
static const size_t cache_align[N_CACHES] = { 0, 16, 64, 8, 4096, 64, 1, 8 };

static size_t expect_align(const struct obj *o)
{
	if (o->cache >= 0) {
		size_t a = cache_align[o->cache];
		return a < 8 ? 8 : a;
	}
	if (o->size > KMEM_MAX_CLASS)
		return PAGE_SIZE;
	size_t a = 8;
	while (a < o->size)
		a *= 2;
	return a;
}

static void add_obj(u8 *p, size_t size, int cache)
{
	struct obj o = { p, size, cache, (u8)(rnd() | 1) };

	CHECK(p);
	CHECK(fake_v2p(p) != ~0ULL && fake_v2p(p) + size <= FAKE_SIZE);
	CHECK(((uintptr_t)p & (expect_align(&o) - 1)) == 0);
	for (size_t i = 0; i < size; i++)
		CHECK(p[i] == 0);
	for (size_t i = 0; i < n_objs; i++)
		CHECK(p + size <= objs[i].p || objs[i].p + objs[i].size <= p);
	memset(p, o.pat, size);
	if (n_objs == cap_objs) {
		cap_objs = cap_objs ? cap_objs * 2 : 1024;
		objs = realloc(objs, cap_objs * sizeof(*objs));
		CHECK(objs);
	}
	objs[n_objs++] = o;
}

static void del_obj(size_t i)
{
	struct obj *o = &objs[i];

	for (size_t j = 0; j < o->size; j++)
		CHECK(o->p[j] == o->pat);
	if (o->cache >= 0)
		CHECK(kmem_cache_free(caches[o->cache], o->p) == E_OK);
	else
		CHECK(kfree(o->p) == E_OK);
	objs[i] = objs[--n_objs];
}

static size_t rand_kz_size(void)
{
	u64 r = rnd() % 100;

	if (r < 80)
		return 1 + rnd() % 2048;
	if (r < 98)
		return 2049 + rnd() % 40000;
	return 40000 + rnd() % MiB;
}

static bool do_alloc(void)
{
	if (rnd() % 2) {
		int c = (int)(rnd() % N_CACHES);
		u8 *p = kmem_cache_alloc(caches[c]);
		if (!p)
			return false;
		add_obj(p, cache_size[c], c);
	} else {
		size_t size = rand_kz_size();
		u8 *p = kzalloc(size);
		if (!p)
			return false;
		add_obj(p, size, -1);
	}
	return true;
}

/* Frees that must be refused without changing anything. */
static void bogus_frees(void)
{
	struct kmem_stats ks0, ks1;
	struct obj *o;
	u64 before = pmm_free_bytes();
	int other;
	hpa_t pa;
	int local;

	kmem_stats(&ks0);
	CHECK(kfree(&local) != E_OK);               /* not in physical memory */
	CHECK(kmem_cache_free(caches[0], NULL) != E_OK);
	CHECK(pmm_alloc(0, PMM_NORMAL, &pa) == E_OK);
	CHECK(kfree(fake + pa) == E_NOENT);         /* a frame kmem never owned */
	CHECK(kmem_cache_free(caches[0], fake + pa) == E_INVAL);
	CHECK(pmm_free(pa, 0) == E_OK);
	if (!n_objs)
		return;
	o = &objs[rnd() % n_objs];
	if (o->cache >= 0) {
		other = (o->cache + 1 + (int)(rnd() % (N_CACHES - 1))) % N_CACHES;
		CHECK(kmem_cache_free(caches[other], o->p) == E_INVAL);
		CHECK(kfree(o->p) == E_INVAL); /* not a kzalloc object */
		if (o->size > 8)
			CHECK(kmem_cache_free(caches[o->cache], o->p + 4) == E_INVAL);
	} else {
		if (o->size > 8)
			CHECK(kfree(o->p + 4) == E_INVAL);
		if (o->size > 2 * PAGE_SIZE)
			CHECK(kfree(o->p + PAGE_SIZE) != E_OK);
	}
	kmem_stats(&ks1);
	CHECK(ks1.large_in_use == ks0.large_in_use);
	CHECK(pmm_free_bytes() == before);
}

static void check_all_free(u64 baseline)
{
	struct kmem_stats ks;

	while (n_objs)
		del_obj(n_objs - 1);
	kmem_cache_shrink(NULL);
	for (struct kmem_cache *c = kmem_cache_next(NULL); c; c = kmem_cache_next(c)) {
		struct kmem_cache_stats st;
		kmem_cache_stats(c, &st);
		CHECK(st.in_use == 0 && st.slabs == 0);
		CHECK(st.allocs == st.frees);
	}
	kmem_stats(&ks);
	CHECK(ks.large_in_use == 0 && ks.large_bytes == 0);
	CHECK(pmm_free_bytes() == baseline - ks.radix_pages * PAGE_SIZE);
}

static void create_caches(void)
{
	for (int i = 0; i < N_CACHES; i++) {
		struct kmem_cache_stats st;
		caches[i] = kmem_cache_create("test", cache_size[i], cache_align[i]);
		CHECK(caches[i]);
		kmem_cache_stats(caches[i], &st);
		CHECK(st.obj_size >= cache_size[i] && st.objs_per_slab >= 1);
		CHECK(st.slab_order <= KMEM_MAX_SLAB_ORDER);
		if (cache_size[i] <= 512)
			CHECK(st.slab_order == 0);
		CHECK((st.obj_size * st.objs_per_slab) * 8 >=
		      (PAGE_SIZE << st.slab_order) * 7 || st.slab_order == KMEM_MAX_SLAB_ORDER);
	}
}

/* --------------------------------------------------------------- tests */

static void test_api(void)
{
	struct kmem_cache_stats st;
	int n = 0;
	u8 *p, *q;

	setup(256 * MiB);
	for (struct kmem_cache *c = kmem_cache_next(NULL); c; c = kmem_cache_next(c)) {
		kmem_cache_stats(c, &st);
		CHECK(strncmp(st.name, "kzalloc-", 8) == 0);
		CHECK(st.obj_size == (8u << n) && st.align == st.obj_size);
		n++;
	}
	CHECK(n == 9);
	CHECK(!kmem_cache_create("zero", 0, 8));
	CHECK(!kmem_cache_create("align3", 8, 3));
	CHECK(!kmem_cache_create("align8k", 8, 8192));
	CHECK(!kmem_cache_create("huge", MiB, 8));
	CHECK(!kzalloc(0));
	CHECK(!kzalloc(2 * GiB));
	CHECK(kfree(NULL) == E_OK);
	create_caches();
	kmem_cache_stats(caches[0], &st);
	CHECK(strcmp(st.name, "test") == 0);

	/* double free; slab reused; per-cache stats */
	p = kmem_cache_alloc(caches[1]);
	q = kmem_cache_alloc(caches[1]);
	CHECK(p && q && p != q);
	kmem_cache_stats(caches[1], &st);
	CHECK(st.in_use == 2 && st.slabs == 1);
	CHECK(kmem_cache_free(caches[1], p) == E_OK);
	CHECK(kmem_cache_free(caches[1], p) == E_NOENT);
	kmem_cache_stats(caches[1], &st);
	CHECK(st.in_use == 1 && st.bad_frees == 1);
	CHECK(kmem_cache_free(caches[1], q) == E_OK);
	CHECK(kmem_cache_free(caches[1], q) == E_NOENT); /* empty slab kept */
	kmem_cache_stats(caches[1], &st);
	CHECK(st.in_use == 0 && st.slabs == 1);
	CHECK(kmem_cache_shrink(caches[1]) == 1);
	CHECK(kmem_cache_free(caches[1], q) == E_INVAL); /* slab gone */

	p = kzalloc(5000); /* two frames */
	CHECK(p && ((uintptr_t)p & (PAGE_SIZE - 1)) == 0);
	CHECK(kfree(p + PAGE_SIZE) == E_NOENT);
	CHECK(kfree(p) == E_OK);
	CHECK(kfree(p) == E_NOENT);
	p = kzalloc(100);
	CHECK(kfree(p) == E_OK);
	CHECK(kfree(p) != E_OK);
}

static void test_random(u64 seed)
{
	u64 baseline;

	rng_state = seed * 0x9E3779B97F4A7C15ULL + 7;
	setup(512 * MiB);
	baseline = pmm_free_bytes();
	create_caches();
	for (int op = 0; op < 30000; op++) {
		u64 r = rnd() % 100;
		if (n_objs && (r < 45 || n_objs > 2000)) {
			size_t i = rnd() % n_objs;
			struct obj o = objs[i];
			del_obj(i);
			if (r % 8 == 0) { /* immediate double free */
				if (o.cache >= 0)
					CHECK(kmem_cache_free(caches[o.cache], o.p) != E_OK);
				else
					CHECK(kfree(o.p) != E_OK);
			}
		} else if (r < 98) {
			CHECK(do_alloc());
		} else {
			bogus_frees();
		}
	}
	check_all_free(baseline);
	printf("kmem: seed %llu ok\n", (unsigned long long)seed);
}

/* Run out of frames: NULL, never a crash; everything comes back. */
static void test_exhaustion(void)
{
	struct pmm_stats st;
	u64 baseline;
	int fails = 0, got = 0;

	rng_state = 99;
	setup(12 * MiB);
	baseline = pmm_free_bytes();
	create_caches();
	while (fails < 200) {
		if (do_alloc())
			got++;
		else
			fails++;
	}
	for (u8 *p; (p = kmem_cache_alloc(caches[6])); got++)
		add_obj(p, 1, 6);
	CHECK(got > 100);
	pmm_stats(&st);
	CHECK(st.free_normal == 0); /* really ran dry */
	CHECK(!kzalloc(3 * PAGE_SIZE));
	/* free half, allocation works again */
	for (size_t i = 0; i < n_objs; i += 2)
		del_obj(i);
	add_obj(kzalloc(64), 64, -1);
	add_obj(kmem_cache_alloc(caches[3]), cache_size[3], 3);
	check_all_free(baseline);
	printf("kmem: exhaustion ok (%d objects before running dry)\n", got);
}

/* The owner table itself runs out of frames: the slab must go back. */
static void test_table_exhaustion(void)
{
	static hpa_t held[4096];
	struct kmem_cache_stats st;
	struct pmm_stats ps;
	size_t n = 0, lowest;
	u64 baseline;
	u8 *p;

	setup(12 * MiB);
	baseline = pmm_free_bytes();
	p = kzalloc(8); /* owner table covers the top 2 MiB */
	add_obj(p, 8, -1);
	while (n < ARRAY_SIZE(held) && pmm_alloc(0, PMM_NORMAL, &held[n]) == E_OK)
		n++;
	CHECK(n < ARRAY_SIZE(held));
	lowest = n - 1; /* high-first: last one is the lowest frame */
	CHECK(held[lowest] < 8 * MiB);
	CHECK(pmm_free(held[lowest], 0) == E_OK);
	create_caches();
	CHECK(!kmem_cache_alloc(caches[0])); /* got the frame, no table leaf */
	CHECK(!kzalloc(PAGE_SIZE));
	pmm_stats(&ps);
	CHECK(ps.free_normal == PAGE_SIZE); /* rolled back */
	kmem_cache_stats(caches[0], &st);
	CHECK(st.slabs == 0 && st.failed_allocs == 1);
	CHECK(pmm_free(held[lowest - 1], 0) == E_OK);
	add_obj(kmem_cache_alloc(caches[0]), cache_size[0], 0);
	for (size_t i = 0; i + 2 < n; i++)
		CHECK(pmm_free(held[i], 0) == E_OK);
	check_all_free(baseline);
}

int main(void)
{
	fake = mmap(NULL, FAKE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(fake != MAP_FAILED);
	test_api();
	for (u64 seed = 1; seed <= 6; seed++)
		test_random(seed);
	test_exhaustion();
	test_table_exhaustion();
	printf("kmem: all tests passed\n");
	return 0;
}
