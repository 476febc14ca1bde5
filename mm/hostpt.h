/*
 * mm/hostpt.h - Umbra's own address space.
 *
 *   0xffff800000000000 + pa   direct map of all RAM (largest pages, RW, NX)
 *   0xffffffff80000000 + pa   Umbra's image, W^X in 4 KiB pages:
 *                             text RX, rodata R, data/bss RW; guard pages
 *                             under every stack left unmapped
 *
 * Before hostpt_init() the boot tables (boot/entry.asm) map the first
 * 4 GiB of physical memory at the direct-map base.
 */
#ifndef UMBRA_MM_HOSTPT_H
#define UMBRA_MM_HOSTPT_H

#include "kernel/types.h"

#define DIRECT_MAP_BASE 0xffff800000000000ULL
#define KERNEL_VMA 0xffffffff80000000ULL

static inline void *phys_to_virt(hpa_t pa)
{
	return (void *)(pa + DIRECT_MAP_BASE);
}

/* Physical address of a direct-map or image address. */
static inline hpa_t virt_to_phys(const void *va)
{
	u64 v = (u64)va;
	return v >= KERNEL_VMA ? v - KERNEL_VMA : v - DIRECT_MAP_BASE;
}

struct mem_range;

/* Build the final host page tables over the RAM ranges of @mmap and switch
 * to them. Returns E_NOMEM when page tables cannot be allocated. */
int hostpt_init(const struct mem_range *mmap, u32 count);

/* Map [pa, pa+size) uncached in the direct map (device registers) and
 * return its address, or NULL on failure. */
void *hostpt_map_mmio(hpa_t pa, u64 size);

/* Remove the direct-map page at @va (a guard page under a stack that
 * lives in the direct map), splitting large pages as needed. */
int hostpt_unmap_page(u64 va);

/* Identity-map (va = pa) / unmap [pa, pa+size): the AP trampoline runs
 * there while it turns paging on. */
int hostpt_map_identity(hpa_t pa, u64 size);
void hostpt_unmap_identity(hpa_t pa, u64 size);

/* Page sizes used for the direct map, for the boot summary. */
u64 hostpt_direct_bytes(void);
bool hostpt_uses_1g(void);

#endif
