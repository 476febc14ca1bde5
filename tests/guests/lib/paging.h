/*
 * tests/guests/lib/paging.h - building guest page tables: 2-level (4K and
 * 4M pages), PAE (4K and 2M) and 4-level (4K, 2M; usable from long_call).
 *
 * Tables come from a pool inside the image (below 4 MiB, identity-addressed
 * while paging is off). Intermediate entries are P|W|U so the leaf alone
 * decides permissions (PAE PDPTEs are P only: other bits are reserved).
 * A page-table pointer is the table's physical address as a C pointer.
 */
#ifndef UMBRA_GUEST_LIB_PAGING_H
#define UMBRA_GUEST_LIB_PAGING_H

#include "kernel/types.h"

#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_G BIT(8)
#define PTE_NX BIT(63)

/* A zeroed, 4 KiB-aligned page from the pool (the guest halts with a FAIL
 * line when the pool is empty). */
void *pg_alloc(void);

/* 2-level (32-bit) paging. */
u32 *pt32_new(void);
void pt32_map4k(u32 *pd, u32 va, u32 pa, u32 flags);
void pt32_map4m(u32 *pd, u32 va, u32 pa, u32 flags);
/* The leaf entry mapping @va (a PTE, or a PDE with PS), or NULL. */
volatile u32 *pt32_leaf(u32 *pd, u32 va);
/* Identity-map [0, @end) with 4 MiB pages and @flags. */
void pt32_identity(u32 *pd, u32 end, u32 flags);

/* PAE paging: @pdpt is a 4-entry PDPT (given a whole page). */
u64 *pae_new(void);
void pae_map4k(u64 *pdpt, u32 va, u64 pa, u64 flags);
void pae_map2m(u64 *pdpt, u32 va, u64 pa, u64 flags);
volatile u64 *pae_leaf(u64 *pdpt, u32 va);
void pae_identity(u64 *pdpt, u32 end, u64 flags);

/* 4-level paging. */
u64 *pt4_new(void);
void pt4_map4k(u64 *pml4, u64 va, u64 pa, u64 flags);
void pt4_map2m(u64 *pml4, u64 va, u64 pa, u64 flags);
volatile u64 *pt4_leaf(u64 *pml4, u64 va);
void pt4_identity(u64 *pml4, u64 end, u64 flags);

/* Turn paging on with the given root (sets CR4.PSE or CR4.PAE and CR3,
 * then CR0.PG; CR0.WP as @wp), or off. */
void paging_enable32(u32 *pd, bool wp);
void paging_enable_pae(u64 *pdpt, bool wp);
void paging_disable(void);

/* End of the image rounded up to 4 MiB: what the identity maps cover. */
u32 image_map_end(void);

#endif
