/*
 * tests/fuzz/fuzz_pmm.c - libFuzzer target for the frame allocator
 * (mm/pmm.c) against a model of free frames.
 *
 * Input: up to 16 usable ranges (byte-granular, below 8 GiB), up to 8
 * reserved ranges, the low-pool size, then up to 96 operations:
 * pmm_alloc, pmm_alloc_zeroed, pmm_alloc_below, pmm_free of a live block,
 * pmm_free of something else (double free, wrong order, misaligned, any
 * address), and pmm_stats.
 *
 * Memory: pmm_init runs twice. The first time p2v hands it a large buffer;
 * that tells the metadata size. The second time (the allocator may be
 * re-initialized) it gets a heap block of exactly that size, so ASan
 * catches any metadata access past meta_end. p2v aborts on any other
 * address, except during pmm_alloc_zeroed, where it must be asked for
 * exactly the pages of the block just allocated, in order.
 *
 * The model: the free frames as sorted intervals, the live blocks, and the
 * zones (below 1 MiB; the low pool from the report; normal). Checks:
 *  - pmm_init: E_NOMEM only without free frames or without room for the
 *    metadata below 4 GiB; the report (metadata lowest fit in [1 MiB,
 *    4 GiB) inside free RAM, about 4 bits per frame; low pool = the top
 *    min(request, half the free RAM in [1 MiB, 4 GiB)) of free RAM below
 *    4 GiB; managed bytes, largest run and block, top) and determinism;
 *  - pmm_alloc: exactly the highest free aligned block of the order inside
 *    the zone (E_NOMEM when there is none, E_INVAL for a bad order or
 *    zone); pmm_alloc_below: the lowest in the normal zone if it ends by
 *    the limit, else the lowest below 1 MiB if that does;
 *  - pmm_free: E_INVAL exactly for a bad order, misalignment or an address
 *    past the top, E_NOENT exactly for anything not a live block of that
 *    order, and nothing changes on error;
 *  - pmm_stats: free bytes per zone, totals and call counters.
 */
#include <sys/mman.h>

#include "mm/pmm.h"
#include "tests/fuzz/fuzz_common.h"

#define TOP_MAX (8ULL << 30)
#define PFN_1M 256ULL
#define PFN_4G (1ULL << 20)
#define BIG_META (4ULL << 20)

/* ------------------------------------------------------------ memory */

static u8 *big;               /* first pass metadata */
static u8 *meta;              /* second pass: exact size */
static u64 meta_pa, meta_len;
static int phase;             /* 1, 2: init passes; 3: zeroing; 0: none */
static u64 zero_pa[64];
static int nzero;
static u8 *scratch;

static void *p2v(hpa_t pa)
{
	switch (phase) {
	case 1:
		meta_pa = pa;
		return big;
	case 2:
		FZ_CHECK(pa == meta_pa, "second init: metadata at %#llx, first at %#llx", (unsigned long long)pa,
			 (unsigned long long)meta_pa);
		return meta;
	case 3:
		FZ_CHECK(nzero < 64, "too many pages zeroed");
		zero_pa[nzero++] = pa;
		return scratch;
	}
	FZ_CHECK(0, "p2v(%#llx) outside pmm_init and pmm_alloc_zeroed", (unsigned long long)pa);
	return NULL;
}

/* ------------------------------------------------------------ the model */

struct iv {
	u64 lo, hi; /* pfns */
};

#define IV_MAX 512
static struct iv fr[IV_MAX];
static int nfr;

static void fr_add(u64 lo, u64 hi)
{
	if (lo >= hi)
		return;
	int i = 0;
	while (i < nfr && fr[i].hi < lo)
		i++;
	/* merge with every interval that overlaps or touches */
	while (i < nfr && fr[i].lo <= hi) {
		lo = MIN(lo, fr[i].lo);
		hi = MAX(hi, fr[i].hi);
		memmove(&fr[i], &fr[i + 1], (size_t)(nfr - i - 1) * sizeof(fr[0]));
		nfr--;
	}
	FZ_CHECK(nfr < IV_MAX, "model too large");
	memmove(&fr[i + 1], &fr[i], (size_t)(nfr - i) * sizeof(fr[0]));
	fr[i] = (struct iv){ lo, hi };
	nfr++;
}

static void fr_sub(u64 lo, u64 hi)
{
	for (int i = 0; i < nfr && lo < hi; i++) {
		struct iv x = fr[i];
		if (x.hi <= lo || x.lo >= hi)
			continue;
		if (x.lo < lo && x.hi > hi) {
			FZ_CHECK(nfr < IV_MAX, "model too large");
			memmove(&fr[i + 2], &fr[i + 1], (size_t)(nfr - i - 1) * sizeof(fr[0]));
			fr[i].hi = lo;
			fr[i + 1] = (struct iv){ hi, x.hi };
			nfr++;
			return;
		}
		if (x.lo < lo) {
			fr[i].hi = lo;
		} else if (x.hi > hi) {
			fr[i].lo = hi;
		} else {
			memmove(&fr[i], &fr[i + 1], (size_t)(nfr - i - 1) * sizeof(fr[0]));
			nfr--;
			i--;
		}
	}
}

/* Free frames of the model in [lo, hi). */
static u64 fr_count(u64 lo, u64 hi)
{
	u64 n = 0;
	for (int i = 0; i < nfr; i++) {
		u64 a = MAX(fr[i].lo, lo), b = MIN(fr[i].hi, hi);
		if (b > a)
			n += b - a;
	}
	return n;
}

static bool fr_all_free(u64 lo, u64 hi)
{
	return fr_count(lo, hi) == hi - lo;
}

enum { Z_NORMAL, Z_LOW, Z_FW };
static u64 low_lo, low_hi, top_pfn;

/* The zone as at most two pfn intervals. */
static int zone_ivs(int z, struct iv out[2])
{
	if (z == Z_FW) {
		out[0] = (struct iv){ 0, PFN_1M };
		return 1;
	}
	if (z == Z_LOW) {
		out[0] = (struct iv){ low_lo, low_hi };
		return 1;
	}
	if (low_lo == low_hi) {
		out[0] = (struct iv){ PFN_1M, ~0ULL };
		return 1;
	}
	out[0] = (struct iv){ PFN_1M, low_lo };
	out[1] = (struct iv){ low_hi, ~0ULL };
	return 2;
}

/* Highest (or lowest) free aligned 2^k block inside zone z; false if none. */
static bool find_block(int z, unsigned k, bool high, u64 *out)
{
	struct iv zv[2];
	int nz = zone_ivs(z, zv);
	u64 n = 1ULL << k;
	bool found = false;

	for (int i = 0; i < nfr; i++) {
		for (int j = 0; j < nz; j++) {
			u64 a = MAX(fr[i].lo, zv[j].lo), b = MIN(fr[i].hi, zv[j].hi);
			if (b <= a || b - a < n)
				continue;
			u64 s = high ? ALIGN_DOWN(b, n) - n : ALIGN_UP(a, n);
			if (s < a || s + n > b)
				continue;
			if (!found || (high ? s > *out : s < *out))
				*out = s;
			found = true;
		}
	}
	return found;
}

struct blk {
	u64 pa;
	unsigned order;
};
static struct blk live[256];
static int nlive;
static u64 m_allocs, m_frees, m_failed, m_bad;

static void model_take(u64 pa, unsigned k)
{
	u64 pfn = pa >> 12;
	FZ_CHECK(fr_all_free(pfn, pfn + (1ULL << k)), "allocated %#llx order %u is not free", (unsigned long long)pa, k);
	fr_sub(pfn, pfn + (1ULL << k));
	if (nlive < 256)
		live[nlive++] = (struct blk){ pa, k };
	m_allocs++;
}

static u64 zone_free_bytes(int z)
{
	struct iv zv[2];
	int nz = zone_ivs(z, zv);
	u64 n = 0;
	for (int j = 0; j < nz; j++)
		n += fr_count(zv[j].lo, zv[j].hi);
	return n << 12;
}

static void check_stats(void)
{
	struct pmm_stats st;
	pmm_stats(&st);
	FZ_CHECK(st.free_normal == zone_free_bytes(Z_NORMAL), "free_normal %#llx, model %#llx",
		 (unsigned long long)st.free_normal, (unsigned long long)zone_free_bytes(Z_NORMAL));
	FZ_CHECK(st.free_low == zone_free_bytes(Z_LOW), "free_low %#llx, model %#llx", (unsigned long long)st.free_low,
		 (unsigned long long)zone_free_bytes(Z_LOW));
	FZ_CHECK(st.free_below_1m == zone_free_bytes(Z_FW), "free_below_1m");
	u64 used = 0;
	for (int i = 0; i < nlive; i++)
		used += 4096ULL << live[i].order;
	FZ_CHECK(st.total_bytes == st.free_normal + st.free_low + st.free_below_1m + used, "total %#llx",
		 (unsigned long long)st.total_bytes);
	FZ_CHECK(st.allocs == m_allocs && st.frees == m_frees && st.failed_allocs == m_failed && st.bad_frees == m_bad,
		 "counters %llu/%llu/%llu/%llu, model %llu/%llu/%llu/%llu", (unsigned long long)st.allocs,
		 (unsigned long long)st.frees, (unsigned long long)st.failed_allocs, (unsigned long long)st.bad_frees,
		 (unsigned long long)m_allocs, (unsigned long long)m_frees, (unsigned long long)m_failed,
		 (unsigned long long)m_bad);
	FZ_CHECK(st.low_base == low_lo << 12 && st.low_end == low_hi << 12, "low pool span");
}

/* ------------------------------------------------------------ input */

static void get_range(struct fz *f, struct pmm_range *r, bool reserved)
{
	u8 k = fz_u8(f);
	u64 base = ((u64)fz_u32(f) % (TOP_MAX >> 12)) << 12, len;
	switch (k & 3) {
	case 0: base = (u64)fz_u16(f) << 12; break;          /* low memory */
	case 1: base = (base & 0xffffffffULL) | 0x100000; break;
	default: break;
	}
	switch ((k >> 2) & 3) {
	case 0: len = ((u64)(fz_u8(f) % 64) + 1) << 12; break;
	case 1: len = ((u64)fz_u16(f) + 1) << 12; break;
	case 2: len = ((u64)fz_u32(f) % (TOP_MAX >> 12)) << 12; break;
	default: len = (u64)fz_u8(f) << 22; break;
	}
	if (k & 0x10)
		base += fz_u16(f) % 4096; /* partial frames */
	if (k & 0x20)
		len += fz_u16(f) % 4096;
	if (reserved && (k & 0x40))
		len = (u64)fz_u16(f) + 1;
	if (!reserved && base + len > TOP_MAX)
		len = base < TOP_MAX ? TOP_MAX - base : 0;
	*r = (struct pmm_range){ base, len };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct pmm_range use[16], res[8];
	struct pmm_report rep, rep2;

	if (!big) {
		big = mmap(NULL, BIG_META, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		scratch = malloc(4096);
	}
	size_t nu = 1 + fz_u8(&f) % 16, nr = fz_u8(&f) % 9;
	for (size_t i = 0; i < nu; i++)
		get_range(&f, &use[i], false);
	for (size_t i = 0; i < nr; i++)
		get_range(&f, &res[i], true);
	u8 lk = fz_u8(&f);
	u64 lowpool = (lk & 1) ? (u64)fz_u32(&f) : (u64)(lk >> 1) << 20;

	if (getenv("FUZZ_DEBUG")) {
		for (size_t i = 0; i < nu; i++)
			fprintf(stderr, "usable   %#llx + %#llx\n", (unsigned long long)use[i].base,
				(unsigned long long)use[i].len);
		for (size_t i = 0; i < nr; i++)
			fprintf(stderr, "reserved %#llx + %#llx\n", (unsigned long long)res[i].base,
				(unsigned long long)res[i].len);
		fprintf(stderr, "lowpool  %#llx\n", (unsigned long long)lowpool);
	}
	/* the model's free frames before the metadata */
	nfr = 0;
	for (size_t i = 0; i < nu; i++)
		fr_add(ALIGN_UP(use[i].base, 4096) >> 12, ALIGN_DOWN(use[i].base + use[i].len, 4096) >> 12);
	fr_sub(0, 1);
	for (size_t i = 0; i < nr; i++) {
		if (!res[i].len)
			continue; /* an empty range reserves nothing */
		u64 lo = ALIGN_DOWN(res[i].base, 4096), end = res[i].base + res[i].len;
		if (end < res[i].base)
			end = ~0ULL;
		fr_sub(lo >> 12, end > ~0ULL - 4095 ? ~0ULL >> 12 : ALIGN_UP(end, 4096) >> 12);
	}
	top_pfn = nfr ? fr[nfr - 1].hi : 0;
	u64 bound = ALIGN_UP(top_pfn + (64 << 10), 4096); /* metadata: about 4 bits per frame */
	u64 run4g = 0; /* longest free run in [1 MiB, 4 GiB) */
	for (int i = 0; i < nfr; i++) {
		u64 a = MAX(fr[i].lo, PFN_1M), b = MIN(fr[i].hi, PFN_4G);
		if (b > a)
			run4g = MAX(run4g, (b - a) << 12);
	}

	phase = 1;
	int r = pmm_init(use, nu, res, nr, lowpool, p2v, &rep);
	phase = 0;
	if (r != E_OK) {
		FZ_CHECK(r == E_NOMEM, "pmm_init returned %d", r);
		FZ_CHECK(nfr == 0 || run4g < bound, "E_NOMEM with %#llx free bytes in a run below 4 GiB",
			 (unsigned long long)run4g);
		return 0;
	}
	FZ_CHECK(nfr > 0, "init succeeded without free frames");
	meta_len = rep.meta_end - rep.meta_base;
	FZ_CHECK(meta_len <= BIG_META && meta_len <= bound, "metadata of %#llx bytes for top %#llx",
		 (unsigned long long)meta_len, (unsigned long long)(top_pfn << 12));
	meta = malloc(meta_len);
	phase = 2;
	r = pmm_init(use, nu, res, nr, lowpool, p2v, &rep2);
	phase = 0;
	FZ_CHECK(r == E_OK && !memcmp(&rep, &rep2, sizeof(rep)), "second pmm_init differs");

	/* the report */
	FZ_CHECK(rep.meta_base >= MiB && rep.meta_end <= 4 * GiB && IS_ALIGNED(rep.meta_base, 4096) &&
			 IS_ALIGNED(rep.meta_end, 4096) && meta_len > 0 && rep.meta_base == meta_pa,
		 "metadata at [%#llx, %#llx)", (unsigned long long)rep.meta_base, (unsigned long long)rep.meta_end);
	FZ_CHECK(fr_all_free(rep.meta_base >> 12, rep.meta_end >> 12), "metadata outside free RAM");
	for (int i = 0; i < nfr; i++) {
		u64 a = MAX(fr[i].lo, PFN_1M), b = MIN(fr[i].hi, PFN_4G);
		if (b > a && (b - a) << 12 >= meta_len) {
			FZ_CHECK(rep.meta_base == a << 12, "metadata at %#llx, lowest fit %#llx",
				 (unsigned long long)rep.meta_base, (unsigned long long)(a << 12));
			break;
		}
	}
	FZ_CHECK(rep.top == top_pfn << 12, "top %#llx, model %#llx", (unsigned long long)rep.top,
		 (unsigned long long)(top_pfn << 12));
	fr_sub(rep.meta_base >> 12, rep.meta_end >> 12);
	u64 managed = fr_count(0, ~0ULL);
	FZ_CHECK(rep.managed_bytes == managed << 12, "managed %#llx, model %#llx", (unsigned long long)rep.managed_bytes,
		 (unsigned long long)(managed << 12));
	u64 avail = fr_count(PFN_1M, PFN_4G);
	u64 want = MIN(ALIGN_UP(lowpool, 4096) >> 12, avail / 2);
	low_lo = rep.low_base >> 12;
	low_hi = rep.low_end >> 12;
	FZ_CHECK(rep.low_bytes == want << 12, "low pool %#llx bytes, want %#llx", (unsigned long long)rep.low_bytes,
		 (unsigned long long)(want << 12));
	if (want) {
		FZ_CHECK(low_lo >= PFN_1M && low_hi <= PFN_4G && low_lo < low_hi, "low pool span");
		FZ_CHECK(fr_count(low_lo, low_hi) == want && fr_all_free(low_lo, low_lo + 1), "low pool is not %llu frames",
			 (unsigned long long)want);
		FZ_CHECK(fr_count(low_hi, PFN_4G) == 0, "free RAM above the low pool below 4 GiB");
	}
	u64 run = 0;
	for (int i = 0; i < nfr; i++)
		run = MAX(run, (fr[i].hi - fr[i].lo) << 12);
	FZ_CHECK(rep.largest_free_run == run, "largest run %#llx, model %#llx", (unsigned long long)rep.largest_free_run,
		 (unsigned long long)run);
	u64 blk = 0, pfn;
	for (int k = PMM_MAX_ORDER; k >= 0 && !blk; k--)
		if (find_block(Z_NORMAL, (unsigned)k, true, &pfn))
			blk = 4096ULL << k;
	FZ_CHECK(rep.largest_free_block == blk, "largest block %#llx, model %#llx",
		 (unsigned long long)rep.largest_free_block, (unsigned long long)blk);

	/* the operations */
	nlive = 0;
	m_allocs = m_frees = m_failed = m_bad = 0;
	check_stats();
	for (int op = 0; op < 96 && !fz_empty(&f); op++) {
		u8 kind = fz_u8(&f) % 8;
		u8 a = fz_u8(&f);
		unsigned order = a % 20, zone = (a / 20) % 3;
		hpa_t out = 0xdead000;
		u64 exp;
		bool found;
		switch (kind) {
		case 0:
		case 1:
		case 2: { /* alloc, alloc_zeroed */
			bool zeroed = kind == 2;
			if (zeroed)
				order %= 7;
			if (zeroed) {
				phase = 3;
				nzero = 0;
			}
			r = zeroed ? pmm_alloc_zeroed(order, zone, &out) : pmm_alloc(order, zone, &out);
			phase = 0;
			if (order > PMM_MAX_ORDER || zone > 1) {
				FZ_CHECK(r == E_INVAL, "alloc(%u, %u) = %d", order, zone, r);
				break;
			}
			found = find_block(zone == PMM_LOW ? Z_LOW : Z_NORMAL, order, true, &exp);
			if (!found) {
				FZ_CHECK(r == E_NOMEM, "alloc(%u, %u) = %d (%#llx), model has nothing", order, zone, r,
					 (unsigned long long)out);
				m_failed++;
				break;
			}
			FZ_CHECK(r == E_OK && out == exp << 12, "alloc(%u, %u) = %d %#llx, model %#llx", order, zone, r,
				 (unsigned long long)out, (unsigned long long)(exp << 12));
			model_take(out, order);
			if (zeroed) {
				FZ_CHECK(nzero == 1 << order, "zeroed %d pages of %d", nzero, 1 << order);
				for (int i = 0; i < nzero; i++)
					FZ_CHECK(zero_pa[i] == out + 4096ULL * (u64)i, "zeroed page %#llx outside the block",
						 (unsigned long long)zero_pa[i]);
			}
			break;
		}
		case 3: { /* alloc_below */
			u64 limit = fz_u8(&f) & 1 ? (u64)fz_u32(&f) << 4 : (u64)fz_u16(&f) << 12;
			r = pmm_alloc_below(order, limit, &out);
			if (order > PMM_MAX_ORDER) {
				FZ_CHECK(r == E_INVAL, "alloc_below(%u) = %d", order, r);
				break;
			}
			found = false;
			if (find_block(Z_NORMAL, order, false, &exp) && ((exp + (1ULL << order)) << 12) <= limit)
				found = true;
			else if (find_block(Z_FW, order, false, &exp) && ((exp + (1ULL << order)) << 12) <= limit)
				found = true;
			if (!found) {
				FZ_CHECK(r == E_NOMEM, "alloc_below(%u, %#llx) = %d %#llx, model has nothing", order,
					 (unsigned long long)limit, r, (unsigned long long)out);
				m_failed++;
				break;
			}
			FZ_CHECK(r == E_OK && out == exp << 12, "alloc_below(%u, %#llx) = %d %#llx, model %#llx", order,
				 (unsigned long long)limit, r, (unsigned long long)out, (unsigned long long)(exp << 12));
			model_take(out, order);
			break;
		}
		case 4:
		case 5: { /* free a live block */
			if (!nlive)
				break;
			int i = fz_u8(&f) % nlive;
			struct blk b = live[i];
			r = pmm_free(b.pa, b.order);
			FZ_CHECK(r == E_OK, "free(%#llx, %u) of a live block = %d", (unsigned long long)b.pa, b.order, r);
			live[i] = live[--nlive];
			fr_add(b.pa >> 12, (b.pa >> 12) + (1ULL << b.order));
			m_frees++;
			break;
		}
		case 6: { /* free something else */
			u8 how = fz_u8(&f);
			u64 pa;
			unsigned o = order;
			if (nlive && (how & 3) != 3) {
				struct blk b = live[fz_u8(&f) % nlive];
				pa = b.pa;
				o = (how & 3) == 0 ? b.order + 1 + how % 3 : (how & 3) == 1 ? (b.order ? b.order - 1 : 1) : b.order;
				if ((how & 3) == 2)
					pa += 4096; /* inside, or misaligned */
			} else {
				pa = (u64)fz_u32(&f) << (how >> 4);
			}
			bool is_live = false;
			for (int i = 0; i < nlive; i++)
				is_live |= live[i].pa == pa && live[i].order == o;
			if (is_live)
				break; /* that would be a good free */
			int want = E_NOENT;
			if (o > PMM_MAX_ORDER || (pa & ((4096ULL << o) - 1)) || (pa >> 12) >= top_pfn)
				want = E_INVAL;
			r = pmm_free(pa, o);
			FZ_CHECK(r == want, "free(%#llx, %u) = %d, want %d", (unsigned long long)pa, o, r, want);
			m_bad++;
			break;
		}
		default:
			check_stats();
			break;
		}
	}
	check_stats();
	free(meta);
	meta = NULL;
	return 0;
}
