/*
 * mm/kmem.h - object caches and kzalloc/kfree on top of the pmm.
 *
 * Owns slabs (2^order PMM_NORMAL frames each, order 0 for objects up to
 * 512 bytes) and a frame -> owner lookup table. Must not hand out memory
 * that is not zeroed, or panic when frames run out (NULL instead).
 *
 * Design: each slab starts with its header (cache, list links, in-use
 * bitmap), objects follow at the cache's alignment; the slab order is the
 * smallest keeping waste under 1/8. A 4-level radix table keyed by frame
 * number (nodes are pmm frames, never freed) maps every slab frame to its
 * header and the first frame of each large kzalloc block to its order, so
 * kfree needs no per-object header and every free is validated: foreign
 * pointers, interior pointers, wrong cache and double frees are refused and
 * counted. Slabs and objects are reached through phys_to_virt, which must
 * map each slab contiguously (a direct map does).
 *
 * kzalloc: power-of-two classes 8..2048 (objects naturally aligned); larger
 * sizes get whole frames (page aligned, rounded up to 2^order pages).
 *
 * Not SMP-safe yet: each cache will get a lock (field in struct kmem_cache),
 * the radix table and large-block counters one global lock.
 */
#ifndef UMBRA_MM_KMEM_H
#define UMBRA_MM_KMEM_H

#include "kernel/types.h"

#define KMEM_MAX_CACHES 48
#define KMEM_MAX_SLAB_ORDER 4     /* slabs up to 64 KiB */
#define KMEM_MAX_CLASS 2048       /* kzalloc sizes above this use frames */

struct kmem_cache;

struct kmem_cache_stats {
	const char *name;
	size_t obj_size, align;   /* after rounding */
	unsigned slab_order, objs_per_slab;
	u64 in_use, slabs;        /* live objects, slabs held */
	u64 allocs, frees, failed_allocs, bad_frees;
};

struct kmem_stats {
	u64 large_in_use, large_bytes; /* kzalloc blocks above KMEM_MAX_CLASS */
	u64 radix_pages;               /* frames used by the lookup table */
	u64 bad_frees;                 /* kfree of unknown/interior pointers */
};

/*
 * Set the address translations and forget every cache (call once after
 * pmm_init; tests may call it again after a fresh pmm_init). Creates the
 * kzalloc size classes; allocates no memory.
 */
void kmem_init(void *(*p2v)(hpa_t pa), hpa_t (*v2p)(const void *va));

/*
 * Create a cache of `size`-byte objects aligned to `align` (0 = 8; a power
 * of two up to PAGE_SIZE). `name` is copied (truncated to 23 chars).
 * Returns NULL on bad arguments, too-large objects or a full cache table.
 */
struct kmem_cache *kmem_cache_create(const char *name, size_t size,
				     size_t align);

/* A zeroed object, or NULL when no frames are left. */
void *kmem_cache_alloc(struct kmem_cache *c);

/*
 * Return obj to c. Returns E_OK, E_INVAL (NULL, not an object of c, or not
 * at an object boundary) or E_NOENT (double free); errors change nothing
 * but the bad_frees counter. Keeps at most one empty slab per cache.
 */
int kmem_cache_free(struct kmem_cache *c, void *obj);

/* Release c's cached empty slab (c == NULL: every cache's); returns the
 * number of frames given back to the pmm. */
u64 kmem_cache_shrink(struct kmem_cache *c);

/* Iterate caches: first with prev == NULL; NULL after the last. */
struct kmem_cache *kmem_cache_next(struct kmem_cache *prev);

/* Fill *st for cache c. */
void kmem_cache_stats(const struct kmem_cache *c, struct kmem_cache_stats *st);

/* Fill *st with the non-cache totals. */
void kmem_stats(struct kmem_stats *st);

/* size bytes of zeroed memory, or NULL (size 0, too large, exhausted). */
void *kzalloc(size_t size);

/*
 * Free what kzalloc returned (NULL is a no-op). Returns E_OK, E_INVAL or
 * E_NOENT like kmem_cache_free; errors are counted, nothing is corrupted.
 */
int kfree(void *p);

#endif
