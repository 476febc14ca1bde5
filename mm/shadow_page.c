/*
 * mm/shadow_page.c - shadow pages as objects: their memory, the lookups
 * (gfn hash, hpa hash, id table, gfn reverse map), the entry lists that
 * link every present shadow entry to what it points at, zapping, the LRU
 * and reclaim, and the deferred free after the TLB flush.
 *
 * It owns: every frame the shadow MMU takes from env (tables, links,
 * descriptor pool, lookup tables), the rule that a removed or narrowed
 * translation sets need_flush, and the rule that a zapped page's frames
 * are freed only after the flush (a vCPU in guest mode on another CPU may
 * still walk them until then).
 *
 * It must not: read guest memory (derivation from guest entries is in
 * shadow_sync.c), zap a pinned page (a root in use, a private root, or a
 * page the running operation holds), or fail on the page limit (only on
 * E_NOMEM from env).
 *
 * Lock: every function here runs under the VM lock (SHADOW_LOCK), taken
 * by the public entry points in shadow.c, shadow_fault.c, shadow_sync.c.
 */
#include "mm/shadow_priv.h"

#include "kernel/string.h"

/* ---------------------------------------------------------------- frames */

static void *meta_alloc(struct shadow_vm *svm, hpa_t *pa)
{
	if (svm->env.alloc_page(svm->env.ctx, pa) != E_OK)
		return NULL;
	void *va = svm->env.p2v(*pa);
	memset(va, 0, PAGE_SIZE);
	svm->meta_frames++;
	return va;
}

static void meta_free(struct shadow_vm *svm, hpa_t pa)
{
	svm->env.free_page(svm->env.ctx, pa);
	svm->meta_frames--;
}

/* A two-level table of pointer slots. Layout of the top frame: slots
 * 0..255 point to second-level frames of 512 slots (virtual addresses),
 * slots 256..511 hold those frames' hpas for freeing. So a table reaches
 * 256 * 512 slots; second-level frames are allocated on demand. */
#define TBL_HALF 256u

static void **tbl_slot(struct shadow_vm *svm, void **top, u64 index, bool alloc)
{
	u64 hi = index >> 9;

	if (hi >= TBL_HALF)
		return NULL;
	void **mid = top[hi];
	if (!mid) {
		hpa_t pa;
		if (!alloc || !(mid = meta_alloc(svm, &pa)))
			return NULL;
		top[hi] = mid;
		top[TBL_HALF + hi] = (void *)(uintptr_t)pa;
	}
	return &mid[index & 511];
}

static void tbl_free(struct shadow_vm *svm, void **top, hpa_t top_pa, void (*leaf_free)(struct shadow_vm *, void *))
{
	if (!top)
		return;
	for (unsigned i = 0; i < TBL_HALF; i++) {
		void **mid = top[i];
		if (!mid)
			continue;
		if (leaf_free)
			for (unsigned j = 0; j < 512; j++)
				if (mid[j])
					leaf_free(svm, mid[j]);
		meta_free(svm, (hpa_t)(uintptr_t)top[TBL_HALF + i]);
	}
	meta_free(svm, top_pa);
}

/* The rmap: a two-level table of leaf frames, each holding the list heads
 * of RMAP_PER_LEAF consecutive gfns and its own hpa; it reaches
 * SH_MAX_GFN frames. */
struct rmap_leaf {
	u32 head[1022];
	hpa_t pa;
};
_Static_assert(sizeof(struct rmap_leaf) == PAGE_SIZE, "rmap leaf is one frame");
#define RMAP_PER_LEAF 1022u

static void rmap_leaf_free(struct shadow_vm *svm, void *leaf)
{
	meta_free(svm, ((struct rmap_leaf *)leaf)->pa);
}

/* Contract in mm/shadow_priv.h. */
u32 *shadow_rmap_head(struct shadow_vm *svm, gfn_t gfn, bool alloc)
{
	if (gfn >= SH_MAX_GFN)
		return NULL;
	void **slot = tbl_slot(svm, svm->rmap, gfn / RMAP_PER_LEAF, alloc);
	if (!slot)
		return NULL;
	struct rmap_leaf *l = *slot;
	if (!l) {
		hpa_t pa;
		if (!alloc || !(l = meta_alloc(svm, &pa)))
			return NULL;
		l->pa = pa;
		*slot = l;
	}
	return &l->head[gfn % RMAP_PER_LEAF];
}

/* ---------------------------------------------------------------- descriptors */

/* Pool frames: a header (the next pool frame's hpa) then descriptors. */
#define POOL_HDR 64u
#define DESCS_PER_FRAME ((unsigned)((PAGE_SIZE - POOL_HDR) / sizeof(struct shadow_page)))

static int pool_grow(struct shadow_vm *svm)
{
	hpa_t pa;

	if (svm->next_id + DESCS_PER_FRAME >= SH_MAX_ID)
		return E_NOMEM;
	/* Reserve the id slots first so a failure leaves nothing half-done. */
	for (unsigned i = 0; i < DESCS_PER_FRAME; i++)
		if (!tbl_slot(svm, svm->ids, svm->next_id + 1 + i, true))
			return E_NOMEM;
	u8 *va = meta_alloc(svm, &pa);
	if (!va)
		return E_NOMEM;
	*(hpa_t *)va = svm->pool_frames;
	svm->pool_frames = pa;
	for (unsigned i = 0; i < DESCS_PER_FRAME; i++) {
		struct shadow_page *sp = (struct shadow_page *)(va + POOL_HDR) + i;
		sp->id = ++svm->next_id;
		*tbl_slot(svm, svm->ids, sp->id, false) = sp;
		sp->hash_next = svm->free_descs;
		svm->free_descs = sp;
	}
	return E_OK;
}

/* A zeroed descriptor with its permanent id, or NULL. */
static struct shadow_page *desc_alloc(struct shadow_vm *svm)
{
	if (!svm->free_descs && pool_grow(svm) != E_OK)
		return NULL;
	struct shadow_page *sp = svm->free_descs;
	u32 id = sp->id;
	svm->free_descs = sp->hash_next;
	memset(sp, 0, sizeof(*sp));
	sp->id = id;
	return sp;
}

static void desc_free(struct shadow_vm *svm, struct shadow_page *sp)
{
	u32 id = sp->id;
	memset(sp, 0, sizeof(*sp));
	sp->id = id;
	sp->hash_next = svm->free_descs;
	svm->free_descs = sp;
}

/* Contract in mm/shadow_priv.h. */
struct shadow_page *shadow_page_by_id(struct shadow_vm *svm, u32 id)
{
	void **slot = tbl_slot(svm, svm->ids, id, false);
	return slot ? *slot : NULL;
}

/* ---------------------------------------------------------------- lists */

static void dl_init(struct shadow_page *s)
{
	s->lru_prev = s->lru_next = s;
}

static void dl_del(struct shadow_page *sp)
{
	if (!sp->lru_next)
		return;
	sp->lru_prev->lru_next = sp->lru_next;
	sp->lru_next->lru_prev = sp->lru_prev;
	sp->lru_prev = sp->lru_next = NULL;
}

static void dl_add_tail(struct shadow_page *head, struct shadow_page *sp)
{
	sp->lru_prev = head->lru_prev;
	sp->lru_next = head;
	head->lru_prev->lru_next = sp;
	head->lru_prev = sp;
}

/* Contract in mm/shadow_priv.h. */
void shadow_page_touch(struct shadow_vm *svm, struct shadow_page *sp)
{
	if ((sp->flags & (SP_PRIVATE | SP_OBSOLETE | SP_ZAPPED)) || !sp->lru_next)
		return;
	dl_del(sp);
	dl_add_tail(&svm->lru, sp);
}

static void unsync_del(struct shadow_vm *svm, struct shadow_page *sp)
{
	(void)svm;
	if (!sp->uns_next)
		return;
	sp->uns_prev->uns_next = sp->uns_next;
	sp->uns_next->uns_prev = sp->uns_prev;
	sp->uns_prev = sp->uns_next = NULL;
}

/* ---------------------------------------------------------------- hashes */

static void **gfn_bucket(struct shadow_vm *svm, gfn_t gfn)
{
	u64 h = gfn * 0x9e3779b97f4a7c15ULL;
	return tbl_slot(svm, svm->gfn_hash, (h >> 32) & (svm->nbuckets - 1), false);
}

static void **hpa_bucket(struct shadow_vm *svm, hpa_t hpa)
{
	u64 h = (hpa >> PAGE_SHIFT) * 0x9e3779b97f4a7c15ULL;
	return tbl_slot(svm, svm->hpa_hash, (h >> 32) & (svm->nbuckets - 1), false);
}

/* First page of @gfn's bucket (walk it with hash_next, checking gfn). */
struct shadow_page *shadow_gfn_first(struct shadow_vm *svm, gfn_t gfn)
{
	return *gfn_bucket(svm, gfn);
}

/* Contract in mm/shadow_priv.h. */
struct shadow_page *shadow_page_by_hpa(struct shadow_vm *svm, hpa_t hpa)
{
	for (struct shadow_page *sp = *hpa_bucket(svm, hpa); sp; sp = sp->hpa_next)
		if (sp->hpa == hpa)
			return sp;
	return NULL;
}

static void hash_insert(struct shadow_vm *svm, struct shadow_page *sp)
{
	void **b = gfn_bucket(svm, sp->gfn);
	sp->hash_next = *b;
	*b = sp;
	b = hpa_bucket(svm, sp->hpa);
	sp->hpa_next = *b;
	*b = sp;
}

static void hash_remove(struct shadow_vm *svm, struct shadow_page *sp)
{
	struct shadow_page **pp;

	for (pp = (struct shadow_page **)gfn_bucket(svm, sp->gfn); *pp; pp = &(*pp)->hash_next)
		if (*pp == sp) {
			*pp = sp->hash_next;
			break;
		}
	for (pp = (struct shadow_page **)hpa_bucket(svm, sp->hpa); *pp; pp = &(*pp)->hpa_next)
		if (*pp == sp) {
			*pp = sp->hpa_next;
			break;
		}
	sp->hash_next = sp->hpa_next = NULL;
}

/* ---------------------------------------------------------------- entry lists */

static u32 *link_of(struct shadow_vm *svm, u32 h, unsigned which)
{
	unsigned idx;
	struct shadow_page *sp = shadow_handle_page(svm, h, &idx);
	return &sp->links[2 * idx + which];
}

/* Where a list member's predecessor keeps its "next": a head or a link. */
static u32 *next_slot(struct shadow_vm *svm, u32 prev)
{
	if (!(prev & SH_HEAD))
		return link_of(svm, prev, 0);
	if (prev & SH_PARENTS)
		return &shadow_page_by_id(svm, prev & ~(SH_HEAD | SH_PARENTS))->parents;
	return shadow_rmap_head(svm, prev & ~SH_HEAD, false);
}

static void list_push(struct shadow_vm *svm, u32 *headp, u32 head, u32 h)
{
	u32 first = *headp;

	*link_of(svm, h, 0) = first;
	*link_of(svm, h, 1) = head;
	if (first)
		*link_of(svm, first, 1) = h;
	*headp = h;
}

static void list_del(struct shadow_vm *svm, u32 h)
{
	u32 *nx = link_of(svm, h, 0), *pv = link_of(svm, h, 1);
	u32 n = *nx, p = *pv;

	*next_slot(svm, p) = n;
	if (n)
		*link_of(svm, n, 1) = p;
	*nx = *pv = 0;
}

static u32 handle_of(const struct shadow_page *sp, unsigned idx)
{
	return sp->id << 9 | idx;
}

/* Contract in mm/shadow_priv.h. */
bool shadow_is_leaf_entry(const struct shadow_page *sp)
{
	return role_level(sp->role) == 1;
}

/* Would replacing leaf @old by @new (same frame) remove a right? Any
 * change of U/S counts: with SMEP/SMAP a user page denies the supervisor
 * what a supervisor page allows. */
static bool leaf_narrows(u64 old, u64 new)
{
	if ((old & SPTE_ADDR) != (new & SPTE_ADDR) || !(new & PTE_P))
		return true;
	if ((old & PTE_RW) && !(new & PTE_RW))
		return true;
	if ((old ^ new) & (PTE_US | SPTE_PKEY))
		return true;
	return !(old & PTE_NX) && (new & PTE_NX);
}

/* Contract in mm/shadow_priv.h. */
void shadow_set_spte(struct shadow_vm *svm, struct shadow_page *sp, unsigned idx, u64 spte,
		     struct shadow_page *child, gfn_t gfn)
{
	u64 old = sp->spt[idx];
	bool leaf = shadow_is_leaf_entry(sp);
	u32 h = handle_of(sp, idx);

	if (spte_present(old)) {
		if (spte_present(spte) && (old & SPTE_ADDR) == (spte & SPTE_ADDR)) {
			/* Same target: stays in the same list. */
			if (leaf && leaf_narrows(old, spte))
				svm->need_flush = true;
			sp->spt[idx] = spte;
			return;
		}
		list_del(svm, h);
		svm->need_flush = true;
	}
	sp->spt[idx] = spte;
	if (!spte_present(spte))
		return;
	if (leaf)
		list_push(svm, shadow_rmap_head(svm, gfn, false), SH_HEAD | (u32)gfn, h);
	else
		list_push(svm, &child->parents, SH_HEAD | SH_PARENTS | child->id, h);
}

/* Contract in mm/shadow_priv.h. */
void shadow_clear_spte(struct shadow_vm *svm, struct shadow_page *sp, unsigned idx)
{
	if (!spte_present(sp->spt[idx]))
		return;
	list_del(svm, handle_of(sp, idx));
	sp->spt[idx] = 0;
	svm->need_flush = true;
}

/* ---------------------------------------------------------------- tracking */

/* Contract in mm/shadow_priv.h. */
bool shadow_gfn_write_protected(struct shadow_vm *svm, gfn_t gfn)
{
	/* A nested MMU tracks nothing: its pages are resynchronized at the
	 * L1's TLB flushes instead (kernel/nested_mmu.c). */
	if (svm->nested)
		return false;
	for (struct shadow_page *sp = shadow_gfn_first(svm, gfn); sp; sp = sp->hash_next)
		if (sp->gfn == gfn && !(sp->role & ROLE_DIRECT) && !(sp->flags & SP_UNSYNC))
			return true;
	return false;
}

/* Contract in mm/shadow_priv.h. */
void shadow_write_protect(struct shadow_vm *svm, gfn_t gfn)
{
	u32 *head = svm->nested ? NULL : shadow_rmap_head(svm, gfn, false);

	if (!head)
		return;
	for (u32 h = *head; h; h = *link_of(svm, h, 0)) {
		unsigned idx;
		struct shadow_page *sp = shadow_handle_page(svm, h, &idx);
		if (sp->spt[idx] & PTE_RW) {
			sp->spt[idx] &= ~PTE_RW;
			svm->need_flush = true;
		}
	}
}

/* ---------------------------------------------------------------- pages */

/* Free a page's frames and descriptor (it is unlinked from everything). */
static void page_release(struct shadow_vm *svm, struct shadow_page *sp)
{
	if (!(sp->flags & SP_PRIVATE))
		svm->env.free_page(svm->env.ctx, sp->hpa);
	if (sp->links_hpa)
		svm->env.free_page(svm->env.ctx, sp->links_hpa);
	desc_free(svm, sp);
}

/* Contract in mm/shadow_priv.h. */
void shadow_commit(struct shadow_vm *svm)
{
	if (svm->need_flush && !svm->dying) {
		svm->env.flush_tlb(svm->env.ctx, SHADOW_ALL_VCPUS);
		svm->st.tlb_flushes++;
	}
	svm->need_flush = false;
	while (svm->pending) {
		struct shadow_page *sp = svm->pending;
		svm->pending = sp->hash_next;
		page_release(svm, sp);
	}
}

/* Contract in mm/shadow_priv.h. */
void shadow_page_zap(struct shadow_vm *svm, struct shadow_page *sp)
{
	if (sp->flags & (SP_ZAPPED | SP_PRIVATE))
		return;
	/* Unlink from every parent entry: what it translated is gone. */
	while (sp->parents) {
		unsigned idx;
		struct shadow_page *parent = shadow_handle_page(svm, sp->parents, &idx);
		shadow_clear_spte(svm, parent, idx);
	}
	for (unsigned i = 0; i < sp->nents; i++)
		if (spte_present(sp->spt[i]))
			list_del(svm, handle_of(sp, i));
	hash_remove(svm, sp);
	unsync_del(svm, sp);
	dl_del(sp);
	sp->flags = (u16)(sp->flags | SP_ZAPPED);
	sp->hash_next = svm->pending;
	svm->pending = sp;
	svm->st.pages_in_use--;
	svm->st.pages_zapped++;
}

static bool reclaim_from(struct shadow_vm *svm, struct shadow_page *head)
{
	for (struct shadow_page *sp = head->lru_next; sp != head; sp = sp->lru_next) {
		if (!sp_pinned(svm, sp)) {
			shadow_page_zap(svm, sp);
			svm->st.reclaims++;
			return true;
		}
	}
	return false;
}

/* Contract in mm/shadow_priv.h. */
bool shadow_reclaim_one(struct shadow_vm *svm)
{
	return reclaim_from(svm, &svm->obsolete) || reclaim_from(svm, &svm->lru);
}

/* Contract in mm/shadow_priv.h. */
void shadow_reclaim_obsolete(struct shadow_vm *svm, unsigned max)
{
	struct shadow_page *sp = svm->obsolete.lru_next;

	while (max && sp != &svm->obsolete) {
		struct shadow_page *next = sp->lru_next;
		if (!sp_pinned(svm, sp)) {
			shadow_page_zap(svm, sp);
			max--;
		}
		sp = next;
	}
}

/* Drop every vCPU's cached shared roots other than its current one: the
 * last thing to give back before exceeding the limit. The root caches
 * are under the VM lock; a vCPU's current root (maybe loaded in the
 * hardware right now) is never dropped by another. */
static bool drop_cached_roots(struct shadow_vm *svm)
{
	bool any = false;

	for (struct shadow_vcpu *sv = svm->vcpus; sv; sv = sv->next) {
		for (unsigned i = 0; i < SH_ROOT_CACHE; i++) {
			struct shadow_page *sp = sv->roots[i].sp;
			if (sp && sp != sv->root) {
				sv->roots[i].sp = NULL;
				shadow_root_put(svm, sp);
				any = true;
			}
		}
	}
	return any;
}

/* Contract in mm/shadow_priv.h. */
void shadow_root_put(struct shadow_vm *svm, struct shadow_page *sp)
{
	if (sp->root_count && --sp->root_count == 0 && (sp->flags & SP_OBSOLETE))
		shadow_page_zap(svm, sp);
}

static int frame_alloc(struct shadow_vm *svm, hpa_t *pa)
{
	/* Out of frames: give back what the limit allows and retry. */
	for (int tries = 0; tries < 8; tries++) {
		if (svm->env.alloc_page(svm->env.ctx, pa) == E_OK)
			return E_OK;
		if (!shadow_reclaim_one(svm) && !drop_cached_roots(svm))
			return E_NOMEM;
		shadow_commit(svm);
	}
	return E_NOMEM;
}

/* Contract in mm/shadow_priv.h. */
struct shadow_page *shadow_page_alloc(struct shadow_vm *svm)
{
	while (svm->st.pages_in_use >= svm->max_pages) {
		if (shadow_reclaim_one(svm) || drop_cached_roots(svm))
			continue;
		/* Everything is pinned: the vCPUs' current roots and the
		 * path being built. The floor on max_pages (vCPUs + 8, see
		 * shadow_vcpu_create) makes this unreachable; should it
		 * happen, exceed the limit by this page rather than fail or
		 * zap everything (which frees no pinned page, and would make
		 * the faulting vCPU rebuild the same path forever). */
		svm->st.overshoots++;
		break;
	}
	struct shadow_page *sp = desc_alloc(svm);
	if (!sp)
		return NULL;
	hpa_t spt_pa, links_pa;
	if (frame_alloc(svm, &spt_pa) != E_OK) {
		desc_free(svm, sp);
		return NULL;
	}
	if (frame_alloc(svm, &links_pa) != E_OK) {
		svm->env.free_page(svm->env.ctx, spt_pa);
		desc_free(svm, sp);
		return NULL;
	}
	sp->hpa = spt_pa;
	sp->spt = svm->env.p2v(spt_pa);
	sp->links_hpa = links_pa;
	sp->links = svm->env.p2v(links_pa);
	memset(sp->spt, 0, PAGE_SIZE);
	memset(sp->links, 0, PAGE_SIZE);
	sp->nents = SPTE_ENTRIES;
	sp->gen = svm->gen;
	svm->st.pages_in_use++;
	svm->st.pages_created++;
	return sp;
}

/* A private root descriptor over 32 bytes at @pa of a low frame. */
struct shadow_page *shadow_page_alloc_private(struct shadow_vm *svm, hpa_t pa)
{
	struct shadow_page *sp = desc_alloc(svm);

	if (!sp)
		return NULL;
	sp->flags = SP_PRIVATE;
	sp->hpa = pa;
	sp->spt = svm->env.p2v(pa);
	sp->links = sp->inline_links;
	sp->nents = 4;
	sp->role = 3;
	sp->gen = svm->gen;
	memset(sp->spt, 0, 4 * sizeof(u64));
	return sp;
}

/* Contract in mm/shadow_priv.h. */
void shadow_page_free_private(struct shadow_vm *svm, struct shadow_page *sp)
{
	for (unsigned i = 0; i < sp->nents; i++)
		shadow_clear_spte(svm, sp, i);
	desc_free(svm, sp);
}

static bool gfn_has_unsync(struct shadow_vm *svm, gfn_t gfn)
{
	for (struct shadow_page *sp = shadow_gfn_first(svm, gfn); sp; sp = sp->hash_next)
		if (sp->gfn == gfn && (sp->flags & SP_UNSYNC))
			return true;
	return false;
}

/* Contract in mm/shadow_priv.h. */
struct shadow_page *shadow_page_get(struct shadow_vm *svm, gfn_t gfn, u32 role)
{
	bool direct = role & ROLE_DIRECT;

	for (struct shadow_page *sp = shadow_gfn_first(svm, gfn); sp; sp = sp->hash_next) {
		if (sp->gfn == gfn && sp->role == role && !sp_obsolete(svm, sp)) {
			shadow_page_touch(svm, sp);
			return sp;
		}
	}
	/* A gfn's pages are all unsync or all write-protected: a new page
	 * of an unsync gfn first brings the others back in sync. */
	if (!direct && gfn_has_unsync(svm, gfn))
		shadow_sync_gfn(svm, gfn);

	struct shadow_page *sp = shadow_page_alloc(svm);
	if (!sp)
		return NULL;
	bool was_tracked = !direct && shadow_gfn_write_protected(svm, gfn);
	sp->gfn = gfn;
	sp->role = role;
	hash_insert(svm, sp);
	dl_add_tail(&svm->lru, sp);
	/* "When a frame becomes a page table", its writable mappings go. */
	if (!direct && !was_tracked)
		shadow_write_protect(svm, gfn);
	return sp;
}

/* Every page of the LRU becomes obsolete (generation bump). */
void shadow_pages_obsolete(struct shadow_vm *svm)
{
	for (struct shadow_page *sp = svm->lru.lru_next; sp != &svm->lru; sp = sp->lru_next)
		sp->flags = (u16)(sp->flags | SP_OBSOLETE);
	if (svm->lru.lru_next == &svm->lru)
		return;
	/* Splice the LRU list at the tail of the obsolete list. */
	struct shadow_page *first = svm->lru.lru_next, *last = svm->lru.lru_prev;
	first->lru_prev = svm->obsolete.lru_prev;
	svm->obsolete.lru_prev->lru_next = first;
	last->lru_next = &svm->obsolete;
	svm->obsolete.lru_prev = last;
	dl_init(&svm->lru);
}

/* Unsync list (a gfn's level-1 pages). */
void shadow_unsync_add(struct shadow_vm *svm, struct shadow_page *sp)
{
	sp->flags = (u16)(sp->flags | SP_UNSYNC);
	sp->uns_prev = svm->unsync.uns_prev;
	sp->uns_next = &svm->unsync;
	svm->unsync.uns_prev->uns_next = sp;
	svm->unsync.uns_prev = sp;
}

void shadow_unsync_del(struct shadow_vm *svm, struct shadow_page *sp)
{
	sp->flags = (u16)(sp->flags & ~SP_UNSYNC);
	unsync_del(svm, sp);
}

/* ---------------------------------------------------------------- setup */

/* Contract in mm/shadow_priv.h. */
int shadow_tables_init(struct shadow_vm *svm)
{
	u32 want = svm->max_pages / 2;

	svm->nbuckets = 512;
	while (svm->nbuckets < want && svm->nbuckets < TBL_HALF * 512)
		svm->nbuckets <<= 1;
	dl_init(&svm->lru);
	dl_init(&svm->obsolete);
	svm->unsync.uns_prev = svm->unsync.uns_next = &svm->unsync;
	svm->ids = meta_alloc(svm, &svm->ids_pa);
	svm->rmap = meta_alloc(svm, &svm->rmap_pa);
	svm->gfn_hash = meta_alloc(svm, &svm->gfn_hash_pa);
	svm->hpa_hash = meta_alloc(svm, &svm->hpa_hash_pa);
	if (!svm->ids || !svm->rmap || !svm->gfn_hash || !svm->hpa_hash)
		return E_NOMEM;
	for (u32 i = 0; i < svm->nbuckets; i += 512) {
		if (!tbl_slot(svm, svm->gfn_hash, i, true) || !tbl_slot(svm, svm->hpa_hash, i, true))
			return E_NOMEM;
	}
	return E_OK;
}

/* Contract in mm/shadow_priv.h. */
void shadow_tables_destroy(struct shadow_vm *svm)
{
	tbl_free(svm, svm->ids, svm->ids_pa, NULL);
	tbl_free(svm, svm->rmap, svm->rmap_pa, rmap_leaf_free);
	tbl_free(svm, svm->gfn_hash, svm->gfn_hash_pa, NULL);
	tbl_free(svm, svm->hpa_hash, svm->hpa_hash_pa, NULL);
	svm->ids = svm->rmap = svm->gfn_hash = svm->hpa_hash = NULL;
	while (svm->pool_frames) {
		hpa_t pa = svm->pool_frames;
		svm->pool_frames = *(hpa_t *)svm->env.p2v(pa);
		meta_free(svm, pa);
	}
}
