/*
 * tests/host/test_pt.c - the page-table engine (mm/pt.c) against a model:
 * random map/unmap sequences over a fake physical memory, every lookup
 * compared with a flat page-by-page model, large pages used where aligned,
 * split when partly remapped or unmapped, and no table leaked at destroy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/pt.h"

#define NFRAMES 4096
static u8 (*mem)[4096];
static int used[NFRAMES];
static int live_tables;

static void *p2v(hpa_t pa) { return mem[pa / 4096]; }

static int alloc_table(void *ctx, hpa_t *out)
{
	for (int i = 1; i < NFRAMES; i++)
		if (!used[i]) {
			used[i] = 1;
			memset(mem[i], 0, 4096);
			*out = (hpa_t)i * 4096;
			live_tables++;
			return E_OK;
		}
	return E_NOMEM;
}

static void free_table(void *ctx, hpa_t pa)
{
	if (!used[pa / 4096]) {
		printf("FAIL: double free of table %#llx\n", (unsigned long long)pa);
		exit(1);
	}
	used[pa / 4096] = 0;
	live_tables--;
}

static const struct pt_ops ops = {p2v, alloc_table, free_table, NULL};
static const struct pt_format *F = &pt_format_x86_4level;

/* Model: 64 GiB of VA space in 4 KiB pages from VA_BASE; value = pa|1 or 0. */
#define VA_BASE 0x7f0000000000ULL
#define NPAGES (8ULL * 1024 * 1024) /* 32 GiB */
static u64 *model;

static int failures;
#define CHECK(c, ...) do { if (!(c)) { printf("FAIL: " __VA_ARGS__); printf("\n"); failures++; } } while (0)

static void model_map(u64 va, u64 pa, u64 size)
{
	for (u64 o = 0; o < size; o += 4096)
		model[(va - VA_BASE + o) / 4096] = (pa + o) | 1;
}

static void model_unmap(u64 va, u64 size)
{
	for (u64 o = 0; o < size; o += 4096)
		model[(va - VA_BASE + o) / 4096] = 0;
}

static void check_range(hpa_t root, u64 va, u64 size)
{
	for (u64 o = 0; o < size; o += 4096) {
		int level;
		u64 *e = pt_lookup(F, &ops, root, va + o, &level);
		u64 want = model[(va - VA_BASE + o) / 4096];
		if (!want) {
			CHECK(!e, "va %#llx should be unmapped", (unsigned long long)(va + o));
			continue;
		}
		CHECK(e, "va %#llx should be mapped", (unsigned long long)(va + o));
		if (!e)
			continue;
		u64 base = *e & PTE_ADDR_MASK & ~(pt_level_size(level) - 1);
		u64 pa = base + ((va + o) & (pt_level_size(level) - 1));
		CHECK(pa == (want & ~1ULL), "va %#llx maps %#llx, want %#llx", (unsigned long long)(va + o),
		      (unsigned long long)pa, (unsigned long long)(want & ~1ULL));
		CHECK(level == 1 || (*e & PTE_PS), "large leaf without PS");
	}
}

int main(void)
{
	mem = aligned_alloc(4096, (size_t)NFRAMES * 4096);
	model = calloc(NPAGES, sizeof(u64));
	hpa_t root;
	alloc_table(NULL, &root);

	/* large pages where alignment allows */
	CHECK(pt_map(F, &ops, root, VA_BASE, 0x40000000, 1ULL << 30, PTE_P | PTE_RW, 3) == E_OK, "map 1G");
	int level;
	CHECK(pt_lookup(F, &ops, root, VA_BASE + 12345, &level) && level == 3, "1 GiB leaf used");
	model_map(VA_BASE, 0x40000000, 1ULL << 30);
	CHECK(pt_map(F, &ops, root, VA_BASE + (2ULL << 30) + 0x1000, 0x200000, 4 << 20, PTE_P, 3) == E_OK, "map");
	model_map(VA_BASE + (2ULL << 30) + 0x1000, 0x200000, 4 << 20);
	CHECK(pt_lookup(F, &ops, root, VA_BASE + (2ULL << 30) + 0x1000, &level) && level == 1, "misaligned: 4K");
	/* split a 1 GiB leaf by unmapping one page in it */
	CHECK(pt_unmap(F, &ops, root, VA_BASE + 0x5000, 0x1000) == E_OK, "unmap in 1G");
	model_unmap(VA_BASE + 0x5000, 0x1000);
	check_range(root, VA_BASE, 4 << 20);
	check_range(root, VA_BASE + (1ULL << 30) - (4 << 20), 8 << 20);
	CHECK(pt_map(F, &ops, root, 1, 0, 4096, PTE_P, 1) == E_INVAL, "misaligned va refused");

	/* random sequences */
	srand(7);
	int step;
	for (step = 0; step < 3000 && !failures; step++) {
		u64 pages = 1 + rand() % 1100;
		u64 va = VA_BASE + ((u64)(rand() % (NPAGES / 2)) << 12);
		if (rand() % 4 == 0)
			va &= ~((2ULL << 20) - 1);
		u64 size = pages << 12;
		if (va - VA_BASE + size > NPAGES * 4096)
			continue;
		if (rand() % 3) {
			u64 pa = ((u64)(rand() % 100000) << 12);
			if ((va & ((2 << 20) - 1)) == 0 && rand() % 2)
				pa &= ~((2ULL << 20) - 1);
			int r = pt_map(F, &ops, root, va, pa, size, PTE_P | PTE_RW, 3);
			if (r == E_NOMEM)
				break;
			CHECK(r == E_OK, "map step %d", step);
			model_map(va, pa, size);
		} else {
			CHECK(pt_unmap(F, &ops, root, va, size) == E_OK, "unmap step %d", step);
			model_unmap(va, size);
		}
		u64 lo = va >= VA_BASE + 0x200000 ? va - 0x200000 : VA_BASE;
		check_range(root, lo, MIN(size + 0x400000, NPAGES * 4096 - (lo - VA_BASE)));
	}
	pt_destroy(F, &ops, root);
	CHECK(live_tables == 0, "%d tables leaked", live_tables);
	printf("%s: page-table engine, %d random steps, %d failures\n", failures ? "FAIL" : "PASS", step, failures);
	CHECK(step >= 1000, "only %d random steps ran (table frames ran out)", step);
	free(mem);
	free(model);
	return failures != 0;
}
