/*
 * mm/shadow_fault.c - the shadow page fault: walk the guest's tables with
 * gwalk (which sets their A/D flags), then build the shadow path for the
 * faulting address from the root down, creating shadow pages as needed.
 *
 * Levels. Shadow pages are numbered by hardware level (1 = PT).
 *   guest 4/5-level: shadow level l shadows guest level l; the root is the
 *       shared page of the guest's top table.
 *   guest PAE: the private root's 4 entries follow the guest's PDPTE
 *       registers; levels 2 and 1 shadow the guest PD and PT.
 *   guest 32-bit: private root entry q (linear bits 31:30) points to the
 *       page shadowing quadrant q of the guest PD; shadow PD entry j maps
 *       2 MiB: half j & 1 of guest PDE q * 256 + j / 2, so a guest PT is
 *       shadowed by two level-1 pages (quadrant 0: its entries 0..511,
 *       quadrant 1: 512..1023).
 *   paging off: private root entry q points to a direct level-2 page of
 *       gfns q << 18..; its entries to direct level-1 pages (identity).
 *   A guest large page (4 MiB, 2 MiB, 1 GiB) is a direct page (or two,
 *   for 4 MiB) below the entry that maps it, split into 4 KiB entries.
 *
 * It must not: trust the hardware error code for the guest's view (the
 * guest is always re-walked; only a protection-key fault, which depends on
 * the guest's live PKRU, is taken from it), map a frame that is not RAM,
 * or make a write-tracked frame writable.
 *
 * Lock: shadow_page_fault takes the VM lock.
 */
#include "mm/shadow_priv.h"

#include "kernel/string.h"

static int read_pte(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	struct shadow_vm *svm = ctx;
	return svm->env.read_gpa(svm->env.ctx, gpa, size, val);
}

static int cmpxchg_pte(void *ctx, gpa_t gpa, unsigned size, u64 old, u64 new)
{
	struct shadow_vm *svm = ctx;
	return svm->env.cmpxchg_gpa(svm->env.ctx, gpa, size, old, new);
}

/* The walker's view of guest memory (ctx: the shadow_vm). */
const struct gwalk_ops shadow_gwalk_ops = {
	.read_pte = read_pte,
	.cmpxchg_pte = cmpxchg_pte,
};

/* Unsync instead of emulate: allowed when every page shadowing @gfn is a
 * leaf table (an upper-level shadow must see every write at once, since
 * its children are chosen by the entry). The gfn's pages become writable
 * to the guest until the next CR3 load, INVLPG of an address they map, or
 * TLB flush, which the architecture lets the guest's TLB lag behind. */
static bool try_unsync(struct shadow_vm *svm, gfn_t gfn)
{
	struct shadow_page *sp;

	for (sp = shadow_gfn_first(svm, gfn); sp; sp = sp->hash_next)
		if (sp->gfn == gfn && !(sp->role & ROLE_DIRECT) && role_level(sp->role) != 1)
			return false;
	for (sp = shadow_gfn_first(svm, gfn); sp; sp = sp->hash_next)
		if (sp->gfn == gfn && !(sp->role & ROLE_DIRECT) && !(sp->flags & SP_UNSYNC))
			shadow_unsync_add(svm, sp);
	svm->st.unsync_events++;
	return true;
}

/* After the path's pages exist (their frames now write-tracked), the
 * guest entries the walk used must still hold what it read; otherwise a
 * write slipped in before tracking started. Levels whose entry changed
 * have their new shadow link removed; the caller retries. */
static bool path_still_valid(struct shadow_vm *svm, const struct gwalk_mode *m, const struct gwalk_result *w,
			     struct shadow_page *const *psp, const unsigned *pidx)
{
	bool ok = true;

	if (m->format == GWALK_FMT_OFF)
		return true;
	for (unsigned l = w->leaf_level; l <= w->top_level; l++) {
		u64 v;
		if (m->format == GWALK_FMT_PAE && l == 3)
			continue; /* PDPTE registers, not memory */
		if (svm->env.read_gpa(svm->env.ctx, w->lv[l].gpa, m->pte_size, &v) != 0 || v != w->lv[l].pte) {
			ok = false;
			if (psp[l])
				shadow_clear_spte(svm, psp[l], pidx[l]);
		}
	}
	return ok;
}

/* Build the shadow path for the translation @w and install its leaf. */
static void install(struct shadow_vcpu *sv, const struct gwalk_result *w, u32 access, struct shadow_pf_result *res)
{
	struct shadow_vm *svm = sv->svm;
	const struct gwalk_mode *m = &sv->genv.mode;
	gfn_t gfn = w->gpa >> PAGE_SHIFT;
	bool pae = sv->pae_shape; /* a PAE-level root, maybe under a private PML4 */
	unsigned level = pae ? 3 : m->levels;
	struct shadow_page *sp = sv->root;
	/* Per guest level: the shadow entry built for it (to undo). */
	struct shadow_page *psp[GWALK_MAX_LEVELS + 1] = { 0 };
	unsigned pidx[GWALK_MAX_LEVELS + 1] = { 0 };

	res->gpa = w->gpa;
	if (!svm->env.gfn_to_hpa(svm->env.ctx, gfn) || gfn >= SH_MAX_GFN) {
		/* Not RAM (or beyond the rmap's reach): leave it not
		 * present, the caller emulates the access. */
		res->status = SPF_EMULATE;
		return;
	}
	sp_pin(svm, sp);
	for (; level > 1; level--) {
		unsigned idx = shadow_hw_index(pae, w->gva, level);
		u64 gpte = 0;
		bool indirect = !(sp->role & ROLE_DIRECT) && !(sp->flags & SP_PRIVATE);

		if ((sp->flags & SP_PRIVATE) && m->format == GWALK_FMT_PAE) {
			gpte = w->lv[3].pte; /* the PDPTE register */
		} else if (indirect) {
			/* The walk must have read this very table. */
			if ((w->lv[level].gpa >> PAGE_SHIFT) != sp->gfn) {
				res->status = SPF_FIXED;
				return;
			}
			gpte = w->lv[level].pte;
		}
		gfn_t cgfn;
		u32 crole;
		if (!shadow_child_key(svm, sp, idx, gpte, m, &cgfn, &crole)) {
			res->status = SPF_FIXED; /* changed under us: retry */
			return;
		}
		u64 spte = sp->spt[idx];
		struct shadow_page *child = NULL;
		if (spte_present(spte)) {
			child = shadow_page_by_hpa(svm, spte & SPTE_ADDR);
			if (child && (child->gfn != cgfn || child->role != crole))
				child = NULL;
		}
		if (!child) {
			child = shadow_page_get(svm, cgfn, crole);
			if (!child) {
				res->status = SPF_KILL; /* E_NOMEM from env */
				return;
			}
			/* Hardware PAE PDPTEs take P only; a nested MMU's PDPT
			 * is a long-mode table (all accesses user, §15.25.5). */
			u64 link = child->hpa | (((sp->flags & SP_PRIVATE) && !svm->nested) ? PTE_P : SPTE_TABLE);
			shadow_set_spte(svm, sp, idx, link, child, 0);
			if (indirect) {
				psp[level] = sp;
				pidx[level] = idx;
			}
		}
		sp_pin(svm, child);
		shadow_page_touch(svm, child);
		child->flood = 0;
		sp = child;
	}

	unsigned idx = shadow_hw_index(pae, w->gva, 1);
	bool direct = sp->role & ROLE_DIRECT;
	u64 gpte = direct ? 0 : w->lv[1].pte;
	if (direct ? sp->gfn + idx != gfn : (w->lv[1].gpa >> PAGE_SHIFT) != sp->gfn) {
		res->status = SPF_FIXED; /* the walk and the path disagree: retry */
		return;
	}
	if (!direct) {
		psp[1] = sp;
		pidx[1] = idx;
	}
	if (!path_still_valid(svm, m, w, psp, pidx)) {
		res->status = SPF_FIXED;
		return;
	}

	bool fetch = access & GWALK_FETCH;
	bool write = (access & GWALK_WRITE) && !fetch;
	bool user = (access & GWALK_USER) && !(access & GWALK_IMPLICIT);
	bool emulate = false;
	if (write && shadow_gfn_write_protected(svm, gfn)) {
		svm->st.write_faults++;
		emulate = !try_unsync(svm, gfn);
	}
	/* CR0.WP = 0: a supervisor write to a read-only user page; with
	 * SMAP the shadow cannot express it (shadow_make_leaf). */
	bool sup_write = write && !user && !(m->flags & GWALK_M_WP);
	if (sup_write && !emulate && (m->flags & GWALK_M_SMAP) && (w->perm & GWALK_P_UR) && !(w->perm & GWALK_P_UW))
		emulate = true;
	if (!shadow_rmap_head(svm, gfn, true)) {
		res->status = SPF_KILL; /* E_NOMEM from env */
		return;
	}
	u64 spte = shadow_make_leaf(svm, sp, gpte, gfn, sup_write && !emulate);
	if (spte)
		shadow_set_spte(svm, sp, idx, spte, NULL, gfn);
	else
		shadow_clear_spte(svm, sp, idx);
	res->status = emulate ? SPF_EMULATE : SPF_FIXED;
}

/* Contract in mm/shadow.h. */
void shadow_page_fault(struct shadow_vcpu *sv, gva_t cr2, u32 error, u32 access, struct shadow_pf_result *res)
{
	struct shadow_vm *svm = sv->svm;
	struct gwalk_result w;

	SHADOW_LOCK(svm);
	svm->epoch++;
	svm->cur = sv;
	memset(res, 0, sizeof(*res));
	svm->st.page_faults++;
	if (!sv->have_mode || !sv->root || sp_obsolete(svm, sv->root)) {
		/* shadow_reload switches roots before the next entry; the
		 * access then repeats. */
		res->status = SPF_FIXED;
		goto out;
	}
	switch (gwalk_walk(&shadow_gwalk_ops, svm, &sv->genv, cr2, access, &w)) {
	case GWALK_PF:
		svm->st.guest_faults++;
		res->status = SPF_GUEST_FAULT;
		res->error = w.error_code;
		break;
	case GWALK_BAD_GPA:
		res->status = SPF_KILL;
		res->gpa = w.bad_gpa;
		break;
	case GWALK_RETRY:
		res->status = SPF_FIXED;
		break;
	case GWALK_OK:
		/* The walk ignores PKRU (zero in genv): the hardware checked
		 * the guest's keys with the guest's PKRU, so its verdict on a
		 * protection-key fault stands (SDM §4.6.2). */
		if ((sv->genv.mode.flags & GWALK_M_PKE) && (error & GWALK_PFEC_PK)) {
			svm->st.guest_faults++;
			res->status = SPF_GUEST_FAULT;
			res->error = error & (GWALK_PFEC_P | GWALK_PFEC_W | GWALK_PFEC_U | GWALK_PFEC_ID | GWALK_PFEC_PK);
			break;
		}
		install(sv, &w, access, res);
		break;
	default:
		/* Non-canonical: no #PF has such a CR2. */
		res->status = SPF_KILL;
		res->gpa = 0;
		break;
	}
out:
	shadow_commit(svm);
	SHADOW_UNLOCK(svm);
}
