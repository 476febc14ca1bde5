/*
 * mm/shadow.c - the shadow MMU's objects and roots: VM and vCPU lifecycle,
 * choosing the root for the guest's paging state (shared roots with their
 * per-vCPU cache, private PAE roots with theirs), the generation, stats.
 *
 * Roots (DESIGN.md §5.1).
 *  - Shared roots (4/5-level guests) are hashed pages with a root_count:
 *    each of a vCPU's SH_ROOT_CACHE cache slots holds one reference, the
 *    current root is always cached. Dropping a slot is a put; a page whose
 *    count reaches zero stays hashed (reusable, reclaimable) unless it is
 *    obsolete, then it is zapped.
 *  - Private PAE roots (paging off, 32-bit and PAE guests): SH_PAE_ROOTS
 *    per vCPU, 32 bytes each in one low-pool frame taken at vCPU creation
 *    (so no guest action needs low memory later). Keyed by the guest's
 *    format, permission mode bits and the four PDPTE registers (PAE) or
 *    the page directory (32-bit), so switching among recent address spaces
 *    reuses them as they are. A slot of an older generation, or reused for
 *    another key, first unlinks its entries from their (maybe obsolete)
 *    children.
 *
 * It must not: hand the hardware a root of an older generation (shadow_
 * reload checks before every entry), or keep a vCPU's translations of a
 * previous root in its tagged TLB (every root switch flushes it).
 *
 * Lock: each public function takes the VM lock; private roots and the
 * root cache belong to their vCPU.
 */
#include "mm/shadow_priv.h"

#include "kernel/string.h"

_Static_assert(sizeof(struct shadow_vm) <= PAGE_SIZE, "shadow_vm fits a frame");
_Static_assert(sizeof(struct shadow_vcpu) <= PAGE_SIZE, "shadow_vcpu fits a frame");

extern const struct gwalk_ops shadow_gwalk_ops;

static void *frame_take(const struct shadow_env *env, hpa_t *pa)
{
	if (env->alloc_page(env->ctx, pa) != E_OK)
		return NULL;
	void *va = env->p2v(*pa);
	memset(va, 0, PAGE_SIZE);
	return va;
}

/* Contract in mm/shadow.h. @max_pages below SH_MIN_PAGES is raised to it
 * (one 5-level path with its direct pages plus the root cache). */
struct shadow_vm *shadow_vm_create(const struct shadow_env *env, u32 max_pages)
{
	hpa_t pa;
	struct shadow_vm *svm = frame_take(env, &pa);

	if (!svm)
		return NULL;
	svm->env = *env;
	svm->self_pa = pa;
	svm->max_pages = MAX(max_pages, SH_MIN_PAGES);
	svm->gen = 1;
	svm->st.max_pages = svm->max_pages;
	if (shadow_tables_init(svm) != E_OK) {
		shadow_vm_destroy(svm);
		return NULL;
	}
	return svm;
}

/* Contract in mm/shadow.h. */
struct shadow_vm *shadow_nested_vm_create(const struct shadow_env *env, u32 max_pages)
{
	struct shadow_vm *svm = shadow_vm_create(env, max_pages);

	if (svm)
		svm->nested = true;
	return svm;
}

static void zap_list(struct shadow_vm *svm, struct shadow_page *head)
{
	while (head->lru_next != head)
		shadow_page_zap(svm, head->lru_next);
}

static void vcpu_unlink_locked(struct shadow_vcpu *sv);
static void vcpu_free_frames(struct shadow_vcpu *sv);

/* Contract in mm/shadow.h. Destroys remaining vCPUs too. */
void shadow_vm_destroy(struct shadow_vm *svm)
{
	if (!svm)
		return;
	SHADOW_LOCK(svm);
	svm->dying = true;
	while (svm->vcpus) {
		/* not shadow_vcpu_destroy: the lock is held (it never nests) */
		struct shadow_vcpu *sv = svm->vcpus;
		vcpu_unlink_locked(sv);
		vcpu_free_frames(sv);
	}
	if (svm->lru.lru_next) {
		zap_list(svm, &svm->lru);
		zap_list(svm, &svm->obsolete);
	}
	shadow_commit(svm);
	shadow_tables_destroy(svm);
	SHADOW_UNLOCK(svm);
	svm->env.free_page(svm->env.ctx, svm->self_pa);
}

/* Contract in mm/shadow.h. */
struct shadow_vcpu *shadow_vcpu_create(struct shadow_vm *svm, u32 id)
{
	hpa_t pa, low = 0;
	struct shadow_vcpu *sv = frame_take(&svm->env, &pa);

	if (!sv)
		return NULL;
	/* A nested MMU's private roots are taken on first use from ordinary
	 * frames (the hardware nCR3 is 64 bits: no low memory needed). */
	if (!svm->nested && svm->env.alloc_low_page(svm->env.ctx, &low) != E_OK) {
		svm->env.free_page(svm->env.ctx, pa);
		return NULL;
	}
	if (low)
		memset(svm->env.p2v(low), 0, PAGE_SIZE);
	SHADOW_LOCK(svm);
	sv->svm = svm;
	sv->id = id;
	sv->self_pa = pa;
	sv->low_frame = low;
	for (unsigned i = 0; i < SH_PAE_ROOTS && !svm->nested; i++) {
		/* CR3 bits 31:5 locate a PAE root: 32-byte slots. */
		sv->pae[i].sp = shadow_page_alloc_private(svm, low + 32 * i);
		if (!sv->pae[i].sp) {
			SHADOW_UNLOCK(svm);
			shadow_vcpu_destroy(sv);
			return NULL;
		}
		svm->st.private_root_allocs++;
	}
	sv->next = svm->vcpus;
	svm->vcpus = sv;
	sv->linked = true;
	svm->nvcpus++;
	svm->max_pages = MAX(svm->max_pages, svm->nvcpus + 8);
	SHADOW_UNLOCK(svm);
	return sv;
}

/* Drop @sv's roots and unlink it (VM lock held); returns its frames'
 * release to the caller (after the lock). */
static void vcpu_unlink_locked(struct shadow_vcpu *sv)
{
	struct shadow_vm *svm = sv->svm;

	svm->epoch++;
	svm->cur = NULL;
	sv->root = NULL;
	for (unsigned i = 0; i < SH_ROOT_CACHE; i++) {
		if (sv->roots[i].sp)
			shadow_root_put(svm, sv->roots[i].sp);
		sv->roots[i].sp = NULL;
	}
	for (unsigned i = 0; i < SH_PAE_ROOTS; i++) {
		struct shadow_page *sp = sv->pae[i].sp;
		if (!sp)
			continue;
		hpa_t frame = sp->hpa;
		shadow_page_free_private(svm, sp);
		if (sv->pae[i].top) {
			/* nested: the PDPT-level root and its PML4 are whole
			 * frames of their own */
			svm->env.free_page(svm->env.ctx, frame);
			svm->env.free_page(svm->env.ctx, sv->pae[i].top);
		}
	}
	if (sv->linked) {
		struct shadow_vcpu **pp = &svm->vcpus;
		while (*pp != sv)
			pp = &(*pp)->next;
		*pp = sv->next;
		svm->nvcpus--;
		sv->linked = false;
	}
	shadow_commit(svm);
}

static void vcpu_free_frames(struct shadow_vcpu *sv)
{
	struct shadow_vm *svm = sv->svm;

	if (sv->low_frame)
		svm->env.free_low_page(svm->env.ctx, sv->low_frame);
	svm->env.free_page(svm->env.ctx, sv->self_pa);
}

/* Contract in mm/shadow.h. */
void shadow_vcpu_destroy(struct shadow_vcpu *sv)
{
	struct shadow_vm *svm = sv->svm;

	SHADOW_LOCK(svm);
	vcpu_unlink_locked(sv);
	SHADOW_UNLOCK(svm);
	vcpu_free_frames(sv);
}

/* ---------------------------------------------------------------- roots */

static unsigned sh_fmt(const struct gwalk_mode *m)
{
	switch (m->format) {
	case GWALK_FMT_OFF: return SH_FMT_OFF;
	case GWALK_FMT_32: return SH_FMT_32;
	case GWALK_FMT_PAE: return SH_FMT_PAE;
	default: return SH_FMT_LONG;
	}
}

static int select_shared_root(struct shadow_vcpu *sv)
{
	struct shadow_vm *svm = sv->svm;
	const struct gwalk_mode *m = &sv->genv.mode;
	gfn_t gfn = (sv->genv.cr3 & GENMASK(m->maxphyaddr - 1, PAGE_SHIFT)) >> PAGE_SHIFT;
	u32 role = m->levels | SH_FMT_LONG << ROLE_FMT_SHIFT | ACC_ALL << ROLE_ACC_SHIFT | shadow_vm_mode_role(svm, m) |
		   sv->role_tag;
	struct shadow_root_slot *slot = NULL;

	sv->clock++;
	for (unsigned i = 0; i < SH_ROOT_CACHE; i++) {
		struct shadow_page *sp = sv->roots[i].sp;
		if (sp && sp_obsolete(svm, sp)) {
			/* Of an older generation: drop the reference. */
			sv->roots[i].sp = NULL;
			if (sv->root == sp)
				sv->root = NULL;
			shadow_root_put(svm, sp);
		} else if (sp && sp->gfn == gfn && sp->role == role) {
			sv->roots[i].last_use = sv->clock;
			sv->root = sp;
			shadow_page_touch(svm, sp);
			svm->st.root_hits++;
			return E_OK;
		}
	}
	svm->st.root_misses++;
	struct shadow_page *sp = shadow_page_get(svm, gfn, role);
	if (!sp)
		return E_NOMEM;
	sp->root_count++;
	for (unsigned i = 0; i < SH_ROOT_CACHE; i++) {
		struct shadow_root_slot *s = &sv->roots[i];
		if (!s->sp) {
			slot = s;
			break;
		}
		if (!slot || s->last_use < slot->last_use)
			slot = s;
	}
	if (slot->sp)
		shadow_root_put(svm, slot->sp);
	slot->sp = sp;
	slot->last_use = sv->clock;
	sv->root = sp;
	return E_OK;
}

/* A nested MMU's private root slot gets its frames on first use: a PDPT
 * (the 4 entries a PAE-level root uses; the rest stay zero, i.e. not
 * present) and a PML4 whose entry 0 points to it, so the hardware walks
 * its usual 4-level format (DESIGN.md §5.1, §6). */
static int nested_slot_init(struct shadow_vm *svm, struct shadow_pae_root *slot)
{
	hpa_t pdpt, top;

	if (slot->sp)
		return E_OK;
	if (!frame_take(&svm->env, &pdpt))
		return E_NOMEM;
	u64 *pml4 = frame_take(&svm->env, &top);
	if (!pml4) {
		svm->env.free_page(svm->env.ctx, pdpt);
		return E_NOMEM;
	}
	slot->sp = shadow_page_alloc_private(svm, pdpt);
	if (!slot->sp) {
		svm->env.free_page(svm->env.ctx, pdpt);
		svm->env.free_page(svm->env.ctx, top);
		return E_NOMEM;
	}
	pml4[0] = pdpt | SPTE_TABLE;
	slot->top = top;
	slot->valid = false;
	svm->st.private_root_allocs += 2;
	return E_OK;
}

static int select_private_root(struct shadow_vcpu *sv)
{
	struct shadow_vm *svm = sv->svm;
	const struct gwalk_mode *m = &sv->genv.mode;
	unsigned fmt = sh_fmt(m);
	u32 role = 3 | fmt << ROLE_FMT_SHIFT | shadow_vm_mode_role(svm, m) | sv->role_tag;
	gfn_t gfn = fmt == SH_FMT_32 ? (sv->genv.cr3 & GENMASK(31, 12)) >> PAGE_SHIFT : 0;
	u64 key[4] = { 0, 0, 0, 0 };
	struct shadow_pae_root *slot = NULL;

	if (fmt == SH_FMT_PAE && sv->genv.pdpte_in_memory)
		key[0] = sv->genv.cr3 & GENMASK(31, 5); /* PDPTEs are read from there on every walk */
	else if (fmt == SH_FMT_PAE)
		memcpy(key, sv->genv.pdpte, sizeof(key));
	sv->clock++;
	for (unsigned i = 0; i < SH_PAE_ROOTS; i++) {
		struct shadow_pae_root *r = &sv->pae[i];
		if (r->valid && r->key[0] == key[0] && r->key[1] == key[1] && r->key[2] == key[2] &&
		    r->key[3] == key[3] && r->sp->role == role && r->sp->gfn == gfn && !sp_obsolete(svm, r->sp)) {
			r->last_use = sv->clock;
			sv->root = r->sp;
			sv->pae_top = r->top;
			svm->st.root_hits++;
			return E_OK;
		}
		if (!slot || (slot->valid && (!r->valid || r->last_use < slot->last_use)))
			slot = r;
	}
	/* A nested MMU reuses the frames of a slot it already holds before
	 * taking frames for another. */
	if (svm->nested && !(slot->sp && (!slot->valid || sp_obsolete(svm, slot->sp)))) {
		for (unsigned i = 0; i < SH_PAE_ROOTS; i++) {
			struct shadow_pae_root *r = &sv->pae[i];
			if (r->sp && (!r->valid || sp_obsolete(svm, r->sp))) {
				slot = r;
				break;
			}
		}
	}
	/* Re-key the least recently used slot. Its entries may point to
	 * pages of an older generation: unlink them first. */
	svm->st.root_misses++;
	if (svm->nested && nested_slot_init(svm, slot) != E_OK)
		return E_NOMEM;
	for (unsigned i = 0; i < slot->sp->nents; i++)
		shadow_clear_spte(svm, slot->sp, i);
	slot->sp->role = role;
	slot->sp->gfn = gfn;
	slot->sp->gen = svm->gen;
	memcpy(slot->key, key, sizeof(key));
	slot->valid = true;
	slot->last_use = sv->clock;
	sv->root = slot->sp;
	sv->pae_top = slot->top;
	return E_OK;
}

/* Choose the root for sv->genv and describe it in sv->hw. */
static int select_root(struct shadow_vcpu *sv)
{
	const struct gwalk_mode *m = &sv->genv.mode;
	bool shared = sh_fmt(m) == SH_FMT_LONG;

	if (shared) {
		int r = select_shared_root(sv);
		if (r != E_OK)
			return r;
	} else {
		int r = select_private_root(sv);
		if (r != E_OK)
			return r;
	}
	sv->pae_shape = !shared;
	/* A nested MMU's hardware format is always 4-level (the host's). */
	sv->hw.cr3 = (!shared && sv->svm->nested) ? sv->pae_top : sv->root->hpa;
	sv->hw.pae = !shared && !sv->svm->nested;
	sv->hw.la57 = shared && m->levels == 5;
	sv->hw.smep = (m->flags & GWALK_M_SMEP) != 0;
	sv->hw.smap = (m->flags & GWALK_M_SMAP) != 0;
	sv->hw.pke = (m->flags & GWALK_M_PKE) != 0;
	/* The vCPU's tagged TLB may hold the previous root's translations
	 * (VM entry does not flush a VPID/ASID): they must go. */
	sv->svm->env.flush_tlb(sv->svm->env.ctx, sv->id);
	return E_OK;
}

/* Contract in mm/shadow.h. A CR3 load brings every unsync page back in
 * sync (the guest's non-global translations are flushed, SDM §4.10.4.1;
 * shadows never set G, so all of them), and flushes this vCPU's TLB. */
int shadow_set_mode(struct shadow_vcpu *sv, const struct gwalk_mode *mode, u64 cr3, const u64 pdpte[4],
		    struct shadow_hw *hw)
{
	struct shadow_vm *svm = sv->svm;
	int r;

	SHADOW_LOCK(svm);
	svm->epoch++;
	svm->cur = sv;
	memset(&sv->genv, 0, sizeof(sv->genv));
	sv->genv.mode = *mode;
	sv->genv.cr3 = cr3;
	if (svm->nested && mode->format == GWALK_FMT_PAE)
		sv->genv.pdpte_in_memory = true; /* AMD nested PAE tables (APM §15.25.5) */
	else if (mode->format == GWALK_FMT_PAE && pdpte)
		memcpy(sv->genv.pdpte, pdpte, sizeof(sv->genv.pdpte));
	sv->have_mode = true;
	shadow_mode_remember(svm, mode, shadow_vm_mode_role(svm, mode));
	shadow_sync_all(svm);
	r = select_root(sv);
	if (r == E_OK) {
		sp_pin(svm, sv->root);
		shadow_reclaim_obsolete(svm, SH_OBSOLETE_BATCH);
		*hw = sv->hw;
	} else {
		sv->root = NULL;
	}
	shadow_commit(svm);
	SHADOW_UNLOCK(svm);
	return r;
}

/* Contract in mm/shadow.h. The tag is the vCPU's own (no lock needed);
 * the roots it selects carry it, and so every page below them. */
int shadow_nested_set_root(struct shadow_vcpu *sv, const struct gwalk_mode *mode, u64 ncr3, unsigned tag,
			   struct shadow_hw *hw)
{
	if (!sv->svm->nested || tag >= SHADOW_NESTED_TAGS)
		return E_INVAL;
	sv->role_tag = (u32)tag << ROLE_TAG_SHIFT;
	return shadow_set_mode(sv, mode, ncr3, NULL, hw);
}

/* Contract in mm/shadow.h. Cheap when nothing was invalidated (a
 * generation compare). */
bool shadow_reload(struct shadow_vcpu *sv, struct shadow_hw *hw)
{
	struct shadow_vm *svm = sv->svm;
	bool changed = false;

	if (!sv->have_mode)
		return false;
	/* Without the lock: the root this vCPU pinned cannot go away, and a
	 * generation bump racing with this check also posts a TLB flush to
	 * every vCPU, which makes its entry back out and come here again
	 * (kernel/vcpu_sync.h). */
	if (sv->root && !sp_obsolete(svm, sv->root) &&
	    __atomic_load_n(&svm->obsolete.lru_next, __ATOMIC_ACQUIRE) == &svm->obsolete)
		return false;
	SHADOW_LOCK(svm);
	svm->epoch++;
	svm->cur = sv;
	if (!sv->root || sp_obsolete(svm, sv->root)) {
		changed = true;
		if (select_root(sv) == E_OK) {
			sp_pin(svm, sv->root);
			*hw = sv->hw;
		} else {
			/* The old root may already be freed: never enter. */
			sv->root = NULL;
			memset(hw, 0, sizeof(*hw));
		}
	}
	if (svm->obsolete.lru_next != &svm->obsolete)
		shadow_reclaim_obsolete(svm, SH_OBSOLETE_BATCH);
	shadow_commit(svm);
	SHADOW_UNLOCK(svm);
	return changed;
}

/* Contract in mm/shadow.h. Obsolete pages stay consistent (tracked,
 * updated on guest writes) until reclaimed, since a vCPU may still run
 * on an old root until its reload; every TLB is flushed because the
 * caller may have changed what guest frames map to. */
void shadow_zap_all(struct shadow_vm *svm)
{
	SHADOW_LOCK(svm);
	shadow_bump_gen(svm);
	SHADOW_UNLOCK(svm);
}

/* Contract in mm/shadow_priv.h. */
void shadow_bump_gen(struct shadow_vm *svm)
{
	svm->gen++;
	svm->st.zap_alls++;
	shadow_pages_obsolete(svm);
	if (!svm->dying) {
		svm->env.flush_tlb(svm->env.ctx, SHADOW_ALL_VCPUS);
		svm->st.tlb_flushes++;
	}
}

/* Contract in mm/shadow.h. */
void shadow_get_stats(const struct shadow_vm *svm, struct shadow_stats *st)
{
	*st = svm->st;
	st->max_pages = svm->max_pages;
	st->meta_frames = svm->meta_frames;
}
