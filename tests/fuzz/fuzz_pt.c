/*
 * tests/fuzz/fuzz_pt.c - libFuzzer target for the page-table engine
 * (mm/pt.c), x86-64 4-level format, against a flat model of the address
 * space.
 *
 * Input: a byte limiting how many tables may be allocated (so E_NOMEM
 * happens), then operations: map (va, pa, size, leaf bits, max level),
 * unmap (va, size), lookup (va). Addresses are built from small indices
 * at each level, so operations overlap, share tables and hit 2 MiB and
 * 1 GiB alignment; sizes go from one page to 2 GiB.
 *
 * The fake physical memory gives every table its own 4 KiB heap block,
 * allocated zeroed by alloc_table and released by free_table, so ASan
 * reports a table used after it was freed or an access past its end; p2v
 * aborts on any address that is not a live table.
 *
 * The model is a sorted list of extents (va range -> pa, leaf bits).
 * Checks:
 *  - pt_map/pt_unmap return E_OK, E_NOMEM, or E_INVAL exactly for
 *    misaligned arguments; a successful map uses the largest leaf that
 *    alignment, size and max_level allow for its first chunk;
 *  - after each operation, lookups at its ends, middle and a random
 *    address agree with the model (leaf found, translation, bits, PS);
 *  - after E_NOMEM the tables are consistent: a prefix of the range has
 *    the new state, the rest the old one, nothing outside changed;
 *  - at the end, and after E_NOMEM, a full walk of the tree: table entries
 *    carry exactly the table bits and point to live tables, no table is
 *    referenced twice, every live table is reachable (no leak), and the
 *    leaves equal the model extent for extent;
 *  - pt_destroy frees every table exactly once.
 */
#include "mm/pt.h"
#include "tests/fuzz/fuzz_common.h"

#define MAX_TABLES 256
#define TBL_BASE 0x40000000ULL /* physical address of table slot 0 */

static u8 *tables[MAX_TABLES];
static int live, table_limit;
static const struct pt_format *F = &pt_format_x86_4level;

static int slot_of(hpa_t pa)
{
	FZ_CHECK(pa >= TBL_BASE && pa < TBL_BASE + MAX_TABLES * 4096ULL && !(pa & 4095),
		 "p2v of %#llx: not a table address", (unsigned long long)pa);
	int i = (int)((pa - TBL_BASE) / 4096);
	FZ_CHECK(tables[i], "p2v of %#llx: table not allocated (used after free?)", (unsigned long long)pa);
	return i;
}

static void *p2v(hpa_t pa)
{
	return tables[slot_of(pa)];
}

static int alloc_table(void *ctx, hpa_t *out)
{
	if (live >= table_limit)
		return E_NOMEM;
	for (int i = 0; i < MAX_TABLES; i++) {
		if (!tables[i]) {
			tables[i] = calloc(1, 4096);
			live++;
			*out = TBL_BASE + (u64)i * 4096;
			return E_OK;
		}
	}
	return E_NOMEM;
}

static void free_table(void *ctx, hpa_t pa)
{
	int i = slot_of(pa);
	free(tables[i]);
	tables[i] = NULL;
	live--;
}

static const struct pt_ops ops = { p2v, alloc_table, free_table, NULL };

/* ------------------------------------------------------------ extents */

struct ext {
	u64 va, end, pa, bits;
};

#define EXT_MAX 2048
struct elist {
	int n;
	struct ext e[EXT_MAX];
};

static struct elist model, actual, saved;

static void el_copy(struct elist *d, const struct elist *s)
{
	d->n = s->n;
	memcpy(d->e, s->e, (size_t)s->n * sizeof(s->e[0]));
}

/* Remove [va, end) from @l. */
static void el_cut(struct elist *l, u64 va, u64 end)
{
	static struct elist out;
	out.n = 0;
	for (int i = 0; i < l->n; i++) {
		struct ext x = l->e[i];
		FZ_CHECK(out.n < EXT_MAX - 2, "model too large");
		if (x.end <= va || x.va >= end) {
			out.e[out.n++] = x;
			continue;
		}
		if (x.va < va)
			out.e[out.n++] = (struct ext){ x.va, va, x.pa, x.bits };
		if (x.end > end)
			out.e[out.n++] = (struct ext){ end, x.end, x.pa + (end - x.va), x.bits };
	}
	el_copy(l, &out);
}

static void el_add(struct elist *l, u64 va, u64 end, u64 pa, u64 bits)
{
	int i;
	el_cut(l, va, end);
	FZ_CHECK(l->n < EXT_MAX - 1, "model too large");
	for (i = l->n; i > 0 && l->e[i - 1].va > va; i--)
		l->e[i] = l->e[i - 1];
	l->e[i] = (struct ext){ va, end, pa, bits };
	l->n++;
}

/* Merge touching extents that continue each other. */
static void el_norm(struct elist *l)
{
	int o = 0;
	for (int i = 0; i < l->n; i++) {
		struct ext *p = o ? &l->e[o - 1] : NULL;
		if (p && p->end == l->e[i].va && p->pa + (p->end - p->va) == l->e[i].pa && p->bits == l->e[i].bits)
			p->end = l->e[i].end;
		else
			l->e[o++] = l->e[i];
	}
	l->n = o;
}

static const struct ext *el_find(const struct elist *l, u64 va)
{
	for (int i = 0; i < l->n; i++)
		if (va >= l->e[i].va && va < l->e[i].end)
			return &l->e[i];
	return NULL;
}

/* @a and @b restricted to [lo, hi) describe the same translations. */
static bool el_same_on(const struct elist *a, const struct elist *b, u64 lo, u64 hi)
{
	static struct elist x, y;
	el_copy(&x, a);
	el_copy(&y, b);
	el_cut(&x, 0, lo);
	el_cut(&y, 0, lo);
	el_cut(&x, hi, ~0ULL);
	el_cut(&y, hi, ~0ULL);
	el_norm(&x);
	el_norm(&y);
	if (x.n != y.n)
		return false;
	for (int i = 0; i < x.n; i++)
		if (x.e[i].va != y.e[i].va || x.e[i].end != y.e[i].end || x.e[i].pa != y.e[i].pa ||
		    x.e[i].bits != y.e[i].bits)
			return false;
	return true;
}

/* ------------------------------------------------------------ the tree */

static int refs[MAX_TABLES];

static void walk_tree(hpa_t table, int level, u64 va_base, struct elist *out)
{
	int slot = slot_of(table);
	FZ_CHECK(++refs[slot] == 1, "table %#llx referenced twice", (unsigned long long)table);
	const u64 *t = p2v(table);
	for (int i = 0; i < 512; i++) {
		u64 e = t[i], va = va_base + (u64)i * pt_level_size(level);
		if (!(e & PTE_P))
			continue;
		if (level == 1 || (e & PTE_PS)) {
			FZ_CHECK(level <= 3, "PS set in a PML4 entry");
			u64 size = pt_level_size(level);
			u64 pa = e & PTE_ADDR_MASK & ~(size - 1);
			FZ_CHECK(level == 1 || (e & PTE_ADDR_MASK & (size - 1)) == 0,
				 "large leaf with address bits below its size: %#llx", (unsigned long long)e);
			u64 bits = e & ~PTE_ADDR_MASK & ~(level > 1 ? PTE_PS : 0);
			struct ext *p = out->n ? &out->e[out->n - 1] : NULL;
			if (p && p->end == va && p->pa + (p->end - p->va) == pa && p->bits == bits) {
				p->end = va + size; /* leaves come in address order */
			} else {
				FZ_CHECK(out->n < EXT_MAX, "too many leaves");
				out->e[out->n++] = (struct ext){ va, va + size, pa, bits };
			}
		} else {
			FZ_CHECK((e & ~PTE_ADDR_MASK) == F->table_bits, "table entry %#llx at level %d has bits %#llx",
				 (unsigned long long)e, level, (unsigned long long)(e & ~PTE_ADDR_MASK));
			walk_tree(e & PTE_ADDR_MASK, level - 1, va, out);
		}
	}
}

/* The whole tree: structure, leaks; leaves into @actual. */
static void check_tree(hpa_t root)
{
	memset(refs, 0, sizeof(refs));
	actual.n = 0;
	walk_tree(root, 4, 0, &actual);
	int reached = 0;
	for (int i = 0; i < MAX_TABLES; i++) {
		reached += refs[i];
		FZ_CHECK(!tables[i] || refs[i], "table %d is allocated but unreachable (leaked)", i);
	}
	FZ_CHECK(reached == live, "%d tables reachable, %d live", reached, live);
}

/* ------------------------------------------------------------ lookups */

static void check_lookup(hpa_t root, u64 va)
{
	int level = -1;
	u64 *e = pt_lookup(F, &ops, root, va, &level);
	const struct ext *m = el_find(&model, va);
	if (!m) {
		FZ_CHECK(!e, "va %#llx should be unmapped", (unsigned long long)va);
		return;
	}
	FZ_CHECK(e, "va %#llx should map %#llx", (unsigned long long)va, (unsigned long long)(m->pa + (va - m->va)));
	FZ_CHECK(level >= 1 && level <= 3, "leaf level %d", level);
	u64 size = pt_level_size(level);
	u64 pa = (*e & PTE_ADDR_MASK & ~(size - 1)) + (va & (size - 1));
	FZ_CHECK(pa == m->pa + (va - m->va), "va %#llx maps %#llx, model %#llx", (unsigned long long)va,
		 (unsigned long long)pa, (unsigned long long)(m->pa + (va - m->va)));
	FZ_CHECK((level > 1) == !!(*e & PTE_PS), "PS %d at level %d", !!(*e & PTE_PS), level);
	FZ_CHECK((*e & ~PTE_ADDR_MASK & ~(level > 1 ? PTE_PS : 0)) == m->bits, "bits %#llx, model %#llx",
		 (unsigned long long)(*e & ~PTE_ADDR_MASK), (unsigned long long)m->bits);
}

/* ------------------------------------------------------------ input */

static u64 get_va(struct fz *f)
{
	u8 a = fz_u8(f), b = fz_u8(f), c = fz_u8(f);
	u64 va = ((u64)(a & 3) << 39) | ((u64)((a >> 2) & 7) << 30) | ((u64)(b & 15) << 21) | ((u64)(c & 31) << 12);
	if (b & 0x80)
		va |= (u64)(a >> 5) << 44; /* spread over more PML4 entries */
	return va;
}

static u64 get_size(struct fz *f)
{
	u8 k = fz_u8(f);
	switch (k >> 6) {
	case 0: return (u64)((k & 63) + 1) << 12;
	case 1: return (u64)((k & 63) + 1) << 21;
	case 2: return (u64)((k & 3) + 1) << 30;
	default: return ((u64)fz_u16(f) + 1) << 12;
	}
}

static const u64 bit_choices[8] = { PTE_RW, PTE_US, PTE_PWT, PTE_PCD, PTE_A, PTE_D, PTE_G, PTE_NX };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	hpa_t root;

	model.n = 0;
	live = 0;
	table_limit = MAX_TABLES;
	FZ_CHECK(alloc_table(NULL, &root) == E_OK, "root");
	table_limit = 2 + fz_u8(&f) % 48;

	for (int op = 0; op < 48 && !fz_empty(&f); op++) {
		u8 kind = fz_u8(&f);
		u64 va = get_va(&f), sz, pa = 0, bits = 0;
		int r, max_level = 0;
		bool is_map = (kind & 3) <= 1;

		if ((kind & 3) == 3) {
			check_lookup(root, va + (u64)fz_u16(&f) * 8);
			continue;
		}
		sz = get_size(&f);
		if (is_map) {
			u8 pb = fz_u8(&f);
			pa = (u64)fz_u32(&f) << 12;
			if (pb & 1) /* as aligned as the va: large pages possible */
				pa = (pa & ~((1ULL << 30) - 1) & ((1ULL << 46) - 1)) | (va & ((1ULL << 30) - 1));
			u8 bb = fz_u8(&f);
			bits = PTE_P;
			for (int i = 0; i < 8; i++)
				if (bb & (1 << i))
					bits |= bit_choices[i];
			if (pb & 2)
				bits |= (u64)(pb >> 4) << 52; /* ignored bits */
			max_level = 1 + (kind >> 2) % 4;
			/* all 4 KiB chunks: at most 8192 of them, to keep executions fast */
			if ((max_level == 1 || ((va ^ pa) & ((2ULL << 20) - 1))) && sz > (32ULL << 20))
				sz = 32ULL << 20;
		}
		bool misalign = (kind & 0xc0) == 0xc0;
		if (misalign) {
			u8 which = fz_u8(&f);
			if (which & 1)
				va |= 0x800;
			else if (which & 2)
				sz |= 0x10;
			else if (is_map)
				pa |= 8;
			else
				va |= 0x800;
		}
		el_copy(&saved, &model);
		r = is_map ? pt_map(F, &ops, root, va, pa, sz, bits, max_level) : pt_unmap(F, &ops, root, va, sz);
		FZ_CHECK(r == E_OK || r == E_NOMEM || r == E_INVAL, "returned %d", r);
		FZ_CHECK((r == E_INVAL) == misalign, "%s %#llx+%#llx (pa %#llx): %d", is_map ? "map" : "unmap",
			 (unsigned long long)va, (unsigned long long)sz, (unsigned long long)pa, r);
		if (r == E_INVAL)
			continue;
		u64 end = va + sz;
		if (r == E_OK) {
			if (is_map)
				el_add(&model, va, end, pa, bits);
			else
				el_cut(&model, va, end);
			if (is_map) {
				int want = max_level > 3 ? 3 : max_level, level = 0;
				while (want > 1 && (((va | pa) & (pt_level_size(want) - 1)) || sz < pt_level_size(want)))
					want--;
				FZ_CHECK(pt_lookup(F, &ops, root, va, &level) && level == want,
					 "first chunk at level %d, largest possible %d", level, want);
			}
		} else {
			/* E_NOMEM: a prefix done, the rest as it was */
			check_tree(root);
			FZ_CHECK(el_same_on(&actual, &saved, 0, va) && el_same_on(&actual, &saved, end, ~0ULL),
				 "failed %s changed translations outside its range", is_map ? "map" : "unmap");
			u64 x = va;
			if (is_map) {
				/* the new mapping from va on */
				const struct ext *a;
				while (x < end && (a = el_find(&actual, x)) && a->bits == bits &&
				       a->pa + (x - a->va) == pa + (x - va))
					x = a->end < end ? a->end : end;
			} else {
				/* nothing mapped from va on */
				x = end;
				for (int i = 0; i < actual.n; i++)
					if (actual.e[i].end > va && actual.e[i].va < end)
						x = MIN(x, MAX(actual.e[i].va, va));
			}
			FZ_CHECK(el_same_on(&actual, &saved, x, end), "failed %s: after the done prefix (up to %#llx) the range "
				 "is not as it was", is_map ? "map" : "unmap", (unsigned long long)x);
			el_copy(&model, &actual);
		}
		check_lookup(root, va);
		check_lookup(root, end - 4096);
		check_lookup(root, va + (sz / 2 & ~4095ULL));
		check_lookup(root, end);
		if (va)
			check_lookup(root, va - 4096);
	}
	check_tree(root);
	el_norm(&model);
	FZ_CHECK(el_same_on(&actual, &model, 0, ~0ULL), "tables and model differ (%d vs %d extents)", actual.n, model.n);
	pt_destroy(F, &ops, root);
	FZ_CHECK(live == 0, "%d tables left after pt_destroy", live);
	return 0;
}
