/*
 * tests/host/gwalk_path.h - small helpers for the targeted walker tests:
 * lay out one translation path in fake memory and describe a CPU.
 */
#ifndef UMBRA_TESTS_GWALK_PATH_H
#define UMBRA_TESTS_GWALK_PATH_H

#include "tests/host/gwalk_fake.h"

enum { P_32, P_PAE, P_4L, P_5L };

#define PATH_MEM (32 * 4096)
#define PT_TBL(level) (0x1000ULL * ((level) + 1)) /* table page of each level */
#define PT_PDPT 0x1fe0ULL                         /* PAE PDPT */

struct path {
	int fmt;
	int top;              /* top level */
	unsigned size;        /* entry size */
	uint64_t la;
	uint64_t gpa[6];      /* where each level's entry lives */
	struct ref_cpu cpu;   /* registers to walk it with */
};

/* A CPU in format @fmt with CR0.WP, EFER.NXE, CR4.PSE and PGE set, PSE-36,
 * 1-GiB pages and LA57 present, MAXPHYADDR 36, CPL 0. */
struct ref_cpu path_cpu(int fmt);

/* Write @v[level] for level = top..leaf as the entries translating @la;
 * the caller includes the table addresses PT_TBL(level - 1) itself. For
 * PAE the PDPTE registers are loaded from memory (must succeed unless
 * cpu.pdpte_in_memory). */
void path_build(struct fmem *fm, struct path *p, int fmt, uint64_t la, const uint64_t *v, int leaf);

/* The standard address for a format (distinct indices at every level). */
uint64_t path_la(int fmt);

/* A valid path of all P|RW|US entries ending in a leaf at @leaf mapping
 * @frame. */
void path_simple(struct fmem *fm, struct path *p, int fmt, int leaf, uint64_t frame);

/* Walk with the path's CPU; flags as for gwalk_walk. */
int path_walk(struct fmem *fm, const struct path *p, u32 access, struct gwalk_result *res);

#endif
