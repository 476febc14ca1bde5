/*
 * mm/shadow_priv.h - internals of the shadow MMU, shared by mm/shadow*.c
 * and by the host unit tests (which inspect pages and roles). Nothing else
 * may include it.
 *
 * Vocabulary (KVM's): gpte = guest page-table entry, spte = shadow entry,
 * sp = shadow page (descriptor + the table frame the hardware walks).
 *
 * Memory: everything (tables, per-entry links, descriptors, hash and
 * lookup tables) comes from env->alloc_page in whole frames; descriptors
 * are carved from frames. Private PAE roots share one low-pool frame per
 * vCPU (32 bytes each: CR3 bits 31:5 locate the PDPT, SDM §4.4.1).
 *
 * Lists of shadow entries. Every present spte is a member of exactly one
 * list: a leaf spte is in the reverse map (rmap) of the guest frame it
 * maps, a non-leaf spte in the parent list of the child page it points
 * to. Members are linked by 32-bit handles stored per entry in the page's
 * links frame (next, prev), so unlinking is O(1) and needs no search:
 *   entry handle  = id << 9 | index          (id >= 1: handle >= 512)
 *   head handle   = HEAD | gfn                (rmap of that gfn)
 *                 = HEAD | PARENTS | id       (parent list of that page)
 * The first member's prev is its head handle, 0 ends a list.
 */
#ifndef UMBRA_MM_SHADOW_PRIV_H
#define UMBRA_MM_SHADOW_PRIV_H

#include "kernel/types.h"
#include "mm/gwalk.h"
#include "mm/pt.h"
#include "mm/shadow.h"

/* The VM lock (a ticket lock: fair, so a vCPU faulting in a loop cannot
 * starve another). Every public entry point takes it once (SHADOW_LOCK
 * ... SHADOW_UNLOCK) and no public function calls another, so it never
 * nests. It protects every shared structure: the hash, pages and their
 * entry lists, rmaps, the LRU, the generation, the stats, and the
 * entries of private roots (a zap unlinks a child from every parent,
 * private roots included). What only the owning vCPU touches needs no
 * lock, but takes it anyway inside the public calls: the choice among
 * its private roots and its root cache. env callbacks run under it: the
 * frame allocator (its own lock nests inside this one) and flush_tlb,
 * which may wait for other CPUs to leave guest mode; they never wait for
 * this lock in guest mode, so that wait always ends
 * (kernel/vcpu_sync.h). */
struct sh_lock {
	u32 next, owner;
};
#ifdef UMBRA_HOST
#include <sched.h>
/* Host tests run vCPU threads on fewer cores than threads: a waiter must
 * let the ticket holder run (a CPU in the kernel is never preempted). */
#define sh_relax() sched_yield()
#else
#define sh_relax() __builtin_ia32_pause()
#endif
static inline void sh_lock_take(struct sh_lock *l)
{
	u32 me = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		sh_relax();
}
static inline void sh_lock_drop(struct sh_lock *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}
#define SHADOW_LOCK(svm) sh_lock_take(&(svm)->lock)
#define SHADOW_UNLOCK(svm) sh_lock_drop(&(svm)->lock)

#define SPTE_ENTRIES 512
#define SH_NO_ID 0u
#define SH_MAX_ID (256u * 512u)      /* the id table's reach (2^17 pages) */
#define SH_MAX_GFN (256ULL * 512 * 1022) /* the rmap's reach: ~512 GiB of
					   * guest-physical space */
#define SH_HEAD BIT(31)
#define SH_PARENTS BIT(30)
#define SH_MIN_PAGES 16u             /* floor of max_pages; also at least
				      * vCPUs + 8: every vCPU's current root
				      * and one 5-level path with its direct
				      * pages are pinned at worst */
#define SH_ROOT_CACHE 4              /* shared roots cached per vCPU */
#define SH_PAE_ROOTS 8               /* private PAE roots per vCPU (the §9 workload switches among 8) */
#define SH_MODES 16                  /* guest modes remembered per VM */
#define SH_FLOOD 3                   /* emulated writes before a zap */
#define SH_OBSOLETE_BATCH 64         /* obsolete pages reclaimed per reload */

/* ---------------------------------------------------------------- role */
/* A shadow page's role: what it shadows and how its entries are derived.
 * Two pages with equal (gfn, role) have identical contents. */
#define ROLE_LEVEL_MASK 0x7u       /* 1..5: hardware level of the table */
#define ROLE_FMT_SHIFT 3           /* guest format class, below */
#define ROLE_FMT_MASK (3u << ROLE_FMT_SHIFT)
#define ROLE_QUAD_SHIFT 5          /* quadrant of a 32-bit guest table */
#define ROLE_QUAD_MASK (3u << ROLE_QUAD_SHIFT)
#define ROLE_DIRECT BIT(7)         /* maps a guest large page / paging off */
#define ROLE_ACC_SHIFT 8           /* access allowed by the levels above */
#define ROLE_ACC_MASK (7u << ROLE_ACC_SHIFT)
#define ROLE_WP BIT(11)            /* guest CR0.WP */
#define ROLE_NXE BIT(12)           /* guest EFER.NXE */
#define ROLE_SMEP BIT(13)
#define ROLE_SMAP BIT(14)
#define ROLE_PSE BIT(15)           /* guest CR4.PSE (32-bit paging) */
#define ROLE_PKE BIT(16)           /* guest CR4.PKE (4/5-level) */
#define ROLE_PKEY_SHIFT 17         /* direct pages: the large leaf's key */
#define ROLE_PKEY_MASK (15u << ROLE_PKEY_SHIFT)
#define ROLE_DIRTY BIT(21)         /* direct pages: the large leaf's D flag */
#define ROLE_NESTED BIT(22)        /* shadows an L1 hypervisor's nested page
				    * table (npt12): part of npt02 */
#define ROLE_MODE_MASK (ROLE_WP | ROLE_NXE | ROLE_SMEP | ROLE_SMAP | ROLE_PSE | ROLE_PKE | ROLE_NESTED)
#define ROLE_TAG_SHIFT 23          /* nested MMU: the L1 ASID class (tag, */
#define ROLE_TAG_MASK (0x3fu << ROLE_TAG_SHIFT) /* < SHADOW_NESTED_TAGS) whose
				    * TLB the page stands for; inherited by
				    * children, never part of the mode key */

/* Guest format classes (8-byte 4- and 5-level tables are identical). */
enum { SH_FMT_OFF = 0, SH_FMT_32 = 1, SH_FMT_PAE = 2, SH_FMT_LONG = 3 };

/* Access bits of ROLE_ACC: what the entries above allow. */
#define ACC_W 1u  /* R/W = 1 on every level above (and D for direct pages) */
#define ACC_U 2u  /* U/S = 1 on every level above */
#define ACC_X 4u  /* XD = 0 on every level above */
#define ACC_ALL 7u

static inline unsigned role_level(u32 r) { return r & ROLE_LEVEL_MASK; }
static inline unsigned role_fmt(u32 r) { return (r & ROLE_FMT_MASK) >> ROLE_FMT_SHIFT; }
static inline unsigned role_quad(u32 r) { return (r & ROLE_QUAD_MASK) >> ROLE_QUAD_SHIFT; }
static inline unsigned role_acc(u32 r) { return (r & ROLE_ACC_MASK) >> ROLE_ACC_SHIFT; }

/* ---------------------------------------------------------------- pages */
#define SP_UNSYNC BIT(0)   /* leaf table writable by the guest, maybe stale */
#define SP_PRIVATE BIT(1)  /* a vCPU's PAE root: not hashed, not tracked */
#define SP_OBSOLETE BIT(2) /* on the obsolete list (older generation) */
#define SP_ZAPPED BIT(3)   /* unlinked, waiting for the flush to be freed */

struct shadow_page {
	u64 *spt;                 /* the table the hardware walks */
	u32 *links;               /* 2 handles (next, prev) per entry */
	hpa_t hpa;                /* of spt */
	hpa_t links_hpa;          /* 0 when links are inline (private roots) */
	gfn_t gfn;                /* shadowed guest table, or first frame mapped */
	u64 gen;                  /* generation it was created in */
	u64 pin_epoch;            /* == svm->epoch: in use by this operation */
	u32 role;
	u32 id;                   /* handle base, SH_NO_ID for private roots */
	u32 parents;              /* head of the parent list */
	u32 root_count;           /* vCPU references as a root */
	u16 flags;                /* SP_* */
	u16 nents;                /* entries: 512, or 4 for a PAE root */
	u8 flood;                 /* emulated writes since last used */
	struct shadow_page *hash_next;  /* gfn hash chain; pending-free list */
	struct shadow_page *hpa_next;   /* hpa hash chain */
	struct shadow_page *lru_prev, *lru_next;   /* LRU or obsolete list */
	struct shadow_page *uns_prev, *uns_next;   /* unsync list */
	u32 inline_links[2 * 4];  /* links of a PAE root */
};

/* A private PAE root slot of a vCPU (32 bytes of its low frame). Its
 * page's role holds the format and mode bits; for 32-bit guests sp->gfn
 * is the guest page directory. */
struct shadow_pae_root {
	struct shadow_page *sp;   /* descriptor from the pool, SP_PRIVATE */
	hpa_t top;                /* nested MMU: the private PML4 above it */
	bool valid;               /* sp->role, gfn and key describe it */
	u64 key[4];               /* PAE: the PDPTE registers */
	u64 last_use;
};

struct shadow_root_slot {
	struct shadow_page *sp;   /* holds a root_count reference */
	u64 last_use;
};

struct shadow_vcpu {
	struct shadow_vm *svm;
	u32 id;
	struct gwalk_env genv;    /* the guest's paging state */
	bool have_mode;
	struct shadow_page *root; /* current root (shared or private) */
	bool pae_shape;           /* root is a private PAE-level root (walks
				   * start at level 3 with 4 entries) */
	hpa_t pae_top;            /* nested MMU: the PML4 above that root */
	u32 role_tag;             /* nested MMU: ROLE_TAG bits of the roots
				   * it selects (shadow_nested_set_root) */
	struct shadow_hw hw;
	u64 clock;
	hpa_t low_frame;          /* holds the PAE roots */
	struct shadow_root_slot roots[SH_ROOT_CACHE];
	struct shadow_pae_root pae[SH_PAE_ROOTS];
	struct shadow_vcpu *next; /* VM's vCPU list */
	bool linked;              /* on that list */
	hpa_t self_pa;            /* the frame holding this struct */
};

struct shadow_mode_slot {
	bool used;
	u32 key;                  /* fmt << 16 | role mode bits >> 11 */
	u64 last;                 /* mode_clock of last use */
	struct gwalk_mode mode;
};

struct shadow_vm {
	struct sh_lock lock;      /* see SHADOW_LOCK */
	struct shadow_env env;
	struct gwalk_ops gops;    /* guest memory for gwalk, through env */
	u32 max_pages;
	u64 gen;
	u64 epoch;                /* operation counter, for pinning */
	bool need_flush;          /* a translation was removed or narrowed */
	struct shadow_page *pending;    /* zapped, freed after the flush */
	/* Lookup tables: one frame of 512 pointers each, second level
	 * frames allocated on demand. */
	void **ids;               /* id -> page */
	void **rmap;              /* gfn -> u32 rmap head */
	void **gfn_hash;          /* buckets, 512 per second-level frame */
	void **hpa_hash;
	hpa_t ids_pa, rmap_pa, gfn_hash_pa, hpa_hash_pa;
	u32 next_id;              /* ids handed out: descriptors carved */
	u32 nbuckets;             /* of each hash, a power of two */
	/* Descriptor pool (carved frames) and its free list; a descriptor
	 * keeps its id for the VM's lifetime. */
	hpa_t pool_frames;        /* chain through the first 8 bytes */
	struct shadow_page *free_descs;
	/* Lists; sentinels. */
	struct shadow_page lru;        /* MRU at lru.lru_prev */
	struct shadow_page obsolete;
	struct shadow_page unsync;
	struct shadow_vcpu *vcpus;
	struct shadow_vcpu *cur;  /* vCPU of the running operation, or NULL */
	bool dying;               /* vm destroy: no TLB flushes */
	struct shadow_mode_slot modes[SH_MODES];
	u64 mode_clock;
	struct shadow_stats st;
	u64 meta_frames;          /* frames held for bookkeeping */
	hpa_t self_pa;            /* the frame holding this struct */
	u32 nvcpus;
	bool nested;              /* a nested MMU (npt02, shadow_nested_
				   * vm_create): no write tracking, private
				   * roots in ordinary frames under private
				   * PML4s, every role has ROLE_NESTED */
};


/* ---------------------------------------------------------------- spte */
/* Shadow entries. Non-leaf: P|RW|US|A (the leaf holds every permission);
 * PAE root entries (PDPTEs): P and the address only, since "bits 2:1,
 * 8:5 and 63:M are reserved" (SDM Table 4-8). Leaves: P|A|D, RW, US, NX
 * and the address; never PS, G, PWT, PCD or PAT (write-back). */
#define SPTE_ADDR GENMASK(51, 12)
#define SPTE_TABLE (PTE_P | PTE_RW | PTE_US | PTE_A)
#define SPTE_PKEY GENMASK(62, 59)

static inline bool spte_present(u64 spte) { return spte & PTE_P; }

/* ---------------------------------------------------------------- shadow_page.c */
/* Descriptor, frames and id of a new page; NULL on E_NOMEM. Reclaims when
 * the limit is reached. The page is zeroed, not hashed. */
struct shadow_page *shadow_page_alloc(struct shadow_vm *svm);
/* Find the current-generation page (gfn, role) or create it (hashed, on
 * the LRU, write-protecting gfn when it becomes tracked). NULL: E_NOMEM. */
struct shadow_page *shadow_page_get(struct shadow_vm *svm, gfn_t gfn, u32 role);
struct shadow_page *shadow_page_by_hpa(struct shadow_vm *svm, hpa_t hpa);
struct shadow_page *shadow_page_by_id(struct shadow_vm *svm, u32 id);
/* Unlink @sp from every parent and child, drop it from all lookups; its
 * frames are freed by shadow_commit. */
void shadow_page_zap(struct shadow_vm *svm, struct shadow_page *sp);
/* Make room for one page: zap obsolete, then least recently used,
 * unpinned non-root pages. False when nothing could be reclaimed. */
bool shadow_reclaim_one(struct shadow_vm *svm);
void shadow_reclaim_obsolete(struct shadow_vm *svm, unsigned max);
void shadow_page_touch(struct shadow_vm *svm, struct shadow_page *sp);
struct shadow_page *shadow_page_alloc_private(struct shadow_vm *svm, hpa_t pa);
/* First page of @gfn's hash bucket (follow hash_next, compare gfn). */
struct shadow_page *shadow_gfn_first(struct shadow_vm *svm, gfn_t gfn);
void shadow_pages_obsolete(struct shadow_vm *svm);
void shadow_unsync_add(struct shadow_vm *svm, struct shadow_page *sp);
void shadow_unsync_del(struct shadow_vm *svm, struct shadow_page *sp);
/* Drop a root reference; an obsolete page is zapped at zero. */
void shadow_root_put(struct shadow_vm *svm, struct shadow_page *sp);
/* End of an operation: flush every vCPU's TLB if a translation was
 * removed or narrowed, then free the zapped pages. */
void shadow_commit(struct shadow_vm *svm);
/* Free @sp's descriptor and frames now (private roots at vCPU destroy). */
void shadow_page_free_private(struct shadow_vm *svm, struct shadow_page *sp);
void shadow_tables_destroy(struct shadow_vm *svm);
int shadow_tables_init(struct shadow_vm *svm);

/* Entry links. */
u32 *shadow_rmap_head(struct shadow_vm *svm, gfn_t gfn, bool alloc);
/* Set sp->spt[idx] to @spte, moving the entry between lists as needed:
 * @child for a non-leaf spte, or @gfn for a leaf. Marks need_flush when a
 * present translation is removed or narrowed. */
void shadow_set_spte(struct shadow_vm *svm, struct shadow_page *sp, unsigned idx, u64 spte,
		     struct shadow_page *child, gfn_t gfn);
/* Clear sp->spt[idx] (and unlink it). */
void shadow_clear_spte(struct shadow_vm *svm, struct shadow_page *sp, unsigned idx);
/* Decode an entry handle. */
static inline struct shadow_page *shadow_handle_page(struct shadow_vm *svm, u32 h, unsigned *idx)
{
	*idx = h & 511;
	return shadow_page_by_id(svm, h >> 9);
}
bool shadow_is_leaf_entry(const struct shadow_page *sp);

/* Tracking: does @gfn have a shadow page that is not unsync? */
bool shadow_gfn_write_protected(struct shadow_vm *svm, gfn_t gfn);
/* Clear RW in every leaf spte mapping @gfn. */
void shadow_write_protect(struct shadow_vm *svm, gfn_t gfn);

static inline bool sp_obsolete(const struct shadow_vm *svm, const struct shadow_page *sp)
{
	return sp->gen != svm->gen;
}
static inline bool sp_pinned(const struct shadow_vm *svm, const struct shadow_page *sp)
{
	return sp->root_count || (sp->flags & SP_PRIVATE) || sp->pin_epoch == svm->epoch;
}
static inline void sp_pin(struct shadow_vm *svm, struct shadow_page *sp)
{
	sp->pin_epoch = svm->epoch;
}

/* ---------------------------------------------------------------- shadow.c */
/* shadow_zap_all under the lock: bump the generation, make every page
 * obsolete, flush every TLB. */
void shadow_bump_gen(struct shadow_vm *svm);

/* ---------------------------------------------------------------- shadow_sync.c */
/* The guest mode remembered for role mode bits (NULL: forgotten). */
const struct gwalk_mode *shadow_mode_for(struct shadow_vm *svm, u32 role);
void shadow_mode_remember(struct shadow_vm *svm, const struct gwalk_mode *m, u32 mode_role);
/* Re-derive sp->spt[idx] from the guest entry now in memory. */
void shadow_resync_entry(struct shadow_vm *svm, struct shadow_page *sp, unsigned idx);
/* Re-derive every present entry of @sp from its guest table. */
void shadow_resync_page(struct shadow_vm *svm, struct shadow_page *sp);
/* Resync every unsync page of the VM and write-protect them again. */
void shadow_sync_all(struct shadow_vm *svm);
void shadow_sync_gfn(struct shadow_vm *svm, gfn_t gfn);
/* Leaf spte for guest frame @gfn under @sp with the guest leaf's bits
 * @gpte (ignored for direct pages); 0 when it must stay not present.
 * @sup_write: a supervisor write with CR0.WP = 0 needs the page
 * supervisor-writable (see shadow_sync.c). */
u64 shadow_make_leaf(struct shadow_vm *svm, const struct shadow_page *sp, u64 gpte, gfn_t gfn, bool sup_write);
/* Guest entry behind sp->spt[idx]: its gpa (false for direct pages and
 * private roots). */
bool shadow_gpte_gpa(const struct shadow_page *sp, unsigned idx, gpa_t *gpa, unsigned *size);
/* Child key for the non-leaf guest entry @gpte behind @sp's entry @idx. */
bool shadow_child_key(struct shadow_vm *svm, const struct shadow_page *sp, unsigned idx, u64 gpte,
		      const struct gwalk_mode *m, gfn_t *gfn, u32 *role);
u32 shadow_mode_role(const struct gwalk_mode *m);
/* shadow_mode_role plus the VM's own role bits (ROLE_NESTED). */
static inline u32 shadow_vm_mode_role(const struct shadow_vm *svm, const struct gwalk_mode *m)
{
	return shadow_mode_role(m) | (svm->nested ? ROLE_NESTED : 0);
}
unsigned shadow_hw_index(bool pae, gva_t gva, unsigned level);

#endif
