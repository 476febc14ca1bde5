/*
 * mm/shadow_sync.c - deriving shadow entries from guest entries, and
 * keeping them derived: emulated guest writes (shadow_gpa_written), unsync
 * leaf tables brought back in sync (CR3 load, INVLPG, TLB flush).
 *
 * It owns: the permission encoding of shadow leaves (guest ∩ host under
 * the fixed hardware state of struct shadow_hw), the mapping between a
 * shadow page's entries and its guest table's entries (quadrants of
 * 32-bit tables), and the unsync protocol.
 *
 * It must not: walk guest tables (the fault path does, through gwalk);
 * create shadow pages while resyncing (a stale or changed non-leaf entry
 * is unlinked, the next fault rebuilds it); make a shadow entry present
 * that the guest entry's A flag does not allow (the hardware would use it
 * without the guest seeing A set).
 *
 * Lock: the public functions take the VM lock; the rest run under it.
 */
#include "mm/shadow_priv.h"

#include "kernel/string.h"

/* ---------------------------------------------------------------- modes */

static u32 mode_key(unsigned fmt, u32 mode_role)
{
	return (u32)fmt << 16 | mode_role >> 11;
}

/* Contract in mm/shadow_priv.h. */
u32 shadow_mode_role(const struct gwalk_mode *m)
{
	u32 r = 0;

	if (m->flags & GWALK_M_WP)
		r |= ROLE_WP;
	if (m->flags & GWALK_M_NXE)
		r |= ROLE_NXE;
	if (m->flags & GWALK_M_SMEP)
		r |= ROLE_SMEP;
	if (m->flags & GWALK_M_SMAP)
		r |= ROLE_SMAP;
	if (m->flags & GWALK_M_PSE)
		r |= ROLE_PSE;
	if (m->flags & GWALK_M_PKE)
		r |= ROLE_PKE;
	return r;
}

/* Contract in mm/shadow_priv.h. */
void shadow_mode_remember(struct shadow_vm *svm, const struct gwalk_mode *m, u32 mode_role)
{
	unsigned fmt = m->format == GWALK_FMT_OFF   ? SH_FMT_OFF
		       : m->format == GWALK_FMT_32  ? SH_FMT_32
		       : m->format == GWALK_FMT_PAE ? SH_FMT_PAE
						    : SH_FMT_LONG;
	u32 key = mode_key(fmt, mode_role);
	struct shadow_mode_slot *victim = &svm->modes[0];

	svm->mode_clock++;
	for (unsigned i = 0; i < SH_MODES; i++) {
		struct shadow_mode_slot *s = &svm->modes[i];
		if (s->used && s->key == key) {
			/* 4- and 5-level share tables below level 5; keep the
			 * deeper one's rules (they agree on levels 1..4). */
			if (m->levels >= s->mode.levels)
				s->mode = *m;
			s->last = svm->mode_clock;
			return;
		}
		if (victim->used && (!s->used || s->last < victim->last))
			victim = s;
	}
	/* Forgetting a mode only costs re-faults: pages of a forgotten mode
	 * are unlinked instead of re-derived. */
	victim->used = true;
	victim->key = key;
	victim->mode = *m;
	victim->last = svm->mode_clock;
}

/* Contract in mm/shadow_priv.h. */
const struct gwalk_mode *shadow_mode_for(struct shadow_vm *svm, u32 role)
{
	u32 key = mode_key(role_fmt(role), role & ROLE_MODE_MASK);

	for (unsigned i = 0; i < SH_MODES; i++)
		if (svm->modes[i].used && svm->modes[i].key == key)
			return &svm->modes[i].mode;
	return NULL;
}

/* ---------------------------------------------------------------- geometry */

/* Contract in mm/shadow_priv.h. A 32-bit guest table has 1024 entries of
 * 4 bytes: its PAE-format shadows cover part of it (the quadrant): a page
 * directory (1024 x 4 MiB) is shadowed by four PAE page directories of
 * 512 x 2 MiB, each covering 256 guest PDEs with two shadow entries per
 * guest PDE; a page table (1024 x 4 KiB) by two PAE page tables of 512
 * entries. */
bool shadow_gpte_gpa(const struct shadow_page *sp, unsigned idx, gpa_t *gpa, unsigned *size)
{
	unsigned gi;

	if (sp->role & ROLE_DIRECT || sp->flags & SP_PRIVATE)
		return false;
	if (role_fmt(sp->role) == SH_FMT_32) {
		*size = 4;
		gi = role_level(sp->role) == 2 ? role_quad(sp->role) * 256 + idx / 2 : role_quad(sp->role) * 512 + idx;
	} else {
		*size = 8;
		gi = idx;
	}
	*gpa = (sp->gfn << PAGE_SHIFT) + (gpa_t)gi * *size;
	return true;
}

/* Shadow entries of @sp derived from guest entry @gi of its table: the
 * first in *first, how many (0, 1 or 2) returned. */
static unsigned shadow_indices(const struct shadow_page *sp, unsigned gi, unsigned *first)
{
	if (role_fmt(sp->role) != SH_FMT_32) {
		*first = gi;
		return gi < SPTE_ENTRIES;
	}
	if (role_level(sp->role) == 2) {
		if (gi / 256 != role_quad(sp->role))
			return 0;
		*first = 2 * (gi % 256);
		return 2;
	}
	if (gi / 512 != role_quad(sp->role))
		return 0;
	*first = gi % 512;
	return 1;
}

/* Guest-physical base of the page a leaf at guest @level maps (SDM §4.3:
 * a 4 MiB PDE holds address bits 39:32 in bits 20:13, PSE-36). */
static gfn_t guest_leaf_gfn(unsigned fmt, unsigned level, u64 gpte)
{
	if (fmt == SH_FMT_32) {
		if (level == 1)
			return (gpte & GENMASK(31, 12)) >> PAGE_SHIFT;
		return ((gpte & GENMASK(31, 22)) | ((gpte & GENMASK(20, 13)) << (32 - 13))) >> PAGE_SHIFT;
	}
	return (gpte & GENMASK(51, PAGE_SHIFT + 9 * (level - 1))) >> PAGE_SHIFT;
}

/* Access bits an entry passes on (ROLE_ACC): R/W, U/S and, with NXE, XD. */
static unsigned entry_acc(u64 gpte, u32 role)
{
	unsigned acc = 0;

	if (gpte & PTE_RW)
		acc |= ACC_W;
	if (gpte & PTE_US)
		acc |= ACC_U;
	if (!((role & ROLE_NXE) && (gpte & PTE_NX)))
		acc |= ACC_X;
	return acc;
}

/* Contract in mm/shadow_priv.h. For the levels of each format see the
 * header comment of mm/shadow_fault.c. */
bool shadow_child_key(struct shadow_vm *svm, const struct shadow_page *sp, unsigned idx, u64 gpte,
		      const struct gwalk_mode *m, gfn_t *gfn, u32 *role)
{
	unsigned level = role_level(sp->role), fmt = role_fmt(sp->role);
	u32 keep = sp->role & (ROLE_MODE_MASK | ROLE_TAG_MASK);

	(void)svm;
	if (sp->role & ROLE_DIRECT) {
		/* Below a direct page: the next part of the same range. */
		*gfn = sp->gfn + ((gfn_t)idx << (9 * (level - 1)));
		*role = (sp->role & ~ROLE_LEVEL_MASK) | (level - 1);
		return true;
	}
	if (sp->flags & SP_PRIVATE) {
		/* The PAE root: entry idx covers linear bits 31:30 = idx. */
		if (fmt == SH_FMT_OFF) {
			*gfn = (gfn_t)idx << 18;
			*role = 2 | ROLE_DIRECT | ROLE_DIRTY | ACC_ALL << ROLE_ACC_SHIFT;
		} else if (fmt == SH_FMT_32) {
			*gfn = sp->gfn;
			*role = 2 | SH_FMT_32 << ROLE_FMT_SHIFT | idx << ROLE_QUAD_SHIFT | ACC_ALL << ROLE_ACC_SHIFT | keep;
		} else {
			/* PDPTE registers were validated by gwalk_load_pdptes;
			 * they carry no access rights (SDM Table 4-8). */
			if (!(gpte & PTE_P))
				return false;
			*gfn = (gpte & GENMASK(51, 12)) >> PAGE_SHIFT;
			*role = 2 | SH_FMT_PAE << ROLE_FMT_SHIFT | ACC_ALL << ROLE_ACC_SHIFT | keep;
		}
		return true;
	}
	/* A guest table entry at guest level == level. */
	bool large = m->large[level] && (gpte & PTE_PS);
	if (!(gpte & PTE_P) || !(gpte & PTE_A) || (gpte & m->rsvd[level][large]))
		return false;
	unsigned acc = role_acc(sp->role) & entry_acc(gpte, sp->role);
	u32 r = (level - 1) | fmt << ROLE_FMT_SHIFT | acc << ROLE_ACC_SHIFT | keep;
	if (large) {
		gfn_t base = guest_leaf_gfn(fmt, level, gpte);
		/* A 4 MiB page: shadow entry idx maps its half idx & 1. */
		if (fmt == SH_FMT_32)
			base += (idx & 1) * 512;
		r |= ROLE_DIRECT;
		if (gpte & PTE_D)
			r |= ROLE_DIRTY;
		if (keep & ROLE_PKE)
			r |= (u32)((gpte >> GWALK_PTE_PKEY_SHIFT) & 15) << ROLE_PKEY_SHIFT;
		*gfn = base;
	} else {
		*gfn = (gpte & (fmt == SH_FMT_32 ? GENMASK(31, 12) : GENMASK(51, 12))) >> PAGE_SHIFT;
		if (fmt == SH_FMT_32 && level == 2)
			r |= (idx & 1) << ROLE_QUAD_SHIFT;
	}
	*role = r;
	return true;
}

/* ---------------------------------------------------------------- leaves */

/*
 * Contract in mm/shadow_priv.h. The hardware runs with CR0.WP = 1,
 * EFER.NXE = 1 and the guest's SMEP/SMAP (struct shadow_hw), and every
 * non-leaf shadow entry allows everything, so the leaf's U/S, R/W and XD
 * decide alone (SDM §4.6.1). Guest rights of the translation, from the
 * ANDed R/W and U/S and ORed XD of the guest path (u, w, nx):
 *   user page (u):  UR; UW = w; UX = !nx; SW = w || !CR0.WP;
 *                   SX = !nx && !SMEP; SMAP blocks supervisor data
 *   supervisor page: SR; SW = w || !CR0.WP; SX = !nx
 * Encoding: a user page gets US = 1, RW = UW, XD = !UX - the hardware then
 * allows exactly the guest's rights (SW = RW under CR0.WP = 1 is UW, which
 * is at most the guest's SW). A supervisor page gets US = 0, RW = SW,
 * XD = !SX. RW additionally needs the guest D flag (the first write must
 * fault so the walker sets D, SDM §4.8) and a frame that is not
 * write-tracked.
 * The one right this cannot express: with CR0.WP = 0 the supervisor may
 * write a user page the guest made read-only. On such a write
 * (@sup_write) the page becomes supervisor-only and writable (US = 0,
 * RW = 1, XD = !SX): narrower for the user, who faults back to the first
 * form. With SMAP on this would let the supervisor read a user page
 * SMAP protects, so then the write is emulated instead (shadow_fault.c).
 */
u64 shadow_make_leaf(struct shadow_vm *svm, const struct shadow_page *sp, u64 gpte, gfn_t gfn, bool sup_write)
{
	u32 r = sp->role;
	bool direct = r & ROLE_DIRECT;
	unsigned acc = role_acc(r) & (direct ? ACC_ALL : entry_acc(gpte, r));
	bool u = acc & ACC_U, w = acc & ACC_W, nx = !(acc & ACC_X);
	bool dirty = direct ? (r & ROLE_DIRTY) != 0 : (gpte & PTE_D) != 0;
	bool wp = r & ROLE_WP;
	bool sw = w || !wp;
	bool sx = !nx && !(u && (r & ROLE_SMEP));
	hpa_t hpa = svm->env.gfn_to_hpa(svm->env.ctx, gfn);

	if (!hpa || gfn >= SH_MAX_GFN)
		return 0;
	bool may_write = dirty && !shadow_gfn_write_protected(svm, gfn);
	u64 spte = (hpa & SPTE_ADDR) | PTE_P | PTE_A | PTE_D;

	if (u && !w && sw && sup_write && !(r & ROLE_SMAP) && may_write) {
		spte |= PTE_RW;
		if (!sx)
			spte |= PTE_NX;
		return spte;
	}
	if (u) {
		spte |= PTE_US;
		if (w && may_write)
			spte |= PTE_RW;
		if (nx)
			spte |= PTE_NX;
	} else {
		if (sw && may_write)
			spte |= PTE_RW;
		if (!sx)
			spte |= PTE_NX;
	}
	if (r & ROLE_PKE) {
		u64 key = direct ? (r & ROLE_PKEY_MASK) >> ROLE_PKEY_SHIFT : (gpte >> GWALK_PTE_PKEY_SHIFT) & 15;
		spte |= key << GWALK_PTE_PKEY_SHIFT;
	}
	return spte;
}

/* ---------------------------------------------------------------- resync */

/* Contract in mm/shadow_priv.h. Only present entries are re-derived: a
 * not-present one faults when used and is built then. */
void shadow_resync_entry(struct shadow_vm *svm, struct shadow_page *sp, unsigned idx)
{
	u64 old = sp->spt[idx], gpte;
	gpa_t gpa;
	unsigned size, level = role_level(sp->role);

	if (!spte_present(old) || !shadow_gpte_gpa(sp, idx, &gpa, &size))
		return;
	const struct gwalk_mode *m = shadow_mode_for(svm, sp->role);
	if (!m || svm->env.read_gpa(svm->env.ctx, gpa, size, &gpte) != 0) {
		shadow_clear_spte(svm, sp, idx);
		return;
	}
	if (level == 1) {
		if (!(gpte & PTE_P) || !(gpte & PTE_A) || (gpte & m->rsvd[1][1])) {
			shadow_clear_spte(svm, sp, idx);
			return;
		}
		gfn_t gfn = guest_leaf_gfn(role_fmt(sp->role), 1, gpte);
		u64 spte = shadow_make_leaf(svm, sp, gpte, gfn, false);
		if (!spte || !shadow_rmap_head(svm, gfn, true)) {
			shadow_clear_spte(svm, sp, idx);
			return;
		}
		shadow_set_spte(svm, sp, idx, spte, NULL, gfn);
		return;
	}
	/* A non-leaf entry stays only if it still leads to the same page. */
	struct shadow_page *child = shadow_page_by_hpa(svm, old & SPTE_ADDR);
	gfn_t gfn;
	u32 role;
	if (!child || !shadow_child_key(svm, sp, idx, gpte, m, &gfn, &role) || child->gfn != gfn ||
	    child->role != role)
		shadow_clear_spte(svm, sp, idx);
}

/* Contract in mm/shadow_priv.h. */
void shadow_resync_page(struct shadow_vm *svm, struct shadow_page *sp)
{
	for (unsigned i = 0; i < sp->nents; i++)
		if (spte_present(sp->spt[i])) /* the rest stays as it is */
			shadow_resync_entry(svm, sp, i);
	svm->st.pages_synced++;
}

/* Contract in mm/shadow_priv.h. */
void shadow_sync_gfn(struct shadow_vm *svm, gfn_t gfn)
{
	struct shadow_page *sp;

	/* Write-protected first, so entries mapping the table itself come
	 * out read-only when re-derived. */
	for (sp = shadow_gfn_first(svm, gfn); sp; sp = sp->hash_next)
		if (sp->gfn == gfn && (sp->flags & SP_UNSYNC))
			shadow_unsync_del(svm, sp);
	for (sp = shadow_gfn_first(svm, gfn); sp; sp = sp->hash_next)
		if (sp->gfn == gfn && !(sp->role & ROLE_DIRECT))
			shadow_resync_page(svm, sp);
	shadow_write_protect(svm, gfn);
}

/* Contract in mm/shadow_priv.h. */
void shadow_sync_all(struct shadow_vm *svm)
{
	while (svm->unsync.uns_next != &svm->unsync)
		shadow_sync_gfn(svm, svm->unsync.uns_next->gfn);
}

/* ---------------------------------------------------------------- public */

/* Contract in mm/shadow.h. Each written guest entry is re-derived in every
 * page shadowing its table (leaves re-derived, non-leaf entries kept or
 * unlinked). A page written this way SH_FLOOD times without being used by
 * a fault in between is probably no longer a page table: it is zapped,
 * which ends the tracking of its frame. */
void shadow_gpa_written(struct shadow_vm *svm, gpa_t gpa, unsigned len)
{
	SHADOW_LOCK(svm);
	svm->epoch++;
	svm->cur = NULL;
	svm->st.emulated_writes++;
	while (len) {
		gfn_t gfn = gpa >> PAGE_SHIFT;
		unsigned off = gpa & (PAGE_SIZE - 1);
		unsigned chunk = MIN(len, (unsigned)(PAGE_SIZE - off));
		struct shadow_page *sp = shadow_gfn_first(svm, gfn), *next;

		for (; sp; sp = next) {
			next = sp->hash_next;
			if (sp->gfn != gfn || (sp->role & ROLE_DIRECT))
				continue;
			if (++sp->flood >= SH_FLOOD && !sp_pinned(svm, sp)) {
				shadow_page_zap(svm, sp);
				continue;
			}
			unsigned size = role_fmt(sp->role) == SH_FMT_32 ? 4 : 8;
			for (unsigned gi = off / size; gi <= (off + chunk - 1) / size; gi++) {
				unsigned first, n = shadow_indices(sp, gi, &first);
				for (unsigned k = 0; k < n; k++)
					shadow_resync_entry(svm, sp, first + k);
			}
		}
		gpa += chunk;
		len -= chunk;
	}
	shadow_commit(svm);
	SHADOW_UNLOCK(svm);
}

/* Contract in mm/shadow.h. */
bool shadow_gfn_tracked(struct shadow_vm *svm, gfn_t gfn)
{
	SHADOW_LOCK(svm);
	bool r = shadow_gfn_write_protected(svm, gfn);
	SHADOW_UNLOCK(svm);
	return r;
}

/* Contract in mm/shadow_priv.h: index of @gva's entry in a hardware
 * table at @level (PAE root: bits 31:30; SDM Figures 4-5, 4-8). */
unsigned shadow_hw_index(bool pae, gva_t gva, unsigned level)
{
	if (pae && level == 3)
		return (gva >> 30) & 3;
	return (gva >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

/* The level-1 hardware entry for @gva under @sv's current root (*sp: its
 * shadow page), or NULL when an entry above it is not present (shadows
 * never map large pages). */
static u64 *hw_leaf(struct shadow_vcpu *sv, gva_t gva, struct shadow_page **sp)
{
	struct shadow_vm *svm = sv->svm;
	bool pae = sv->pae_shape;
	unsigned level = pae ? 3 : sv->genv.mode.levels;
	u64 *t = sv->root->spt;
	hpa_t pa = sv->root->hpa;

	for (; level > 1; level--) {
		u64 e = t[shadow_hw_index(pae, gva, level)];
		if (!spte_present(e))
			return NULL;
		pa = e & SPTE_ADDR;
		t = svm->env.p2v(pa);
	}
	*sp = shadow_page_by_hpa(svm, pa);
	return *sp ? &t[shadow_hw_index(pae, gva, 1)] : NULL;
}

/*
 * After INVLPG re-derived what it could (an entry whose guest A flag is
 * clear stays not present), build the leaf for the invalidated address
 * in place, as the fault on the next access would: that access then
 * needs no exit. Only when the shadow path down to the leaf table exists:
 * its upper entries are write-tracked, so they still match guest entries
 * that are present with A set, and only the leaf guest entry is read.
 * Only a guest entry whose A flag is already set is used: setting A here,
 * ahead of the access, is what a processor may do for a translation it
 * caches speculatively (SDM vol. 3A §4.10.2.3, §4.8), but QEMU never does
 * and a guest can see it (tests/emu/soak-qemu.t, randpaging seed 1): the
 * guest must see A set only by its own accesses. Not done either when the
 * guest entry still maps the frame the shadow leaf mapped before the
 * INVLPG (@old): the guest only changed rights, or aged the page.
 */
static void prefetch_leaf(struct shadow_vm *svm, struct shadow_page *sp, unsigned idx, u64 old)
{
	gpa_t gpa;
	unsigned size;
	u64 gpte;

	if (spte_present(sp->spt[idx]) || role_level(sp->role) != 1 || !shadow_gpte_gpa(sp, idx, &gpa, &size))
		return;
	const struct gwalk_mode *m = shadow_mode_for(svm, sp->role);
	if (!m || svm->env.read_gpa(svm->env.ctx, gpa, size, &gpte) != 0)
		return;
	if (!(gpte & PTE_P) || (gpte & m->rsvd[1][1]))
		return;
	gfn_t gfn = guest_leaf_gfn(role_fmt(sp->role), 1, gpte);
	if (spte_present(old) && svm->env.gfn_to_hpa(svm->env.ctx, gfn) == (old & SPTE_ADDR))
		return;
	if (!(gpte & PTE_A))
		return; /* the guest sees A set only by an access (below) */
	u64 spte = shadow_make_leaf(svm, sp, gpte, gfn, false);
	if (spte && shadow_rmap_head(svm, gfn, true))
		shadow_set_spte(svm, sp, idx, spte, NULL, gfn);
}

/* Contract in mm/shadow.h. INVLPG invalidates the translation of one
 * page (SDM §4.10.4.1): only unsync leaf tables can hold a stale one.
 * The entry for @gva is re-derived in EVERY unsync page, not only in the
 * one the vCPU's root reaches: a page out of reach now (its parent
 * unlinked, or linked only from another root) may be linked again later,
 * and must not bring back a translation the guest invalidated meanwhile.
 * Entry (gva >> 12) & 511 of a leaf table maps @gva in every format (for
 * a 32-bit table's other quadrant it is another address: resyncing it
 * too is harmless). The unsync list is short: every CR3 load empties it. */
void shadow_invlpg(struct shadow_vcpu *sv, gva_t gva)
{
	struct shadow_vm *svm = sv->svm;
	unsigned idx = (gva >> PAGE_SHIFT) & 511;

	SHADOW_LOCK(svm);
	svm->epoch++;
	svm->cur = sv;
	svm->st.invlpgs++;
	/* the shadow leaf for @gva on this vCPU's root, for prefetch_leaf */
	struct shadow_page *leaf = NULL;
	u64 *e = NULL;
	if (sv->have_mode && sv->root && !sp_obsolete(svm, sv->root) && !svm->nested &&
	    sv->genv.mode.format != GWALK_FMT_OFF)
		e = hw_leaf(sv, gva, &leaf);
	u64 old = e ? *e : 0;
	for (struct shadow_page *sp = svm->unsync.uns_next; sp != &svm->unsync; sp = sp->uns_next)
		shadow_resync_entry(svm, sp, idx);
	if (e)
		prefetch_leaf(svm, leaf, shadow_hw_index(sv->pae_shape, gva, 1), old);
	shadow_commit(svm);
	SHADOW_UNLOCK(svm);
}

/* Contract in mm/shadow.h. Every unsync page of the VM is brought back in
 * sync (a superset of those reachable from this vCPU's root). */
void shadow_flush(struct shadow_vcpu *sv)
{
	struct shadow_vm *svm = sv->svm;

	SHADOW_LOCK(svm);
	svm->epoch++;
	svm->cur = sv;
	shadow_sync_all(svm);
	shadow_commit(svm);
	SHADOW_UNLOCK(svm);
}

/* A private PAE-level root of a nested MMU: its entries follow the four
 * PDPTEs in memory at the nCR3 (no PDPTE registers, APM §15.25.5), which
 * the slot's key holds. An entry stays only if its PDPTE is still
 * present, free of reserved bits, and leads to the same page. */
static void nested_resync_pae_root(struct shadow_vm *svm, struct shadow_pae_root *slot)
{
	struct shadow_page *sp = slot->sp;
	const struct gwalk_mode *m = shadow_mode_for(svm, sp->role);

	for (unsigned i = 0; i < sp->nents; i++) {
		u64 old = sp->spt[i], pdpte;
		struct shadow_page *child;
		gfn_t gfn;
		u32 role;

		if (!spte_present(old))
			continue;
		child = shadow_page_by_hpa(svm, old & SPTE_ADDR);
		if (!m || svm->env.read_gpa(svm->env.ctx, slot->key[0] + 8 * i, 8, &pdpte) != 0 ||
		    (pdpte & m->rsvd[3][0]) || !shadow_child_key(svm, sp, i, pdpte, m, &gfn, &role) || !child ||
		    child->gfn != gfn || child->role != role)
			shadow_clear_spte(svm, sp, i);
	}
	svm->st.pages_synced++;
}

/* Contract in mm/shadow.h. Every hashed page of the tag, reachable or
 * not: one out of reach now may be linked again by a later fault and
 * must not bring back a translation the flush removed. */
void shadow_nested_resync(struct shadow_vcpu *sv, unsigned tag)
{
	struct shadow_vm *svm = sv->svm;
	u32 want = (u32)tag << ROLE_TAG_SHIFT;
	bool all = tag == SHADOW_ALL_TAGS;

	if (!svm->nested)
		return;
	SHADOW_LOCK(svm);
	svm->epoch++;
	svm->cur = sv;
	for (struct shadow_page *sp = svm->lru.lru_next; sp != &svm->lru; sp = sp->lru_next)
		if (!(sp->role & ROLE_DIRECT) && (all || (sp->role & ROLE_TAG_MASK) == want))
			shadow_resync_page(svm, sp);
	for (unsigned i = 0; i < SH_PAE_ROOTS; i++) {
		struct shadow_pae_root *r = &sv->pae[i];
		if (r->sp && r->valid && !sp_obsolete(svm, r->sp) && role_fmt(r->sp->role) == SH_FMT_PAE &&
		    (all || (r->sp->role & ROLE_TAG_MASK) == want))
			nested_resync_pae_root(svm, r);
	}
	shadow_commit(svm);
	SHADOW_UNLOCK(svm);
}
