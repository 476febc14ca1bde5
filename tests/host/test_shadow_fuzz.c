/*
 * tests/host/test_shadow_fuzz.c - random sequences against the shadow MMU
 * with an architectural model of what a guest may observe.
 *
 * The world: 6 address spaces per paging format, sharing some tables,
 * mapping data pages, large pages, MMIO and a self-map of every guest
 * table frame; 2 vCPUs. Steps: accesses (read/write/fetch, user or
 * supervisor, EFLAGS.AC), guest PTE writes (emulated when the frame is
 * write-tracked, direct otherwise, or through the self-map as the guest
 * would), INVLPG, CR3 loads, CR0.WP/CR4/EFER changes, paging off and on,
 * TLB flushes, zap_all; with a random page limit.
 *
 * The model (SDM §4.10: a TLB may keep a translation after the paging
 * entries change, until the guest invalidates it): per vCPU and address,
 * the set of translations that were current at some point since that
 * vCPU last invalidated it (INVLPG of the address, CR3 load / mode change,
 * or a full flush). A translation the simulated hardware uses must be in
 * that set, with the rights used; a #PF must be exactly the one the
 * walker reports; an emulation request must have a reason.
 *
 * Invariants after every step: page count within the limit; every TLB
 * entry within the model; nothing writable (TLB or shadow) maps a
 * write-tracked frame. Every 16 steps: every shadow leaf reachable from
 * each vCPU's root maps the current guest translation's host frame with
 * no wider rights (unsync leaf tables: within the model), with the guest's
 * A (and, if writable, D) flags set, under a role of the current CR0.WP.
 *
 * The model and the world are in shadow_model.c. Debugging a failure:
 * SHADOW_FMT=<0..3> SHADOW_SEED=<n> narrow the run to one case,
 * SHADOW_TRACE=1 prints every step, SHADOW_ABORT=1 traps at the first
 * failure (for gdb).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mm/shadow_priv.h"
#include "tests/host/shadow_model.h"

/* ---------------------------------------------------------------- checks */

struct leaf_ctx {
	struct fz *z;
	unsigned v;
};

static void check_leaf(void *ctx, struct sim_cpu *c, uint64_t gva, uint64_t hpa, uint8_t perm, hpa_t pt_hpa)
{
	struct leaf_ctx *lc = ctx;
	struct fz *z = lc->z;
	struct shadow_page *sp = shadow_page_by_hpa(z->t->svm, pt_hpa);
	gfn_t gfn;

	g_checks++;
	if (!sp || (sp->flags & SP_ZAPPED)) {
		FAIL("leaf of gva %#" PRIx64 " in a table that is not a live shadow page", gva);
		return;
	}
	if (!fz_hpa_gfn(hpa, &gfn)) {
		FAIL("shadow leaf of gva %#" PRIx64 " maps %#" PRIx64 ", not guest RAM", gva, hpa);
		return;
	}
	bool writable = perm & (GWALK_P_UW | GWALK_P_SW);
	if (writable && shadow_gfn_tracked(z->t->svm, gfn))
		FAIL("shadow leaf of gva %#" PRIx64 " maps tracked gfn %#" PRIx64 " writable", gva, gfn);
	bool wp = z->gs[lc->v].cr0 & CR0_WP;
	if (fz_cur_off(z, lc->v))
		CHECK(!(sp->role & ROLE_MODE_MASK), "paging-off leaf under role %#x", sp->role);
	else
		CHECK(!!(sp->role & ROLE_WP) == wp, "leaf of gva %#" PRIx64 " under a role of CR0.WP = %d", gva, !wp);
	if (sp->flags & SP_UNSYNC) {
		int gi = fz_map_get(z, gva);
		if (gi >= 0 && !fz_al_allows(z, lc->v, gi, gfn, 0, perm, true)) {
			FAIL("vcpu %u: unsync leaf of gva %#" PRIx64 " -> %#" PRIx64 " perm %#x: never current since the last flush"
			     " (page gfn %#" PRIx64 " role %#x)",
			     lc->v, gva, gfn, perm, sp->gfn, sp->role);
			fz_al_dump(z, lc->v, gi);
		}
		return;
	}
	struct gwalk_result res;
	int st = fz_ref_walk(z, lc->v, gva, GWALK_AC, &res);
	if (st != GWALK_OK || res.gpa >> 12 != gfn || !perm_subset(perm, res.perm)) {
		FAIL("vcpu %u: shadow leaf gva %#" PRIx64 " -> gfn %#" PRIx64 " perm %#x; guest: %s gpa %#" PRIx64
		     " perm %#x (page %#" PRIx64 " role %#x)",
		     lc->v, gva, gfn, perm, gwalk_status_name(st), res.gpa, res.perm, sp->gfn, sp->role);
		return;
	}
	if (c->genv.mode.format == GWALK_FMT_OFF)
		return;
	for (unsigned l = res.leaf_level; l <= res.top_level; l++) {
		if (c->genv.mode.format == GWALK_FMT_PAE && l == 3)
			continue;
		CHECK(res.lv[l].pte & PTE_A, "gva %#" PRIx64 ": shadowed but guest A clear at level %u", gva, l);
	}
	if (writable)
		CHECK(res.lv[res.leaf_level].pte & PTE_D, "gva %#" PRIx64 ": writable shadow, guest D clear", gva);
}

static void check_tlbs(struct fz *z)
{
	for (unsigned v = 0; v < NCPU; v++) {
		struct sim_cpu *c = &z->t->cpu[v];
		for (unsigned i = 0; i < TLB_SIZE; i++) {
			struct tlb_entry *e = &c->tlb[i];
			gfn_t gfn;
			if (!e->valid)
				continue;
			g_checks++;
			if (!fz_hpa_gfn(e->hpa_page, &gfn)) {
				FAIL("TLB entry maps %#" PRIx64 ", not guest RAM", e->hpa_page);
				continue;
			}
			if ((e->perm & (GWALK_P_UW | GWALK_P_SW)) && shadow_gfn_tracked(z->t->svm, gfn))
				FAIL("vcpu %u TLB: gva %#" PRIx64 " writable to tracked gfn %#" PRIx64 " (missing flush)", v,
				     e->gva_page, gfn);
			if (!fz_al_allows(z, v, fz_map_get(z, e->gva_page), gfn, 0, e->perm, true)) {
				FAIL("vcpu %u TLB: gva %#" PRIx64 " -> gfn %#" PRIx64 " perm %#x is stale past a flush", v,
				     e->gva_page, gfn, e->perm);
				fz_al_dump(z, v, fz_map_get(z, e->gva_page));
			}
		}
	}
}

static void check_all(struct fz *z, bool full)
{
	struct shadow_stats st = tw_stats(z->t);
	CHECK(st.pages_in_use <= st.max_pages && !st.overshoots, "%" PRIu64 " pages in use, limit %" PRIu64,
	      st.pages_in_use, st.max_pages);
	check_tlbs(z);
	if (!full)
		return;
	for (unsigned v = 0; v < NCPU; v++) {
		struct leaf_ctx lc = { z, v };
		sim_enter(&z->t->cpu[v]);
		sim_for_each_leaf(&z->t->cpu[v], check_leaf, &lc);
	}
}

/* ---------------------------------------------------------------- steps */

static void do_access(struct fz *z, unsigned v, uint64_t gva, uint32_t access, unsigned size, uint64_t val)
{
	struct sim_cpu *c = &z->t->cpu[v];
	struct gwalk_result ref, ref2;
	struct sim_result r;
	int gi = fz_map_get(z, gva & ~0xfffULL);
	bool write = (access & GWALK_WRITE) && !(access & GWALK_FETCH);

	if (c->hw.pae)
		gva &= 0xffffffffULL;
	int st = fz_ref_walk(z, v, gva, access, &ref);
	sim_access(c, gva, access, &r);
	if (getenv("SHADOW_TRACE"))
		fprintf(stderr, "  access v%u %#" PRIx64 " acc %#x -> %d hpa %#" PRIx64 " tlb %d faults %u (ref %s %#" PRIx64 ")\n",
			v, gva, access, r.outcome, r.hpa, r.via_tlb, r.faults, gwalk_status_name(st), ref.gpa);
	switch (r.outcome) {
	case SIM_OK: {
		gfn_t gfn;
		z->n_ok++;
		if (!fz_hpa_gfn(r.hpa, &gfn)) {
			FAIL("access reached %#" PRIx64 ", not guest RAM", r.hpa);
			return;
		}
		if (!fz_al_allows(z, v, gi, gfn, access, 0, false)) {
			FAIL("vcpu %u %s of gva %#" PRIx64 " (access %#x) used gfn %#" PRIx64
			     "; guest: %s gpa %#" PRIx64 " err %#x",
			     v, r.via_tlb ? "TLB hit" : "walk", gva, access, gfn, gwalk_status_name(st), ref.gpa,
			     ref.error_code);
			return;
		}
		if (st != GWALK_OK || ref.gpa >> 12 != gfn)
			z->n_stale++;
		else if (!fz_cur_off(z, v) && gi >= 0 && !z->al[v][gi].moved) {
			/* Not possibly an older entry's translation: the
			 * guest's entries must show the use. */
			fz_ref_walk(z, v, gva, access, &ref2);
			CHECK(ref2.lv[ref2.leaf_level].pte & PTE_A, "access through a leaf with A clear");
			if (write)
				CHECK(ref2.lv[ref2.leaf_level].pte & PTE_D, "write through a leaf with D clear");
		}
		if (write) {
			gpa_t gpa = (gfn << 12) | (gva & 0xfff);
			if (shadow_gfn_tracked(z->t->svm, gfn))
				FAIL("the guest wrote tracked gfn %#" PRIx64 " without a fault", gfn);
			g_put(gpa, size, val);
			if (getenv("SHADOW_TRACE"))
				fprintf(stderr, "  (store %#" PRIx64 " := %#" PRIx64 ")\n", gpa, val);
			fz_ref_written(z, gpa, size);
		}
		return;
	}
	case SIM_GUEST_FAULT:
		z->n_gf++;
		CHECK(st == GWALK_PF && ref.error_code == r.error, "gva %#" PRIx64 " access %#x: #PF %#x, walker %s %#x",
		      gva, access, r.error, gwalk_status_name(st), ref.error_code);
		return;
	case SIM_EMULATE: {
		z->n_emul++;
		gfn_t gfn = r.gpa >> 12;
		CHECK(st == GWALK_OK && r.gpa == ref.gpa, "emulate gpa %#" PRIx64 " for gva %#" PRIx64 ": walker %s %#" PRIx64,
		      r.gpa, gva, gwalk_status_name(st), ref.gpa);
		bool sup = !(access & GWALK_USER);
		bool reason = !g_is_ram(r.gpa) ||
			      (write && (shadow_gfn_tracked(z->t->svm, gfn) ||
					 (sup && !(z->gs[v].cr0 & CR0_WP) && (z->gs[v].cr4 & CR4_SMAP))));
		CHECK(reason, "emulation of gva %#" PRIx64 " access %#x without a reason", gva, access);
		if (write && g_is_ram(r.gpa)) {
			g_put(r.gpa, size, val);
			shadow_gpa_written(z->t->svm, r.gpa, size);
			fz_ref_written(z, r.gpa, size);
		}
		return;
	}
	case SIM_KILL:
		z->n_kill++;
		CHECK(st == GWALK_BAD_GPA, "kill for gva %#" PRIx64 ": walker says %s", gva, gwalk_status_name(st));
		return;
	default:
		FAIL("livelock: gva %#" PRIx64 " access %#x keeps faulting", gva, access);
	}
}

static uint32_t rand_access(struct fz *z)
{
	uint32_t a = 0;
	unsigned k = fz_rnd(z) % 10;
	if (k < 3)
		a |= GWALK_WRITE;
	else if (k < 5)
		a |= GWALK_FETCH;
	if (fz_chance(z, 45))
		a |= GWALK_USER;
	if (fz_chance(z, 50))
		a |= GWALK_AC;
	return a;
}

/* A new value for the guest entry at @gpa holding @v: a flag flipped, a
 * new target (tables: aliases and loops), a reserved bit, or (often, so
 * the world stays usable) its value as built. */
static uint64_t mutate(struct fz *z, gpa_t gpa, uint64_t v, bool e8)
{
	uint64_t amask = e8 ? GENMASK(51, 12) : GENMASK(31, 12);
	if (fz_chance(z, 30))
		return fz_snap_get(z, gpa, e8 ? 8 : 4);
	switch (fz_rnd(z) % 18) {
	case 0: case 1: return v ^ PTE_RW;
	case 2: case 3: return v ^ PTE_US;
	case 4: return e8 ? v ^ PTE_NX : v ^ PTE_PWT;
	case 5: return v ^ PTE_A;
	case 6: return v ^ PTE_D;
	case 7: return v ^ PTE_P;
	case 8: return v ^ PTE_PS;
	case 9: case 10: return (v & ~amask) | (G_TBL_BASE + (fz_rnd(z) % 24) * PAGE_SIZE);
	case 11: case 12: case 13: return (v & ~amask) | fz_rand_target(z);
	case 14: return (v & ~amask) | (fz_chance(z, 50) ? 0xa0000 : 0x10000000);
	case 15: return v | (e8 ? BIT(40) : BIT(21));
	case 16: return 0;
	default: return v | PTE_P | PTE_A;
	}
}

/* Pick a guest entry on the path of a test address in a random address
 * space: its gpa, size. False when none. */
static bool pick_entry(struct fz *z, unsigned v, gpa_t *gpa, unsigned *size)
{
	struct sim_cpu *c = &z->t->cpu[v];
	if (fz_cur_off(z, v))
		return false;
	struct gwalk_env env = c->genv;
	env.cr3 = z->cr3[fz_rnd(z) % z->nas];
	if (env.mode.format == GWALK_FMT_PAE && gwalk_load_pdptes(&g_ops, NULL, &env.mode, env.cr3, env.pdpte))
		return false;
	uint64_t gva = z->gva[fz_rnd(z) % z->self_first];
	struct gwalk_result res;
	int st = gwalk_walk(&g_ops, NULL, &env, gva, GWALK_PEEK | GWALK_AC, &res);
	unsigned stop = st == GWALK_OK || res.have_leaf ? res.leaf_level : res.fault_level;
	if (stop < 1 || stop > res.top_level)
		return false;
	unsigned l = stop + (unsigned)(fz_rnd(z) % (res.top_level - stop + 1));
	*gpa = res.lv[l].gpa;
	*size = env.mode.pte_size;
	return g_is_ram(*gpa);
}

static void write_entry(struct fz *z, gpa_t gpa, unsigned size, uint64_t val);

static void step_pte_write(struct fz *z, unsigned v, bool via_access)
{
	gpa_t gpa;
	unsigned size;
	if (!pick_entry(z, v, &gpa, &size))
		return;
	uint64_t val = mutate(z, gpa, g_get(gpa, size), size == 8);
	if (via_access && gpa >= G_TBL_BASE && gpa < G_TBL_BASE + G_TBL_FRAMES * PAGE_SIZE) {
		/* As the guest does it: a store through the self-map. */
		z->n_pte_acc++;
		uint64_t gva = z->self_base + (gpa - G_TBL_BASE);
		do_access(z, v, gva, GWALK_WRITE | (fz_chance(z, 20) ? GWALK_USER : 0) | GWALK_AC, size, val);
		return;
	}
	z->n_pte++;
	write_entry(z, gpa, size, val);
}

/* A guest store to the entry at @gpa as Umbra sees it: emulated (and
 * reported) when the frame is write-tracked - after checking that the
 * guest could not have stored there itself - else direct. */
static void write_entry(struct fz *z, gpa_t gpa, unsigned size, uint64_t val)
{
	gfn_t gfn = gpa >> 12;
	if (getenv("SHADOW_TRACE"))
		fprintf(stderr, "  write %#" PRIx64 " := %#" PRIx64 " tracked %d\n", gpa, val, shadow_gfn_tracked(z->t->svm, gfn));
	if (shadow_gfn_tracked(z->t->svm, gfn)) {
		for (unsigned c = 0; c < NCPU; c++) {
			struct sim_cpu *cpu = &z->t->cpu[c];
			uint64_t sg = z->self_base + (gpa & ~0xfffULL) - G_TBL_BASE;
			uint64_t hpa;
			uint8_t perm;
			if (gpa < G_TBL_BASE || cpu->hw.pae != (sg < 4 * GiB))
				continue;
			sim_enter(cpu); /* PDPTE registers as the next entry loads them */
			int gi = fz_map_get(z, sg);
			struct tlb_entry *e = &cpu->tlb[(sg >> 12) % TLB_SIZE];
			if (e->valid && e->gva_page == sg && e->hpa_page == g_hpa(gpa & ~0xfffULL))
				CHECK(!(e->perm & (GWALK_P_SW | GWALK_P_UW)), "tracked frame writable in a TLB");
			if (gi >= 0 && sim_hw_walk(cpu, sg, &hpa, &perm) && hpa == g_hpa(gpa & ~0xfffULL))
				CHECK(!(perm & (GWALK_P_SW | GWALK_P_UW)), "tracked frame writable in the shadow");
		}
		g_put(gpa, size, val);
		shadow_gpa_written(z->t->svm, gpa, size);
	} else {
		g_put(gpa, size, val);
	}
	fz_ref_written(z, gpa, size);
}

/* Change the leaf of an address a vCPU uses (often one its TLB holds) as
 * a guest kernel does: narrow its rights or move it, by a store through
 * the self-map (fault, then unsync or emulation) or as an emulated or
 * direct write; use it (the old translation is allowed until the
 * guest's flush), maybe on the other vCPU, maybe INVLPG then use it. */
static void step_remap(struct fz *z, unsigned v)
{
	struct gwalk_result res;
	unsigned gi = (unsigned)(fz_rnd(z) % z->self_first);
	if (fz_cur_off(z, v))
		return;
	if (fz_chance(z, 60))
		do_access(z, v, z->gva[gi], rand_access(z), 8, fz_rnd(z));
	if (fz_ref_walk(z, v, z->gva[gi], GWALK_AC, &res) != GWALK_OK)
		return;
	gpa_t gpa = res.lv[res.leaf_level].gpa;
	uint64_t val = res.lv[res.leaf_level].pte;
	unsigned size = z->t->cpu[v].genv.mode.pte_size;
	if (gpa < G_TBL_BASE || gpa >= G_TBL_BASE + G_TBL_FRAMES * PAGE_SIZE)
		return;
	switch (fz_rnd(z) % 6) {
	case 0: val &= ~PTE_RW; break;
	case 1: val &= ~PTE_US; break;
	case 2: val |= size == 8 ? PTE_NX : 0; break;
	case 3: val &= ~PTE_P; break;
	default:
		if (res.leaf_level == 1)
			val = (val & ~GENMASK(51, 12)) | fz_rand_target(z);
		else
			val ^= PTE_US;
		break;
	}
	if (fz_chance(z, 50))
		do_access(z, v, z->self_base + (gpa - G_TBL_BASE), GWALK_WRITE | GWALK_AC, size, val);
	else
		write_entry(z, gpa, size, val);
	for (unsigned n = (unsigned)(fz_rnd(z) % 4); n; n--)
		do_access(z, fz_chance(z, 70) ? v : v ^ 1, z->gva[gi] + (fz_rnd(z) % 512) * 8, rand_access(z), 8, fz_rnd(z));
	if (fz_chance(z, 60)) {
		z->n_invlpg++;
		if (getenv("SHADOW_TRACE"))
			fprintf(stderr, "  invlpg v%u %#" PRIx64 "\n", v, z->gva[gi]);
		shadow_invlpg(z->t->cpu[v].sv, z->gva[gi]);
		fz_ref_reset(z, v, gi);
		check_tlbs(z);
		do_access(z, v, z->gva[gi], rand_access(z), 8, fz_rnd(z));
	}
}

static void step_set_state(struct fz *z, unsigned v, struct gstate gs)
{
	int r = sim_set_state(&z->t->cpu[v], &gs);
	if (r == E_INVAL && z->fmt == GWALK_FMT_PAE && fz_chance(z, 50)) {
		/* A reserved bit in a PDPTE: the guest repairs its PDPT. */
		gpa_t pdpt = gs.cr3 & ~31ULL;
		for (unsigned i = 0; i < 4; i++) {
			uint64_t v0 = fz_snap_get(z, pdpt + 8 * i, 8);
			if (v0 != g_get(pdpt + 8 * i, 8)) {
				g_put(pdpt + 8 * i, 8, v0);
				fz_ref_written(z, pdpt + 8 * i, 8);
			}
		}
		r = sim_set_state(&z->t->cpu[v], &gs);
	}
	if (getenv("SHADOW_TRACE"))
		fprintf(stderr, "  set state v%u cr0 %#" PRIx64 " cr4 %#" PRIx64 " efer %#" PRIx64 " cr3 %#" PRIx64 ": %d\n", v,
			gs.cr0, gs.cr4, gs.efer, gs.cr3, r);
	if (r != E_OK)
		return; /* the guest's MOV would fault (#GP): nothing changes */
	z->gs[v] = gs;
	fz_ref_reset_all(z, v);
}

static void step_mode(struct fz *z, unsigned v)
{
	struct gstate gs = z->gs[v];
	z->n_mode++;
	switch (fz_rnd(z) % 6) {
	case 0: case 1: gs.cr0 ^= CR0_WP; break;
	case 2: gs.cr4 ^= CR4_SMEP; break;
	case 3: gs.cr4 ^= CR4_SMAP; break;
	case 4:
		if (z->fmt == GWALK_FMT_32)
			gs.cr4 ^= CR4_PSE;
		else
			gs.efer ^= EFER_NXE;
		break;
	default:
		/* Paging off (32-bit and PAE guests), for a short while. */
		if (z->fmt > GWALK_FMT_PAE || fz_chance(z, 50))
			return;
		z->n_off++;
		gs.cr0 &= ~CR0_PG;
		break;
	}
	if (!(z->gs[v].cr0 & CR0_PG))
		gs = (struct gstate){ z->fmt, z->gs[v].cr0 | CR0_PG, z->gs[v].cr4, z->gs[v].efer, z->gs[v].cr3 };
	step_set_state(z, v, gs);
}

static const uint32_t limits[] = { 16, 40, 160, 4000 };

/* One world of format @fmt with page limit @limit, then @steps steps (or
 * until the fuzzer's input runs out), checked after each. z->rng or
 * z->in must be set. */
static void run_world(int fmt, uint32_t limit, struct fz *z, unsigned steps)
{
	/* the world is built from z->rng; fuzzer input drives the steps */
	const uint8_t *in = z->in;
	z->in = NULL;
	z->fmt = fmt;
	z->t = tw_new(limit, NCPU, 0);
	fz_build_world(z);
	z->snap = malloc(G_TBL_FRAMES * PAGE_SIZE);
	memcpy(z->snap, g_ptr(G_TBL_BASE), G_TBL_FRAMES * PAGE_SIZE);
	for (unsigned v = 0; v < NCPU; v++) {
		struct gstate gs = g_state(fmt, z->cr3[v]);
		if (fz_chance(z, 30))
			gs.cr4 |= CR4_SMEP;
		gs.cr4 |= CR4_PGE;
		z->gs[v] = gs;
		set_state(&z->t->cpu[v], &gs, "fuzz start");
		fz_ref_reset_all(z, v);
	}
	z->in = in;
	bool trace = getenv("SHADOW_TRACE") != NULL;
	for (unsigned s = 0; s < steps && g_failures < 20 && !z->in_done; s++) {
		unsigned v = (unsigned)(fz_rnd(z) % NCPU);
		unsigned k = fz_rnd(z) % 100;
		if (trace)
			fprintf(stderr, "step %u: vcpu %u op %u\n", s, v, k);
		if (k < 12) {
			step_remap(z, v);
		} else if (k < 45) {
			unsigned gi = (unsigned)(fz_rnd(z) % (fz_chance(z, 80) ? z->self_first : z->ngva));
			uint64_t off = (fz_rnd(z) % 512) * 8;
			do_access(z, v, z->gva[gi] + off, rand_access(z), 8, fz_rnd(z));
		} else if (k < 62) {
			step_pte_write(z, v, false);
		} else if (k < 72) {
			step_pte_write(z, v, true);
		} else if (k < 80) {
			unsigned gi = (unsigned)(fz_rnd(z) % z->ngva);
			z->n_invlpg++;
			if (trace)
				fprintf(stderr, "  invlpg v%u %#" PRIx64 "\n", v, z->gva[gi]);
			shadow_invlpg(z->t->cpu[v].sv, z->gva[gi]);
			fz_ref_reset(z, v, gi);
		} else if (k < 88) {
			struct gstate gs = z->gs[v];
			gs.cr3 = z->cr3[fz_rnd(z) % z->nas];
			z->n_cr3++;
			step_set_state(z, v, gs);
		} else if (k < 93) {
			step_mode(z, v);
		} else if (k < 97) {
			z->n_flush++;
			shadow_flush(z->t->cpu[v].sv);
			fz_ref_reset_all(z, v);
		} else if (k < 98) {
			z->n_zap++;
			shadow_zap_all(z->t->svm);
		} else {
			/* Both vCPUs on the same address space. */
			struct gstate gs = z->gs[v];
			gs.cr3 = z->gs[v ^ 1].cr3;
			step_set_state(z, v, gs);
		}
		check_all(z, s % 16 == 15);
	}
	check_all(z, true);
	shadow_get_stats(z->t->svm, &z->st);
	tw_free(z->t, "fuzz");
	free(z->snap);
}

static void run_seed(int fmt, uint64_t seed, struct fz *z, unsigned steps)
{
	memset(z, 0, sizeof(*z));
	memset(z->mapv, 0xff, sizeof(z->mapv));
	z->rng = seed * 0x9e3779b97f4a7c15ULL + 12345;
	run_world(fmt, limits[seed % 4], z, steps);
}

/* libFuzzer entry (tests/fuzz/fuzz_shadow.c): byte 0 picks the format,
 * byte 1 the page limit and seeds the world, the rest drive the steps (at
 * most 3000). */
void shadow_fuzz_input(const uint8_t *data, size_t size)
{
	static const int fmts[] = { GWALK_FMT_32, GWALK_FMT_PAE, GWALK_FMT_4LVL, GWALK_FMT_5LVL };
	static struct fz *z;
	if (size < 2)
		return;
	if (!z)
		z = calloc(1, sizeof(*z));
	memset(z, 0, sizeof(*z));
	memset(z->mapv, 0xff, sizeof(z->mapv));
	z->rng = (uint64_t)data[1] * 0x9e3779b97f4a7c15ULL + 12345;
	z->in = data + 2;
	z->in_len = size - 2;
	run_world(fmts[data[0] % 4], limits[data[1] % 4], z, 3000);
}

void shadow_test_fuzz(unsigned long seeds)
{
	static const int fmts[] = { GWALK_FMT_32, GWALK_FMT_PAE, GWALK_FMT_4LVL, GWALK_FMT_5LVL };
	static const char *const names[] = { "32-bit", "PAE", "4-level", "5-level" };
	struct fz *z = calloc(1, sizeof(*z));

	/* SHADOW_FMT=n (index into fmts) and SHADOW_SEED=s narrow a run
	 * down to one failing case. */
	const char *ef = getenv("SHADOW_FMT"), *es = getenv("SHADOW_SEED");
	for (unsigned f = 0; f < ARRAY_SIZE(fmts); f++) {
		if (ef && (unsigned)atoi(ef) != f)
			continue;
		unsigned long ok = 0, gf = 0, em = 0, kill = 0, pte = 0, pacc = 0, inv = 0, cr3 = 0, any = 0, stale = 0;
		struct shadow_stats tot = { 0 };
		for (unsigned long s = 0; s < seeds && g_failures < 20; s++) {
			if (es && (unsigned long)atol(es) != s + 1)
				continue;
			run_seed(fmts[f], s + 1, z, 1500);
			ok += z->n_ok;
			gf += z->n_gf;
			em += z->n_emul;
			kill += z->n_kill;
			pte += z->n_pte;
			pacc += z->n_pte_acc;
			inv += z->n_invlpg;
			cr3 += z->n_cr3;
			any += z->n_any;
			stale += z->n_stale;
			tot.pages_created += z->st.pages_created;
			tot.pages_zapped += z->st.pages_zapped;
			tot.unsync_events += z->st.unsync_events;
			tot.pages_synced += z->st.pages_synced;
			tot.reclaims += z->st.reclaims;
			tot.tlb_flushes += z->st.tlb_flushes;
			tot.write_faults += z->st.write_faults;
			if (g_failures)
				fprintf(stderr, "  (failing run: format %s seed %lu)\n", names[f], s + 1);
		}
		printf("fuzz %-8s %lu seeds: %lu ok (%lu stale), %lu #PF, %lu emulated, %lu kills, %lu PTE writes"
		       " (+%lu by store), %lu INVLPG, %lu CR3 loads, %lu model overflows\n",
		       names[f], seeds, ok, stale, gf, em, kill, pte, pacc, inv, cr3, any);
		printf("     shadow: %" PRIu64 " pages created, %" PRIu64 " zapped (%" PRIu64 " reclaimed), %" PRIu64
		       " write faults, %" PRIu64 " unsync events, %" PRIu64 " pages synced, %" PRIu64 " TLB flushes\n",
		       tot.pages_created, tot.pages_zapped, tot.reclaims, tot.write_faults, tot.unsync_events,
		       tot.pages_synced, tot.tlb_flushes);
	}
	free(z);
}
