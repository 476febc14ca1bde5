/*
 * mm/pmm.h - physical frame allocator.
 *
 * Owns every usable RAM frame of the boot memory map, minus the reserved
 * ranges the caller lists (Umbra's image, modules, boot info) and frame 0.
 * Must not: panic on exhaustion, write to frame contents (except
 * pmm_alloc_zeroed), or assume any frame above 4 GiB is mapped.
 *
 * Design: a binary buddy allocator, orders 0..PMM_MAX_ORDER (4 KiB..1 GiB),
 * with three zones split by address:
 *   - below 1 MiB: only pmm_alloc_below hands these out, as a last resort
 *     (AP trampoline);
 *   - the low pool: the top `lowpool_bytes` of free RAM below 4 GiB, used
 *     only by PMM_LOW, which never falls back elsewhere;
 *   - normal: everything else, handed out highest address first.
 * Free blocks live in per-zone, per-order bitmaps with summary levels (one
 * bit per nonzero 64-bit word, up to a single top word), so the highest or
 * lowest free block of an order is found in O(log64 n). Per-order allocation
 * bitmaps record each live block and its order, so pmm_free rejects double
 * frees, wrong orders and never-allocated frames in O(1). All metadata
 * (about 4 bits per frame) sits in one run below 4 GiB chosen by pmm_init;
 * free frames themselves are never written.
 *
 * Not SMP-safe yet: one global lock will guard all state (see pmm.c).
 */
#ifndef UMBRA_MM_PMM_H
#define UMBRA_MM_PMM_H

#include "kernel/types.h"

#define PMM_MAX_ORDER 18         /* 2^18 frames = 1 GiB */
#define PMM_MAX_RANGES 512       /* merged usable ranges after subtraction */
#define PMM_MAX_PHYS (1ULL << 48) /* RAM above this is ignored */

/* Zones a caller may ask for. */
enum { PMM_NORMAL = 0, PMM_LOW = 1 };

/* A physical range [base, base + len). */
struct pmm_range {
	u64 base, len;
};

/* What pmm_init set up, for the boot summary. */
struct pmm_report {
	hpa_t low_base, low_end;  /* low pool span; may contain holes */
	u64 low_bytes;            /* free bytes in the low pool */
	hpa_t meta_base, meta_end; /* metadata run (below 4 GiB) */
	u64 managed_bytes;        /* all frames handed to the allocator */
	u64 largest_free_run;     /* longest physically contiguous free run */
	u64 largest_free_block;   /* largest single allocatable PMM_NORMAL block */
	hpa_t top;                /* end of the highest managed frame */
};

/* Running totals. */
struct pmm_stats {
	u64 total_bytes; /* managed bytes (free + allocated) */
	u64 free_normal, free_low, free_below_1m;
	hpa_t low_base, low_end;
	hpa_t meta_base, meta_end;
	u64 allocs, frees;        /* successful calls */
	u64 failed_allocs, bad_frees;
};

/*
 * Take over the frames of `usable` (any order, may overlap or be unaligned;
 * partial frames are dropped) minus `reserved` (rounded out to frames) and
 * frame 0. Places the metadata (reported) in usable RAM in [1 MiB, 4 GiB)
 * and sets aside the low pool: `lowpool_bytes` rounded up to frames, clamped
 * to half the free RAM in [1 MiB, 4 GiB). `phys_to_virt` must map the
 * metadata run contiguously for the allocator's lifetime and any frame
 * passed to pmm_alloc_zeroed. May be called again to start over (tests).
 * Returns E_OK, E_RANGE (too many ranges) or E_NOMEM (no room for metadata).
 */
int pmm_init(const struct pmm_range *usable, size_t n_usable,
	     const struct pmm_range *reserved, size_t n_reserved,
	     u64 lowpool_bytes, void *(*phys_to_virt)(hpa_t pa),
	     struct pmm_report *rep);

/*
 * Allocate 2^order contiguous frames aligned to their size from `zone`
 * (PMM_NORMAL: highest free block first; PMM_LOW: low pool only). Contents
 * are undefined. Returns E_OK and *out, E_NOMEM, or E_INVAL (bad order or
 * zone).
 */
int pmm_alloc(unsigned order, unsigned zone, hpa_t *out);

/* pmm_alloc, then zero the block through phys_to_virt (page by page). */
int pmm_alloc_zeroed(unsigned order, unsigned zone, hpa_t *out);

/*
 * Allocate the lowest free 2^order block that ends at or below `limit_pa`,
 * for hard physical limits (AP trampoline, boot page tables). Searches the
 * normal zone (>= 1 MiB) first and falls back to frames below 1 MiB only
 * when nothing there fits; never uses the low pool. Returns E_OK, E_NOMEM
 * or E_INVAL.
 */
int pmm_alloc_below(unsigned order, hpa_t limit_pa, hpa_t *out);

/*
 * Return a block from any pmm_alloc* call with the same order. Returns E_OK,
 * E_INVAL (misaligned, bad order, outside managed memory) or E_NOENT (not a
 * live block of that order: double free, wrong order, never allocated); on
 * error nothing changes.
 */
int pmm_free(hpa_t pa, unsigned order);

/* Fill *st with current totals. */
void pmm_stats(struct pmm_stats *st);

#endif
