/*
 * svm/nested.c - nested SVM for an L1 hypervisor (DESIGN.md §6; AMD APM
 * vol. 2 chapter 15, revision in docs/references.md): EFER.SVME, VM_CR,
 * VM_HSAVE_PA, VMRUN, VMLOAD/VMSAVE, STGI/CLGI (GIF), INVLPGA, and the
 * #VMEXITs of the L1's guest (L2).
 *
 * Levels and VMCBs. vmcb01 is the VMCB Umbra runs the L1 with; vmcb12 is
 * the L1's, in its memory; vmcb02 is the one Umbra runs the L2 with. At
 * an emulated VMRUN svm_vcpu's current VMCB becomes vmcb02 (svm/svm_priv.h),
 * so svm.c's run loop, accessors and event injection act on the L2
 * unchanged; an emulated #VMEXIT switches back. The L1's state that VMRUN
 * would write to its host-save area stays in vmcb01 and in struct
 * svm_nested: the APM leaves the host-save format to the implementation
 * (§15.30.4 "VM_HSAVE_PA MSR"), so nothing is stored at VM_HSAVE_PA.
 *
 * vmcb12 is read once per VMRUN into a private copy (the L1 may change
 * its memory at any time: nothing is read twice), checked by
 * nested_vmcb_check (§15.5.1; svm/nested_check.c), and vmcb02 is built
 * from the copy: the L2's state, the union of the L1's intercepts and
 * Umbra's own, Umbra's permission maps (the I/O map intercepts every port;
 * the MSR map is Umbra's ORed with the L1's, in an Umbra page - the
 * hardware never reads L1 memory for a map), the L1's TSC offset, the
 * L1's virtual-interrupt fields, its EVENTINJ, and NPT: npt02 (kernel/
 * nested_mmu.c) when the L1 enables nested paging, else Umbra's npt01 of
 * the L1 (the L2 then runs in L1-physical space). One hardware ASID per
 * vCPU serves every L2: it is flushed whenever the L1's ASID differs from
 * its last VMRUN, TLB_CONTROL asks, INVLPGA runs, or npt02 narrowed.
 *
 * #VMEXIT (§15.6). An L2 exit the L1 intercepts (its intercept vectors,
 * and for IOIO/MSR its own permission maps, read at the exit) is
 * reflected: vmcb12 receives the L2's state, EXITCODE, EXITINFO1/2 and
 * EXITINTINFO as the hardware gave them (NPF: recomputed from npt12),
 * and nRIP (NRIPS is offered even where the host lacks it: the length
 * comes from the host's nRIP, IOIO's EXITINFO2, or decoding the L2
 * instruction); the L1 resumes after its VMRUN with GIF = 0. Other exits
 * are Umbra's (host interrupts, npt02 faults, the virtual platform's
 * ports and MSRs) and the L2 resumes without the L1 noticing.
 *
 * It must not: give the hardware any address the L1 chose (every L1
 * address is checked against its RAM and read or written through gmem),
 * panic or fail on anything an L1 writes (bad state gets VMEXIT_INVALID,
 * #GP or #UD as the APM says, or a clean VM kill), or change svm.c's
 * single-level behaviour.
 */
#include "svm/nested.h"
#include "kernel/console.h"
#include "kernel/emulate.h"
#include "kernel/exit.h"
#include "kernel/gva.h"
#include "kernel/mmu.h"
#include "kernel/nested.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "kernel/vm.h"
#include "kernel/x86.h"
#include "kernel/x86_dec.h"
#include "mm/hostpt.h"
#include "mm/kmem.h"
#include "mm/pmm.h"
#include "mm/shadow.h"
#include "svm/nested_check.h"
#include "svm/svm_priv.h"

#define EXC_UD 6
#define EXC_GP 13

#define VM_CR_DPD BIT(0)
#define VM_CR_R_INIT BIT(1)
#define VM_CR_DIS_A20M BIT(2)
#define VM_CR_LOCK BIT(3)
#define VM_CR_WRITABLE (VM_CR_DPD | VM_CR_R_INIT | VM_CR_DIS_A20M | VM_CR_LOCK | VM_CR_SVMDIS)

#define V_TPR_MASK 0xffULL
#define V_INTR_VECTOR_MASK (0xffULL << 32)
#define V_L1_INT_CTL (V_TPR_MASK | V_IRQ | (0xfULL << V_INTR_PRIO_SHIFT) | V_IGN_TPR | V_INTR_VECTOR_MASK)

/* The ASIDs the L1 may use (CPUID 8000_000Ah EBX); all share one hardware
 * ASID per vCPU. */
#define NESTED_NASID 64

/* VMLOAD/VMSAVE state (§15.5.2): FS, GS, TR, LDTR with their hidden
 * parts, KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP,
 * as byte ranges of the VMCB (Appendix B, Table B-2). */
static const struct {
	u16 off, len;
} loadsave[] = {{0x440, 0x20}, {0x470, 0x10}, {0x490, 0x10}, {0x600, 0x40}};

struct svm_nested {
	struct nested_vcpu common; /* first: vcpu.nested points here */
	u64 hsave_pa;          /* VM_HSAVE_PA as the L1 wrote it */
	u64 vm_cr;             /* VM_CR */
	bool gif;              /* the L1's global interrupt flag */
	bool window_wanted;    /* an interrupt window was asked for with GIF = 0 */
	bool in_l2;
	bool intr_exit;        /* an L1 interrupt waits: #VMEXIT(INTR) */
	struct vmcb *vmcb01, *vmcb02;
	hpa_t vmcb01_pa, vmcb02_pa;
	struct vmcb *v12;      /* the private copy of vmcb12 */
	hpa_t v12_pa;
	u8 *msrpm02;           /* Umbra's MSR map | the L1's (2 pages) */
	hpa_t msrpm02_pa;
	u32 asid02;
	u32 prev_asid;         /* the L1's ASID at its previous VMRUN */
	bool flush01, flush02; /* TLB flushes owed to the level not running */
	u64 vmcb12_gpa;
	/* The L1's state while the L2 runs (the host-save area). */
	u64 l1_rax, l1_rsp, l1_rip, l1_rflags, l1_efer, l1_pat;
	s64 l1_tsc_offset;
	struct vcpu_mmu *l1_mmu;
	bool l2_own_pat;
};

static inline struct svm_vcpu *svm(struct vcpu *v)
{
	return v->arch;
}

static inline struct svm_nested *nst(struct vcpu *v)
{
	return v->nested;
}

static bool ram_page(struct vcpu *v, u64 gpa)
{
	return !(gpa & (PAGE_SIZE - 1)) && gmem_is_ram(&v->vm->mem, gpa) &&
	       gmem_is_ram(&v->vm->mem, gpa + PAGE_SIZE - 1);
}

/* ---------------------------------------------------------------- create */

int nested_svm_vcpu_create(struct vcpu *v)
{
	struct svm_nested *n = kzalloc(sizeof(*n));
	if (!n)
		return E_NOMEM;
	v->nested = n;
	n->vmcb01 = svm(v)->vmcb;
	n->vmcb01_pa = svm(v)->vmcb_pa;
	if (pmm_alloc_zeroed(0, PMM_NORMAL, &n->vmcb02_pa) ||
	    pmm_alloc_zeroed(0, PMM_NORMAL, &n->v12_pa) || pmm_alloc(1, PMM_NORMAL, &n->msrpm02_pa))
		return E_NOMEM; /* nested_svm_vcpu_destroy frees what exists */
	n->vmcb02 = phys_to_virt(n->vmcb02_pa);
	n->v12 = phys_to_virt(n->v12_pa);
	n->msrpm02 = phys_to_virt(n->msrpm02_pa);
	memcpy(n->msrpm02, phys_to_virt(svm_msrpm_pa()), NESTED_MSRPM_SIZE);
	n->flush02 = true;
	/* GIF is 1 at reset (§15.17). */
	n->gif = true;
	return nested_vcpu_init(v, &n->common);
}

void nested_svm_vcpu_destroy(struct vcpu *v)
{
	struct svm_nested *n = nst(v);
	if (!n)
		return;
	struct svm_vcpu *s = svm(v);
	if (n->in_l2) {
		/* the VM ended while its L2 ran: vmcb01 is the vCPU's VMCB */
		s->vmcb = n->vmcb01;
		s->vmcb_pa = n->vmcb01_pa;
		v->mmu = n->l1_mmu;
		n->in_l2 = false;
	}
	nested_vcpu_fini(&n->common);
	if (n->vmcb02_pa)
		pmm_free(n->vmcb02_pa, 0);
	if (n->v12_pa)
		pmm_free(n->v12_pa, 0);
	if (n->msrpm02_pa)
		pmm_free(n->msrpm02_pa, 1);
	kfree(n);
	v->nested = NULL;
}

/* ---------------------------------------------------------------- CPUID, MSRs */

/* CPUID for the L1 (APM vol. 3 Fn8000_0001 ECX[2] SVM, Fn8000_000A):
 * revision 1, NESTED_NASID ASIDs, and only what is emulated: nested
 * paging and NRIPS. No SKINIT, LBR virtualization, decode assists, clean
 * bits, flush-by-ASID, pause filter, AVIC, vGIF or VMSAVE/VMLOAD
 * virtualization. */
void nested_svm_cpuid(struct vcpu *v, u32 leaf, struct cpuid_regs *r)
{
	if (leaf == 0x80000001) {
		r->ecx |= BIT(2);
		r->ecx &= ~BIT(12); /* SKINIT */
	} else if (leaf == 0x8000000a) {
		r->eax = 1;
		r->ebx = NESTED_NASID;
		r->ecx = 0;
		r->edx = SVM_FEAT_NPT | SVM_FEAT_NRIPS;
	}
}

/* VM_CR (§15.30.1) and VM_HSAVE_PA (§15.30.4). E_NOENT: not one of ours;
 * E_INVAL: #GP. */
int nested_svm_msr(struct vcpu *v, u32 msr, bool write, u64 *val)
{
	struct svm_nested *n = nst(v);
	if (msr == MSR_VM_CR) {
		if (!write) {
			*val = n->vm_cr;
			return E_OK;
		}
		if (*val & ~VM_CR_WRITABLE)
			return E_INVAL;
		u64 nv = *val;
		/* "LOCK: when set, writes to LOCK and SVMDIS are ignored" */
		if (n->vm_cr & VM_CR_LOCK)
			nv = (nv & ~(VM_CR_LOCK | VM_CR_SVMDIS)) | (n->vm_cr & (VM_CR_LOCK | VM_CR_SVMDIS));
		/* SVM cannot be disabled while EFER.SVME = 1 */
		if ((nv & VM_CR_SVMDIS) && (vcpu_get_efer(v) & EFER_SVME))
			return E_INVAL;
		n->vm_cr = nv;
		return E_OK;
	}
	if (msr == MSR_VM_HSAVE_PA) {
		if (!write) {
			*val = n->hsave_pa;
			return E_OK;
		}
		/* 4 KiB aligned and in the L1's RAM, else #GP (the host-save
		 * area must be a page of memory the VMM owns) */
		if (!ram_page(v, *val))
			return E_INVAL;
		n->hsave_pa = *val;
		return E_OK;
	}
	return E_NOENT;
}

/* ---------------------------------------------------------------- helpers */

static void vmcb12_write(struct vcpu *v, unsigned off, const void *src, unsigned len)
{
	/* the page was checked at VMRUN; it stays RAM for the VM's life */
	gmem_write(&v->vm->mem, nst(v)->vmcb12_gpa + off, src, len);
}

#define WRITE12(v, field, value)                                                          \
	do {                                                                              \
		__typeof__(((struct vmcb *)0)->field) w12_ = (value);                     \
		vmcb12_write((v), offsetof(struct vmcb, field), &w12_, sizeof(w12_));     \
	} while (0)

static bool cs_64(struct vcpu *v)
{
	struct seg_desc cs;
	backend->get_seg(v, SEG_CS, &cs);
	return (vcpu_get_efer(v) & EFER_LMA) && (cs.attr & BIT(9));
}

/* The SVM instruction at RIP: its length, and rAX as an address (the
 * address size decides: EAX outside 64-bit mode or with a 67h prefix). */
static bool insn_and_rax(struct vcpu *v, u8 *len, u64 *rax)
{
	struct x86_insn insn;
	if (emulate_fetch_decode(v, &insn)) {
		vm_end(v->vm, VMR_KILLED, 0, "cannot fetch the SVM instruction at rip %#lx", v->regs.rip);
		return false;
	}
	*len = insn.len;
	*rax = v->regs.gpr[GPR_RAX];
	if (insn.addrsize != 8)
		*rax = insn.addrsize == 4 ? (u32)*rax : (u16)*rax;
	return true;
}

static void advance(struct vcpu *v, u8 len)
{
	v->regs.rip += len;
	if (!cs_64(v))
		v->regs.rip &= 0xffffffffULL;
}

static void open_l1_window(struct vcpu *v)
{
	if (nst(v)->window_wanted && backend->irq_window) {
		nst(v)->window_wanted = false;
		backend->irq_window(v, true);
	}
}

/* ---------------------------------------------------------------- #VMEXIT */

static bool nrip_exit(u64 code)
{
	return code < 0x40 || (code >= 0x65 && code <= 0x7c) || (code >= 0x80 && code <= 0x8d);
}

static void count_reflect(struct svm_nested *n, u64 code)
{
	unsigned i = code == SVM_EXIT_NPF ? NESTED_CODE_NPF : code < NESTED_CODE_NPF ? (unsigned)code : NESTED_CODE_OTHER;
	n->common.st.by_code[i]++;
	n->common.st.reflected++;
}

/*
 * #VMEXIT to the L1 (§15.6): the L2's state and the exit information go
 * to vmcb12, the L1 continues after its VMRUN with its own state (from
 * vmcb01 and the host-save copy), GIF = 0, DR7 = 400h, CPL 0, no event
 * pending. FS, GS, TR, LDTR and the other VMLOAD state are not restored
 * (the L1 reloads them with VMLOAD): they keep the L2's values. CR2 is
 * not restored either.
 */
static void vmexit(struct vcpu *v, u64 code, u64 info1, u64 info2, u64 intinfo, u64 nrip)
{
	struct svm_nested *n = nst(v);
	struct svm_vcpu *s = svm(v);
	struct vmcb *b2 = n->vmcb02, *b1 = n->vmcb01;
	struct vmcb_save *s2 = &b2->save;

	/* The L2's state. */
	WRITE12(v, save.es, s2->es);
	WRITE12(v, save.cs, s2->cs);
	WRITE12(v, save.ss, s2->ss);
	WRITE12(v, save.ds, s2->ds);
	WRITE12(v, save.gdtr, s2->gdtr);
	WRITE12(v, save.idtr, s2->idtr);
	WRITE12(v, save.efer, s->efer);
	WRITE12(v, save.cr0, s2->cr0);
	WRITE12(v, save.cr2, s2->cr2);
	WRITE12(v, save.cr3, s2->cr3);
	WRITE12(v, save.cr4, s2->cr4);
	WRITE12(v, save.dr6, s2->dr6);
	WRITE12(v, save.dr7, s2->dr7);
	WRITE12(v, save.rflags, v->regs.rflags);
	WRITE12(v, save.rip, v->regs.rip);
	WRITE12(v, save.rsp, v->regs.gpr[GPR_RSP]);
	WRITE12(v, save.rax, v->regs.gpr[GPR_RAX]);
	WRITE12(v, save.cpl, s2->cpl);
	/* V_TPR and V_IRQ are written back, the rest of int_ctl is the L1's */
	u64 ic = (n->v12->ctl.int_ctl & ~(V_TPR_MASK | V_IRQ)) | (b2->ctl.int_ctl & (V_TPR_MASK | V_IRQ));
	WRITE12(v, ctl.int_ctl, ic);
	WRITE12(v, ctl.int_state, b2->ctl.int_state & 1);
	WRITE12(v, ctl.exitcode, code);
	WRITE12(v, ctl.exitinfo1, info1);
	WRITE12(v, ctl.exitinfo2, info2);
	WRITE12(v, ctl.exitintinfo, intinfo);
	WRITE12(v, ctl.event_inj, 0);
	WRITE12(v, ctl.next_rip, nrip);

	/* Back to the L1. */
	for (size_t i = 0; i < ARRAY_SIZE(loadsave); i++)
		memcpy((u8 *)b1 + loadsave[i].off, (u8 *)b2 + loadsave[i].off, loadsave[i].len);
	b1->save.cr2 = s2->cr2;
	b1->save.dr7 = 0x400;
	b1->save.cpl = 0;
	b1->ctl.int_state = 0;
	b1->ctl.event_inj = 0;
	v->tsc_offset -= (s64)n->v12->ctl.tsc_offset; /* an L2 TSC write moved the L1's too */
	if (n->l2_own_pat)
		v->pat = n->l1_pat;
	v->regs.gpr[GPR_RAX] = n->l1_rax;
	v->regs.gpr[GPR_RSP] = n->l1_rsp;
	v->regs.rip = n->l1_rip;
	v->regs.rflags = n->l1_rflags;
	n->flush02 = s->flush;
	s->vmcb = b1;
	s->vmcb_pa = n->vmcb01_pa;
	s->flush = n->flush01;
	s->efer = n->l1_efer;
	s->exit_rip = n->l1_rip;
	v->mmu = n->l1_mmu;
	v->halted = false;
	n->in_l2 = false;
	n->gif = false;
	n->intr_exit = false;
	count_reflect(n, code);
	TRACE_NESTED_EV(v, "vmexit", "code=%#lx info1=%#lx info2=%#lx intinfo=%#lx nrip=%#lx l1-rip=%#lx", code, info1,
			info2, intinfo, nrip, n->l1_rip);
}

/* ---------------------------------------------------------------- VMRUN */

/* What the L1 may put in vmcb12: the CR4 bits of the features its CPUID
 * shows (vcpu_cr4_feature_bits), the host's MAXPHYADDR and
 * virtual-address width. */
static void caps_for(struct nested_caps *caps)
{
	nested_caps_init(caps, gva_caps()->maxphyaddr, true);
	caps->cr4_allowed |= vcpu_cr4_feature_bits();
	if (caps->cr4_allowed & CR4_LA57)
		caps->vaddrbits = 57; /* canonical bases under 5-level paging */
	caps->cr4_allowed &= NESTED_CR4_KNOWN;
}

/* L1 #VMEXIT with VMEXIT_INVALID before anything was switched: the APM
 * value is -1 in all 64 bits (QEMU TCG writes only the low 32, a known
 * deviation: emulators.md). */
static void vmrun_invalid(struct vcpu *v, const char *why)
{
	struct svm_nested *n = nst(v);
	WRITE12(v, ctl.exitcode, (u64)-1);
	WRITE12(v, ctl.exitinfo1, 0);
	WRITE12(v, ctl.exitinfo2, 0);
	n->gif = false;
	n->common.st.invalid++;
	TRACE_NESTED_EV(v, "vmexit-invalid", "vmcb12=%#lx why=\"%s\"", n->vmcb12_gpa, why);
}

/* Umbra's intercepts that every vmcb02 keeps: host events, CPUID (the
 * filtered view), I/O and MSRs (the VM's platform), INVD, HLT, shutdown,
 * task switches, RDPMC, every SVM instruction (an L2 must never run them
 * on the real CPU with L1 addresses), XSETBV, MONITOR/MWAIT. VMMCALL is
 * not one of them: without the L1's intercept it raises #UD in the L2 by
 * itself. */
#define L0_MISC1 (INTERCEPT1_INTR | INTERCEPT1_NMI | INTERCEPT1_SMI | INTERCEPT1_INIT | INTERCEPT1_CPUID | \
		  INTERCEPT1_INVD | INTERCEPT1_HLT | INTERCEPT1_INVLPGA | INTERCEPT1_IOIO | INTERCEPT1_MSR |   \
		  INTERCEPT1_TASK_SWITCH | INTERCEPT1_FERR_FREEZE | INTERCEPT1_SHUTDOWN | INTERCEPT1_RDPMC)
#define L0_MISC2 (INTERCEPT2_VMRUN | INTERCEPT2_VMLOAD | INTERCEPT2_VMSAVE | INTERCEPT2_STGI | INTERCEPT2_CLGI | \
		  INTERCEPT2_SKINIT | INTERCEPT2_XSETBV | INTERCEPT2_MONITOR | INTERCEPT2_MWAIT |              \
		  INTERCEPT2_MWAIT_COND | INTERCEPT2_WBINVD)

/* The bytes of Umbra's own MSR map that let some MSR through (not 0xff):
 * only there can the L1's map change the merged one. Umbra's map is
 * read-only after set-up and intercepts nearly every MSR (only those
 * VMLOAD/VMSAVE switch are open), so this list is short. */
#define MSRPM_OPEN_MAX 64
static u16 msrpm_open[MSRPM_OPEN_MAX];
static int msrpm_nopen = -1;

static void msrpm_open_init(const u8 *l0)
{
	int n = 0;
	for (unsigned off = 0; off < NESTED_MSRPM_SIZE; off++) {
		if (l0[off] == 0xff)
			continue;
		if (n == MSRPM_OPEN_MAX) {
			n = NESTED_MSRPM_SIZE; /* too many: merge every byte */
			break;
		}
		msrpm_open[n++] = (u16)off;
	}
	__atomic_store_n(&msrpm_nopen, n, __ATOMIC_RELEASE);
}

/* vmcb02's MSR map = Umbra's | the L1's (APM vol. 2 §15.11): an MSR
 * either intercepts exits (whether the L1 sees it is decided at the exit,
 * from the L1's map). msrpm02 starts as a copy of Umbra's map (vCPU
 * creation); each VMRUN re-reads the L1's bytes for the few open ones
 * (the L1 may have changed its map: nothing is cached). */
static void build_msrpm02(struct vcpu *v, u64 l1_msrpm)
{
	struct svm_nested *n = nst(v);
	const u8 *l0 = phys_to_virt(svm_msrpm_pa());
	if (__atomic_load_n(&msrpm_nopen, __ATOMIC_ACQUIRE) < 0)
		msrpm_open_init(l0);
	gpa_t base = l1_msrpm & ~0xfffULL;
	int nopen = msrpm_nopen;
	for (int i = 0; i < nopen; i++) {
		unsigned off = nopen > MSRPM_OPEN_MAX ? (unsigned)i : msrpm_open[i];
		u8 b;
		/* a map outside RAM reads as all ones: everything intercepted */
		if (gmem_read(&v->vm->mem, base + off, &b, 1))
			b = 0xff;
		n->msrpm02[off] = l0[off] | b;
	}
}

static void do_vmrun(struct vcpu *v, u8 len, u64 gpa)
{
	struct svm_nested *n = nst(v);
	struct svm_vcpu *s = svm(v);
	struct vmcb *v12 = n->v12, *b2 = n->vmcb02, *b1 = n->vmcb01;
	const struct vmcb_control *c12 = &v12->ctl;
	const char *why = NULL;
	struct nested_caps caps;

	if (!ram_page(v, gpa)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	if (gmem_read(&v->vm->mem, gpa, v12, PAGE_SIZE)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	n->vmcb12_gpa = gpa;
	advance(v, len); /* RIP of the L1 after the VMRUN */
	caps_for(&caps);
	if (nested_vmcb_check(v12, &caps, &why) != NCHK_OK) {
		vmrun_invalid(v, why);
		return;
	}
	nested_vmcb_canonicalize(&v12->save, &caps);

	/* Nested paging first: the L1's CR0/CR4/EFER give npt12's format. */
	hpa_t ncr3 = v->vm->tdp_root;
	n->common.npt_on = false;
	if (c12->np_enable & 1) {
		/* §15.16.1 "TLB Flush": 1 flushes every ASID's entries, 3 and
		 * 7 this guest's (7: non-global, a superset for npt02); other
		 * encodings are reserved: taken as 1. */
		u8 tc = c12->tlb_control;
		enum nested_flush fl = NESTED_FLUSH_ALL;
		if (tc == TLB_CONTROL_NONE)
			fl = NESTED_FLUSH_NONE;
		else if (tc == TLB_CONTROL_FLUSH_ASID || tc == TLB_CONTROL_FLUSH_ASID_LOCAL)
			fl = NESTED_FLUSH_ASID;
		int r = nested_npt_enter(v, c12->n_cr3, c12->asid, fl, &ncr3);
		if (r || !ncr3) {
			vm_end(v->vm, VMR_KILLED, 0, "out of memory for nested page tables (npt02)");
			return;
		}
	}
	if (!ncr3) {
		vm_end(v->vm, VMR_KILLED, 0, "nested SVM needs Umbra's NPT map of the L1");
		return;
	}

	/* vmcb02's controls. */
	struct vmcb_control *c2 = &b2->ctl;
	memset(c2, 0, sizeof(*c2));
	c2->intercept_cr = c12->intercept_cr;
	c2->intercept_dr = c12->intercept_dr;
	c2->intercept_exc = c12->intercept_exc | BIT(18);
	c2->intercept_misc1 = c12->intercept_misc1 | L0_MISC1;
	c2->intercept_misc2 = c12->intercept_misc2 | L0_MISC2 | (b1->ctl.intercept_misc2 & INTERCEPT2_RDTSCP);
	c2->iopm_base_pa = svm_iopm_pa();
	build_msrpm02(v, c12->msrpm_base_pa);
	c2->msrpm_base_pa = n->msrpm02_pa;
	c2->tsc_offset = c12->tsc_offset;
	c2->asid = n->asid02;
	/* Umbra keeps V_INTR_MASKING = 1 (physical interrupts must end the
	 * L2's run whatever its IF); the L1's virtual interrupt for its L2
	 * passes through. */
	c2->int_ctl = V_INTR_MASKING | (c12->int_ctl & V_L1_INT_CTL);
	c2->int_state = c12->int_state & 1;
	c2->event_inj = c12->event_inj;
	c2->np_enable = 1;
	c2->n_cr3 = ncr3;

	/* vmcb02's state: what VMRUN loads from vmcb12 (§15.5.1), and the
	 * L1's current VMLOAD state for the rest. */
	struct vmcb_save *s2 = &b2->save;
	const struct vmcb_save *s12 = &v12->save;
	memcpy(s2, &b1->save, sizeof(*s2));
	s2->es = s12->es;
	s2->cs = s12->cs;
	s2->ss = s12->ss;
	s2->ds = s12->ds;
	s2->gdtr = s12->gdtr;
	s2->idtr = s12->idtr;
	s2->efer = s12->efer | EFER_SVME;
	s2->cr0 = s12->cr0;
	s2->cr2 = s12->cr2;
	s2->cr3 = s12->cr3;
	s2->cr4 = s12->cr4;
	s2->dr6 = s12->dr6;
	s2->dr7 = s12->dr7;
	s2->cpl = s12->cpl;
	s2->dbgctl = 0;

	/* The L1's side (host-save area). */
	n->l1_rax = v->regs.gpr[GPR_RAX];
	n->l1_rsp = v->regs.gpr[GPR_RSP];
	n->l1_rip = v->regs.rip;
	n->l1_rflags = v->regs.rflags;
	n->l1_efer = s->efer;
	n->l1_pat = v->pat;
	n->l1_mmu = v->mmu;
	n->l2_own_pat = c12->np_enable & 1;

	/* Switch. */
	bool flush = n->flush02 || c12->tlb_control != TLB_CONTROL_NONE || c12->asid != n->prev_asid;
	n->prev_asid = c12->asid;
	n->flush01 = s->flush;
	s->vmcb = b2;
	s->vmcb_pa = n->vmcb02_pa;
	s->flush = flush;
	n->flush02 = false;
	s->efer = s12->efer;
	s->exit_rip = s12->rip;
	v->mmu = NULL;
	if (n->l2_own_pat)
		v->pat = s12->g_pat;
	v->tsc_offset += (s64)c12->tsc_offset;
	v->regs.gpr[GPR_RAX] = s12->rax;
	v->regs.gpr[GPR_RSP] = s12->rsp;
	v->regs.rip = s12->rip;
	v->regs.rflags = s12->rflags;
	n->in_l2 = true;
	n->gif = true;
	n->intr_exit = false;
	n->common.st.vmruns++;
	TRACE_NESTED_EV(v, "vmrun", "vmcb12=%#lx l2-rip=%#lx asid=%u np=%lu ncr3=%#lx npt02=%#lx eventinj=%#lx",
			gpa, s12->rip, c12->asid, c12->np_enable & 1, c12->n_cr3, ncr3, c12->event_inj);
}

/* ---------------------------------------------------------------- SVM instructions */

static bool do_loadsave(struct vcpu *v, u64 gpa, bool load)
{
	u8 *vmcb = (u8 *)svm(v)->vmcb;
	if (!ram_page(v, gpa)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(loadsave); i++) {
		if (load)
			gmem_read(&v->vm->mem, gpa + loadsave[i].off, vmcb + loadsave[i].off, loadsave[i].len);
		else
			gmem_write(&v->vm->mem, gpa + loadsave[i].off, vmcb + loadsave[i].off, loadsave[i].len);
	}
	return true;
}

/* An SVM instruction of the L1 (the L2's never come here: they are
 * reflected or refused in nested_svm_after_exit). Each raises #UD when
 * the L1's EFER.SVME is 0; CPL > 0 raised #GP before the intercept. */
void nested_svm_insn(struct vcpu *v, struct vm_exit *e)
{
	struct svm_nested *n = nst(v);
	u8 len;
	u64 rax;

	if (!(vcpu_get_efer(v) & EFER_SVME) || e->insn.which == VI_SKINIT) {
		vcpu_inject_exception(v, EXC_UD, false, 0);
		return;
	}
	if (!insn_and_rax(v, &len, &rax))
		return;
	switch (e->insn.which) {
	case VI_VMRUN:
		do_vmrun(v, len, rax);
		return;
	case VI_VMLOAD:
	case VI_VMSAVE:
		if (do_loadsave(v, rax, e->insn.which == VI_VMLOAD))
			advance(v, len);
		return;
	case VI_STGI:
		n->gif = true;
		TRACE_NESTED_EV(v, "stgi", "rip=%#lx", v->regs.rip);
		advance(v, len);
		open_l1_window(v);
		return;
	case VI_CLGI: {
		n->gif = false;
		struct vmcb_control *c = &n->vmcb01->ctl;
		if (c->int_ctl & V_IRQ) {
			/* hold the L1's pending interrupt until STGI */
			c->int_ctl &= ~(V_IRQ | V_IGN_TPR | (0xfULL << V_INTR_PRIO_SHIFT));
			c->intercept_misc1 &= ~INTERCEPT1_VINTR;
			n->window_wanted = true;
		}
		advance(v, len);
		return;
	}
	case VI_INVLPGA:
		/* rAX: linear address, ECX: ASID. The L2s' translations are
		 * all in one hardware ASID: flush it. ASID 0 is the L1's own. */
		if ((u32)v->regs.gpr[GPR_RCX] == 0) {
			if (v->mmu)
				shadow_invlpg(v->mmu->sv, rax);
			svm(v)->flush = true;
		} else {
			n->flush02 = true;
		}
		advance(v, len);
		return;
	default:
		vcpu_inject_exception(v, EXC_UD, false, 0);
		return;
	}
}

/* ---------------------------------------------------------------- L2 exits */

/* Bit @port..@port+@size-1 of the L1's I/O map; unreadable = intercepted. */
static bool l1_iopm(struct vcpu *v, u16 port, u8 size)
{
	u16 bits = 0;
	u64 base = nst(v)->v12->ctl.iopm_base_pa & ~0xfffULL;
	if (gmem_read(&v->vm->mem, base + port / 8, &bits, 2))
		return true;
	return (bits >> (port % 8)) & ((1u << size) - 1);
}

static bool l1_msrpm(struct vcpu *v, u32 msr, bool write)
{
	u32 base;
	if (msr < 0x2000)
		base = 0;
	else if (msr >= 0xc0000000 && msr < 0xc0002000)
		base = 0x800;
	else if (msr >= 0xc0010000 && msr < 0xc0012000)
		base = 0x1000;
	else
		return true; /* outside the map: always intercepted (§15.11) */
	u32 bit = (msr & 0x1fff) * 2 + (write ? 1 : 0);
	u8 b = 0xff;
	gmem_read(&v->vm->mem, (nst(v)->v12->ctl.msrpm_base_pa & ~0xfffULL) + base + bit / 8, &b, 1);
	return (b >> (bit % 8)) & 1;
}

/* Does the L1 intercept exit @code? (Appendix B Table B-1: the intercept
 * vectors are laid out in exit-code order.) */
static bool l1_wants(struct vcpu *v, u64 code, const struct vm_exit *e)
{
	const struct vmcb_control *c = &nst(v)->v12->ctl;
	if (code < 0x20)
		return (c->intercept_cr >> code) & 1;
	if (code < 0x40)
		return (c->intercept_dr >> (code - 0x20)) & 1;
	if (code < 0x60)
		return (c->intercept_exc >> (code - 0x40)) & 1;
	if (code < 0x80) {
		if (!((c->intercept_misc1 >> (code - 0x60)) & 1))
			return false;
		if (code == SVM_EXIT_IOIO)
			return l1_iopm(v, e->io.port, e->io.size);
		if (code == SVM_EXIT_MSR)
			return l1_msrpm(v, (u32)v->regs.gpr[GPR_RCX], e->info1 & 1);
		return true;
	}
	if (code < 0xa0)
		return (c->intercept_misc2 >> (code - 0x80)) & 1;
	return false;
}

/* nRIP for the L1 (NRIPS is offered): the host's, IOIO's EXITINFO2, or
 * the decoded L2 instruction; 0 for exits without one. */
static u64 l2_nrip(struct vcpu *v, u64 code, const struct vm_exit *e)
{
	if (!nrip_exit(code))
		return 0;
	if (svm_has_feature(SVM_FEAT_NRIPS))
		return nst(v)->vmcb02->ctl.next_rip;
	if (code == SVM_EXIT_IOIO)
		return e->info2;
	u8 len;
	if (nested_l2_insn_length(v, &len))
		return 0;
	u64 rip = v->regs.rip + len;
	if (!(svm(v)->efer & EFER_LMA))
		rip &= 0xffffffffULL;
	return rip;
}

static void reflect(struct vcpu *v, struct vm_exit *e, u64 code, u64 info1, u64 info2)
{
	u64 nrip = l2_nrip(v, code, e);
	u64 ii = nst(v)->vmcb02->ctl.exitintinfo;
	vmexit(v, code, info1, info2, (ii & EVENTINJ_VALID) ? ii : 0, nrip);
	e->reason = EXIT_NESTED;
}

/* Exits common code handles for the L2 advance RIP: give them the length
 * (no NRIPS: decode through the L2's paging and npt12). */
static bool needs_len(enum exit_reason r)
{
	return r == EXIT_CPUID || r == EXIT_RDMSR || r == EXIT_WRMSR || r == EXIT_HLT || r == EXIT_INVD ||
	       r == EXIT_WBINVD || r == EXIT_XSETBV || r == EXIT_PAUSE || r == EXIT_HYPERCALL;
}

void nested_svm_after_exit(struct vcpu *v, struct vm_exit *e)
{
	struct svm_nested *n = nst(v);
	if (!n->in_l2)
		return;
	u64 code = n->vmcb02->ctl.exitcode;

	if ((u32)code == SVM_EXIT_INVALID) {
		/* the hardware refused state the checks let through: the L1
		 * gets what the hardware gave */
		n->common.st.invalid++;
		TRACE_NESTED_EV(v, "vmexit-invalid", "vmcb12=%#lx why=\"refused by the CPU\"", n->vmcb12_gpa);
		vmexit(v, (u64)-1, 0, 0, 0, 0);
		e->reason = EXIT_NESTED;
		return;
	}
	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
	case SVM_EXIT_INIT:
		/* the host's: common code takes them */
		n->common.st.l0_exits++;
		return;
	case SVM_EXIT_NPF:
		if (!n->common.npt_on) {
			/* npt01: an L1-physical address outside RAM (device
			 * or not): common code, as for the L1 itself */
			n->common.st.l0_exits++;
			return;
		}
		{
			u64 info1;
			int r = nested_npt_fault(v, e->info2, e->info1, &info1);
			if (r == NESTED_NPF_REFLECT)
				reflect(v, e, SVM_EXIT_NPF, info1, e->info2);
			else
				e->reason = EXIT_NESTED;
		}
		return;
	default:
		break;
	}
	if (l1_wants(v, code, e)) {
		reflect(v, e, code, e->info1, e->info2);
		return;
	}
	/* Umbra's own intercepts the L1 does not have. */
	n->common.st.l0_exits++;
	switch (code) {
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
		vm_end(v->vm, VMR_KILLED, 0, "the L2 ran an SVM instruction (exit %#lx) its L1 does not intercept",
		       code);
		e->reason = EXIT_NESTED;
		return;
	case SVM_EXIT_SHUTDOWN:
		/* not intercepted by the L1: the whole processor shuts down */
		return;
	default:
		break;
	}
	if (!e->insn_len && needs_len(e->reason)) {
		u8 len;
		if (nested_l2_insn_length(v, &len)) {
			vm_end(v->vm, VMR_KILLED, 0, "cannot fetch the L2 instruction at rip %#lx", v->regs.rip);
			e->reason = EXIT_NESTED;
			return;
		}
		e->insn_len = len;
	}
}

/* Before each run: an L1 interrupt that the L1 intercepts ends the L2's
 * run (#VMEXIT(INTR)); npt02's root may have been rebuilt; TLB flushes
 * npt02 owes. */
bool nested_svm_before_run(struct vcpu *v, struct vm_exit *e)
{
	struct svm_nested *n = nst(v);
	struct svm_vcpu *s = svm(v);
	if (!n->in_l2)
		return false;
	if (n->intr_exit) {
		n->intr_exit = false;
		memset(e, 0, sizeof(*e));
		vmexit(v, SVM_EXIT_INTR, 0, 0, 0, 0);
		e->reason = EXIT_NESTED;
		return true;
	}
	if (n->common.npt_on) {
		hpa_t root;
		if (nested_npt_reload(v, &root)) {
			if (!root) {
				vm_end(v->vm, VMR_KILLED, 0, "out of memory for nested page tables (npt02)");
				memset(e, 0, sizeof(*e));
				e->reason = EXIT_NESTED;
				return true;
			}
			n->vmcb02->ctl.n_cr3 = root;
		}
		if (n->common.npt_tlb_dirty) {
			n->common.npt_tlb_dirty = false;
			s->flush = true;
		}
	}
	if (n->flush02) {
		n->flush02 = false;
		s->flush = true;
	}
	return false;
}

/* While the L2 runs, is an interrupt for the L1 (a physical interrupt
 * from the L2's point of view) masked? APM vol. 2 §15.21.1: with
 * V_INTR_MASKING = 1 the host's (L1's) RFLAGS.IF, as it was at VMRUN,
 * masks physical interrupts and the L2's IF only virtual ones; with
 * V_INTR_MASKING = 0 the L2's RFLAGS.IF (and its interrupt shadow) masks
 * them. GIF is 1 while the L2 runs. A masked interrupt is looked at again
 * before every L2 entry (vlapic_before_entry), so it is taken at the
 * first exit after the L2 unmasks it. */
static bool l1_intr_masked_in_l2(struct vcpu *v, struct svm_nested *n)
{
	if (n->v12->ctl.int_ctl & V_INTR_MASKING)
		return !(n->l1_rflags & RFLAGS_IF);
	return !(v->regs.rflags & RFLAGS_IF) || (n->vmcb02->ctl.int_state & 1);
}

/* The L1's interrupt window: held while GIF = 0 (§15.17: "interrupts
 * are held pending"), and while the L2 runs an L1 interrupt is an
 * #VMEXIT(INTR) when the L1 intercepts INTR. An L1 that does not
 * intercept INTR gets its interrupt once it runs again (not delivered
 * into the L2: a documented limitation). */
bool nested_svm_irq_window(struct vcpu *v, bool open)
{
	struct svm_nested *n = nst(v);
	if (n->in_l2) {
		n->intr_exit = open && (n->v12->ctl.intercept_misc1 & INTERCEPT1_INTR) && !l1_intr_masked_in_l2(v, n);
		return true;
	}
	if (!n->gif) {
		n->window_wanted = open;
		return true;
	}
	return false;
}

/* A TLB flush common code asks for is for the L1's translations. */
bool nested_svm_flush_tlb(struct vcpu *v)
{
	struct svm_nested *n = nst(v);
	if (!n->in_l2)
		return false;
	n->flush01 = true;
	return true;
}

/* Contract in svm/nested.h. An NMI for the L1 is not delivered into the
 * L2 (and not turned into #VMEXIT(NMI): not modelled) nor while the L1
 * has GIF = 0 (APM vol. 2 §15.17: GIF holds NMIs); it waits. */
bool nested_svm_nmi_held(struct vcpu *v)
{
	struct svm_nested *n = v->nested;
	return n->in_l2 || !n->gif;
}

/* Contract in svm/nested.h. */
void nested_svm_set_asids(struct vcpu *v, u32 asid01, u32 asid02)
{
	struct svm_nested *n = nst(v);
	n->vmcb01->ctl.asid = asid01;
	n->asid02 = asid02;
	n->vmcb02->ctl.asid = asid02;
	/* both are fresh: whichever level does not run now flushes later */
	n->flush01 = true;
	n->flush02 = true;
}
