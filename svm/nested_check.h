/*
 * svm/nested_check.h - the consistency checks an emulated VMRUN applies to
 * the L1 hypervisor's VMCB (vmcb12) before running its guest, as the
 * processor does (AMD APM vol. 2, revision in docs/references.md, §15.5.1
 * "Canonicalization and Consistency Checks", §15.20 "Event Injection",
 * §15.25.4 "Nested Paging and VMRUN/#VMEXIT").
 *
 * Pure code: no kernel globals, no hardware access; built in the kernel and
 * on the host (tests/host/test_nested_check.c, tests/fuzz/fuzz_nested_check.c).
 *
 * nested_vmcb_check() is a pure function of @caps and of exactly these
 * vmcb12 fields (any other field or bit never changes its verdict):
 *
 *   save.efer, save.cr0, save.cr3, save.cr4, save.dr6, save.dr7,
 *   save.cs.attr bits 9 (L) and 10 (D),
 *   ctl.intercept_misc2 bit 0 (VMRUN),
 *   ctl.msrpm_base_pa and ctl.iopm_base_pa bits 63:12 (11:0 are ignored),
 *   ctl.event_inj bits 31 (V), 10:8 (TYPE), 7:0 (VECTOR),
 *   ctl.asid,
 *   and, when caps->npt: ctl.np_enable bit 0, then (when that bit is 1)
 *   ctl.n_cr3 and save.g_pat.
 *
 * When several rules are violated the first in enum nested_check_rule
 * order is reported (the APM's list order; the APM does not say which
 * one the hardware reports, and VMEXIT_INVALID carries no detail).
 */
#ifndef UMBRA_SVM_NESTED_CHECK_H
#define UMBRA_SVM_NESTED_CHECK_H

#include "kernel/types.h"
#include "kernel/x86_regs.h"
#include "svm/vmcb.h"

/* What the L1 hypervisor sees of the (virtual) processor. */
struct nested_caps {
	/* The L1's physical-address width, CPUID 8000_0008h EAX[7:0];
	 * values outside 32..52 are treated as the nearest bound. */
	u8 maxphyaddr;
	/* The L1's linear-address width, CPUID 8000_0008h EAX[15:8] (48, or
	 * 57 with LA57); used only by nested_vmcb_canonicalize(); values
	 * outside 32..63 are treated as 48. */
	u8 vaddrbits;
	/* Long mode exposed (CPUID 8000_0001h EDX.LM): governs EFER.LME and
	 * EFER.LMA, which efer_allowed does not. Umbra always sets it. */
	bool long_mode;
	/* Nested paging exposed (CPUID 8000_000Ah EDX.NP). When false,
	 * NP_ENABLE is ignored as on a processor without NPT (the nested
	 * code must then run the L2 without nested paging of the L1). */
	bool npt;
	/* CR4 bits the L1 may set (from the CPUID it sees); bits the AMD
	 * architecture does not define for CR4 are MBZ regardless. */
	u64 cr4_allowed;
	/* EFER bits other than LME/LMA the L1 may set; SVME is always
	 * allowed (the L1 sees SVM); undefined bits are MBZ regardless. */
	u64 efer_allowed;
};

/* The rules, in the order they are checked. 0 means VMRUN may proceed. */
enum nested_check_rule {
	NCHK_OK = 0,
	NCHK_EFER_SVME,        /* EFER.SVME = 0 */
	NCHK_CR0_CD_NW,        /* CR0.CD = 0 and CR0.NW = 1 */
	NCHK_CR0_HIGH,         /* CR0[63:32] != 0 */
	NCHK_CR3_MBZ,          /* long mode: CR3[63:52] or bits >= MAXPHYADDR */
	NCHK_CR4_MBZ,          /* CR4 bit reserved or not exposed */
	NCHK_DR6_HIGH,         /* DR6[63:32] != 0 */
	NCHK_DR7_HIGH,         /* DR7[63:32] != 0 */
	NCHK_EFER_MBZ,         /* EFER bit reserved or not exposed */
	NCHK_EFER_NO_LM,       /* EFER.LME or LMA without long mode */
	NCHK_LM_NO_PAE,        /* EFER.LME, CR0.PG, !CR4.PAE */
	NCHK_LM_NO_PE,         /* EFER.LME, CR0.PG, !CR0.PE */
	NCHK_LM_CS_L_D,        /* EFER.LME, CR0.PG, CR4.PAE, CS.L, CS.D */
	NCHK_VMRUN_INTERCEPT,  /* VMRUN intercept clear */
	NCHK_MSRPM_RANGE,      /* MSRPM reaches 2^MAXPHYADDR */
	NCHK_IOPM_RANGE,       /* IOPM reaches 2^MAXPHYADDR */
	NCHK_EVENTINJ_TYPE,    /* EVENTINJ.V with a reserved TYPE */
	NCHK_EVENTINJ_VECTOR,  /* EVENTINJ TYPE=3 with a non-exception vector */
	NCHK_ASID_ZERO,        /* ASID = 0 */
	NCHK_NCR3_MBZ,         /* NP_ENABLE: nCR3 MBZ or bits >= MAXPHYADDR */
	NCHK_GPAT,             /* NP_ENABLE: G_PAT type or reserved bits */
	NCHK_COUNT
};

/* AMD-defined CR4 bits (APM vol. 2 §3.1.3) that an L1 may be
 * given. CR4.CET (23) is left out on purpose: the CET rows of §15.5.1 are
 * not implemented, so CET must not be exposed before they are. Bits 13
 * (VMXE), 14 (SMXE), 15, 19 and 24+ are reserved on AMD processors. */
#define NESTED_CR4_KNOWN                                                                          \
	(CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | \
	 CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP | CR4_LA57 | CR4_FSGSBASE | CR4_PCIDE |            \
	 CR4_OSXSAVE | CR4_SMEP | CR4_SMAP | CR4_PKE)

/* EFER bits (APM vol. 2 §3.1.7) beyond those in
 * kernel/x86_regs.h. */
#define NESTED_EFER_LMSLE BIT(13)
#define NESTED_EFER_FFXSR BIT(14)
#define NESTED_EFER_TCE BIT(15)
#define NESTED_EFER_MCOMMIT BIT(17)
#define NESTED_EFER_INTWB BIT(18)
#define NESTED_EFER_UAIE BIT(20)
#define NESTED_EFER_AIBRSE BIT(21)
/* The AMD-defined EFER bits; every other bit (7:1, 9, 16, 19, 63:22) is
 * reserved (MBZ, or RAZ which a write may not set either). */
#define NESTED_EFER_KNOWN                                                                        \
	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME | NESTED_EFER_LMSLE |              \
	 NESTED_EFER_FFXSR | NESTED_EFER_TCE | NESTED_EFER_MCOMMIT | NESTED_EFER_INTWB |          \
	 NESTED_EFER_UAIE | NESTED_EFER_AIBRSE)

/* Sizes of the permission maps (APM vol. 2 §15.10.1: 12 Kbytes; §15.11:
 * 8 Kbytes). */
#define NESTED_IOPM_SIZE (12 * KiB)
#define NESTED_MSRPM_SIZE (8 * KiB)

/* EVENTINJ fields (APM vol. 2 §15.20). */
#define NESTED_EVENTINJ_VECTOR_MASK 0xffULL
#define NESTED_EVENTINJ_TYPE_SHIFT 8
#define NESTED_EVENTINJ_TYPE_MASK (7ULL << NESTED_EVENTINJ_TYPE_SHIFT)
#define NESTED_EVENTINJ_TYPE_SOFT_INT (4ULL << NESTED_EVENTINJ_TYPE_SHIFT)

/* Caps for an L1 with the baseline CPU Umbra exposes: long mode, the
 * CR4 bits of a baseline x86-64 CPU (VME..OSXMMEXCPT) and EFER SCE, NXE,
 * SVME, FFXSR. Callers add what the L1's CPUID reports beyond that. */
void nested_caps_init(struct nested_caps *caps, u8 maxphyaddr, bool npt);

/*
 * 0 (NCHK_OK) when a VMRUN of @v12 may proceed; otherwise the violated
 * rule, and the VMRUN must end in #VMEXIT with VMEXIT_INVALID. @why (may be
 * NULL) receives a static string naming the rule and its APM section ("ok"
 * for NCHK_OK).
 */
int nested_vmcb_check(const struct vmcb *v12, const struct nested_caps *caps, const char **why);

/* The static string nested_vmcb_check() gives for @rule. */
const char *nested_check_rule_name(int rule);

/*
 * "In addition to consistency checks, VMRUN and #VMEXIT canonicalize (i.e.,
 * sign-extend to 63 bits) all base addresses in the segment registers that
 * have been loaded" (APM vol. 2 §15.5.1). VMRUN loads ES, CS, SS and DS
 * from the VMCB (FS, GS, TR and LDTR come with VMLOAD, GDTR and IDTR are
 * not segment registers): sign-extend those four bases from bit
 * caps->vaddrbits - 1 in @save, the copy the L2 will run with. Returns
 * true when a base changed. Apply after nested_vmcb_check() passed.
 */
bool nested_vmcb_canonicalize(struct vmcb_save *save, const struct nested_caps *caps);

#endif
