/*
 * mm/pmm.c - buddy frame allocator over summary bitmaps (see pmm.h).
 *
 * Owns the boot-time range list, the metadata run and all zone state.
 * Must not touch memory other than the metadata run (cached pointer) and,
 * in pmm_alloc_zeroed, the block being zeroed.
 */
#include "mm/pmm.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"

#define NR_ORDERS (PMM_MAX_ORDER + 1)
#define PFN_1M (MiB >> PAGE_SHIFT)
#define PFN_4G (4 * GiB >> PAGE_SHIFT)
#define SBM_LEVELS 6 /* 64^6 bits covers PMM_MAX_PHYS / 4 KiB frames */

/* Bitmap with summary levels: bit i of level l+1 is set iff word i of
 * level l is nonzero. Indices passed in are absolute (base is subtracted). */
struct sbm {
	u64 *lv[SBM_LEVELS];
	u64 base, nbits;
	u32 nlv;
};

struct zone {
	u64 lo, hi;    /* pfn span covered by the bitmaps */
	u64 free_pages;
	u32 nonempty;  /* bit k: free[k] has a block */
	struct sbm free[NR_ORDERS];
};

/* Internal zone numbers; the first two match PMM_NORMAL / PMM_LOW. */
enum { Z_NORMAL = PMM_NORMAL, Z_LOW = PMM_LOW, Z_FW, NR_ZONES };

struct span {
	u64 lo, hi; /* bytes, [lo, hi) */
};

static struct {
	/* Guarded by pmm_lock (bottom of this file): every field and bitmap. */
	bool ready;
	void *(*p2v)(hpa_t pa);
	struct zone zone[NR_ZONES];
	u64 *alloc_map[NR_ORDERS]; /* bit pfn>>k: live block of order k */
	u64 max_pfn;
	u64 low_lo, low_hi; /* low pool pfn span */
	hpa_t meta_base, meta_end;
	u64 managed_pages;
	u64 allocs, frees, failed_allocs, bad_frees;
} pmm;

/* Scratch list of free ranges, only used during pmm_init. */
static struct span ranges[PMM_MAX_RANGES];
static size_t n_ranges;

/* ------------------------------------------------------------ bitmaps */

static bool sbm_test(const struct sbm *s, u64 i)
{
	if (i < s->base || i - s->base >= s->nbits)
		return false;
	i -= s->base;
	return (s->lv[0][i >> 6] >> (i & 63)) & 1;
}

static void sbm_set(struct sbm *s, u64 i)
{
	i -= s->base;
	for (u32 l = 0; l < s->nlv; l++, i >>= 6) {
		u64 *w = &s->lv[l][i >> 6];
		u64 old = *w;
		*w = old | BIT(i & 63);
		if (old)
			break;
	}
}

static void sbm_clear(struct sbm *s, u64 i)
{
	i -= s->base;
	for (u32 l = 0; l < s->nlv; l++, i >>= 6) {
		u64 *w = &s->lv[l][i >> 6];
		*w &= ~BIT(i & 63);
		if (*w)
			break;
	}
}

static bool sbm_empty(const struct sbm *s)
{
	return s->nlv == 0 || s->lv[s->nlv - 1][0] == 0;
}

/* Highest (last) or lowest set index; the bitmap must not be empty. */
static u64 sbm_find(const struct sbm *s, bool last)
{
	u64 i = 0;

	for (u32 l = s->nlv; l-- > 0;) {
		u64 w = s->lv[l][i];
		i = i * 64 + (last ? 63 - (u64)__builtin_clzll(w)
				   : (u64)__builtin_ctzll(w));
	}
	return s->base + i;
}

/* Lay out a bitmap for block indices [first, end) at word offset *off of
 * `mem` (NULL: only count words). */
static void sbm_layout(struct sbm *s, u64 first, u64 end, u64 *mem, u64 *off)
{
	u64 n = end > first ? end - first : 0;

	memset(s, 0, sizeof(*s));
	s->base = first;
	s->nbits = n;
	while (n) {
		u64 words = (n + 63) / 64;
		if (mem)
			s->lv[s->nlv] = mem + *off;
		*off += words;
		s->nlv++;
		if (words == 1)
			break;
		n = words;
	}
}

static bool amap_test(unsigned k, u64 pfn)
{
	u64 i = pfn >> k;
	return (pmm.alloc_map[k][i >> 6] >> (i & 63)) & 1;
}

static void amap_flip(unsigned k, u64 pfn)
{
	u64 i = pfn >> k;
	pmm.alloc_map[k][i >> 6] ^= BIT(i & 63);
}

/* Lay out all metadata at `mem` (NULL: just size it); returns bytes. */
static u64 meta_layout(u64 *mem)
{
	u64 off = 0;

	for (int z = 0; z < NR_ZONES; z++) {
		struct zone *zn = &pmm.zone[z];
		for (unsigned k = 0; k < NR_ORDERS; k++) {
			u64 end = zn->hi > zn->lo ? ((zn->hi - 1) >> k) + 1 : 0;
			sbm_layout(&zn->free[k], zn->lo >> k, end, mem, &off);
		}
	}
	for (unsigned k = 0; k < NR_ORDERS; k++) {
		if (mem)
			pmm.alloc_map[k] = mem + off;
		off += ((pmm.max_pfn >> k) + 1 + 63) / 64;
	}
	return off * 8;
}

/* -------------------------------------------------------------- buddy */

static unsigned zone_of(u64 pfn)
{
	if (pfn < PFN_1M)
		return Z_FW;
	if (pfn >= pmm.low_lo && pfn < pmm.low_hi)
		return Z_LOW;
	return Z_NORMAL;
}

static void zone_take(struct zone *z, unsigned k, u64 pfn)
{
	sbm_clear(&z->free[k], pfn >> k);
	if (sbm_empty(&z->free[k]))
		z->nonempty &= ~(1u << k);
}

static void zone_put(struct zone *z, unsigned k, u64 pfn)
{
	sbm_set(&z->free[k], pfn >> k);
	z->nonempty |= 1u << k;
}

/* Insert a free block, merging with free buddies of the same zone. */
static void buddy_insert(u64 pfn, unsigned k)
{
	struct zone *z = &pmm.zone[zone_of(pfn)];

	z->free_pages += 1ULL << k;
	while (k < PMM_MAX_ORDER) {
		u64 buddy = pfn ^ (1ULL << k);
		if (!sbm_test(&z->free[k], buddy >> k))
			break;
		zone_take(z, k, buddy);
		pfn &= ~(1ULL << k);
		k++;
	}
	zone_put(z, k, pfn);
}

/* Find the highest (or lowest) free block of order >= k in z. */
static bool zone_pick(const struct zone *z, unsigned k, bool high,
		      unsigned *bk, u64 *bpfn)
{
	u32 mask = z->nonempty & ~((1u << k) - 1);
	bool found = false;

	while (mask) {
		unsigned j = (unsigned)__builtin_ctz(mask);
		u64 pfn = sbm_find(&z->free[j], high) << j;
		mask &= mask - 1;
		if (!found || (high ? pfn > *bpfn : pfn < *bpfn)) {
			found = true;
			*bk = j;
			*bpfn = pfn;
		}
	}
	return found;
}

/* Remove block (pfn, j) from z and split it down to order k, keeping the
 * top (high) or bottom piece; returns the kept pfn. */
static u64 zone_carve(struct zone *z, unsigned j, u64 pfn, unsigned k,
		      bool high)
{
	zone_take(z, j, pfn);
	while (j > k) {
		j--;
		if (high) {
			zone_put(z, j, pfn);
			pfn += 1ULL << j;
		} else {
			zone_put(z, j, pfn + (1ULL << j));
		}
	}
	z->free_pages -= 1ULL << k;
	amap_flip(k, pfn);
	pmm.allocs++;
	return pfn;
}

/* ---------------------------------------------------------- init ranges */

static int ranges_insert(size_t at, u64 lo, u64 hi)
{
	if (n_ranges == PMM_MAX_RANGES)
		return E_RANGE;
	memmove(&ranges[at + 1], &ranges[at],
		(n_ranges - at) * sizeof(ranges[0]));
	ranges[at] = (struct span){ lo, hi };
	n_ranges++;
	return E_OK;
}

/* Remove [lo, hi) from the sorted range list. */
static int ranges_subtract(u64 lo, u64 hi)
{
	for (size_t i = 0; i < n_ranges; i++) {
		struct span *r = &ranges[i];
		if (r->hi <= lo || r->lo >= hi)
			continue;
		if (r->lo < lo && r->hi > hi) {
			u64 end = r->hi;
			r->hi = lo;
			return ranges_insert(i + 1, hi, end);
		}
		if (r->lo < lo) {
			r->hi = lo;
		} else if (r->hi > hi) {
			r->lo = hi;
		} else {
			memmove(r, r + 1, (n_ranges - i - 1) * sizeof(*r));
			n_ranges--;
			i--;
		}
	}
	return E_OK;
}

/* Build the sorted, merged, page-aligned list of usable minus reserved. */
static int ranges_build(const struct pmm_range *usable, size_t n_usable,
			const struct pmm_range *reserved, size_t n_reserved)
{
	n_ranges = 0;
	for (size_t i = 0; i < n_usable; i++) {
		u64 b = usable[i].base, len = usable[i].len;
		u64 e = len > PMM_MAX_PHYS - MIN(b, PMM_MAX_PHYS) ?
				PMM_MAX_PHYS : b + len;
		u64 lo = ALIGN_UP(MIN(b, PMM_MAX_PHYS), PAGE_SIZE);
		u64 hi = ALIGN_DOWN(e, PAGE_SIZE);
		size_t at = 0;
		if (lo >= hi)
			continue;
		while (at < n_ranges && ranges[at].lo < lo)
			at++;
		if (ranges_insert(at, lo, hi))
			return E_RANGE;
	}
	/* merge overlapping or touching neighbours */
	size_t out = 0;
	for (size_t i = 0; i < n_ranges; i++) {
		if (out && ranges[i].lo <= ranges[out - 1].hi)
			ranges[out - 1].hi = MAX(ranges[out - 1].hi, ranges[i].hi);
		else
			ranges[out++] = ranges[i];
	}
	n_ranges = out;
	if (ranges_subtract(0, PAGE_SIZE))
		return E_RANGE;
	for (size_t i = 0; i < n_reserved; i++) {
		u64 b = MIN(reserved[i].base, PMM_MAX_PHYS);
		u64 len = MIN(reserved[i].len, PMM_MAX_PHYS - b);
		if (!len)
			continue;
		if (ranges_subtract(ALIGN_DOWN(b, PAGE_SIZE),
				    ALIGN_UP(b + len, PAGE_SIZE)))
			return E_RANGE;
	}
	return E_OK;
}

/* Free bytes of range r clipped to [lo, hi). */
static u64 clip_len(const struct span *r, u64 lo, u64 hi)
{
	u64 a = MAX(r->lo, lo), b = MIN(r->hi, hi);
	return b > a ? b - a : 0;
}

/* Choose the metadata run: lowest fit in [1 MiB, 4 GiB). */
static int place_metadata(u64 bytes)
{
	for (size_t i = 0; i < n_ranges; i++) {
		if (clip_len(&ranges[i], MiB, 4 * GiB) >= bytes) {
			pmm.meta_base = MAX(ranges[i].lo, MiB);
			pmm.meta_end = pmm.meta_base + bytes;
			return ranges_subtract(pmm.meta_base, pmm.meta_end);
		}
	}
	return E_NOMEM;
}

/* Choose the low pool: the top `pages` free frames in [1 MiB, 4 GiB). */
static void place_lowpool(u64 want_bytes)
{
	u64 avail = 0, want;

	for (size_t i = 0; i < n_ranges; i++)
		avail += clip_len(&ranges[i], MiB, 4 * GiB);
	want = MIN(ALIGN_UP(want_bytes, PAGE_SIZE) >> PAGE_SHIFT,
		   (avail >> PAGE_SHIFT) / 2);
	pmm.low_lo = pmm.low_hi = 0;
	for (size_t i = n_ranges; want && i-- > 0;) {
		u64 lo = MAX(ranges[i].lo, MiB), hi = MIN(ranges[i].hi, 4 * GiB);
		u64 pages;
		if (hi <= lo)
			continue;
		if (!pmm.low_hi)
			pmm.low_hi = hi >> PAGE_SHIFT;
		pages = MIN(want, (hi - lo) >> PAGE_SHIFT);
		want -= pages;
		pmm.low_lo = (hi >> PAGE_SHIFT) - pages;
	}
}

/* Hand frames [lo, hi) (pfns, one zone) to the buddy lists. */
static void free_pfn_range(u64 lo, u64 hi)
{
	while (lo < hi) {
		unsigned k = lo ? MIN((unsigned)__builtin_ctzll(lo),
				      (unsigned)PMM_MAX_ORDER)
				: PMM_MAX_ORDER;
		while (lo + (1ULL << k) > hi)
			k--;
		buddy_insert(lo, k);
		pmm.managed_pages += 1ULL << k;
		lo += 1ULL << k;
	}
}

/* Largest order with a free block in the zone, or -1. */
static int zone_max_order(const struct zone *z)
{
	return z->nonempty ? 31 - __builtin_clz(z->nonempty) : -1;
}

int pmm_init(const struct pmm_range *usable, size_t n_usable,
	     const struct pmm_range *reserved, size_t n_reserved,
	     u64 lowpool_bytes, void *(*phys_to_virt)(hpa_t pa),
	     struct pmm_report *rep)
{
	u64 bytes, *mem;
	int err;

	memset(&pmm, 0, sizeof(pmm));
	err = ranges_build(usable, n_usable, reserved, n_reserved);
	if (err)
		return err;
	if (!n_ranges || !phys_to_virt)
		return E_NOMEM;
	pmm.p2v = phys_to_virt;
	pmm.max_pfn = ranges[n_ranges - 1].hi >> PAGE_SHIFT;

	/* Bitmap spans: the low pool's is bounded by [1 MiB, 4 GiB) because
	 * its exact place is chosen after the metadata is. */
	pmm.zone[Z_FW] = (struct zone){ .lo = 0, .hi = MIN(pmm.max_pfn, PFN_1M) };
	pmm.zone[Z_LOW] = (struct zone){ .lo = PFN_1M,
					 .hi = MIN(pmm.max_pfn, PFN_4G) };
	pmm.zone[Z_NORMAL] = (struct zone){ .lo = PFN_1M, .hi = pmm.max_pfn };
	bytes = ALIGN_UP(meta_layout(NULL), PAGE_SIZE);
	err = place_metadata(bytes);
	if (err)
		return err;
	mem = phys_to_virt(pmm.meta_base);
	memset(mem, 0, bytes);
	meta_layout(mem);
	place_lowpool(lowpool_bytes);

	/* Feed every free range, cut at the zone boundaries. */
	for (size_t i = 0; i < n_ranges; i++) {
		u64 lo = ranges[i].lo >> PAGE_SHIFT, hi = ranges[i].hi >> PAGE_SHIFT;
		u64 cuts[3] = { PFN_1M, pmm.low_lo, pmm.low_hi };
		while (lo < hi) {
			u64 end = hi;
			for (int c = 0; c < 3; c++)
				if (cuts[c] > lo && cuts[c] < end)
					end = cuts[c];
			free_pfn_range(lo, end);
			lo = end;
		}
	}
	pmm.ready = true;

	if (rep) {
		int mo = zone_max_order(&pmm.zone[Z_NORMAL]);
		memset(rep, 0, sizeof(*rep));
		rep->low_base = pmm.low_lo << PAGE_SHIFT;
		rep->low_end = pmm.low_hi << PAGE_SHIFT;
		rep->low_bytes = pmm.zone[Z_LOW].free_pages << PAGE_SHIFT;
		rep->meta_base = pmm.meta_base;
		rep->meta_end = pmm.meta_end;
		rep->managed_bytes = pmm.managed_pages << PAGE_SHIFT;
		for (size_t i = 0; i < n_ranges; i++)
			rep->largest_free_run = MAX(rep->largest_free_run,
						    ranges[i].hi - ranges[i].lo);
		rep->largest_free_block = mo < 0 ? 0 : PAGE_SIZE << mo;
		rep->top = pmm.max_pfn << PAGE_SHIFT;
	}
	return E_OK;
}

/* ------------------------------------------------------------- public */

static int pmm_alloc_unlocked(unsigned order, unsigned zone, hpa_t *out)
{
	unsigned j;
	u64 pfn;

	if (order > PMM_MAX_ORDER || (zone != PMM_NORMAL && zone != PMM_LOW) ||
	    !out)
		return E_INVAL;
	if (!pmm.ready || !zone_pick(&pmm.zone[zone], order, true, &j, &pfn)) {
		pmm.failed_allocs++;
		return E_NOMEM;
	}
	*out = zone_carve(&pmm.zone[zone], j, pfn, order, true) << PAGE_SHIFT;
	return E_OK;
}

int pmm_alloc_zeroed(unsigned order, unsigned zone, hpa_t *out)
{
	int err = pmm_alloc(order, zone, out);

	if (err)
		return err;
	for (u64 i = 0; i < (1ULL << order); i++)
		memset(pmm.p2v(*out + i * PAGE_SIZE), 0, PAGE_SIZE);
	return E_OK;
}

static int pmm_alloc_below_unlocked(unsigned order, hpa_t limit_pa, hpa_t *out)
{
	static const unsigned zones[] = { Z_NORMAL, Z_FW };
	unsigned j;
	u64 pfn;

	if (order > PMM_MAX_ORDER || !out)
		return E_INVAL;
	for (unsigned i = 0; pmm.ready && i < ARRAY_SIZE(zones); i++) {
		struct zone *z = &pmm.zone[zones[i]];
		if (!zone_pick(z, order, false, &j, &pfn) ||
		    ((pfn + (1ULL << order)) << PAGE_SHIFT) > limit_pa)
			continue;
		*out = zone_carve(z, j, pfn, order, false) << PAGE_SHIFT;
		return E_OK;
	}
	pmm.failed_allocs++;
	return E_NOMEM;
}

static int pmm_free_unlocked(hpa_t pa, unsigned order)
{
	u64 pfn = pa >> PAGE_SHIFT;

	if (!pmm.ready || order > PMM_MAX_ORDER ||
	    !IS_ALIGNED(pa, PAGE_SIZE << order) || pfn >= pmm.max_pfn) {
		pmm.bad_frees++;
		return E_INVAL;
	}
	if (!amap_test(order, pfn)) {
		pmm.bad_frees++;
		return E_NOENT;
	}
	amap_flip(order, pfn);
	buddy_insert(pfn, order);
	pmm.frees++;
	return E_OK;
}

static void pmm_stats_unlocked(struct pmm_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->total_bytes = pmm.managed_pages << PAGE_SHIFT;
	st->free_normal = pmm.zone[Z_NORMAL].free_pages << PAGE_SHIFT;
	st->free_low = pmm.zone[Z_LOW].free_pages << PAGE_SHIFT;
	st->free_below_1m = pmm.zone[Z_FW].free_pages << PAGE_SHIFT;
	st->low_base = pmm.low_lo << PAGE_SHIFT;
	st->low_end = pmm.low_hi << PAGE_SHIFT;
	st->meta_base = pmm.meta_base;
	st->meta_end = pmm.meta_end;
	st->allocs = pmm.allocs;
	st->frees = pmm.frees;
	st->failed_allocs = pmm.failed_allocs;
	st->bad_frees = pmm.bad_frees;
}

/* ---------------------------------------------------------- locking */

/* One lock guards the whole allocator (every zone, bitmap and counter);
 * frame contents are never touched under it. Not taken from interrupt
 * handlers, so interrupts stay as they are. */
static struct spinlock pmm_lock = SPINLOCK_INIT;

int pmm_alloc(unsigned order, unsigned zone, hpa_t *out)
{
	spin_lock(&pmm_lock);
	int r = pmm_alloc_unlocked(order, zone, out);
	spin_unlock(&pmm_lock);
	return r;
}

int pmm_alloc_below(unsigned order, hpa_t limit_pa, hpa_t *out)
{
	spin_lock(&pmm_lock);
	int r = pmm_alloc_below_unlocked(order, limit_pa, out);
	spin_unlock(&pmm_lock);
	return r;
}

int pmm_free(hpa_t pa, unsigned order)
{
	spin_lock(&pmm_lock);
	int r = pmm_free_unlocked(pa, order);
	spin_unlock(&pmm_lock);
	return r;
}

void pmm_stats(struct pmm_stats *st)
{
	spin_lock(&pmm_lock);
	pmm_stats_unlocked(st);
	spin_unlock(&pmm_lock);
}
