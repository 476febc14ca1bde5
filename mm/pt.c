/*
 * mm/pt.c - the page-table engine (see mm/pt.h).
 */
#include "mm/pt.h"

const struct pt_format pt_format_x86_4level = {
	.name = "x86-64 4-level",
	.levels = 4,
	.max_leaf_level = 3,
	.addr_mask = PTE_ADDR_MASK,
	.present_mask = PTE_P,
	.table_bits = PTE_P | PTE_RW | PTE_US,
	.large_bit = PTE_PS,
};

static inline bool ent_present(const struct pt_format *f, u64 e)
{
	return (e & f->present_mask) != 0;
}

static inline bool ent_leaf(const struct pt_format *f, u64 e, int level)
{
	return level == 1 || (e & f->large_bit);
}

static inline u64 *table_of(const struct pt_format *f, const struct pt_ops *ops, u64 e)
{
	return ops->p2v(e & f->addr_mask);
}

/* Turn the large leaf @*ent at @level into a table of 512 leaves one level
 * down with the same attributes. */
static int split_leaf(const struct pt_format *f, const struct pt_ops *ops, u64 *ent, int level)
{
	hpa_t t;
	int r = ops->alloc_table(ops->ctx, &t);
	if (r)
		return r;
	u64 *tab = ops->p2v(t);
	u64 e = *ent;
	u64 attrs = e & ~f->addr_mask;
	u64 base = e & f->addr_mask & ~(pt_level_size(level) - 1);
	u64 step = pt_level_size(level - 1);
	if (level - 1 == 1)
		attrs &= ~f->large_bit;
	for (int i = 0; i < 512; i++)
		tab[i] = (base + i * step) | attrs;
	*ent = t | f->table_bits;
	return E_OK;
}

/* Descend from @table at @level to the table at @target level covering
 * @va, creating or splitting as needed. */
static int walk_to(const struct pt_format *f, const struct pt_ops *ops, u64 *table, int level, u64 va,
		   int target, u64 **out)
{
	while (level > target) {
		u64 *ent = &table[pt_index(va, level)];
		if (!ent_present(f, *ent)) {
			hpa_t t;
			int r = ops->alloc_table(ops->ctx, &t);
			if (r)
				return r;
			*ent = t | f->table_bits;
		} else if (ent_leaf(f, *ent, level)) {
			int r = split_leaf(f, ops, ent, level);
			if (r)
				return r;
		}
		table = table_of(f, ops, *ent);
		level--;
	}
	*out = table;
	return E_OK;
}

int pt_map(const struct pt_format *f, const struct pt_ops *ops, hpa_t root, u64 va, hpa_t pa, u64 size,
	   u64 leaf_bits, int max_level)
{
	if (!IS_ALIGNED(va | pa | size, PAGE_SIZE))
		return E_INVAL;
	if (max_level > f->max_leaf_level)
		max_level = f->max_leaf_level;
	u64 *rootp = ops->p2v(root);
	while (size) {
		int level = max_level;
		while (level > 1 && (!IS_ALIGNED(va | pa, pt_level_size(level)) || size < pt_level_size(level)))
			level--;
		u64 *table;
		int r = walk_to(f, ops, rootp, f->levels, va, level, &table);
		if (r)
			return r;
		u64 *ent = &table[pt_index(va, level)];
		if (level > 1 && ent_present(f, *ent) && !ent_leaf(f, *ent, level)) {
			/* replacing a table by a large leaf: free the subtree */
			u64 old = *ent;
			*ent = 0;
			struct pt_format sub = *f;
			sub.levels = level - 1;
			pt_destroy(&sub, ops, old & f->addr_mask);
		}
		*ent = (pa & f->addr_mask) | leaf_bits | (level > 1 ? f->large_bit : 0);
		u64 step = pt_level_size(level);
		va += step;
		pa += step;
		size -= step;
	}
	return E_OK;
}

int pt_unmap(const struct pt_format *f, const struct pt_ops *ops, hpa_t root, u64 va, u64 size)
{
	if (!IS_ALIGNED(va | size, PAGE_SIZE))
		return E_INVAL;
	u64 *rootp = ops->p2v(root);
	while (size) {
		/* find the current mapping's level */
		u64 *table = rootp;
		int level = f->levels;
		u64 *ent = NULL;
		for (;;) {
			ent = &table[pt_index(va, level)];
			if (!ent_present(f, *ent) || ent_leaf(f, *ent, level))
				break;
			table = table_of(f, ops, *ent);
			level--;
		}
		u64 step = pt_level_size(level);
		if (!ent_present(f, *ent)) {
			/* nothing here: skip to the end of this unmapped region */
			u64 next = ALIGN_DOWN(va, step) + step;
			u64 adv = next - va;
			if (adv >= size)
				break;
			size -= adv;
			va = next;
			continue;
		}
		if (!IS_ALIGNED(va, step) || size < step) {
			int r = split_leaf(f, ops, ent, level);
			if (r)
				return r;
			continue; /* retry one level lower */
		}
		*ent = 0;
		va += step;
		size -= step;
	}
	return E_OK;
}

u64 *pt_lookup(const struct pt_format *f, const struct pt_ops *ops, hpa_t root, u64 va, int *level)
{
	u64 *table = ops->p2v(root);
	for (int l = f->levels; l >= 1; l--) {
		u64 *ent = &table[pt_index(va, l)];
		if (!ent_present(f, *ent))
			return NULL;
		if (ent_leaf(f, *ent, l)) {
			if (level)
				*level = l;
			return ent;
		}
		table = table_of(f, ops, *ent);
	}
	return NULL;
}

static void destroy_level(const struct pt_format *f, const struct pt_ops *ops, hpa_t table, int level)
{
	u64 *t = ops->p2v(table);
	if (level > 1) {
		for (int i = 0; i < 512; i++)
			if (ent_present(f, t[i]) && !ent_leaf(f, t[i], level))
				destroy_level(f, ops, t[i] & f->addr_mask, level - 1);
	}
	ops->free_table(ops->ctx, table);
}

void pt_destroy(const struct pt_format *f, const struct pt_ops *ops, hpa_t root)
{
	destroy_level(f, ops, root, f->levels);
}
