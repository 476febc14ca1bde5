/*
 * tests/guests/lib/paging.c - page-table builders for the test guests.
 *
 * Runs with paging off or with the image identity-mapped, so a table's
 * physical address can be used directly as a pointer.
 */
#include "tests/guests/lib/paging.h"
#include "tests/guests/lib/guest.h"
#include "kernel/string.h"

#define POOL_PAGES 400
static u8 pool[POOL_PAGES][4096] __aligned(4096);
static int pool_used;

void *pg_alloc(void)
{
	if (pool_used == POOL_PAGES) {
		report(false, "page-table pool exhausted");
		report_summary();
	}
	void *p = pool[pool_used++];
	memset(p, 0, 4096);
	return p;
}

u32 image_map_end(void)
{
	return ALIGN_UP((u32)_image_end, 4 * (u32)MiB);
}

#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U)

/* ------------------------------------------------------------ 2-level */

u32 *pt32_new(void)
{
	return pg_alloc();
}

void pt32_map4k(u32 *pd, u32 va, u32 pa, u32 flags)
{
	u32 *pde = &pd[va >> 22];
	if (!(*pde & PTE_P) || (*pde & PTE_PS))
		*pde = (u32)pg_alloc() | TABLE_FLAGS;
	u32 *pt = (u32 *)(*pde & ~0xfffu);
	pt[(va >> 12) & 1023] = (pa & ~0xfffu) | flags;
}

void pt32_map4m(u32 *pd, u32 va, u32 pa, u32 flags)
{
	pd[va >> 22] = (pa & ~0x3fffffu) | flags | PTE_PS;
}

volatile u32 *pt32_leaf(u32 *pd, u32 va)
{
	u32 *pde = &pd[va >> 22];
	if (!(*pde & PTE_P) || (*pde & PTE_PS))
		return pde;
	u32 *pt = (u32 *)(*pde & ~0xfffu);
	return &pt[(va >> 12) & 1023];
}

void pt32_identity(u32 *pd, u32 end, u32 flags)
{
	for (u32 va = 0; va < end; va += 4 * MiB)
		pt32_map4m(pd, va, va, flags);
}

/* ------------------------------------------------------------ PAE */

#define ADDR_MASK_4K (GENMASK(51, 12))
#define ADDR_MASK_2M (GENMASK(51, 21))

u64 *pae_new(void)
{
	return pg_alloc();
}

/* The page directory for @va, allocated on first use. */
static u64 *pae_pd(u64 *pdpt, u32 va)
{
	u64 *pdpte = &pdpt[va >> 30];
	if (!(*pdpte & PTE_P))
		*pdpte = (u32)pg_alloc() | PTE_P;
	return (u64 *)(u32)(*pdpte & ADDR_MASK_4K);
}

void pae_map4k(u64 *pdpt, u32 va, u64 pa, u64 flags)
{
	u64 *pde = &pae_pd(pdpt, va)[(va >> 21) & 511];
	if (!(*pde & PTE_P) || (*pde & PTE_PS))
		*pde = (u32)pg_alloc() | TABLE_FLAGS;
	u64 *pt = (u64 *)(u32)(*pde & ADDR_MASK_4K);
	pt[(va >> 12) & 511] = (pa & ADDR_MASK_4K) | flags;
}

void pae_map2m(u64 *pdpt, u32 va, u64 pa, u64 flags)
{
	pae_pd(pdpt, va)[(va >> 21) & 511] = (pa & ADDR_MASK_2M) | flags | PTE_PS;
}

volatile u64 *pae_leaf(u64 *pdpt, u32 va)
{
	u64 *pdpte = &pdpt[va >> 30];
	if (!(*pdpte & PTE_P))
		return NULL;
	u64 *pde = &pae_pd(pdpt, va)[(va >> 21) & 511];
	if (!(*pde & PTE_P) || (*pde & PTE_PS))
		return pde;
	u64 *pt = (u64 *)(u32)(*pde & ADDR_MASK_4K);
	return &pt[(va >> 12) & 511];
}

void pae_identity(u64 *pdpt, u32 end, u64 flags)
{
	for (u32 va = 0; va < end; va += 2 * MiB)
		pae_map2m(pdpt, va, va, flags);
}

/* ------------------------------------------------------------ 4-level */

u64 *pt4_new(void)
{
	return pg_alloc();
}

/* The table @level (3 = PDPT, 2 = PD, 1 = PT) for @va, allocated on use. */
static u64 *pt4_table(u64 *pml4, u64 va, int level)
{
	u64 *t = pml4;
	for (int l = 4; l > level; l--) {
		u64 *e = &t[(va >> (12 + 9 * (l - 1))) & 511];
		if (!(*e & PTE_P) || (*e & PTE_PS))
			*e = (u32)pg_alloc() | TABLE_FLAGS;
		t = (u64 *)(u32)(*e & ADDR_MASK_4K);
	}
	return t;
}

void pt4_map4k(u64 *pml4, u64 va, u64 pa, u64 flags)
{
	pt4_table(pml4, va, 1)[(va >> 12) & 511] = (pa & ADDR_MASK_4K) | flags;
}

void pt4_map2m(u64 *pml4, u64 va, u64 pa, u64 flags)
{
	pt4_table(pml4, va, 2)[(va >> 21) & 511] =
		(pa & ADDR_MASK_2M) | flags | PTE_PS;
}

volatile u64 *pt4_leaf(u64 *pml4, u64 va)
{
	u64 *t = pml4;
	for (int l = 4; l > 1; l--) {
		u64 *e = &t[(va >> (12 + 9 * (l - 1))) & 511];
		if (!(*e & PTE_P) || (*e & PTE_PS))
			return e;
		t = (u64 *)(u32)(*e & ADDR_MASK_4K);
	}
	return &t[(va >> 12) & 511];
}

void pt4_identity(u64 *pml4, u64 end, u64 flags)
{
	for (u64 va = 0; va < end; va += 2 * MiB)
		pt4_map2m(pml4, va, va, flags);
}

/* ------------------------------------------------------------ switching */

static void set_wp(bool wp)
{
	u32 cr0 = read_cr0();
	write_cr0(wp ? cr0 | (u32)CR0_WP : cr0 & ~(u32)CR0_WP);
}

void paging_enable32(u32 *pd, bool wp)
{
	write_cr4((read_cr4() | (u32)CR4_PSE) & ~(u32)CR4_PAE);
	write_cr3((u32)pd);
	set_wp(wp);
	write_cr0(read_cr0() | (u32)CR0_PG);
}

void paging_enable_pae(u64 *pdpt, bool wp)
{
	write_cr4(read_cr4() | (u32)CR4_PAE);
	write_cr3((u32)pdpt);
	set_wp(wp);
	write_cr0(read_cr0() | (u32)CR0_PG);
}

void paging_disable(void)
{
	write_cr0(read_cr0() & ~(u32)CR0_PG);
	write_cr4(read_cr4() & ~(u32)(CR4_PAE | CR4_PSE | CR4_PGE));
}
