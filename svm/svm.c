/*
 * svm/svm.c - the AMD SVM backend: capability probe, per-CPU enable,
 * VMCB set-up for a vCPU, the run loop step, and exit decoding into
 * struct vm_exit (AMD APM vol. 2 chapter 15, revision in
 * docs/references.md).
 *
 * Owns every VMCB field. Decides nothing about policy: kernel/exit.c does.
 * Works without NRIPS and decode assists (QEMU has neither): lengths of
 * exiting instructions come from nRIP when the CPU has NRIPS, else from
 * IOIO's EXITINFO2, else common code decodes the instruction.
 */
#include "kernel/backend.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "kernel/trap.h"
#include "kernel/vm.h"
#include "kernel/x86.h"
#include "mm/hostpt.h"
#include "mm/kmem.h"
#include "mm/pmm.h"
#include "mm/pt.h"
#include "svm/nested.h"
#include "svm/svm_priv.h"
#include "svm/vmcb.h"

/* svm_vmrun, SVM_FEAT_*, struct svm_vcpu: svm/svm_priv.h */

static struct {
	u32 features;
	u32 nasid;
	u32 revision;
} svm_caps;

/*
 * ASIDs (APM vol. 2 §15.16) are handed out per CPU, as a vCPU first runs
 * there in the CPU's current ASID generation: a vCPU takes one (two for
 * a nested=on VM: the L1's and its L2s'). When a CPU has given out every
 * ASID it starts a new generation: the next VMRUN flushes every ASID's
 * translations (TLB_CONTROL 1) and each vCPU takes a fresh ASID when it
 * next runs there. So any number of vCPUs can run, whatever the CPU's
 * ASID count (QEMU has 16). ASID 0 is the host's (§15.5.1).
 */
struct svm_cpu {
	hpa_t hsave_pa;
	hpa_t host_vmcb_pa;
	struct vcpu *last;  /* vCPU that last ran here */
	u64 asid_gen;       /* this CPU's ASID generation, from 1 */
	u32 next_asid;
	bool flush_all;     /* a new generation began: flush every ASID */
};
static struct svm_cpu svm_cpus[MAX_CPUS];

static hpa_t iopm_pa, msrpm_pa; /* shared, read-only after set-up */

static inline struct svm_vcpu *svm(struct vcpu *v)
{
	return v->arch;
}

static bool has(u32 f)
{
	return (svm_caps.features & f) != 0;
}

/* For svm/nested.c (svm/svm_priv.h). */
bool svm_has_feature(u32 f)
{
	return has(f);
}

/* Give @v ASIDs of this CPU's current generation (see struct svm_cpu). */
static void asid_refresh(struct vcpu *v, struct svm_vcpu *s, struct svm_cpu *sc, u32 cpu)
{
	if (s->asid && s->asid_gen == sc->asid_gen && s->asid_cpu == cpu)
		return;
	u32 need = v->nested ? 2 : 1;
	if (sc->asid_gen == 0 || sc->next_asid + need > svm_caps.nasid) {
		sc->asid_gen++;
		sc->next_asid = 1;
		sc->flush_all = true;
	}
	s->asid = sc->next_asid++;
	s->asid_gen = sc->asid_gen;
	s->asid_cpu = cpu;
	s->flush = true;
	if (v->nested)
		nested_svm_set_asids(v, s->asid, sc->next_asid++);
	else
		s->vmcb->ctl.asid = s->asid;
}

hpa_t svm_iopm_pa(void)
{
	return iopm_pa;
}

hpa_t svm_msrpm_pa(void)
{
	return msrpm_pa;
}

static int svm_probe(void)
{
	struct cpuid_regs r = cpuid(0x80000000);
	if (r.eax < 0x8000000a || !(cpuid(0x80000001).ecx & BIT(2))) {
		kprintf("svm: this CPU has no SVM (CPUID 8000_0001h ECX.SVM=0)\n");
		return E_NOTSUP;
	}
	u64 vmcr;
	if (rdmsr_safe(MSR_VM_CR, &vmcr) == E_OK && (vmcr & VM_CR_SVMDIS)) {
		kprintf("svm: SVM is disabled by firmware (VM_CR.SVMDIS=1); enable it in the BIOS setup\n");
		return E_NOTSUP;
	}
	r = cpuid(0x8000000a);
	svm_caps.revision = r.eax & 0xff;
	svm_caps.nasid = r.ebx;
	svm_caps.features = r.edx;
	kprintf("svm: revision %u, %u ASIDs, features:%s%s%s%s%s%s%s%s\n", svm_caps.revision, svm_caps.nasid,
		has(SVM_FEAT_NPT) ? " NPT" : "", has(SVM_FEAT_NRIPS) ? " NRIPS" : "",
		has(SVM_FEAT_FLUSH_BY_ASID) ? " flush-by-ASID" : "",
		has(SVM_FEAT_DECODE_ASSISTS) ? " decode-assists" : "", has(SVM_FEAT_VMCB_CLEAN) ? " VMCB-clean" : "",
		has(SVM_FEAT_PAUSE_FILTER) ? " pause-filter" : "", has(SVM_FEAT_VGIF) ? " vGIF" : "",
		has(SVM_FEAT_LBRV) ? " LBRV" : "");
	if (!has(SVM_FEAT_NPT))
		kprintf("svm: no NPT: only paging=shadow VMs can run\n");
	if (svm_caps.nasid < 2) {
		kprintf("svm: CPU reports %u ASIDs; need at least 2\n", svm_caps.nasid);
		return E_NOTSUP;
	}

	/* I/O permission map: 12 KiB, every port intercepted (APM §15.10.1).
	 * MSR permission map: 8 KiB, every MSR intercepted except the ones
	 * whose state VMLOAD/VMSAVE swap anyway (§15.11). */
	if (pmm_alloc(2, PMM_NORMAL, &iopm_pa) || pmm_alloc(1, PMM_NORMAL, &msrpm_pa)) {
		kprintf("svm: out of memory for the permission maps\n");
		return E_NOMEM;
	}
	memset(phys_to_virt(iopm_pa), 0xff, 4 * PAGE_SIZE);
	u8 *msrpm = phys_to_virt(msrpm_pa);
	memset(msrpm, 0xff, 2 * PAGE_SIZE);
	static const u32 passthrough[] = {MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR,
					  MSR_CSTAR, MSR_SFMASK, 0x174, 0x175, 0x176};
	for (size_t i = 0; i < ARRAY_SIZE(passthrough); i++) {
		u32 m = passthrough[i];
		u32 base = m < 0x2000 ? 0 : (m >= 0xc0000000 && m < 0xc0002000) ? 0x800 : 0x1000;
		u32 bit = (m & 0x1fff) * 2;
		msrpm[base + bit / 8] &= ~(3u << (bit % 8)); /* read and write */
	}
	return E_OK;
}

static int svm_cpu_enable(struct cpu *c)
{
	struct svm_cpu *sc = &svm_cpus[c->id];
	if (pmm_alloc_zeroed(0, PMM_NORMAL, &sc->hsave_pa) || pmm_alloc_zeroed(0, PMM_NORMAL, &sc->host_vmcb_pa))
		return E_NOMEM;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, sc->hsave_pa);
	c->backend = sc;
	return E_OK;
}

static void seg_to_vmcb(struct vmcb_seg *d, const struct seg_desc *s)
{
	d->sel = s->sel;
	d->attr = s->attr;
	d->limit = s->limit;
	d->base = s->base;
}

/* The architectural state @bs into the VMCB save area (no event
 * pending, no interrupt shadow). */
static void load_state(struct vcpu *v, const struct vcpu_boot_state *bs)
{
	struct svm_vcpu *s = svm(v);
	struct vmcb_save *st = &s->vmcb->save;
	seg_to_vmcb(&st->es, &bs->seg[SEG_ES]);
	seg_to_vmcb(&st->cs, &bs->seg[SEG_CS]);
	seg_to_vmcb(&st->ss, &bs->seg[SEG_SS]);
	seg_to_vmcb(&st->ds, &bs->seg[SEG_DS]);
	seg_to_vmcb(&st->fs, &bs->seg[SEG_FS]);
	seg_to_vmcb(&st->gs, &bs->seg[SEG_GS]);
	seg_to_vmcb(&st->ldtr, &bs->seg[SEG_LDTR]);
	seg_to_vmcb(&st->tr, &bs->seg[SEG_TR]);
	seg_to_vmcb(&st->gdtr, &bs->seg[SEG_GDTR]);
	seg_to_vmcb(&st->idtr, &bs->seg[SEG_IDTR]);
	st->cpl = 0;
	/* EFER.SVME must be set in the guest VMCB (§15.5.1); the guest's own
	 * view of EFER is kept in s->efer. */
	s->efer = bs->efer;
	st->efer = bs->efer | EFER_SVME;
	st->cr0 = bs->cr0;
	st->cr3 = bs->cr3;
	st->cr4 = bs->cr4;
	st->dr6 = 0xffff0ff0;
	st->dr7 = 0x400;
	st->g_pat = 0x0007040600070406ULL; /* power-on PAT */
	v->regs = bs->regs;
	s->vmcb->ctl.event_inj = 0;
	s->vmcb->ctl.int_state = 0;
	s->vmcb->ctl.intercept_misc1 &= ~INTERCEPT1_IRET;
	s->nmi_state = NMI_OPEN;
	s->flush = true;
}

static int svm_vcpu_set_state(struct vcpu *v, const struct vcpu_boot_state *bs)
{
	load_state(v, bs);
	return E_OK;
}

/* NMIs are held while one is being handled (until its IRET), in an
 * interrupt shadow, and for nested VMs while the L2 runs or GIF = 0
 * (svm/nested.c: the NMI then waits for the L1). */
static bool svm_nmi_blocked(struct vcpu *v)
{
	struct svm_vcpu *s = svm(v);
	/* the interrupt shadow ends once common code moved RIP past the
	 * exiting instruction (svm_vcpu_run clears it then) */
	if (s->nmi_state != NMI_OPEN || ((s->vmcb->ctl.int_state & 1) && v->regs.rip == s->exit_rip))
		return true;
	return v->nested && nested_svm_nmi_held(v);
}

static bool svm_event_queued(struct vcpu *v)
{
	return (svm(v)->vmcb->ctl.event_inj & EVENTINJ_VALID) != 0;
}

static int svm_vcpu_create(struct vcpu *v, const struct vcpu_boot_state *bs)
{
	struct svm_vcpu *s = kzalloc(sizeof(*s));
	if (!s)
		return E_NOMEM;
	if (pmm_alloc_zeroed(0, PMM_NORMAL, &s->vmcb_pa)) {
		kfree(s);
		return E_NOMEM;
	}
	s->vmcb = phys_to_virt(s->vmcb_pa);
	/* ASIDs are given at the first run (asid_refresh) */
	s->flush = true;
	v->arch = s;

	struct vmcb_control *c = &s->vmcb->ctl;
	c->intercept_misc1 = INTERCEPT1_INTR | INTERCEPT1_NMI | INTERCEPT1_SMI | INTERCEPT1_INIT |
			     INTERCEPT1_CPUID | INTERCEPT1_INVD | INTERCEPT1_HLT | INTERCEPT1_INVLPGA |
			     INTERCEPT1_IOIO | INTERCEPT1_MSR | INTERCEPT1_TASK_SWITCH | INTERCEPT1_FERR_FREEZE |
			     INTERCEPT1_SHUTDOWN | INTERCEPT1_RDPMC;
	/* VMRUN must be intercepted or VMRUN fails (§15.5.1). */
	c->intercept_misc2 = INTERCEPT2_VMRUN | INTERCEPT2_VMMCALL | INTERCEPT2_VMLOAD | INTERCEPT2_VMSAVE |
			     INTERCEPT2_STGI | INTERCEPT2_CLGI | INTERCEPT2_SKINIT | INTERCEPT2_XSETBV |
			     INTERCEPT2_MONITOR | INTERCEPT2_MWAIT | INTERCEPT2_MWAIT_COND | INTERCEPT2_WBINVD;
	if (!(cpuid(0x80000001).edx & BIT(27)))
		c->intercept_misc2 |= INTERCEPT2_RDTSCP;
	/* #MC is always the host's (machine checks are not the guest's).
	 * #GP is intercepted: the real EFER.SVME is 1 (§15.5.1), so an SVM
	 * instruction at CPL > 0 raises #GP where a guest whose EFER.SVME is
	 * 0 (every VM without nested SVM, a nested=on L1 before it sets
	 * SVME) must see #UD (kernel/exit.c). vmcb02 has it only when the
	 * L1 asks (svm/nested.c). */
	c->intercept_exc = BIT(18) | BIT(13);
	c->iopm_base_pa = iopm_pa;
	c->msrpm_base_pa = msrpm_pa;
	c->int_ctl = V_INTR_MASKING;
	if (v->vm->cfg.paging == PAGING_TDP) {
		c->np_enable = 1;
		c->n_cr3 = v->vm->tdp_root;
	} else {
		/* Shadow paging: Umbra owns CR0/CR3/CR4 (reads and writes are
		 * intercepted: SVM has no read shadows), INVLPG and #PF. The
		 * CR0 selective-write intercept is implied by the full one. */
		c->intercept_cr = BIT(0) | BIT(3) | BIT(4) | BIT(16) | BIT(19) | BIT(20);
		c->intercept_exc |= BIT(14);
		c->intercept_misc1 |= INTERCEPT1_INVLPG;
	}

	load_state(v, bs);
	if (v->vm->cfg.nested)
		return nested_svm_vcpu_create(v); /* svm_vcpu_destroy frees a half-made one */
	return E_OK;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
	struct svm_vcpu *s = svm(v);
	if (!s)
		return;
	if (v->nested)
		nested_svm_vcpu_destroy(v);
	for (u32 i = 0; i < MAX_CPUS; i++)
		if (svm_cpus[i].last == v)
			svm_cpus[i].last = NULL;
	pmm_free(s->vmcb_pa, 0);
	kfree(s);
	v->arch = NULL;
}

static void decode_ioio(struct vm_exit *e, u64 info1, u64 info2, u64 rip)
{
	e->reason = EXIT_IO;
	e->io.in = info1 & 1;
	e->io.string = (info1 >> 2) & 1;
	e->io.rep = (info1 >> 3) & 1;
	e->io.size = (info1 & BIT(4)) ? 1 : (info1 & BIT(5)) ? 2 : 4;
	e->io.port = (u16)(info1 >> 16);
	/* EXITINFO2 holds the RIP of the next instruction (§15.10.2) */
	e->insn_len = (u8)(info2 - rip);
}

static void decode_exit(struct svm_vcpu *s, struct vm_exit *e, u64 rip)
{
	struct vmcb_control *c = &s->vmcb->ctl;
	u64 code = c->exitcode;
	/* member by member: cheaper than memset (a call and REP STOS) */
	*e = (struct vm_exit){.raw = code, .info1 = c->exitinfo1, .info2 = c->exitinfo2};
	if (has(SVM_FEAT_NRIPS) && c->next_rip > rip)
		e->insn_len = (u8)(c->next_rip - rip);

	if ((u32)code == SVM_EXIT_INVALID) {
		e->reason = EXIT_ENTRY_FAIL;
		e->fail.why = "VMRUN refused the guest state (VMEXIT_INVALID)";
		return;
	}
	if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
		/* EXITINFO1: the error code of vectors that push one; #PF's
		 * EXITINFO2: the faulting address (§15.12) */
		static const u32 with_error = BIT(8) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | BIT(14) |
					      BIT(17) | BIT(21) | BIT(29) | BIT(30);
		e->reason = EXIT_EXCEPTION;
		e->exc.vector = code - SVM_EXIT_EXCP_BASE;
		e->exc.has_error = (with_error >> e->exc.vector) & 1;
		e->exc.error = (u32)c->exitinfo1;
		e->exc.cr2 = c->exitinfo2;
		return;
	}
	if (code <= 0x1f) {
		/* CR reads 00h-0Fh, writes 10h-1Fh; with decode assists
		 * EXITINFO1 bit 63 says bits 3:0 hold the GPR (§15.8.1) */
		e->reason = EXIT_CR_ACCESS;
		e->cr.cr = code & 0xf;
		e->cr.write = code >= 0x10;
		e->cr.gpr = (has(SVM_FEAT_DECODE_ASSISTS) && (c->exitinfo1 & BIT(63))) ? (s8)(c->exitinfo1 & 0xf) : -1;
		return;
	}
	if (code == SVM_EXIT_INVLPG) {
		e->reason = EXIT_INVLPG;
		e->invlpg.valid = has(SVM_FEAT_DECODE_ASSISTS);
		e->invlpg.gva = c->exitinfo1;
		return;
	}
	switch (code) {
	case SVM_EXIT_INTR: e->reason = EXIT_INTR; break;
	case SVM_EXIT_VINTR: e->reason = EXIT_IRQ_WINDOW; break;
	case SVM_EXIT_IRET:
		if (s->nmi_state != NMI_MASKED) {
			e->reason = EXIT_UNKNOWN; /* an L1's intercept (svm/nested.c) */
			break;
		}
		/* the guest's NMI handler returns (svm_inject_event): the
		 * IRET itself runs after this exit */
		c->intercept_misc1 &= ~INTERCEPT1_IRET;
		s->nmi_state = NMI_IRET_SEEN;
		s->nmi_iret_rip = rip;
		e->reason = EXIT_NONE;
		break;
	case SVM_EXIT_NMI: e->reason = EXIT_NMI; break;
	case SVM_EXIT_SMI: e->reason = EXIT_SMI; break;
	case SVM_EXIT_INIT: e->reason = EXIT_INIT; break;
	case SVM_EXIT_CPUID: e->reason = EXIT_CPUID; break;
	case SVM_EXIT_HLT: e->reason = EXIT_HLT; break;
	case SVM_EXIT_INVD: e->reason = EXIT_INVD; break;
	case SVM_EXIT_WBINVD: e->reason = EXIT_WBINVD; break;
	case SVM_EXIT_PAUSE: e->reason = EXIT_PAUSE; break;
	case SVM_EXIT_RDPMC: e->reason = EXIT_RDPMC; break;
	case SVM_EXIT_XSETBV: e->reason = EXIT_XSETBV; break;
	case SVM_EXIT_SHUTDOWN: e->reason = EXIT_SHUTDOWN; break;
	case SVM_EXIT_TASK_SWITCH: e->reason = EXIT_TASK_SWITCH; break;
	case SVM_EXIT_MSR: e->reason = c->exitinfo1 ? EXIT_WRMSR : EXIT_RDMSR; break;
	case SVM_EXIT_IOIO: decode_ioio(e, c->exitinfo1, c->exitinfo2, rip); break;
	case SVM_EXIT_VMMCALL: e->reason = EXIT_HYPERCALL; break;
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND: e->reason = EXIT_MONITOR; break;
	case SVM_EXIT_VMRUN: e->reason = EXIT_VIRT_INSN; e->insn.which = VI_VMRUN; break;
	case SVM_EXIT_VMLOAD: e->reason = EXIT_VIRT_INSN; e->insn.which = VI_VMLOAD; break;
	case SVM_EXIT_VMSAVE: e->reason = EXIT_VIRT_INSN; e->insn.which = VI_VMSAVE; break;
	case SVM_EXIT_STGI: e->reason = EXIT_VIRT_INSN; e->insn.which = VI_STGI; break;
	case SVM_EXIT_CLGI: e->reason = EXIT_VIRT_INSN; e->insn.which = VI_CLGI; break;
	case SVM_EXIT_SKINIT: e->reason = EXIT_VIRT_INSN; e->insn.which = VI_SKINIT; break;
	case SVM_EXIT_INVLPGA: e->reason = EXIT_VIRT_INSN; e->insn.which = VI_INVLPGA; break;
	case SVM_EXIT_RDTSCP: e->reason = EXIT_VIRT_INSN; e->insn.which = VI_RDTSCP; break;
	case SVM_EXIT_FERR_FREEZE: e->reason = EXIT_UNKNOWN; break;
	case SVM_EXIT_NPF:
		/* EXITINFO1: #PF-style error code; bit 32: fault on the final
		 * guest-physical access, bit 33: during the guest's table walk
		 * (§15.25.6). EXITINFO2: the faulting guest-physical address. */
		e->reason = EXIT_TDP_FAULT;
		e->tdp.gpa = c->exitinfo2;
		e->tdp.present = c->exitinfo1 & 1;
		e->tdp.write = (c->exitinfo1 >> 1) & 1;
		e->tdp.fetch = (c->exitinfo1 >> 4) & 1;
		e->tdp.read = !e->tdp.write && !e->tdp.fetch;
		e->tdp.during_walk = (c->exitinfo1 >> 33) & 1;
		break;
	default: e->reason = EXIT_UNKNOWN; break;
	}
}

static void svm_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
	struct svm_vcpu *s = svm(v);
	struct svm_cpu *sc = this_cpu()->backend;
	if (v->nested && nested_svm_before_run(v, e))
		return;
	struct vmcb *vmcb = s->vmcb;

	vmcb->save.rax = v->regs.gpr[GPR_RAX];
	vmcb->save.rsp = v->regs.gpr[GPR_RSP];
	/* Common code moved RIP past the exiting instruction (HLT after
	 * STI, for instance): that instruction completed, so the interrupt
	 * shadow it was in ends (int_state bit 0, APM vol. 2 §15.21.5). */
	if (v->regs.rip != s->exit_rip)
		vmcb->ctl.int_state &= ~1ULL;
	vmcb->save.rip = v->regs.rip;
	vmcb->save.rflags = v->regs.rflags;
	vmcb->save.g_pat = v->pat;
	/* A fresh ASID (asid_refresh) may hold an earlier owner's
	 * translations: flush it; common code asks for flushes too. */
	asid_refresh(v, s, sc, this_cpu()->id);
	if (sc->flush_all) {
		vmcb->ctl.tlb_control = TLB_CONTROL_FLUSH_ALL;
		sc->flush_all = false;
	} else {
		vmcb->ctl.tlb_control = s->flush ? (has(SVM_FEAT_FLUSH_BY_ASID) ? TLB_CONTROL_FLUSH_ASID
										  : TLB_CONTROL_FLUSH_ALL)
						 : TLB_CONTROL_NONE;
	}
	s->flush = false;
	sc->last = v;

	/* APM vol. 2 §15.5 loads CR2 from the VMCB; Bochs does not, so make
	 * the real CR2 agree when a #PF is injected (Umbra never faults
	 * between here and VMRUN). */
	if ((vmcb->ctl.event_inj & (EVENTINJ_VALID | 0x7ff)) == (EVENTINJ_VALID | EVENTINJ_TYPE_EXC | 14))
		write_cr2(vmcb->save.cr2);
	svm_vmrun(s->vmcb_pa, &v->regs, sc->host_vmcb_pa);

	v->regs.gpr[GPR_RAX] = vmcb->save.rax;
	v->regs.gpr[GPR_RSP] = vmcb->save.rsp;
	u64 rip = vmcb->save.rip;
	v->regs.rip = rip;
	s->exit_rip = rip;
	v->regs.rflags = vmcb->save.rflags;
	if (s->nmi_state == NMI_IRET_SEEN && rip != s->nmi_iret_rip)
		s->nmi_state = NMI_OPEN;
	decode_exit(s, e, rip);
	/* An event whose delivery was interrupted by the exit must be
	 * re-injected (§15.7.2): EXITINTINFO has the same format as
	 * EVENTINJ. QEMU leaves stale bits with V=0, so test V first. */
	u64 ii = vmcb->ctl.exitintinfo;
	vmcb->ctl.event_inj = (ii & EVENTINJ_VALID) ? ii : 0;
	if (v->nested)
		nested_svm_after_exit(v, e);
}

static void svm_inject_event(struct vcpu *v, u8 vector, bool is_irq, bool has_error, u32 error)
{
	u64 ev = vector | EVENTINJ_VALID | (is_irq ? EVENTINJ_TYPE_INTR : EVENTINJ_TYPE_EXC);
	if (vector == 2 && !is_irq) {
		ev = 2 | EVENTINJ_VALID | EVENTINJ_TYPE_NMI;
		svm(v)->nmi_state = NMI_MASKED;
		svm(v)->vmcb->ctl.intercept_misc1 |= INTERCEPT1_IRET;
	}
	if (has_error)
		ev |= EVENTINJ_EV | ((u64)error << 32);
	svm(v)->vmcb->ctl.event_inj = ev;
}

/* The interrupt window (APM vol. 2 §15.21.4): a virtual interrupt (V_IRQ)
 * with V_IGN_TPR (common code already compared the vector with the
 * LAPIC's PPR) is "taken" once the guest has RFLAGS.IF=1 and no interrupt
 * shadow (V_INTR_MASKING: the guest's IF masks virtual interrupts); the
 * VINTR intercept turns that moment into exit 64h before anything is
 * delivered. Common code then injects the real vector through EVENTINJ
 * and closes the window, which clears V_IRQ again. */
static void svm_irq_window(struct vcpu *v, bool open)
{
	if (v->nested && nested_svm_irq_window(v, open))
		return;
	struct vmcb_control *c = &svm(v)->vmcb->ctl;
	const u64 bits = V_IRQ | V_IGN_TPR | (0xfULL << V_INTR_PRIO_SHIFT);
	if (!open && !(c->intercept_misc1 & INTERCEPT1_VINTR) && !(c->int_ctl & bits))
		return; /* closed already: the usual case, before every entry */
	if (open) {
		c->int_ctl |= bits;
		c->intercept_misc1 |= INTERCEPT1_VINTR;
	} else {
		c->int_ctl &= ~bits;
		c->intercept_misc1 &= ~INTERCEPT1_VINTR;
	}
}

static int svm_pending_exception(struct vcpu *v)
{
	u64 ev = svm(v)->vmcb->ctl.event_inj;
	if (!(ev & EVENTINJ_VALID) || ((ev >> 8) & 7) != 3)
		return -1;
	return (int)(ev & 0xff);
}

static u64 svm_get_cr(struct vcpu *v, int cr)
{
	struct vmcb_save *st = &svm(v)->vmcb->save;
	switch (cr) {
	case 0: return st->cr0;
	case 2: return st->cr2;
	case 3: return st->cr3;
	case 4: return st->cr4;
	default: return 0;
	}
}

static void svm_set_cr2(struct vcpu *v, u64 cr2)
{
	/* Bochs does not load the guest's CR2 from the VMCB on VMRUN
	 * (emulators.md): svm_vcpu_run also writes the host CR2 when a #PF
	 * is being injected. */
	svm(v)->vmcb->save.cr2 = cr2;
}

static u64 svm_get_efer(struct vcpu *v)
{
	/* the guest's view: LMA as the CPU keeps it, SVME hidden */
	return (svm(v)->efer & ~EFER_LMA) | (svm(v)->vmcb->save.efer & EFER_LMA);
}

static int svm_set_efer(struct vcpu *v, u64 efer)
{
	struct svm_vcpu *s = svm(v);
	s->efer = efer;
	s->vmcb->save.efer = (efer & ~EFER_LMA) | (s->vmcb->save.efer & EFER_LMA) | EFER_SVME;
	return E_OK;
}

static const struct vmcb_seg *seg_ptr(struct vmcb_save *st, enum seg_reg r)
{
	switch (r) {
	case SEG_ES: return &st->es;
	case SEG_CS: return &st->cs;
	case SEG_SS: return &st->ss;
	case SEG_DS: return &st->ds;
	case SEG_FS: return &st->fs;
	case SEG_GS: return &st->gs;
	case SEG_LDTR: return &st->ldtr;
	case SEG_TR: return &st->tr;
	case SEG_GDTR: return &st->gdtr;
	default: return &st->idtr;
	}
}

static void svm_get_seg(struct vcpu *v, enum seg_reg r, struct seg_desc *d)
{
	const struct vmcb_seg *s = seg_ptr(&svm(v)->vmcb->save, r);
	d->sel = s->sel;
	d->attr = s->attr;
	d->limit = s->limit;
	d->base = s->base;
}

static int svm_get_cpl(struct vcpu *v)
{
	return svm(v)->vmcb->save.cpl;
}

static void svm_dump(struct vcpu *v)
{
	struct vmcb *b = svm(v)->vmcb;
	struct vmcb_save *st = &b->save;
	kprintf("VMCB of vCPU %u (pa %#lx): exitcode %#lx info1 %#lx info2 %#lx intinfo %#lx\n", v->id,
		svm(v)->vmcb_pa, b->ctl.exitcode, b->ctl.exitinfo1, b->ctl.exitinfo2, b->ctl.exitintinfo);
	kprintf("  intercepts cr %#x dr %#x exc %#x misc %#x %#x; asid %u np %lu ncr3 %#lx eventinj %#lx\n",
		b->ctl.intercept_cr, b->ctl.intercept_dr, b->ctl.intercept_exc, b->ctl.intercept_misc1,
		b->ctl.intercept_misc2, b->ctl.asid, b->ctl.np_enable, b->ctl.n_cr3, b->ctl.event_inj);
	kprintf("  rip %#lx rsp %#lx rax %#lx rflags %#lx cpl %u\n", st->rip, st->rsp, st->rax, st->rflags, st->cpl);
	kprintf("  cr0 %#lx cr2 %#lx cr3 %#lx cr4 %#lx efer %#lx\n", st->cr0, st->cr2, st->cr3, st->cr4, st->efer);
	static const char *const names[] = {"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr", "gdtr", "idtr"};
	for (int i = 0; i < 10; i++) {
		const struct vmcb_seg *s = seg_ptr(st, i);
		kprintf("  %-4s sel %04x attr %04x limit %08x base %016lx\n", names[i], s->sel, s->attr, s->limit,
			s->base);
	}
}

/* NPT uses the host long-mode format; its walks are user accesses, so
 * every entry carries U (APM vol. 2 §15.25.5). */
static void svm_tdp_format(const struct pt_format **f, u64 *leaf_bits, int *max_level)
{
	*f = &pt_format_x86_4level;
	*leaf_bits = PTE_P | PTE_RW | PTE_US;
	*max_level = hostpt_uses_1g() ? 3 : 2;
}

static void svm_set_hw_paging(struct vcpu *v, u64 cr0, u64 cr3, u64 cr4, u64 efer)
{
	struct vmcb_save *st = &svm(v)->vmcb->save;
	st->cr0 = cr0;
	st->cr3 = cr3;
	st->cr4 = cr4;
	st->efer = efer | EFER_SVME; /* §15.5.1 */
}

static void svm_flush_tlb(struct vcpu *v)
{
	if (v->nested && nested_svm_flush_tlb(v))
		return;
	svm(v)->flush = true;
}

static bool svm_has_tdp(void)
{
	return has(SVM_FEAT_NPT);
}

const struct backend_ops svm_backend_ops = {
	.name = "svm",
	.probe = svm_probe,
	.cpu_enable = svm_cpu_enable,
	.vcpu_create = svm_vcpu_create,
	.vcpu_destroy = svm_vcpu_destroy,
	.vcpu_run = svm_vcpu_run,
	.inject_event = svm_inject_event,
	.irq_window = svm_irq_window,
	.pending_exception = svm_pending_exception,
	.get_cr = svm_get_cr,
	.set_cr2 = svm_set_cr2,
	.get_efer = svm_get_efer,
	.set_efer = svm_set_efer,
	.get_seg = svm_get_seg,
	.get_cpl = svm_get_cpl,
	.dump = svm_dump,
	.has_tdp = svm_has_tdp,
	.set_hw_paging = svm_set_hw_paging,
	.flush_tlb = svm_flush_tlb,
	.tdp_format = svm_tdp_format,
	.nested_cpuid = nested_svm_cpuid,
	.nested_msr = nested_svm_msr,
	.nested_insn = nested_svm_insn,
	.vcpu_set_state = svm_vcpu_set_state,
	.event_queued = svm_event_queued,
	.nmi_blocked = svm_nmi_blocked,
	.paged_real_mode = true,
};
