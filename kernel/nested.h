/*
 * kernel/nested.h - the vendor-neutral half of nested virtualization
 * (DESIGN.md §6): the L1 hypervisor's nested page tables (npt12) walked
 * and shadowed into npt02 = npt01 ∘ npt12 with the shadow MMU's nested
 * role, L2 instruction fetch through them, and the NESTED-STATS counters.
 *
 * The backend (svm/nested.c) owns the world switches and every VMCB
 * field; it embeds struct nested_vcpu first in its per-vCPU nested state,
 * which vcpu.nested points to. Nothing here touches a VMCB.
 *
 * Vocabulary: L0 = Umbra, L1 = the guest hypervisor, L2 = its guest;
 * npt12 = L1's tables (L2 guest-physical -> L1 guest-physical), npt01 =
 * Umbra's map of L1 (gmem), npt02 = the composition the hardware walks.
 */
#ifndef UMBRA_KERNEL_NESTED_H
#define UMBRA_KERNEL_NESTED_H

#include "kernel/types.h"
#include "mm/gwalk.h"
#include "mm/shadow.h"

struct vcpu;
struct vm;

/* Exit codes are counted in 0..NESTED_CODE_NPF-1 directly (APM vol. 2
 * Appendix C: every intercept but NPF is below A0h); NPF and the rest in
 * the last two slots. */
#define NESTED_CODE_NPF 0xa0
#define NESTED_CODE_OTHER 0xa1
#define NESTED_NCODES 0xa2

struct nested_stats {
	u64 vmruns;          /* emulated VMRUNs that entered L2 */
	u64 invalid;         /* VMRUNs ended with VMEXIT_INVALID */
	u64 reflected;       /* #VMEXITs given to L1 */
	u64 l0_exits;        /* L2 exits Umbra handled without L1 noticing */
	u64 npt_faults;      /* npt02 faults (hardware NPF while L1 uses NPT) */
	u64 npt_flushes;     /* L1 TLB flushes (TLB_CONTROL) with NPT */
	u64 npt_resyncs;     /* npt02 resyncs (of one tag or all) */
	u64 npt_switches;    /* VMRUNs with another nCR3, ASID or format */
	u64 npt_root_reuses; /* of those, the root was reused as it was */
	u64 by_code[NESTED_NCODES]; /* reflected #VMEXITs by exit code */
};

/* The L1 ASIDs npt02 keeps pages for (kernel/nested_mmu.c): one shadow
 * tag each; the least recently used is given to a new ASID. */
struct nested_asid_tag {
	u32 asid;             /* 0: unused */
	bool stale;           /* resync its pages before its next VMRUN */
	u64 last;             /* tag_clock at its last VMRUN */
};

enum nested_flush {
	NESTED_FLUSH_NONE,    /* TLB_CONTROL = 0 */
	NESTED_FLUSH_ASID,    /* this ASID's entries (TLB_CONTROL = 3, 7) */
	NESTED_FLUSH_ALL,     /* every ASID's (TLB_CONTROL = 1) */
};

struct nested_vcpu {
	struct vcpu *v;
	struct nested_stats st;
	/* npt02: a nested shadow MMU per vCPU (mm/shadow.h), so no other
	 * CPU ever touches it. */
	struct shadow_env env;
	struct shadow_vm *npt_svm;
	struct shadow_vcpu *npt_sv;
	struct shadow_hw npt_hw;
	bool npt_on;          /* the running L2 uses npt02 (L1 set NP_ENABLE) */
	bool npt_tlb_dirty;   /* npt02 removed or narrowed a translation */
	struct gwalk_env npt_env; /* npt12: L1's format at VMRUN, nCR3 */
	u32 last_asid;        /* L1's ASID at the previous VMRUN (0: none) */
	struct nested_asid_tag tags[SHADOW_NESTED_TAGS];
	u64 tag_clock;
};

/* Set up @n for @v (a vCPU of a nested=on VM). E_NOMEM. */
int nested_vcpu_init(struct vcpu *v, struct nested_vcpu *n);
void nested_vcpu_fini(struct nested_vcpu *n);

/* At an emulated VMRUN whose vmcb12 enables nested paging, before the
 * switch to L2 (so @v's accessors still give L1's CR0/CR4/EFER): npt12
 * is in L1's current paging format, rooted at @ncr3, for the L1's ASID
 * @asid; @flush: what its TLB_CONTROL flushes. Fills *root (the 4-level
 * nCR3 for the hardware). E_NOMEM: kill the VM. The caller still flushes
 * the L2's hardware ASID when the L1's ASID changed or TLB_CONTROL asked
 * (npt02 only flushes what it removes or narrows). */
int nested_npt_enter(struct vcpu *v, u64 ncr3, u32 asid, enum nested_flush flush, hpa_t *root);

/* Before every entry into L2 on npt02: true when the root changed
 * (*root, 0 = out of memory: kill the VM). */
bool nested_npt_reload(struct vcpu *v, hpa_t *root);

enum nested_npf_result {
	NESTED_NPF_FIXED,    /* npt02 now maps it: resume L2 */
	NESTED_NPF_REFLECT,  /* npt12 denies it: #VMEXIT(NPF) to L1 with *info1 */
	NESTED_NPF_KILL,     /* npt12 unreadable / maps no RAM: VM killed */
};

/* A hardware nested page fault of L2 on npt02 at L2 guest-physical @gpa
 * with the hardware's EXITINFO1 @hw_info1 (#PF-style bits, bit 32 final
 * translation, bit 33 guest-table walk; APM vol. 2 §15.25.6). */
int nested_npt_fault(struct vcpu *v, u64 gpa, u64 hw_info1, u64 *info1);

/* Length of the L2 instruction at CS:RIP (@v is in L2: its accessors give
 * L2's state), fetched through L2's paging and, when npt_on, npt12.
 * E_OK or E_FAULT. */
int nested_l2_insn_length(struct vcpu *v, u8 *len);

/* Read @len bytes of L2 guest-physical memory (through npt12 when
 * npt_on). E_OK or E_FAULT. */
int nested_l2_read(struct vcpu *v, u64 gpa, void *buf, unsigned len);

/* Print "NESTED-STATS name=..." for a nested=on VM (docs/trace.md). */
void nested_print_stats(struct vm *vm);

#endif
