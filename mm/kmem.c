/*
 * mm/kmem.c - slab caches, kzalloc/kfree and the frame -> owner table
 * (see kmem.h).
 *
 * Owns the static cache table, every slab and large kzalloc block.
 * Must not touch frames it does not own, or free anything it cannot
 * validate through the owner table.
 */
#include "mm/kmem.h"
#include "kernel/spinlock.h"

/* The unlocked bodies of the public functions (locking: end of file). */
static struct kmem_cache *kmem_cache_create_unlocked(const char *name, size_t size, size_t align);
static void *kmem_cache_alloc_unlocked(struct kmem_cache *c);
static int kmem_cache_free_unlocked(struct kmem_cache *c, void *obj);
#include "mm/pmm.h"
#include "kernel/string.h"

#define RADIX_LEVELS 4
#define RADIX_BITS 9
#define RADIX_MASK ((1ULL << RADIX_BITS) - 1)
#define RADIX_PFN_BITS (RADIX_LEVELS * RADIX_BITS) /* 256 TiB of frames */
#define OWNER_LARGE 1ULL /* owner entry tag: (order << 1) | OWNER_LARGE */
#define NR_CLASSES 9     /* 8 .. 2048 */
#define MIN_ALIGN 8

/* Header at the start of every slab. */
struct kmem_slab {
	struct kmem_cache *cache;
	struct kmem_slab *prev, *next;
	hpa_t pa;
	u32 in_use;
	u32 full;
	u64 map[]; /* 1 = object in use; bits past the last object are set */
};

struct kmem_cache {
	u32 lock; /* SMP: becomes a spinlock guarding this cache */
	bool used;
	bool kz; /* a kzalloc size class: kfree may free its objects */
	char name[24];
	u32 size, align, order, per_slab, first_off, map_words;
	struct kmem_slab *partial, *full; /* slabs with free / no free slots */
	struct kmem_slab *empty;          /* at most one cached empty slab */
	u64 in_use, slabs, allocs, frees, failed, bad;
};

static struct {
	/* SMP: a global lock here will guard the radix table and counters. */
	void *(*p2v)(hpa_t pa);
	hpa_t (*v2p)(const void *va);
	hpa_t radix_root;
	struct kmem_cache caches[KMEM_MAX_CACHES];
	struct kmem_cache *classes[NR_CLASSES];
	u64 large_in_use, large_pages, radix_pages, bad_frees;
} km;

static const char *const class_names[NR_CLASSES] = {
	"kzalloc-8",   "kzalloc-16",  "kzalloc-32",   "kzalloc-64",  "kzalloc-128",
	"kzalloc-256", "kzalloc-512", "kzalloc-1024", "kzalloc-2048",
};

/* --------------------------------------------------------- owner table */

/* Slot holding the owner of frame pfn; creates nodes if asked. NULL if
 * absent (or out of frames / out of range). */
static u64 *owner_slot(u64 pfn, bool create)
{
	hpa_t *node_pa = &km.radix_root;
	u64 *node = NULL;

	if (pfn >> RADIX_PFN_BITS)
		return NULL;
	for (int level = RADIX_LEVELS; level > 0; level--) {
		if (!*node_pa) {
			hpa_t pa;
			if (!create || pmm_alloc_zeroed(0, PMM_NORMAL, &pa))
				return NULL;
			*node_pa = pa;
			km.radix_pages++;
		}
		node = km.p2v(*node_pa);
		node_pa = &node[(pfn >> ((level - 1) * RADIX_BITS)) & RADIX_MASK];
	}
	return node_pa;
}

static u64 owner_get(u64 pfn)
{
	u64 *slot = owner_slot(pfn, false);
	return slot ? *slot : 0;
}

/* Set the owner of `count` frames from pfn; on failure clears them. */
static int owner_set(u64 pfn, u64 count, u64 value)
{
	for (u64 i = 0; i < count; i++) {
		u64 *slot = owner_slot(pfn + i, value != 0);
		if (!slot) {
			if (value)
				owner_set(pfn, i, 0);
			return E_NOMEM;
		}
		*slot = value;
	}
	return E_OK;
}

/* ---------------------------------------------------------------- slabs */

static void list_add(struct kmem_slab **head, struct kmem_slab *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
}

static void list_del(struct kmem_slab **head, struct kmem_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

/* Objects per slab and first object offset for a geometry (0: none fit). */
static u32 slab_fit(u64 size, u64 align, unsigned order, u32 *first_off)
{
	u64 bytes = PAGE_SIZE << order, hdr = sizeof(struct kmem_slab);
	u64 n = (bytes - hdr) / size;

	for (; n; n--) {
		u64 off = ALIGN_UP(hdr + (n + 63) / 64 * 8, align);
		if (off + n * size <= bytes) {
			*first_off = (u32)off;
			break;
		}
	}
	return (u32)n;
}

static struct kmem_slab *slab_new(struct kmem_cache *c)
{
	struct kmem_slab *s;
	hpa_t pa;
	u32 last = c->per_slab % 64;

	if (pmm_alloc(c->order, PMM_NORMAL, &pa))
		return NULL;
	s = km.p2v(pa);
	if (owner_set(pa >> PAGE_SHIFT, 1ULL << c->order, (u64)(uintptr_t)s)) {
		pmm_free(pa, c->order);
		return NULL;
	}
	memset(s, 0, c->first_off);
	s->cache = c;
	s->pa = pa;
	if (last)
		s->map[c->map_words - 1] = ~0ULL << last;
	c->slabs++;
	return s;
}

static void slab_release(struct kmem_cache *c, struct kmem_slab *s)
{
	hpa_t pa = s->pa;

	owner_set(pa >> PAGE_SHIFT, 1ULL << c->order, 0);
	pmm_free(pa, c->order);
	c->slabs--;
}

/* Free obj, known to lie in slab s of cache c. */
static int slab_free_obj(struct kmem_cache *c, struct kmem_slab *s, void *obj)
{
	uintptr_t start = (uintptr_t)s + c->first_off, p = (uintptr_t)obj;
	u64 idx;

	if (p < start || (p - start) % c->size ||
	    (idx = (p - start) / c->size) >= c->per_slab) {
		c->bad++;
		return E_INVAL;
	}
	if (!(s->map[idx / 64] & BIT(idx % 64))) {
		c->bad++;
		return E_NOENT;
	}
	s->map[idx / 64] &= ~BIT(idx % 64);
	s->in_use--;
	c->in_use--;
	c->frees++;
	if (s->full) {
		s->full = 0;
		list_del(&c->full, s);
		list_add(&c->partial, s);
	}
	if (s->in_use == 0) {
		list_del(&c->partial, s);
		if (c->empty)
			slab_release(c, s);
		else
			c->empty = s;
	}
	return E_OK;
}

/* --------------------------------------------------------------- caches */

void kmem_init(void *(*p2v)(hpa_t pa), hpa_t (*v2p)(const void *va))
{
	memset(&km, 0, sizeof(km));
	km.p2v = p2v;
	km.v2p = v2p;
	for (int i = 0; i < NR_CLASSES; i++) {
		km.classes[i] = kmem_cache_create_unlocked(class_names[i], 8u << i, 8u << i);
		km.classes[i]->kz = true;
	}
}

static struct kmem_cache *kmem_cache_create_unlocked(const char *name, size_t size,
				     size_t align)
{
	struct kmem_cache *c = NULL;
	unsigned order;
	u32 n = 0, off = 0;

	if (!align)
		align = MIN_ALIGN;
	if (!size || align & (align - 1) || align > PAGE_SIZE ||
	    size > (PAGE_SIZE << KMEM_MAX_SLAB_ORDER))
		return NULL;
	align = MAX(align, (size_t)MIN_ALIGN);
	size = ALIGN_UP(size, align);
	for (order = 0; order <= KMEM_MAX_SLAB_ORDER; order++) {
		u64 bytes = PAGE_SIZE << order;
		n = slab_fit(size, align, order, &off);
		if (n && (bytes - n * size) * 8 <= bytes)
			break;
	}
	if (order > KMEM_MAX_SLAB_ORDER)
		n = slab_fit(size, align, --order, &off);
	if (!n)
		return NULL;
	for (int i = 0; i < KMEM_MAX_CACHES && !c; i++)
		if (!km.caches[i].used)
			c = &km.caches[i];
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->used = true;
	for (size_t i = 0; name && i < sizeof(c->name) - 1 && name[i]; i++)
		c->name[i] = name[i];
	c->size = (u32)size;
	c->align = (u32)align;
	c->order = order;
	c->per_slab = n;
	c->first_off = off;
	c->map_words = (n + 63) / 64;
	return c;
}

static void *kmem_cache_alloc_unlocked(struct kmem_cache *c)
{
	struct kmem_slab *s;
	u64 idx = 0;
	void *obj;

	if (!c || !c->used)
		return NULL;
	s = c->partial;
	if (!s) {
		s = c->empty ? c->empty : slab_new(c);
		if (!s) {
			c->failed++;
			return NULL;
		}
		c->empty = NULL;
		list_add(&c->partial, s);
	}
	for (u32 w = 0; w < c->map_words; w++) {
		if (~s->map[w]) {
			idx = w * 64 + (u64)__builtin_ctzll(~s->map[w]);
			break;
		}
	}
	s->map[idx / 64] |= BIT(idx % 64);
	if (++s->in_use == c->per_slab) {
		s->full = 1;
		list_del(&c->partial, s);
		list_add(&c->full, s);
	}
	c->in_use++;
	c->allocs++;
	obj = (u8 *)s + c->first_off + idx * c->size;
	memset(obj, 0, c->size);
	return obj;
}

static int kmem_cache_free_unlocked(struct kmem_cache *c, void *obj)
{
	u64 owner;

	if (!c || !c->used || !obj) {
		km.bad_frees++;
		return E_INVAL;
	}
	owner = owner_get(km.v2p(obj) >> PAGE_SHIFT);
	if (!owner || (owner & OWNER_LARGE) ||
	    ((struct kmem_slab *)(uintptr_t)owner)->cache != c) {
		c->bad++;
		return E_INVAL;
	}
	return slab_free_obj(c, (struct kmem_slab *)(uintptr_t)owner, obj);
}

static u64 kmem_cache_shrink_unlocked(struct kmem_cache *c)
{
	u64 frames = 0;

	if (!c) {
		for (int i = 0; i < KMEM_MAX_CACHES; i++)
			if (km.caches[i].used)
				frames += kmem_cache_shrink_unlocked(&km.caches[i]);
		return frames;
	}
	if (c->empty) {
		frames = 1ULL << c->order;
		slab_release(c, c->empty);
		c->empty = NULL;
	}
	return frames;
}

struct kmem_cache *kmem_cache_next(struct kmem_cache *prev)
{
	int i = prev ? (int)(prev - km.caches) + 1 : 0;

	for (; i < KMEM_MAX_CACHES; i++)
		if (km.caches[i].used)
			return &km.caches[i];
	return NULL;
}

static void kmem_cache_stats_unlocked(const struct kmem_cache *c, struct kmem_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->name = c->name;
	st->obj_size = c->size;
	st->align = c->align;
	st->slab_order = c->order;
	st->objs_per_slab = c->per_slab;
	st->in_use = c->in_use;
	st->slabs = c->slabs;
	st->allocs = c->allocs;
	st->frees = c->frees;
	st->failed_allocs = c->failed;
	st->bad_frees = c->bad;
}

static void kmem_stats_unlocked(struct kmem_stats *st)
{
	st->large_in_use = km.large_in_use;
	st->large_bytes = km.large_pages << PAGE_SHIFT;
	st->radix_pages = km.radix_pages;
	st->bad_frees = km.bad_frees;
}

/* -------------------------------------------------------- kzalloc/kfree */

static void *kzalloc_unlocked(size_t size)
{
	unsigned order;
	u64 pages;
	hpa_t pa;

	if (!size)
		return NULL;
	if (size <= KMEM_MAX_CLASS) {
		unsigned cls = size <= 8 ? 0 : 64 - __builtin_clzll(size - 1) - 3;
		return kmem_cache_alloc_unlocked(km.classes[cls]);
	}
	if (size > (PAGE_SIZE << PMM_MAX_ORDER))
		return NULL;
	pages = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
	order = pages == 1 ? 0 : 64 - __builtin_clzll(pages - 1);
	if (pmm_alloc_zeroed(order, PMM_NORMAL, &pa))
		return NULL;
	if (owner_set(pa >> PAGE_SHIFT, 1, ((u64)order << 1) | OWNER_LARGE)) {
		pmm_free(pa, order);
		return NULL;
	}
	km.large_in_use++;
	km.large_pages += 1ULL << order;
	return km.p2v(pa);
}

static int kfree_unlocked(void *p)
{
	hpa_t pa;
	u64 owner;
	unsigned order;

	if (!p)
		return E_OK;
	pa = km.v2p(p);
	owner = owner_get(pa >> PAGE_SHIFT);
	if (!owner) {
		km.bad_frees++;
		return E_NOENT;
	}
	if (!(owner & OWNER_LARGE)) {
		struct kmem_slab *s = (struct kmem_slab *)(uintptr_t)owner;
		if (!s->cache->kz) {
			km.bad_frees++;
			return E_INVAL;
		}
		return slab_free_obj(s->cache, s, p);
	}
	if (pa & (PAGE_SIZE - 1)) {
		km.bad_frees++;
		return E_INVAL;
	}
	order = (unsigned)(owner >> 1);
	owner_set(pa >> PAGE_SHIFT, 1, 0);
	pmm_free(pa, order);
	km.large_in_use--;
	km.large_pages -= 1ULL << order;
	return E_OK;
}

/* ---------------------------------------------------------- locking */

/* One lock guards every cache, slab, the owner table and the counters
 * (simple and enough while allocations are rare compared to exits). It is
 * taken before pmm's own lock, never after. */
static struct spinlock kmem_lock = SPINLOCK_INIT;

#define LOCKED(expr)                                  \
	({                                            \
		spin_lock(&kmem_lock);                \
		__typeof__(expr) r_ = (expr);         \
		spin_unlock(&kmem_lock);              \
		r_;                                   \
	})

struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align)
{
	return LOCKED(kmem_cache_create_unlocked(name, size, align));
}

void *kmem_cache_alloc(struct kmem_cache *c)
{
	return LOCKED(kmem_cache_alloc_unlocked(c));
}

int kmem_cache_free(struct kmem_cache *c, void *obj)
{
	return LOCKED(kmem_cache_free_unlocked(c, obj));
}

u64 kmem_cache_shrink(struct kmem_cache *c)
{
	return LOCKED(kmem_cache_shrink_unlocked(c));
}

void *kzalloc(size_t size)
{
	return LOCKED(kzalloc_unlocked(size));
}

int kfree(void *p)
{
	return LOCKED(kfree_unlocked(p));
}

void kmem_cache_stats(const struct kmem_cache *c, struct kmem_cache_stats *st)
{
	spin_lock(&kmem_lock);
	kmem_cache_stats_unlocked(c, st);
	spin_unlock(&kmem_lock);
}

void kmem_stats(struct kmem_stats *st)
{
	spin_lock(&kmem_lock);
	kmem_stats_unlocked(st);
	spin_unlock(&kmem_lock);
}
