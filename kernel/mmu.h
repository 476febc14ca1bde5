/*
 * kernel/mmu.h - paging=shadow for a vCPU: the guest's view of CR0, CR3,
 * CR4 and EFER, the architectural checks of the instructions that change
 * them, and the glue between exits (CR access, INVLPG, #PF) and the shadow
 * MMU core (mm/shadow.c). Vendor-neutral: the backend intercepts and loads
 * the hardware registers this file chooses (backend->set_hw_paging).
 */
#ifndef UMBRA_KERNEL_MMU_H
#define UMBRA_KERNEL_MMU_H

#include "kernel/backend.h"
#include "mm/gwalk.h"
#include "mm/shadow.h"

struct vm;
struct vcpu;

struct vcpu_mmu {
	struct shadow_vcpu *sv;
	u64 cr0, cr3, cr4, efer; /* what the guest sees */
	u64 pdpte[4];            /* PAE PDPTE registers (loaded at CR3 writes) */
	struct gwalk_mode mode;
	struct shadow_hw hw;
};

/* Create/destroy the shadow MMU of a paging=shadow VM (max_pages from
 * the VM's shadow_pages= option). */
int mmu_vm_init(struct vm *vm);
void mmu_vm_destroy(struct vm *vm);

/* Set up @v's paging state from its boot state and load the hardware
 * registers; E_NOMEM when the low pool or frames are exhausted. */
int mmu_vcpu_init(struct vcpu *v, const struct vcpu_boot_state *bs);
/* @v was reset to @bs (a SIPI): its paging state follows. E_NOTSUP when
 * the backend cannot shadow real mode (no paged real mode), E_NOMEM. */
int mmu_vcpu_reset(struct vcpu *v, const struct vcpu_boot_state *bs);
void mmu_vcpu_destroy(struct vcpu *v);

/* Exits of a shadow-paging vCPU. */
void mmu_handle_cr(struct vcpu *v, struct vm_exit *e);
void mmu_handle_invlpg(struct vcpu *v, struct vm_exit *e);
void mmu_handle_pf(struct vcpu *v, struct vm_exit *e);

/* A guest write of EFER (already checked by the MSR policy). */
int mmu_set_efer(struct vcpu *v, u64 efer);

/* Before each entry: rebuild an obsolete root. */
void mmu_before_entry(struct vcpu *v);

/* The guest's view of CRn / EFER, whatever the paging mode of its VM.
 * Common code uses these, never backend->get_cr directly. */
u64 vcpu_get_cr(struct vcpu *v, int cr);
u64 vcpu_get_efer(struct vcpu *v);

/* The CR4 bits of optional features the guest's CPUID shows (leaves 1
 * and 7 reach the guest unfiltered for them, kernel/exit.c): OSXSAVE,
 * PCIDE, SMEP, SMAP, FSGSBASE, UMIP, PKE, LA57. Setting one the CPUID
 * does not show is a reserved-bit #GP (SDM vol. 3A §2.5). */
u64 vcpu_cr4_feature_bits(void);

/* Print the VM's shadow MMU counters (at VM end). */
void mmu_print_stats(struct vm *vm);

#endif
