/*
 * tests/host/shadow_model.h - the world and the architectural model of
 * the shadow MMU's random test (test_shadow_fuzz.c).
 *
 * The world: NAS address spaces in one paging format, sharing some
 * subtrees, mapping 4 KiB data pages (some aliasing page tables, some not
 * RAM), large pages, MMIO, and a self-map of every guest table frame.
 *
 * The model (SDM §4.10: a TLB may keep a translation after the paging
 * entries change, until the guest invalidates it): for each vCPU and test
 * address, the set of translations (frame, rights) that were current at
 * some point since that vCPU last invalidated the address (INVLPG of it,
 * CR3 load or mode change, full flush), and the guest entries the current
 * walk reads (a write to one of them may change the translation).
 */
#ifndef UMBRA_TESTS_SHADOW_MODEL_H
#define UMBRA_TESTS_SHADOW_MODEL_H

#include "tests/host/shadow_test.h"

#define NAS 6
#define NCPU 2
#define MAXG 320
#define AL_MAX 12
#define MAPSZ 1024

struct tr {
	gfn_t gfn;
	uint8_t perm;
};

struct al {
	uint8_t n, npath, psize;
	bool any;            /* overflow: anything allowed until the next flush */
	bool moved;          /* its entries were written since the flush */
	struct tr t[AL_MAX];
	gpa_t path[6];
};

struct fz {
	struct tworld *t;
	int fmt;
	uint64_t rng;
	uint64_t cr3[NAS];
	unsigned nas;
	struct gstate gs[NCPU];
	uint64_t gva[MAXG];
	unsigned ngva, self_first;
	uint64_t self_base;
	struct al al[NCPU][MAXG];
	uint64_t mapk[MAPSZ];
	int16_t mapv[MAPSZ];
	unsigned long n_ok, n_gf, n_emul, n_kill, n_pte, n_pte_acc, n_invlpg, n_cr3, n_mode, n_flush, n_zap,
		n_any, n_stale, n_off;
	struct shadow_stats st;
	uint8_t *snap;       /* the table pool as built: mutations revert to it */
	/* libFuzzer (tests/fuzz/fuzz_shadow.c): when set, the "random"
	 * numbers are the input's bytes; in_done once they ran out */
	const uint8_t *in;
	size_t in_len, in_pos;
	bool in_done;
};


/* Random numbers (xorshift on z->rng, or the fuzzer's input bytes);
 * fz_chance: true with @pct %. */
uint64_t fz_rnd(struct fz *z);
bool fz_chance(struct fz *z, unsigned pct);
/* Test addresses: page -> index into z->gva (-1 when not a test page). */
void fz_map_put(struct fz *z, uint64_t page, int idx);
int fz_map_get(struct fz *z, uint64_t page);
void fz_add_gva(struct fz *z, uint64_t gva);
/* Is vCPU @v's guest paging off? */
bool fz_cur_off(struct fz *z, unsigned v);
/* The reference walk of vCPU @v (gwalk with GWALK_PEEK: changes nothing). */
int fz_ref_walk(struct fz *z, unsigned v, uint64_t gva, uint32_t access, struct gwalk_result *res);
/* Add the current translation of test address @gi to vCPU @v's set. */
void fz_ref_record(struct fz *z, unsigned v, unsigned gi);
/* vCPU @v invalidated @gi (or everything): the set is what is current. */
void fz_ref_reset(struct fz *z, unsigned v, unsigned gi);
void fz_ref_reset_all(struct fz *z, unsigned v);
/* Guest memory [gpa, gpa + size) changed: record new translations. */
void fz_ref_written(struct fz *z, gpa_t gpa, unsigned size);
/* Does the set of (@v, @gi) hold frame @gfn with rights allowing @access
 * (use_perm: with rights including @perm)? */
bool fz_al_allows(struct fz *z, unsigned v, int gi, gfn_t gfn, uint32_t access, uint8_t perm, bool use_perm);
/* Print the set (with SHADOW_TRACE in the environment). */
void fz_al_dump(struct fz *z, unsigned v, int gi);
/* Guest frame of a host address of guest RAM; false otherwise. */
bool fz_hpa_gfn(uint64_t hpa, gfn_t *gfn);
/* A frame for a data mapping: mostly data, sometimes a page table or not
 * RAM. */
uint64_t fz_rand_target(struct fz *z);
/* Build the address spaces of z->fmt and the list of test addresses. */
void fz_build_world(struct fz *z);
/* The guest entry at @gpa as built (table pool snapshot). */
uint64_t fz_snap_get(struct fz *z, gpa_t gpa, unsigned size);

#endif
