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
 * private roots are touched only by their owning vCPU. (Single CPU today;
 * the lock points are marked in shadow.c.)
 */
#ifndef UMBRA_MM_SHADOW_H
#define UMBRA_MM_SHADOW_H

#include "kernel/types.h"
#include "mm/gwalk.h"

#define SHADOW_ALL_VCPUS 0xffffffffu

struct shadow_env {
	void *ctx;
	/* Guest-physical memory (RAM only; nonzero when not RAM). */
	int (*read_gpa)(void *ctx, gpa_t gpa, unsigned size, u64 *val);
	int (*cmpxchg_gpa)(void *ctx, gpa_t gpa, unsigned size, u64 old, u64 new_val);
	/* Host frame backing guest frame @gfn, or 0 when it is not RAM. */
	hpa_t (*gfn_to_hpa)(void *ctx, gfn_t gfn);
	void *(*p2v)(hpa_t pa);
	/* Zeroed 4 KiB frames: anywhere / below 4 GiB (the low pool). */
	int (*alloc_page)(void *ctx, hpa_t *out);
	void (*free_page)(void *ctx, hpa_t pa);
	int (*alloc_low_page)(void *ctx, hpa_t *out);
	void (*free_low_page)(void *ctx, hpa_t pa);
	/* Flush vCPU @vcpu_id's tagged TLB (ASID/VPID) before it next
	 * enters the guest (SHADOW_ALL_VCPUS: every vCPU of the VM). */
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
	SPF_EMULATE,     /* a write to a write-tracked guest page table (or a
			  * not-RAM guest-physical address): emulate the
			  * instruction, then call shadow_gpa_written() */
	SPF_KILL,        /* the guest's tables cannot be read (outside RAM...) */
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
 * the least recently used are zapped). NULL when out of memory. */
struct shadow_vm *shadow_vm_create(const struct shadow_env *env, u32 max_pages);
void shadow_vm_destroy(struct shadow_vm *svm);

/* Create vCPU @id's MMU state, taking its private root frames from the
 * low pool now (so no guest action can later fail for lack of low
 * memory) and zeroing them. NULL when out of memory. */
struct shadow_vcpu *shadow_vcpu_create(struct shadow_vm *svm, u32 id);
void shadow_vcpu_destroy(struct shadow_vcpu *sv);

/* The guest's paging state changed: CR0/CR4/EFER write or a CR3 load
 * (@pdpte: the PDPTE registers for PAE mode, loaded by the caller with
 * gwalk_load_pdptes; ignored otherwise). Finds or builds the root (a
 * recently used address space is reused without rebuilding), syncs unsync
 * pages as a CR3 load requires, and fills @hw. Returns E_OK or E_NOMEM
 * (the caller kills the VM). */
int shadow_set_mode(struct shadow_vcpu *sv, const struct gwalk_mode *mode, u64 cr3, const u64 pdpte[4],
		    struct shadow_hw *hw);

/* A #PF while the guest ran: @cr2 and the hardware error code @error,
 * @access the gwalk access flags of the faulting access (GWALK_WRITE,
 * GWALK_FETCH, GWALK_USER, GWALK_AC). */
void shadow_page_fault(struct shadow_vcpu *sv, gva_t cr2, u32 error, u32 access, struct shadow_pf_result *res);

/* INVLPG @gva by the guest: drop (or resync) what shadows its translation. */
void shadow_invlpg(struct shadow_vcpu *sv, gva_t gva);

/* A guest TLB flush without a new CR3 (MOV CR3 of the same value, CR4.PGE
 * toggle...): resync every unsync page reachable from the current root. */
void shadow_flush(struct shadow_vcpu *sv);

/* Umbra wrote @len bytes at @gpa of a write-tracked guest page on the
 * guest's behalf (emulated instruction): update or zap the shadow entries
 * derived from the entries written. */
void shadow_gpa_written(struct shadow_vm *svm, gpa_t gpa, unsigned len);

/* Is guest frame @gfn write-tracked (shadowed as a page table)? */
bool shadow_gfn_tracked(struct shadow_vm *svm, gfn_t gfn);

/* Make every root obsolete at once (generation bump); vCPUs rebuild on
 * their next shadow_set_mode/shadow_reload. */
void shadow_zap_all(struct shadow_vm *svm);

/* Before EVERY entry into the guest: if the vCPU's root is obsolete (or
 * missing), rebuild it and fill @hw; returns true when @hw changed. Then
 * hw->cr3 == 0 means the rebuild failed for E_NOMEM: do not enter, kill
 * the VM. */
bool shadow_reload(struct shadow_vcpu *sv, struct shadow_hw *hw);

void shadow_get_stats(const struct shadow_vm *svm, struct shadow_stats *st);

#endif
