/*
 * tests/host/shadow_model.c - the random test's world and architectural
 * model (see shadow_model.h).
 */
#include "tests/host/shadow_model.h"
#include "tests/host/shadow_test.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

uint64_t fz_rnd(struct fz *z)
{
	if (z->in) {
		uint64_t v = 0;
		for (unsigned i = 0; i < 8; i++) {
			if (z->in_pos >= z->in_len) {
				z->in_done = true;
				break;
			}
			v |= (uint64_t)z->in[z->in_pos++] << (8 * i);
		}
		return v;
	}
	z->rng ^= z->rng << 13;
	z->rng ^= z->rng >> 7;
	z->rng ^= z->rng << 17;
	return z->rng;
}

bool fz_chance(struct fz *z, unsigned pct)
{
	return fz_rnd(z) % 100 < pct;
}

/* ---------------------------------------------------------------- gva index */

void fz_map_put(struct fz *z, uint64_t page, int idx)
{
	unsigned h = (unsigned)((page >> 12) * 2654435761u) % MAPSZ;
	while (z->mapv[h] >= 0 && z->mapk[h] != page)
		h = (h + 1) % MAPSZ;
	z->mapk[h] = page;
	z->mapv[h] = (int16_t)idx;
}

int fz_map_get(struct fz *z, uint64_t page)
{
	unsigned h = (unsigned)((page >> 12) * 2654435761u) % MAPSZ;
	while (z->mapv[h] >= 0) {
		if (z->mapk[h] == page)
			return z->mapv[h];
		h = (h + 1) % MAPSZ;
	}
	return -1;
}

void fz_add_gva(struct fz *z, uint64_t gva)
{
	if (z->ngva >= MAXG || fz_map_get(z, gva & ~0xfffULL) >= 0)
		return;
	fz_map_put(z, gva & ~0xfffULL, (int)z->ngva);
	z->gva[z->ngva++] = gva & ~0xfffULL;
}

/* ---------------------------------------------------------------- the model */

bool fz_cur_off(struct fz *z, unsigned v)
{
	return z->t->cpu[v].genv.mode.format == GWALK_FMT_OFF;
}

int fz_ref_walk(struct fz *z, unsigned v, uint64_t gva, uint32_t access, struct gwalk_result *res)
{
	return gwalk_walk(&g_ops, NULL, &z->t->cpu[v].genv, gva, access | GWALK_PEEK, res);
}

static void al_add(struct fz *z, struct al *a, gfn_t gfn, uint8_t perm)
{
	for (unsigned i = 0; i < a->n; i++)
		if (a->t[i].gfn == gfn && a->t[i].perm == perm)
			return;
	if (a->n == AL_MAX) {
		if (!a->any)
			z->n_any++;
		a->any = true;
		return;
	}
	a->t[a->n++] = (struct tr){ gfn, perm };
}

/* Record the current translation of gva @gi on vCPU @v and the entries
 * its walk reads (a write to one of them may change it). */
void fz_ref_record(struct fz *z, unsigned v, unsigned gi)
{
	struct al *a = &z->al[v][gi];
	struct gwalk_result res;
	int st = fz_ref_walk(z, v, z->gva[gi], GWALK_AC, &res);
	const struct gwalk_mode *m = &z->t->cpu[v].genv.mode;

	a->npath = 0;
	a->psize = m->pte_size;
	if (m->format != GWALK_FMT_OFF) {
		unsigned stop = st == GWALK_OK || res.have_leaf ? res.leaf_level : res.fault_level;
		for (unsigned l = res.top_level; l >= stop && l >= 1; l--) {
			if (m->format == GWALK_FMT_PAE && l == 3)
				continue;
			a->path[a->npath++] = res.lv[l].gpa;
		}
	}
	if (st == GWALK_OK)
		al_add(z, a, res.gpa >> 12, res.perm);
}

void fz_ref_reset(struct fz *z, unsigned v, unsigned gi)
{
	z->al[v][gi].n = 0;
	z->al[v][gi].any = false;
	z->al[v][gi].moved = false;
	fz_ref_record(z, v, gi);
}

void fz_ref_reset_all(struct fz *z, unsigned v)
{
	for (unsigned gi = 0; gi < z->ngva; gi++)
		fz_ref_reset(z, v, gi);
}

/* Guest memory [gpa, gpa + size) changed. */
void fz_ref_written(struct fz *z, gpa_t gpa, unsigned size)
{
	for (unsigned v = 0; v < NCPU; v++) {
		for (unsigned gi = 0; gi < z->ngva; gi++) {
			struct al *a = &z->al[v][gi];
			for (unsigned k = 0; k < a->npath; k++) {
				if (a->path[k] < gpa + size && gpa < a->path[k] + a->psize) {
					a->moved = true;
					fz_ref_record(z, v, gi);
					break;
				}
			}
		}
	}
}

bool fz_al_allows(struct fz *z, unsigned v, int gi, gfn_t gfn, uint32_t access, uint8_t perm, bool use_perm)
{
	if (gi < 0)
		return false;
	struct al *a = &z->al[v][gi];
	if (a->any)
		return true;
	for (unsigned i = 0; i < a->n; i++) {
		if (a->t[i].gfn != gfn)
			continue;
		if (use_perm ? perm_subset(perm, a->t[i].perm) : perm_allows(a->t[i].perm, access))
			return true;
	}
	return false;
}

void fz_al_dump(struct fz *z, unsigned v, int gi)
{
	if (gi < 0 || !getenv("SHADOW_TRACE"))
		return;
	struct al *a = &z->al[v][gi];
	fprintf(stderr, "  model vcpu %u gva %#" PRIx64 ": any %d moved %d:", v, z->gva[gi], a->any, a->moved);
	for (unsigned i = 0; i < a->n; i++)
		fprintf(stderr, " %#" PRIx64 "/%#x", a->t[i].gfn, a->t[i].perm);
	fprintf(stderr, "; path");
	for (unsigned i = 0; i < a->npath; i++)
		fprintf(stderr, " %#" PRIx64, a->path[i]);
	fprintf(stderr, "\n");
}

bool fz_hpa_gfn(uint64_t hpa, gfn_t *gfn)
{
	if (hpa < G_HPA_BASE || !g_is_ram(hpa - G_HPA_BASE))
		return false;
	*gfn = (hpa - G_HPA_BASE) >> 12;
	return true;
}

/* ---------------------------------------------------------------- the world */

static uint64_t rand_leaf_flags(struct fz *z, bool e8)
{
	uint64_t f = 0;
	if (fz_chance(z, 75))
		f |= PTE_RW;
	if (fz_chance(z, 70))
		f |= PTE_US;
	if (e8 && fz_chance(z, 15))
		f |= PTE_NX;
	if (fz_chance(z, 50))
		f |= PTE_A;
	if (fz_chance(z, 40))
		f |= PTE_D;
	if (fz_chance(z, 10))
		f |= PTE_G;
	return f;
}

uint64_t fz_rand_target(struct fz *z)
{
	unsigned r = fz_rnd(z) % 100;
	if (r < 4)
		return G_TBL_BASE + (fz_rnd(z) % G_TBL_FRAMES) * PAGE_SIZE; /* aliases a table */
	if (r < 7)
		return (r & 1) ? 0xa0000 : 0x10000000;                  /* not RAM */
	return data_gpa((unsigned)(fz_rnd(z) % G_DATA_FRAMES));
}

struct region {
	uint64_t gva;
	unsigned pages;
	uint64_t size;     /* leaf size */
	uint64_t gpa;      /* large pages and MMIO: fixed target */
	const uint64_t *samples; /* large pages: offsets to access */
	unsigned nsamples;
};

static const uint64_t s4m[] = { 0, 0x1000, 0x200000, 0x3ff000 };
static const uint64_t s2m[] = { 0, 0x1ff000 };
static const uint64_t s1g[] = { 0x1000, 0x400000, 0xa0000, 0x20000000 };

/* 4 KiB regions spread over PD quadrants and PT halves (32-bit), PDPTEs
 * (PAE), both canonical halves (long); MMIO; a large page. */
#define R4K(gva, n) { gva, n, PAGE_SIZE, 0, NULL, 0 }
#define RMMIO(gva, gpa) { gva, 1, PAGE_SIZE, gpa, NULL, 0 }
static const struct region r32[] = {
	R4K(0x00400000, 6), R4K(0x00600000, 3), R4K(0x00800000, 2), R4K(0x40000000, 3),
	R4K(0x80200000, 3), R4K(0xc0000000, 3), R4K(0xffbff000, 1),
	RMMIO(0x00a00000, 0xa0000), RMMIO(0x00a01000, 0x10000000),
	{ 0x7fc00000, 1, 4 * MiB, G_HIGH_BASE, s4m, 4 }, /* PSE-36: above 4 GiB */
};
static const struct region rpae[] = {
	R4K(0x00400000, 6), R4K(0x00600000, 3), R4K(0x00800000, 2), R4K(0x40000000, 3),
	R4K(0x80200000, 3), R4K(0xc0000000, 3), R4K(0xffbff000, 1),
	RMMIO(0x00a00000, 0xa0000), RMMIO(0x00a01000, 0x10000000),
	{ 0x7fe00000, 1, 2 * MiB, G_HIGH_BASE + 2 * MiB, s2m, 2 },
};
static const struct region rlong[] = {
	R4K(0x0000000000400000ULL, 6), R4K(0x0000000000600000ULL, 3), R4K(0x00007fffffe00000ULL, 2),
	R4K(0xffff800000200000ULL, 3), R4K(0xffffffffffe00000ULL, 2),
	RMMIO(0x0000000000a00000ULL, 0xa0000), RMMIO(0x0000000000a01000ULL, 0x10000000),
	{ 0x0000004000000000ULL, 1, GiB, 0, s1g, 4 },
	{ 0x000000007fe00000ULL, 1, 2 * MiB, G_HIGH_BASE + 2 * MiB, s2m, 2 },
	R4K(0x0001000000400000ULL, 2), /* 5-level only: PML5 entry 2 */
};

static unsigned top_index(int fmt, uint64_t gva)
{
	switch (fmt) {
	case GWALK_FMT_32: return (unsigned)(gva >> 22) & 1023;
	case GWALK_FMT_PAE: return (unsigned)(gva >> 30) & 3;
	case GWALK_FMT_4LVL: return (unsigned)(gva >> 39) & 511;
	default: return (unsigned)(gva >> 48) & 511;
	}
}

static gpa_t top_entry(int fmt, uint64_t cr3, uint64_t gva)
{
	unsigned size = fmt == GWALK_FMT_32 ? 4 : 8;
	gpa_t base = fmt == GWALK_FMT_PAE ? cr3 & ~31ULL : cr3 & ~0xfffULL;
	return base + top_index(fmt, gva) * size;
}

void fz_build_world(struct fz *z)
{
	const struct region *rs;
	unsigned nr;
	bool e8 = z->fmt != GWALK_FMT_32;
	unsigned esz = e8 ? 8 : 4;

	if (z->fmt == GWALK_FMT_32) {
		rs = r32;
		nr = ARRAY_SIZE(r32);
	} else if (z->fmt == GWALK_FMT_PAE) {
		rs = rpae;
		nr = ARRAY_SIZE(rpae);
	} else {
		rs = rlong;
		nr = ARRAY_SIZE(rlong) - (z->fmt == GWALK_FMT_4LVL);
	}
	z->self_base = e8 && z->fmt != GWALK_FMT_PAE ? 0xffff900000000000ULL : 0xe0000000ULL;
	z->nas = NAS;
	for (unsigned a = 0; a < NAS; a++) {
		uint64_t cr3 = z->cr3[a] = gb_new_as(&z->t->w, z->fmt);
		for (unsigned ri = 0; ri < nr; ri++) {
			const struct region *r = &rs[ri];
			gpa_t te = top_entry(z->fmt, cr3, r->gva);
			if (a > 0 && (top_index(z->fmt, r->gva) + a) % 3 == 0) {
				/* Share the first address space's subtree. */
				g_put(te, esz, g_get(top_entry(z->fmt, z->cr3[0], r->gva), esz));
				continue;
			}
			for (unsigned p = 0; p < r->pages; p++) {
				uint64_t target = r->size == PAGE_SIZE && !r->gpa ? fz_rand_target(z) : r->gpa;
				uint64_t tf = PTE_RW | PTE_US | (fz_chance(z, 50) ? PTE_A : 0);
				gb_map(&z->t->w, z->fmt, cr3, r->gva + p * r->size, target, r->size,
				       rand_leaf_flags(z, e8), tf);
			}
		}
		/* The self-map: every table frame, in every address space. */
		if (a == 0) {
			for (unsigned i = 0; i < G_TBL_FRAMES; i++)
				gb_map(&z->t->w, z->fmt, cr3, z->self_base + i * PAGE_SIZE, G_TBL_BASE + i * PAGE_SIZE,
				       PAGE_SIZE, PTE_RW | PTE_A | PTE_D, PTE_RW | PTE_US);
		} else {
			g_put(top_entry(z->fmt, cr3, z->self_base), esz,
			      g_get(top_entry(z->fmt, z->cr3[0], z->self_base), esz));
		}
	}
	for (unsigned ri = 0; ri < nr; ri++) {
		const struct region *r = &rs[ri];
		if (r->samples)
			for (unsigned k = 0; k < r->nsamples; k++)
				fz_add_gva(z, r->gva + r->samples[k]);
		else
			for (unsigned p = 0; p < r->pages; p++)
				fz_add_gva(z, r->gva + p * PAGE_SIZE);
	}
	z->self_first = z->ngva;
	for (unsigned i = 0; i < G_TBL_FRAMES; i++)
		fz_add_gva(z, z->self_base + i * PAGE_SIZE);
}

uint64_t fz_snap_get(struct fz *z, gpa_t gpa, unsigned size)
{
	uint64_t v = 0;
	if (gpa >= G_TBL_BASE && gpa + size <= G_TBL_BASE + G_TBL_FRAMES * PAGE_SIZE)
		memcpy(&v, z->snap + (gpa - G_TBL_BASE), size);
	return v;
}

/* ---------------------------------------------------------------- shared helpers (shadow_test.h) */

void set_state(struct sim_cpu *c, const struct gstate *gs, const char *what)
{
	int r = sim_set_state(c, gs);
	CHECK(r == E_OK, "%s: set state: %d", what, r);
}

uint64_t data_gpa(unsigned i)
{
	return G_DATA_BASE + (uint64_t)i * PAGE_SIZE;
}
