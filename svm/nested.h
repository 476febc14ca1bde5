/*
 * svm/nested.h - nested SVM: the L1 hypervisor's SVM instructions, its
 * MSRs and CPUID view, and the L2 world switches (svm/nested.c). The
 * hooks below are the only places svm/svm.c calls in; each is reached
 * only for vCPUs of nested=on VMs (vcpu.nested != NULL), so the
 * single-level path pays one pointer test.
 */
#ifndef UMBRA_SVM_NESTED_H
#define UMBRA_SVM_NESTED_H

#include "kernel/types.h"

struct cpuid_regs;
struct vcpu;
struct vm_exit;

/* Create/destroy @v's nested state (svm_vcpu_create/destroy, after the
 * VMCB exists / before it is freed). E_NOMEM. */
int nested_svm_vcpu_create(struct vcpu *v);
void nested_svm_vcpu_destroy(struct vcpu *v);

/* Start of svm_vcpu_run: true when no VMRUN must happen this time (an
 * L1 #VMEXIT was synthesized: @e says EXIT_NESTED). */
bool nested_svm_before_run(struct vcpu *v, struct vm_exit *e);
/* End of svm_vcpu_run, @e decoded from the current VMCB: an L2 exit is
 * reflected to L1 or handled here (then @e becomes EXIT_NESTED), or left
 * for common code (with e->insn_len filled in where needed). */
void nested_svm_after_exit(struct vcpu *v, struct vm_exit *e);
/* svm_irq_window / svm_flush_tlb: true when handled here (GIF=0, L2). */
bool nested_svm_irq_window(struct vcpu *v, bool open);
bool nested_svm_flush_tlb(struct vcpu *v);
/* svm_vcpu_run gave @v new hardware ASIDs: @asid01 for the L1 (vmcb01),
 * @asid02 for every L2 (vmcb02). */
void nested_svm_set_asids(struct vcpu *v, u32 asid01, u32 asid02);
/* svm_nmi_blocked: an NMI for the L1 must wait (L2 running, GIF = 0). */
bool nested_svm_nmi_held(struct vcpu *v);

/* backend_ops entries (kernel/backend.h). */
void nested_svm_cpuid(struct vcpu *v, u32 leaf, struct cpuid_regs *r);
int nested_svm_msr(struct vcpu *v, u32 msr, bool write, u64 *val);
void nested_svm_insn(struct vcpu *v, struct vm_exit *e);

#endif
