/*
 * kernel/exit.c - the common exit policy (DESIGN.md §4): CPUID filtering,
 * the guest MSR set, port I/O to the virtual platform, HLT, triple
 * faults, and architectural faults for everything a guest may not do.
 * Vendor-neutral: the backend decoded the exit, this file decides.
 */
#include "kernel/exit.h"
#include "kernel/mmu.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/emulate.h"
#include "kernel/flightrec.h"
#include "kernel/platform.h"
#include "kernel/trace.h"
#include "kernel/vlapic.h"
#include "kernel/vm.h"
#include "kernel/x86.h"
#include "kernel/x86_dec.h"

#define EXC_UD 6
#define EXC_GP 13

#define DEBUG_EXIT_PORT 0xf4

/* Hypercall numbers (EAX at VMMCALL/VMCALL; docs/platform.md). */
#define HC_PRINT_STATS 0x554d0001 /* "UM" 1: print this VM's VM-STATS line */

const char *const exit_reason_names[EXIT_NREASONS] = {
	[EXIT_NONE] = "none", [EXIT_CPUID] = "cpuid", [EXIT_RDMSR] = "rdmsr", [EXIT_WRMSR] = "wrmsr",
	[EXIT_IO] = "io", [EXIT_HLT] = "hlt", [EXIT_SHUTDOWN] = "shutdown", [EXIT_INTR] = "intr",
	[EXIT_NMI] = "nmi", [EXIT_SMI] = "smi", [EXIT_INIT] = "init", [EXIT_HYPERCALL] = "hypercall",
	[EXIT_VIRT_INSN] = "virt-insn", [EXIT_INVD] = "invd", [EXIT_WBINVD] = "wbinvd",
	[EXIT_XSETBV] = "xsetbv", [EXIT_TASK_SWITCH] = "task-switch", [EXIT_TDP_FAULT] = "tdp-fault",
	[EXIT_TDP_MISCONFIG] = "tdp-misconfig", [EXIT_EXCEPTION] = "exception", [EXIT_PAUSE] = "pause",
	[EXIT_RDPMC] = "rdpmc", [EXIT_MONITOR] = "monitor", [EXIT_ENTRY_FAIL] = "entry-fail",
	[EXIT_CR_ACCESS] = "cr-access", [EXIT_INVLPG] = "invlpg", [EXIT_UNKNOWN] = "unknown",
	[EXIT_IRQ_WINDOW] = "irq-window", [EXIT_NESTED] = "nested",
};

/* SDM vol. 3A §6.15 Table 6-4/6-5 (APM vol. 2 §8.2.9): exception classes
 * for a second exception raised while the first was being delivered. */
static bool contributory(int vec)
{
	return vec == 0 || (vec >= 10 && vec <= 13);
}

void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	/* An exception raised while another was being delivered (the
	 * backend re-queued the first from EXITINTINFO / IDT-vectoring
	 * information): merge them as the CPU would - #DF, or a triple fault
	 * when #DF itself could not be delivered. */
	int first = backend->pending_exception ? backend->pending_exception(v) : -1;
	if (first == 8 && (contributory(vector) || vector == 14)) {
		vm_end(v->vm, VMR_TRIPLE_FAULT, 0, NULL);
		return;
	}
	if ((contributory(first) && contributory(vector)) || (first == 14 && (vector == 14 || contributory(vector)))) {
		vector = 8;
		has_error = true;
		error = 0;
	}
	if (has_error)
		TRACE_VCPU(TRACE_EXIT, v, "inject vector=%u error=%#x", vector, error);
	else
		TRACE_VCPU(TRACE_EXIT, v, "inject vector=%u error=none", vector);
	backend->inject_event(v, vector, false, has_error, error);
}

/* Exits for one instruction with one encoding (SDM vol. 2, APM vol. 3):
 * its length is known once the bytes at RIP match it (no prefixes). */
static unsigned known_length(struct vcpu *v, enum exit_reason r)
{
	static const u8 cpuid[] = {0x0f, 0xa2}, rdmsr[] = {0x0f, 0x32}, wrmsr[] = {0x0f, 0x30},
			hlt[] = {0xf4}, invd[] = {0x0f, 0x08}, wbinvd[] = {0x0f, 0x09}, pause[] = {0xf3, 0x90},
			xsetbv[] = {0x0f, 0x01, 0xd1}, vmmcall[] = {0x0f, 0x01, 0xd9};
	switch (r) {
	case EXIT_CPUID: return emulate_known_length(v, cpuid, sizeof(cpuid));
	case EXIT_RDMSR: return emulate_known_length(v, rdmsr, sizeof(rdmsr));
	case EXIT_WRMSR: return emulate_known_length(v, wrmsr, sizeof(wrmsr));
	case EXIT_HLT: return emulate_known_length(v, hlt, sizeof(hlt));
	case EXIT_INVD: return emulate_known_length(v, invd, sizeof(invd));
	case EXIT_WBINVD: return emulate_known_length(v, wbinvd, sizeof(wbinvd));
	case EXIT_PAUSE: return emulate_known_length(v, pause, sizeof(pause));
	case EXIT_XSETBV: return emulate_known_length(v, xsetbv, sizeof(xsetbv));
	case EXIT_HYPERCALL: return emulate_known_length(v, vmmcall, sizeof(vmmcall));
	default: return 0;
	}
}

/* Advance RIP past the exiting instruction. The backend gives the length
 * when the hardware does (NRIPS, IOIO); otherwise the bytes at RIP are
 * matched with the one encoding the exit allows, or decoded. */
static bool skip_insn(struct vcpu *v, struct vm_exit *e)
{
	u8 len = e->insn_len;
	if (!len)
		len = (u8)known_length(v, e->reason);
	if (!len && emulate_insn_length(v, &len)) {
		vm_end(v->vm, VMR_KILLED, 0, "cannot fetch the instruction at rip %#lx", v->regs.rip);
		return false;
	}
	v->regs.rip += len;
	if (!(vcpu_get_efer(v) & EFER_LMA))
		v->regs.rip &= 0xffffffffULL;
	return true;
}

/* ---------------------------------------------------------------- CPUID */

static void handle_cpuid(struct vcpu *v, struct vm_exit *e)
{
	u32 leaf = (u32)v->regs.gpr[GPR_RAX], sub = (u32)v->regs.gpr[GPR_RCX];
	struct cpuid_regs r = cpuid_count(leaf, sub);
	bool nested = v->vm->cfg.nested;
	switch (leaf) {
	case 1:
		r.ecx |= BIT(31);                       /* hypervisor present */
		r.ecx &= ~(BIT(5) | BIT(3) | BIT(21));  /* no VMX, MONITOR, x2APIC */
		r.ecx &= ~BIT(27);                      /* OSXSAVE mirrors guest CR4 */
		if (vcpu_get_cr(v, 4) & CR4_OSXSAVE)
			r.ecx |= BIT(27);
		r.ecx &= ~BIT(24);                      /* no TSC-deadline LAPIC timer mode */
		r.edx |= BIT(9);                        /* the virtual local APIC (vlapic.c) */
		r.edx &= ~BIT(12);                      /* no MTRRs yet */
		r.ebx = (r.ebx & 0x0000ffff) | (1u << 16) | (v->id << 24);
		break;
	case 0x80000001:
		if (!nested)
			r.ecx &= ~BIT(2);               /* SVM only for nested VMs */
		else
			backend->nested_cpuid(v, leaf, &r); /* what the backend emulates */
		break;
	case 0x8000000a:
		if (!nested)
			r.eax = r.ebx = r.ecx = r.edx = 0;
		else
			backend->nested_cpuid(v, leaf, &r);
		break;
	case 0x40000000:
		r.eax = 0x40000000;
		r.ebx = 0x72626d55; /* "UmbraUmbraUm" */
		r.ecx = 0x6d55616d;
		r.edx = 0x6d556172;
		break;
	default:
		break;
	}
	v->regs.gpr[GPR_RAX] = r.eax;
	v->regs.gpr[GPR_RBX] = r.ebx;
	v->regs.gpr[GPR_RCX] = r.ecx;
	v->regs.gpr[GPR_RDX] = r.edx;
	skip_insn(v, e);
}

/* ---------------------------------------------------------------- MSRs */

#define MSR_MISC_ENABLE 0x1a0
#define MSR_PLATFORM_ID 0x17
#define MSR_BIOS_SIGN_ID 0x8b

/* The guest's MSR set. Everything else raises #GP, as an MSR the CPU does
 * not implement would. */
static int msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	switch (msr) {
	case MSR_IA32_TSC: *val = rdtsc() + (u64)v->tsc_offset; return E_OK;
	case MSR_EFER: *val = vcpu_get_efer(v); return E_OK;
	case MSR_IA32_PAT: *val = v->pat; return E_OK;
	case MSR_MISC_ENABLE: *val = BIT(0); return E_OK; /* fast strings */
	case MSR_IA32_APIC_BASE: *val = vlapic_apic_base(v); return E_OK;
	case MSR_PLATFORM_ID:
	case MSR_BIOS_SIGN_ID: *val = 0; return E_OK;
	default:
		/* nested SVM's MSRs (VM_CR, VM_HSAVE_PA) */
		return v->vm->cfg.nested ? backend->nested_msr(v, msr, false, val) : E_NOENT;
	}
}

static bool pat_valid(u64 pat)
{
	for (int i = 0; i < 8; i++) {
		u8 t = (pat >> (i * 8)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static int msr_write(struct vcpu *v, u32 msr, u64 val)
{
	switch (msr) {
	case MSR_IA32_TSC:
		v->tsc_offset = (s64)(val - rdtsc());
		return E_OK;
	case MSR_EFER: {
		/* SDM vol. 4 / APM vol. 2 §3.1.7: SCE, LME, NXE (and SVME for
		 * nested VMs) are writable; LMA is read-only; changing LME
		 * while paging is on is a #GP. */
		u64 ok = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | (v->vm->cfg.nested ? EFER_SVME : 0);
		u64 old = vcpu_get_efer(v);
		if (val & ~ok)
			return E_INVAL;
		if ((vcpu_get_cr(v, 0) & CR0_PG) && ((val ^ old) & EFER_LME))
			return E_INVAL;
		val = (val & ~EFER_LMA) | (old & EFER_LMA);
		return v->mmu ? mmu_set_efer(v, val) : backend->set_efer(v, val);
	}
	case MSR_IA32_PAT:
		if (!pat_valid(val))
			return E_INVAL;
		v->pat = val;
		return E_OK;
	case MSR_BIOS_SIGN_ID: return E_OK;
	case MSR_IA32_APIC_BASE: return vlapic_set_apic_base(v, val);
	default: return v->vm->cfg.nested ? backend->nested_msr(v, msr, true, &val) : E_NOENT;
	}
}

static void handle_msr(struct vcpu *v, struct vm_exit *e)
{
	u32 msr = (u32)v->regs.gpr[GPR_RCX];
	if (e->reason == EXIT_RDMSR) {
		u64 val;
		if (msr_read(v, msr, &val)) {
			vcpu_inject_exception(v, EXC_GP, true, 0);
			return;
		}
		v->regs.gpr[GPR_RAX] = (u32)val;
		v->regs.gpr[GPR_RDX] = val >> 32;
	} else {
		u64 val = (u32)v->regs.gpr[GPR_RAX] | (v->regs.gpr[GPR_RDX] << 32);
		if (msr_write(v, msr, val)) {
			vcpu_inject_exception(v, EXC_GP, true, 0);
			return;
		}
	}
	skip_insn(v, e);
}

/* ---------------------------------------------------------------- I/O */

void exit_port_io(struct vcpu *v, u16 port, u8 size, bool in, u32 *val)
{
	struct vm *vm = v->vm;
	if (port >= VUART_BASE && port < VUART_BASE + 8) {
		vuart_io(vm, port, in, val);
		return;
	}
	if (port == DEBUG_EXIT_PORT && !in) {
		/* QEMU isa-debug-exit semantics: any write ends the VM with
		 * the value written. */
		vm_end(vm, VMR_EXIT, *val & (size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff), NULL);
		return;
	}
	if (platform_port_io(v, port, size, in, val))
		return;
	/* Unknown ports read all-ones and ignore writes (one trace line). */
	__atomic_fetch_add(&vm->unknown_ports, 1, __ATOMIC_RELAXED);
	TRACE_VCPU(TRACE_IO, v, "io-unknown port=%#x size=%u dir=%s val=%#x", port, size, in ? "in" : "out",
		   in ? 0 : *val);
	if (in)
		*val = 0xffffffff;
}

static void handle_io(struct vcpu *v, struct vm_exit *e)
{
	if (e->io.string) {
		/* INS/OUTS (with REP): the emulator moves the data through the
		 * guest's page tables, port by port. */
		emulate_insn(v);
		return;
	}
	u32 mask = e->io.size == 1 ? 0xff : e->io.size == 2 ? 0xffff : 0xffffffff;
	u32 val = (u32)v->regs.gpr[GPR_RAX] & mask;
	exit_port_io(v, e->io.port, e->io.size, e->io.in, &val);
	if (!vm_running(v->vm))
		return;
	if (e->io.in) {
		u64 *rax = &v->regs.gpr[GPR_RAX];
		if (e->io.size == 4)
			*rax = val; /* a 32-bit result zero-extends */
		else
			*rax = (*rax & ~(u64)mask) | (val & mask);
	}
	skip_insn(v, e);
}

/* ---------------------------------------------------------------- others */

static void handle_xsetbv(struct vcpu *v, struct vm_exit *e)
{
	/* SDM vol. 2 XSETBV: #GP(0) at CPL>0, ECX != 0, XCR0 bit 0 clear,
	 * AVX without SSE, or bits the CPU does not support. */
	u32 idx = (u32)v->regs.gpr[GPR_RCX];
	u64 val = (u32)v->regs.gpr[GPR_RAX] | (v->regs.gpr[GPR_RDX] << 32);
	struct cpuid_regs d = cpuid_count(0xd, 0);
	u64 supported = d.eax | ((u64)d.edx << 32);
	if (!(vcpu_get_cr(v, 4) & CR4_OSXSAVE)) {
		vcpu_inject_exception(v, EXC_UD, false, 0);
		return;
	}
	if (backend->get_cpl(v) != 0 || idx != 0 || !(val & 1) || ((val & 4) && !(val & 2)) || (val & ~supported)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	v->xcr0 = val;
	xsetbv(0, val);
	skip_insn(v, e);
}

/* An intercepted #GP. SVM instructions (0F 01 D8..DF) check CPL before
 * their intercepts; with the hardware's EFER.SVME=1 a CPL-3 VMRUN raises
 * #GP, but for a guest whose EFER.SVME is 0 the APM (vol. 3, "VMRUN" and
 * friends: #UD when EFER.SVME=0, checked first) wants #UD. Anything else
 * is the guest's own #GP, reflected with its error code. */
static void handle_gp(struct vcpu *v, struct vm_exit *e)
{
	struct x86_insn insn;
	if (!(vcpu_get_efer(v) & EFER_SVME) && emulate_fetch_decode(v, &insn) == E_OK && insn.map == 1 &&
	    insn.opcode == 0x01 && insn.modrm >= 0xd8 && insn.modrm <= 0xdf && insn.modrm != 0xd9) {
		vcpu_inject_exception(v, EXC_UD, false, 0);
		return;
	}
	vcpu_inject_exception(v, EXC_GP, e->exc.has_error, e->exc.error);
}

static void handle_tdp_fault(struct vcpu *v, struct vm_exit *e)
{
	/* A data access to an emulated device (kernel/mmio.h): run the
	 * instruction, whose accesses kernel/gva.c sends to the device. The
	 * TDP tables never map device ranges, so every access exits here. */
	if (!e->tdp.fetch && !e->tdp.during_walk && mmio_find(v->vm, e->tdp.gpa, 1)) {
		emulate_insn(v);
		return;
	}
	/* Anything else outside RAM ends the VM cleanly with the address in
	 * the message. */
	vm_end(v->vm, VMR_KILLED, 0, "%s of guest-physical %#lx outside RAM (rip %#lx)",
	       e->tdp.fetch ? "fetch" : e->tdp.write ? "write" : "read", e->tdp.gpa, v->regs.rip);
}

void exit_handle(struct vcpu *v, struct vm_exit *e)
{
	struct vm *vm = v->vm;
	u64 tsc = rdtsc();
	v->exit_count[e->reason]++;
	v->exits++;
	flightrec_record(v, e, tsc);
	if (trace_on(TRACE_EXIT))
		trace_emit(vm, v, tsc, "exit=%s raw=%#lx rip=%#lx info1=%#lx info2=%#lx", exit_reason_names[e->reason],
			   e->raw, v->regs.rip, e->info1, e->info2);

	switch (e->reason) {
	case EXIT_CPUID: handle_cpuid(v, e); break;
	case EXIT_RDMSR:
	case EXIT_WRMSR: handle_msr(v, e); break;
	case EXIT_IO: handle_io(v, e); break;
	case EXIT_HLT:
		if (skip_insn(v, e))
			v->halted = true;
		break;
	case EXIT_SHUTDOWN: vm_end(vm, VMR_TRIPLE_FAULT, 0, NULL); break;
	case EXIT_IRQ_WINDOW: vlapic_irq_window(v); break;
	case EXIT_NONE: break; /* the backend consumed it (SVM: IRET after an NMI) */
	case EXIT_NESTED: break; /* handled by the backend's nested SVM */
	case EXIT_INTR:
	case EXIT_NMI:
	case EXIT_SMI:
		/* the host takes the interrupt when it enables interrupts */
		break;
	case EXIT_INIT:
		/* INIT to a single-vCPU VM resets it; not modelled yet */
		vm_end(vm, VMR_KILLED, 0, "INIT signal (vCPU reset is not supported yet)");
		break;
	case EXIT_HYPERCALL:
		/* Hypercall interface (docs/platform.md): the number is EAX;
		 * unknown numbers return -1 in RAX, never #UD. */
		if ((u32)v->regs.gpr[GPR_RAX] == HC_PRINT_STATS) {
			vm_print_stats(vm);
			v->regs.gpr[GPR_RAX] = 0;
		} else {
			v->regs.gpr[GPR_RAX] = (u64)-1;
		}
		skip_insn(v, e);
		break;
	case EXIT_VIRT_INSN:
		if (e->insn.which == VI_RDTSCP) {
			vcpu_inject_exception(v, EXC_UD, false, 0);
			break;
		}
		if (vm->cfg.nested && e->insn.which != VI_VMX) {
			backend->nested_insn(v, e); /* the L1 hypervisor's SVM instructions */
			break;
		}
		/* SVM/VMX instructions in a VM without nested virtualization:
		 * #UD, as on a CPU without the feature. */
		vcpu_inject_exception(v, EXC_UD, false, 0);
		break;
	case EXIT_MONITOR: vcpu_inject_exception(v, EXC_UD, false, 0); break;
	case EXIT_RDPMC: vcpu_inject_exception(v, EXC_GP, true, 0); break;
	case EXIT_INVD:
	case EXIT_WBINVD:
	case EXIT_PAUSE: skip_insn(v, e); break;
	case EXIT_XSETBV: handle_xsetbv(v, e); break;
	case EXIT_TDP_FAULT: handle_tdp_fault(v, e); break;
	case EXIT_TASK_SWITCH:
		vm_end(vm, VMR_KILLED, 0, "hardware task switch (not supported)");
		break;
	case EXIT_CR_ACCESS:
		if (v->mmu)
			mmu_handle_cr(v, e);
		else
			vm_end(vm, VMR_KILLED, 0, "unexpected control-register exit");
		break;
	case EXIT_INVLPG:
		if (v->mmu)
			mmu_handle_invlpg(v, e);
		else
			vm_end(vm, VMR_KILLED, 0, "unexpected INVLPG exit");
		break;
	case EXIT_EXCEPTION:
		if (e->exc.vector == 13)
			handle_gp(v, e);
		else if (e->exc.vector == 14 && v->mmu)
			mmu_handle_pf(v, e);
		else if (e->exc.vector == 18)
			vm_end(vm, VMR_KILLED, 0, "machine check while the guest ran");
		else
			vcpu_inject_exception(v, e->exc.vector, e->exc.has_error, e->exc.error);
		break;
	case EXIT_ENTRY_FAIL:
		/* vm_end prints the flight recorder and the VMCB/VMCS */
		TRACE_VCPU(TRACE_EXIT, v, "entry-fail why=\"%s\"", e->fail.why);
		vm_end(vm, VMR_KILLED, 0, "%s", e->fail.why);
		break;
	default:
		vm_end(vm, VMR_KILLED, 0, "unhandled exit %s (raw %#lx)", exit_reason_names[e->reason], e->raw);
		break;
	}
}
