/*
 * svm/svm_priv.h - what svm/svm.c shares with svm/nested.c: the per-vCPU
 * backend state and a few backend facts. Only svm/ includes this file.
 */
#ifndef UMBRA_SVM_SVM_PRIV_H
#define UMBRA_SVM_SVM_PRIV_H

#include "kernel/types.h"
#include "svm/vmcb.h"

struct vcpu;
struct vcpu_regs;

/* CPUID 8000_000Ah EDX feature bits (APM vol. 3, CPUID Fn8000_000A). */
#define SVM_FEAT_NPT BIT(0)
#define SVM_FEAT_LBRV BIT(1)
#define SVM_FEAT_NRIPS BIT(3)
#define SVM_FEAT_VMCB_CLEAN BIT(5)
#define SVM_FEAT_FLUSH_BY_ASID BIT(6)
#define SVM_FEAT_DECODE_ASSISTS BIT(7)
#define SVM_FEAT_PAUSE_FILTER BIT(10)
#define SVM_FEAT_VGIF BIT(16)

/* Per-vCPU backend state. With nested SVM, vmcb/vmcb_pa/flush/efer/
 * exit_rip describe the level that runs next (L1's VMCB, vmcb01, or
 * vmcb02 while the L1's guest runs): every accessor of svm.c then works
 * on the current level without knowing about nesting (svm/nested.c
 * switches them). */
struct svm_vcpu {
	struct vmcb *vmcb;
	hpa_t vmcb_pa;
	u32 asid;         /* the L1's (or only) ASID, of generation asid_gen */
	u64 asid_gen;     /* on CPU asid_cpu (svm.c: struct svm_cpu) */
	u32 asid_cpu;
	bool flush;       /* TLB flush needed at next VMRUN */
	u64 efer;         /* the guest's view of EFER (SVME hidden) */
	u64 exit_rip;     /* RIP at the last exit */
	/* NMI blocking (SDM vol. 3A §6.7.1; SVM does not track it for an
	 * injected NMI): from the injection until the IRET of its handler
	 * has executed. The IRET intercept fires before the IRET; blocking
	 * ends at the first exit with another RIP (the IRET completed). */
	u8 nmi_state;     /* NMI_OPEN, NMI_MASKED, NMI_IRET_SEEN */
	u64 nmi_iret_rip;
};
enum { NMI_OPEN, NMI_MASKED, NMI_IRET_SEEN };

/* Backend facts for svm/nested.c (defined in svm/svm.c). */
bool svm_has_feature(u32 feat);      /* SVM_FEAT_* of the host */
hpa_t svm_iopm_pa(void);             /* L0's I/O map: every port intercepted */
hpa_t svm_msrpm_pa(void);            /* L0's MSR map */
void svm_vmrun(u64 vmcb_pa, struct vcpu_regs *regs, u64 host_vmcb_pa);

#endif
