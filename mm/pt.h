/*
 * mm/pt.h - the page-table engine: one implementation of map/unmap/lookup
 * for every radix page-table format Umbra builds (host long-mode tables,
 * NPT, which uses the same format, and EPT). A format is data, not code.
 *
 * Levels are numbered from the leaf: 1 = PT (4 KiB), 2 = PD (2 MiB),
 * 3 = PDPT (1 GiB), 4 = PML4, 5 = PML5.
 *
 *   63   51      47..39   38..30   29..21   20..12   11..0
 *   [attr][.....][ L4   ][  L3   ][  L2   ][  L1   ][offset]
 *
 * Pure code: memory is reached through pt_ops callbacks, so it runs on the
 * host in unit tests. Not locked: callers serialize per table tree.
 */
#ifndef UMBRA_MM_PT_H
#define UMBRA_MM_PT_H

#include "kernel/types.h"

struct pt_format {
	const char *name;
	int levels;           /* 4 or 5 */
	int max_leaf_level;   /* 1: 4K only, 2: up to 2M, 3: up to 1G */
	u64 addr_mask;        /* physical address bits of an entry */
	u64 present_mask;     /* entry is present when any of these is set */
	u64 table_bits;       /* bits of an entry that points to a table */
	u64 large_bit;        /* PS: entry at level 2/3 is a leaf */
};

struct pt_ops {
	void *(*p2v)(hpa_t pa);
	/* allocate a zeroed 4 KiB table; E_NOMEM on exhaustion */
	int (*alloc_table)(void *ctx, hpa_t *out);
	void (*free_table)(void *ctx, hpa_t pa);
	void *ctx;
};

/* Host/NPT entry bits (SDM vol. 3A §5.5, APM vol. 2 §5.3). */
#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_US BIT(2)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_G BIT(8)
#define PTE_NX BIT(63)
#define PTE_ADDR_MASK GENMASK(51, 12)

extern const struct pt_format pt_format_x86_4level;

/* Map [va, va+size) to [pa, pa+size) with @leaf_bits (format-specific
 * permission bits; the engine adds the large-page bit), using the largest
 * leaves that alignment, @max_level and the format allow. Existing
 * mappings are replaced; large leaves are split when only part of one is
 * remapped. Returns E_NOMEM (tables partly built, still consistent) or
 * E_INVAL for misaligned arguments. */
int pt_map(const struct pt_format *f, const struct pt_ops *ops, hpa_t root, u64 va, hpa_t pa, u64 size,
	   u64 leaf_bits, int max_level);

/* Remove the mappings of [va, va+size), splitting large leaves as needed.
 * Tables that become empty are kept. */
int pt_unmap(const struct pt_format *f, const struct pt_ops *ops, hpa_t root, u64 va, u64 size);

/* The leaf entry translating @va and its level, or NULL when unmapped. */
u64 *pt_lookup(const struct pt_format *f, const struct pt_ops *ops, hpa_t root, u64 va, int *level);

/* Free every table below @root (not leaves' targets), then @root. */
void pt_destroy(const struct pt_format *f, const struct pt_ops *ops, hpa_t root);

static inline u64 pt_level_size(int level)
{
	return 1ULL << (PAGE_SHIFT + 9 * (level - 1));
}

static inline unsigned pt_index(u64 va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

#endif
