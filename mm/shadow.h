/*
 * mm/shadow.h - the shadow MMU (DESIGN.md §5.1): Umbra builds the page
 * tables the hardware walks for a guest that runs without NPT/EPT.
 *
 * Pure core: guest memory, host frames and TLB flushes are reached through
 * struct shadow_env callbacks, so the whole MMU runs in host unit tests
 * against a simulated tagged TLB. It never includes svm/ or vmx/.
 *
 * Hardware paging used for the guest (the backend loads shadow_hw):
 *   guest paging off, 32-bit or PAE  -> hardware PAE paging; CR3 is the
 *       vCPU's private PAE root (4 PDPTEs, from the low pool: below 4 GiB)
 *   guest 4-level (5-level)          -> hardware 4-level (5-level); CR3 is
 *       a shared root (hashed, refcounted, cached per vCPU)
 *
 * Shadow pages: one per (guest frame, role). The role says what the page
 * shadows: level, guest format (4-byte or 8-byte guest entries), quadrant
 * (which part of a 32-bit guest table a PAE-format shadow covers), direct
 * (maps a guest large page or the identity map of paging-off, no guest
 * table behind it), and the permission bits that change translations
 * (CR0.WP, EFER.NXE, CR4.SMEP, CR4.SMAP, CR4.PSE). Shared pages are in a
 * hash by (gfn, role); guest frames they shadow are write-tracked (the
 * shadow entries mapping them are read-only); leaf tables may go unsync.
 * Each shadow page keeps its parents (reverse map of the shadow entries
 * pointing to it) and a reverse map from guest frames to the shadow leaf
 * entries mapping them lets a frame be write-protected when it becomes a
 * page table.
 *
 * Locking: one lock per VM (struct shadow_vm) protects everything in it;
 * each public function below takes it (mm/shadow_priv.h, SHADOW_LOCK), so
 * a VM's vCPUs may call them from several CPUs at once. A vCPU's state
 * (struct shadow_vcpu) is used only by that vCPU's CPU.
 *
 * Files: shadow.c (VM/vCPU, roots, generation), shadow_page.c (pages,
 * lookups, entry lists, zap, LRU), shadow_sync.c (deriving entries, unsync,
 * INVLPG, emulated writes), shadow_fault.c (the fault path);
 * shadow_priv.h is their private header (and the host tests').
 */
#ifndef UMBRA_MM_SHADOW_H
#define UMBRA_MM_SHADOW_H

#include "kernel/types.h"
#include "mm/gwalk.h"

#define SHADOW_ALL_VCPUS 0xffffffffu

struct shadow_env {
	void *ctx;
	/* Guest-physical memory, @size 4 or 8, naturally aligned (RAM only;
	 * nonzero when not RAM). cmpxchg_gpa stores @new_val atomically if
	 * the entry still holds @old: 0 = stored, > 0 = it held another
	 * value, < 0 = cannot be written (the gwalk_ops contract). */
	int (*read_gpa)(void *ctx, gpa_t gpa, unsigned size, u64 *val);
	int (*cmpxchg_gpa)(void *ctx, gpa_t gpa, unsigned size, u64 old, u64 new_val);
	/* Host frame backing guest frame @gfn, or 0 when it is not RAM. */
	hpa_t (*gfn_to_hpa)(void *ctx, gfn_t gfn);
	void *(*p2v)(hpa_t pa);
	/* 4 KiB frames: anywhere (high-first) / below 4 GiB (the low pool).
	 * Every frame the shadow MMU holds comes from these, bookkeeping
	 * included; it zeroes them itself. */
	int (*alloc_page)(void *ctx, hpa_t *out);
	void (*free_page)(void *ctx, hpa_t pa);
	int (*alloc_low_page)(void *ctx, hpa_t *out);
	void (*free_low_page)(void *ctx, hpa_t pa);
	/* Flush vCPU @vcpu_id's tagged TLB (ASID/VPID) before it next
	 * enters the guest (SHADOW_ALL_VCPUS: every vCPU of the VM). Called
	 * with the VM lock held. For a vCPU in guest mode on another CPU it
	 * must not return before that vCPU has left guest mode (IPI and
	 * wait): the shadow MMU frees zapped tables right after this call,
	 * and in hardware PAE mode the PDPTE registers are reloaded from the
	 * root only at the next entry. */
	void (*flush_tlb)(void *ctx, u32 vcpu_id);
};

/* What the backend loads while the guest runs in shadow mode. The rest of
 * the hardware paging state is fixed: CR0.PG = CR0.WP = 1, EFER.NXE = 1,
 * CR4.PGE = 0, CR4.PSE ignored (shadow entries never map large pages and
 * never set G). CR0.WP = 1 is what makes write-protected shadow entries
 * trap supervisor writes; the guest's CR0.WP = 0 is emulated in the
 * entries (see mm/shadow_sync.c). */
struct shadow_hw {
	hpa_t cr3;  /* root: a PAE root (below 4 GiB, 32-byte aligned: CR3
		     * bits 31:5) or a 4/5-level root (page aligned) */
	bool pae;   /* hardware PAE paging (else 4-level/5-level long mode) */
	bool la57;  /* hardware 5-level paging (CR4.LA57) */
	bool smep;  /* hardware CR4.SMEP: the guest's while its paging is on */
	bool smap;  /* hardware CR4.SMAP: likewise (RFLAGS.AC is the guest's) */
	bool pke;   /* hardware CR4.PKE: the guest's (leaves carry its keys) */
};

enum shadow_pf_status {
	SPF_FIXED,       /* shadow entry installed: resume the guest */
	SPF_GUEST_FAULT, /* the guest's tables deny it: inject #PF(error) */
	SPF_EMULATE,     /* a write to a write-tracked guest page table, an
			  * access to a not-RAM guest-physical address (MMIO),
			  * or a supervisor write with CR0.WP = 0 and CR4.SMAP
			  * = 1 to a read-only user page: emulate the
			  * instruction (@gpa: where the access goes), then
			  * call shadow_gpa_written() for RAM writes */
	SPF_KILL,        /* the guest's tables cannot be read (outside RAM;
			  * @gpa: the entry's address), or E_NOMEM */
};

struct shadow_pf_result {
	int status;      /* enum shadow_pf_status */
	u32 error;       /* #PF error code for SPF_GUEST_FAULT */
	gpa_t gpa;       /* translated address for SPF_EMULATE / SPF_KILL */
};

struct shadow_stats {
	u64 pages_created, pages_zapped, pages_synced, unsync_events;
	u64 write_faults, emulated_writes, root_hits, root_misses;
	u64 private_root_allocs, page_faults, guest_faults, invlpgs;
	u64 pages_in_use, max_pages, reclaims;
	u64 tlb_flushes;     /* flush_tlb(SHADOW_ALL_VCPUS) for removed rights */
	u64 overshoots;      /* pages allocated above max_pages (all pinned) */
	u64 zap_alls;        /* generation bumps */
	u64 meta_frames;     /* frames held for bookkeeping (not tables) */
};

struct shadow_vm;
struct shadow_vcpu;

/* Create the MMU of a VM with at most @max_pages shadow pages (beyond it
 * the least recently used are zapped; raised to at least 16 and vCPUs + 8,
 * so that what is pinned always fits). NULL when out of memory. Each page
 * costs two frames (table + entry links); private roots are not counted. */
struct shadow_vm *shadow_vm_create(const struct shadow_env *env, u32 max_pages);
/* A nested MMU (DESIGN.md §6): the "guest tables" are an L1 hypervisor's
 * nested page tables (npt12: guest-virtual = L2 guest-physical, guest-
 * physical = L1 guest-physical) and the shadow is npt02, which the
 * hardware walks as nested page tables. Differences from a shadow MMU:
 *  - every role carries ROLE_NESTED;
 *  - nothing is write-tracked: the owner resynchronizes (shadow_nested_
 *    resync) at the L1's TLB flushes, as the APM lets cached nested
 *    translations lag behind table edits until then (see kernel/
 *    nested_mmu.c);
 *  - every page carries a tag (the L1 ASID class whose TLB it stands for,
 *    chosen by the owner): roots are selected per (npt12 top table, role,
 *    tag) by shadow_nested_set_root, children inherit the tag, and pages
 *    of different tags never link to each other;
 *  - npt12 in PAE format is walked with its PDPTEs in memory (AMD has no
 *    nested PDPTE registers) and 32-bit/PAE npt12 get private PAE-level
 *    roots in ordinary frames under private PML4s, taken on first use:
 *    shadow_hw.cr3 is then always a 4-level root and shadow_hw.pae false;
 *  - callers walk with GWALK_USER (nested walks are user accesses) and a
 *    mode without SMEP/SMAP/PKE.
 * private_root_allocs counts the private upper-level frames (2 per slot). */
struct shadow_vm *shadow_nested_vm_create(const struct shadow_env *env, u32 max_pages);
/* Tags of a nested MMU's pages (0..SHADOW_NESTED_TAGS-1). */
#define SHADOW_NESTED_TAGS 64u
#define SHADOW_ALL_TAGS 0xffffffffu
/* A nested MMU's shadow_set_mode: npt12 in @mode rooted at @ncr3, for the
 * pages of tag @tag. The root for (npt12 top table, role, tag) is found in
 * the vCPU's root cache, the hash, or its private upper-level slots (PAE
 * and 2-level npt12; keyed by nCR3 and format) and reused as it is, or
 * built. E_OK, E_NOMEM, E_INVAL (not a nested MMU, tag out of range). */
int shadow_nested_set_root(struct shadow_vcpu *sv, const struct gwalk_mode *mode, u64 ncr3, unsigned tag,
			   struct shadow_hw *hw);
/* A nested MMU: the L1 flushed the TLB that the pages of tag @tag
 * (SHADOW_ALL_TAGS: every page) stand for. Every entry of those pages is
 * re-derived from npt12 as it is now, as an unsync page is resynced:
 * leaves updated or dropped, non-leaf entries whose npt12 entry is no
 * longer present or leads elsewhere unlinked (the next fault rebuilds
 * them); the private PAE-level roots of @sv re-read their PDPTEs from
 * memory. Pages no longer reachable stay until the LRU reclaims them.
 * Whatever was removed or narrowed is flushed (env.flush_tlb). */
void shadow_nested_resync(struct shadow_vcpu *sv, unsigned tag);
/* Free everything, destroying remaining vCPUs first. No TLB flushes: the
 * VM no longer runs. */
void shadow_vm_destroy(struct shadow_vm *svm);

/* Create vCPU @id's MMU state, taking its private root frames from the
 * low pool now (so no guest action can later fail for lack of low
 * memory) and zeroing them. NULL when out of memory. */
struct shadow_vcpu *shadow_vcpu_create(struct shadow_vm *svm, u32 id);
/* Drop the vCPU's roots and free its frames (it no longer runs). */
void shadow_vcpu_destroy(struct shadow_vcpu *sv);

/* The guest's paging state changed: CR0/CR4/EFER write or a CR3 load
 * (@pdpte: the PDPTE registers for PAE mode, loaded by the caller with
 * gwalk_load_pdptes; ignored otherwise). Finds or builds the root (a
 * recently used address space is reused without rebuilding), syncs unsync
 * pages as a CR3 load requires, flushes this vCPU's TLB, and fills @hw.
 * Returns E_OK or E_NOMEM (the caller kills the VM). */
int shadow_set_mode(struct shadow_vcpu *sv, const struct gwalk_mode *mode, u64 cr3, const u64 pdpte[4],
		    struct shadow_hw *hw);

/* A #PF while the guest ran: @cr2 and the hardware error code @error,
 * @access the gwalk access flags of the faulting access (GWALK_WRITE,
 * GWALK_FETCH, GWALK_USER, GWALK_AC = the guest's RFLAGS.AC, GWALK_
 * IMPLICIT). The guest's tables are walked again (A/D set); @error is
 * used only for its PK bit (protection keys depend on the guest's live
 * PKRU). SPF_KILL also reports E_NOMEM from env (res->gpa = 0). The
 * caller calls shadow_reload before re-entering, as always. */
void shadow_page_fault(struct shadow_vcpu *sv, gva_t cr2, u32 error, u32 access, struct shadow_pf_result *res);

/* INVLPG @gva by the guest (intercepted): resync what may hold a stale
 * translation of it, then build @gva's leaf as the next access's fault
 * would when the shadow path to its table exists and the guest entry, A
 * already set, maps another frame than before (see mm/shadow_sync.c; the
 * guest's A flags are never set ahead of an access). No hardware INVLPG/INVVPID is needed by the caller:
 * the shadow flushes whatever it narrows. */
void shadow_invlpg(struct shadow_vcpu *sv, gva_t gva);

/* A guest TLB flush that is not a paging-mode or root change (e.g.
 * INVPCID all-context): resync every unsync page of the VM (a superset of
 * those reachable from the current root). MOV to CR3, and CR0/CR4 writes
 * that flush, go through shadow_set_mode, which also does this. */
void shadow_flush(struct shadow_vcpu *sv);

/* Umbra wrote @len bytes at @gpa on the guest's behalf (after an
 * SPF_EMULATE write, or any emulated store to guest RAM): update or zap
 * the shadow entries derived from the entries written. Cheap when @gpa
 * is not a shadowed page table. */
void shadow_gpa_written(struct shadow_vm *svm, gpa_t gpa, unsigned len);

/* Is guest frame @gfn write-tracked (shadowed as a page table)? */
bool shadow_gfn_tracked(struct shadow_vm *svm, gfn_t gfn);

/* Make every root obsolete at once (generation bump) and flush every
 * vCPU's TLB; vCPUs rebuild on their next shadow_set_mode/shadow_reload.
 * Call it when the guest-physical map changes (gfn_to_hpa answers
 * differently). Obsolete pages are reclaimed lazily. */
void shadow_zap_all(struct shadow_vm *svm);

/* Before EVERY entry into the guest: if the vCPU's root is obsolete (or
 * missing), rebuild it and fill @hw; returns true when @hw changed. Then
 * hw->cr3 == 0 means the rebuild failed for E_NOMEM: do not enter, kill
 * the VM. */
bool shadow_reload(struct shadow_vcpu *sv, struct shadow_hw *hw);

/* Counters since creation (pages_in_use, max_pages: now). */
void shadow_get_stats(const struct shadow_vm *svm, struct shadow_stats *st);

#endif
