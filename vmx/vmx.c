/*
 * vmx/vmx.c - the Intel VMX backend: capability probe, per-CPU VMXON,
 * VMCS set-up for a vCPU with EPT, the run loop step, and exit decoding
 * into struct vm_exit (Intel SDM vol. 3C chapters 24-31; section numbers
 * below are those of the 2023 combined volume 3C).
 *
 * Owns every VMCS field. Decides nothing about policy: kernel/exit.c does.
 * The only exits handled here are the ones common code cannot know about
 * because they exist only to virtualize VMX itself: MOV to CR0/CR4 that
 * touch bits owned by the VMX fixed-bit rules (guest/host masks).
 *
 * Requires EPT and unrestricted guest: guests start in protected mode with
 * paging off, which VMX allows only with "unrestricted guest" (§27.3.1.1).
 */
#include "kernel/backend.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/fmt.h"
#include "kernel/string.h"
#include "kernel/trap.h"
#include "kernel/mmu.h"
#include "kernel/vm.h"
#include "kernel/x86.h"
#include "mm/gmem.h"
#include "mm/hostpt.h"
#include "mm/kmem.h"
#include "mm/pmm.h"
#include "mm/pt.h"
#include "vmx/vmcs.h"

int vmx_enter(struct vcpu_regs *regs, int launched);
void vmx_exit_stub(void);

/* EPT paging-structure format (§29.3.2): an entry is present when any of
 * R/W/X is set; non-leaf entries get RWX (the leaf decides); bit 7 makes a
 * PDE/PDPTE a 2 MiB/1 GiB leaf. Leaves carry RWX | memory type WB. */
const struct pt_format pt_format_ept = {
	.name = "EPT 4-level",
	.levels = 4,
	.max_leaf_level = 3,
	.addr_mask = GENMASK(51, 12),
	.present_mask = EPT_RWX,
	.table_bits = EPT_RWX,
	.large_bit = EPT_LARGE,
};

static struct {
	u64 basic, misc, ept_vpid;
	u32 revision;
	bool true_ctls;
	u32 pin, proc, proc2, exit, entry; /* the controls every VMCS uses */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	bool ept, unrestricted, vpid, ept_1g, rdtscp;
	u32 proc_may1; /* allowed-1 primary controls (shadow paging adds CR3/INVLPG exits) */
	bool ok;
} vmx_caps;

struct vmx_cpu {
	hpa_t vmxon_pa;
	hpa_t current_vmcs; /* VMCS made current here by VMPTRLD, 0 = none */
};
static struct vmx_cpu vmx_cpus[MAX_CPUS];

struct vmx_vcpu {
	hpa_t vmcs_pa;
	u64 eptp;
	u16 vpid;
	bool launched;
	int active_cpu;  /* CPU where the VMCS was last made active, -1 = none */
	int host_cpu;    /* CPU whose values the host-state area holds */
	bool flush;     /* INVVPID before the next entry (shadow paging) */
	bool intr_window; /* "interrupt-window exiting" is set in the VMCS */
	u64 exit_rip;     /* RIP at the last exit */
	u64 syscall_msrs[5]; /* guest KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK while not loaded */
	u64 cr2;        /* the guest's CR2: the VMCS has no field for it (§25.4.1) */
	u64 cr0_mask, cr4_mask;
	char why[128];  /* text of the last EXIT_ENTRY_FAIL */
	int err;        /* first VMREAD/VMWRITE failure since it was cleared */
	u32 err_field;
};

static u16 next_vpid = 1;

/* TSC cycles a guest may run per entry before the preemption timer
 * exits; the scheduler then checks timeouts and slices as after a tick. */
#define VMX_RUN_BUDGET_TSC (4ULL << 20)
static hpa_t msr_bitmap_pa;

static inline struct vmx_vcpu *vmx(struct vcpu *v)
{
	return v->arch;
}

/* ---------------------------------------------------------------- errors */

/* VM-instruction error numbers (SDM vol. 3C §31.4, table 31-1). */
static const char *const vm_insn_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

static const char *vm_insn_error_name(u64 n)
{
	if (n < ARRAY_SIZE(vm_insn_errors) && vm_insn_errors[n])
		return vm_insn_errors[n];
	return "unknown VM-instruction error";
}

/* Text for a failed VMX instruction (VMfailValid reads the error field). */
static const char *vmfail_text(int r, u64 *num)
{
	*num = 0;
	if (r == VMX_FAIL_INVALID)
		return "VMfailInvalid (no current VMCS or bad pointer)";
	u64 n = 0;
	vmx_read(VM_INSN_ERROR, &n);
	*num = n;
	return vm_insn_error_name(n);
}

/* Checked VMCS access for the current vCPU: the first failure is kept in
 * s->err / s->err_field and turned into a clean VM kill by the caller. */
static void vmw(struct vmx_vcpu *s, u32 field, u64 val)
{
	int r = vmx_write(field, val);
	if (r && !s->err) {
		s->err = r;
		s->err_field = field;
	}
}

static u64 vmr(struct vmx_vcpu *s, u32 field)
{
	u64 val = 0;
	int r = vmx_read(field, &val);
	if (r && !s->err) {
		s->err = r;
		s->err_field = field;
	}
	return val;
}

/* Read a field for printing only (dump): failures read as ~0. */
static u64 vmr_dump(u32 field)
{
	u64 val;
	return vmx_read(field, &val) ? ~0ULL : val;
}

static void format_rw_error(struct vmx_vcpu *s, const char *what)
{
	u64 n;
	const char *t = vmfail_text(s->err, &n);
	fmt_snprintf(s->why, sizeof(s->why), "%s: VMREAD/VMWRITE of field %#x failed: %s (%lu)", what,
		     s->err_field, t, n);
}

/* ---------------------------------------------------------------- probe */

/*
 * Derive a 32-bit control word from its capability MSR (SDM vol. 3C §A.3-A.5
 * and §A.3.2 for the TRUE MSRs): bits 31:0 are the allowed 0-settings (a 1
 * there means the control must be 1), bits 63:32 the allowed 1-settings (a
 * 0 there means it must be 0). @need must be allowed, @want is taken when
 * allowed, @never must be allowed to be 0.
 */
static int adjust_controls(const char *what, u32 msr, u32 need, u32 want, u32 never, u32 *out)
{
	u64 cap = rdmsr(msr);
	u32 must1 = (u32)cap, may1 = (u32)(cap >> 32);
	if (need & ~may1) {
		kprintf("vmx: %s controls: required bit(s) %#x not supported (allowed-1 %#x)\n", what,
			need & ~may1, may1);
		return E_NOTSUP;
	}
	if (never & must1) {
		kprintf("vmx: %s controls: bit(s) %#x cannot be cleared (allowed-0 %#x)\n", what, never & must1,
			must1);
		return E_NOTSUP;
	}
	*out = (need | (want & may1) | must1) & may1;
	return E_OK;
}

static int vmx_probe(void)
{
	struct cpuid_regs r = cpuid(1);
	if (!(r.ecx & BIT(5))) {
		kprintf("vmx: this CPU has no VMX (CPUID.1:ECX.VMX[bit 5]=0)\n");
		return E_NOTSUP;
	}
	/* IA32_FEATURE_CONTROL (SDM vol. 3C §24.7): VMXON outside SMX needs
	 * bit 2 and the lock bit; firmware normally sets and locks it. */
	u64 fc;
	if (rdmsr_safe(MSR_IA32_FEATURE_CONTROL, &fc)) {
		kprintf("vmx: cannot read IA32_FEATURE_CONTROL\n");
		return E_NOTSUP;
	}
	if (!(fc & FEATCTL_LOCK)) {
		fc |= FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX;
		if (wrmsr_safe(MSR_IA32_FEATURE_CONTROL, fc)) {
			kprintf("vmx: cannot enable VMX in IA32_FEATURE_CONTROL\n");
			return E_NOTSUP;
		}
	} else if (!(fc & FEATCTL_VMX_OUTSIDE_SMX)) {
		kprintf("vmx: VMX is disabled by firmware (IA32_FEATURE_CONTROL locked with "
			"VMX-outside-SMX=0); enable it in the BIOS setup\n");
		return E_NOTSUP;
	}

	u64 basic = rdmsr(MSR_IA32_VMX_BASIC);
	vmx_caps.basic = basic;
	vmx_caps.revision = VMX_BASIC_REVISION(basic);
	vmx_caps.true_ctls = (basic & VMX_BASIC_TRUE_CTLS) != 0;
	vmx_caps.misc = rdmsr(MSR_IA32_VMX_MISC);
	vmx_caps.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	vmx_caps.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	vmx_caps.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	vmx_caps.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	if (VMX_BASIC_SIZE(basic) > PAGE_SIZE || VMX_BASIC_MEMTYPE(basic) != 6) {
		kprintf("vmx: unsupported VMCS region (size %lu, memory type %lu)\n", VMX_BASIC_SIZE(basic),
			VMX_BASIC_MEMTYPE(basic));
		return E_NOTSUP;
	}

	u32 pin_msr = vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS;
	u32 proc_msr = vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS;
	u32 exit_msr = vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS;
	u32 entry_msr = vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS;

	/* Secondary controls exist only when the primary "activate secondary
	 * controls" may be 1 (§A.3.3). */
	u64 proc_cap = rdmsr(proc_msr);
	u32 proc2_may1 = 0;
	if ((proc_cap >> 32) & PROC_SECONDARY)
		proc2_may1 = (u32)(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32);
	vmx_caps.ept_vpid = (proc2_may1 & (PROC2_EPT | PROC2_VPID)) ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
	u64 ev = vmx_caps.ept_vpid;
	vmx_caps.ept = (proc2_may1 & PROC2_EPT) && (ev & EPT_CAP_WALK4) && (ev & EPT_CAP_WB);
	vmx_caps.ept_1g = vmx_caps.ept && (ev & EPT_CAP_1G);
	vmx_caps.vpid = (proc2_may1 & PROC2_VPID) && (ev & VPID_CAP_INVVPID) &&
			(ev & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL));
	vmx_caps.unrestricted = (proc2_may1 & PROC2_UNRESTRICTED) != 0;
	vmx_caps.rdtscp = (cpuid(0x80000001).edx & BIT(27)) && (proc2_may1 & PROC2_RDTSCP);

	kprintf("vmx: revision %#x, VMCS %lu bytes, %s controls, features:%s%s%s%s%s%s%s%s%s\n",
		vmx_caps.revision, VMX_BASIC_SIZE(basic), vmx_caps.true_ctls ? "TRUE" : "default",
		vmx_caps.ept ? " EPT(4-level" : "", vmx_caps.ept && (ev & EPT_CAP_2M) ? ",2M" : "",
		vmx_caps.ept_1g ? ",1G" : "", vmx_caps.ept && (ev & EPT_CAP_AD) ? ",A/D" : "",
		vmx_caps.ept ? ")" : "", vmx_caps.vpid ? " VPID" : "",
		vmx_caps.unrestricted ? " unrestricted-guest" : "",
		(proc2_may1 & PROC2_VMCS_SHADOW) ? " VMCS-shadowing" : "", (proc2_may1 & PROC2_PML) ? " PML" : "");

	if (!vmx_caps.ept || !vmx_caps.unrestricted) {
		/* Guests start with CR0.PE=1, PG=0: with EPT that needs
		 * "unrestricted guest" (§27.3.1.1, §A.7), which itself needs
		 * EPT (§27.2.1.1). Shadow paging runs them with hardware
		 * paging on instead. */
		kprintf("vmx: no %s: paging=tdp VMs cannot run here, paging=shadow VMs can\n",
			!vmx_caps.ept ? "usable EPT (4-level, WB)" : "\"unrestricted guest\"");
		vmx_caps.ept = false;
		vmx_caps.unrestricted = false;
	}
	vmx_caps.proc_may1 = (u32)(proc_cap >> 32);

	/* Pin-based (§25.6.1): physical interrupts and NMIs are the host's. */
	/* The VMX-preemption timer (§26.5.1) bounds a guest's run even when
	 * it keeps IF=0: Bochs delivers external-interrupt exits only while
	 * the guest has IF=1 (docs: emulators.md), so without it a spinning
	 * IF=0 guest would never give the CPU back. */
	/* Virtual NMIs (§25.6.1, §27.6.1.2): an NMI Umbra injects sets the
	 * guest's virtual-NMI blocking and its IRET clears it, so a second
	 * NMI IPI waits for the handler's IRET (vmx_nmi_blocked). */
	if (adjust_controls("pin-based", pin_msr, PIN_EXT_INTR_EXIT | PIN_NMI_EXIT,
			    PIN_PREEMPT_TIMER | PIN_VIRTUAL_NMI, 0, &vmx_caps.pin))
		return E_NOTSUP;
	/* Primary processor-based (§25.6.2): HLT, all port I/O, MSR bitmaps,
	 * RDPMC, MONITOR/MWAIT exit; CR3 accesses and RDTSC do not (EPT). */
	if (adjust_controls("processor-based", proc_msr,
			    PROC_HLT_EXIT | PROC_UNCOND_IO_EXIT | PROC_MSR_BITMAPS | PROC_SECONDARY |
				    PROC_RDPMC_EXIT | PROC_MWAIT_EXIT | PROC_MONITOR_EXIT,
			    0, PROC_CR3_LOAD_EXIT | PROC_CR3_STORE_EXIT | PROC_TPR_SHADOW | PROC_IO_BITMAPS,
			    &vmx_caps.proc))
		return E_NOTSUP;
	u32 need2 = PROC2_WBINVD_EXIT | (vmx_caps.ept ? PROC2_EPT | PROC2_UNRESTRICTED : 0);
	u32 want2 = (vmx_caps.vpid ? PROC2_VPID : 0) | (vmx_caps.rdtscp ? PROC2_RDTSCP : 0);
	if (cpuid(0).eax >= 7 && (cpuid_count(7, 0).ebx & BIT(10)))
		want2 |= PROC2_INVPCID; /* else INVPCID would #UD in the guest (§25.6.2) */
	if (adjust_controls("secondary", MSR_IA32_VMX_PROCBASED_CTLS2, need2, want2,
			    PROC2_VIRT_APIC | PROC2_XSAVES | PROC2_PML | PROC2_VMCS_SHADOW, &vmx_caps.proc2))
		return E_NOTSUP;
	/* VM-exit (§25.7.1): 64-bit host, EFER saved and loaded; interrupts
	 * are NOT acknowledged on exit: the host takes them after sti. */
	if (adjust_controls("VM-exit", exit_msr, EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER,
			    EXIT_LOAD_PAT | EXIT_SAVE_DEBUG, EXIT_ACK_INTR | EXIT_SAVE_PREEMPT, &vmx_caps.exit))
		return E_NOTSUP;
	/* VM-entry (§25.8.1): EFER loaded; IA-32e mode guest set per entry. */
	if (adjust_controls("VM-entry", entry_msr, ENTRY_LOAD_EFER, ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG,
			    ENTRY_SMM | ENTRY_DUAL_MONITOR, &vmx_caps.entry))
		return E_NOTSUP;
	vmx_caps.entry &= ~ENTRY_IA32E;
	if (vmx_caps.pin & PIN_PREEMPT_TIMER)
		kprintf("vmx: VMX-preemption timer at TSC/%lu bounds each guest run\n", 1UL << (vmx_caps.misc & 31));

	/* MSR bitmap (§25.6.9): 4 KiB, read-low/read-high/write-low/write-high
	 * KiB. Everything is intercepted except the MSRs whose guest values
	 * the VMCS itself switches: FS/GS base and SYSENTER_* (§27.3.2.1
	 * loads them on entry, §28.3.2 saves them on exit), and the SYSCALL
	 * and SWAPGS MSRs (KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK), which
	 * VMX does not switch: Umbra never uses them itself, so the guest's
	 * values stay in the CPU and are swapped when another vCPU takes the
	 * CPU (vmx_vcpu_load/put). */
	if (pmm_alloc(0, PMM_NORMAL, &msr_bitmap_pa)) {
		kprintf("vmx: out of memory for the MSR bitmap\n");
		return E_NOMEM;
	}
	u8 *bm = phys_to_virt(msr_bitmap_pa);
	memset(bm, 0xff, PAGE_SIZE);
	static const u32 passthrough[] = {MSR_FS_BASE, MSR_GS_BASE, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
					  MSR_IA32_SYSENTER_EIP, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR,
					  MSR_CSTAR, MSR_SFMASK};
	for (size_t i = 0; i < ARRAY_SIZE(passthrough); i++) {
		u32 m = passthrough[i];
		u32 base = m < 0x2000 ? 0 : 1024; /* low MSRs, then 0xc0000000.. */
		u32 bit = m & 0x1fff;
		bm[base + bit / 8] &= ~(1u << (bit % 8));        /* read */
		bm[base + 2048 + bit / 8] &= ~(1u << (bit % 8)); /* write */
	}
	vmx_caps.ok = true;
	return E_OK;
}

/* ---------------------------------------------------------------- VMXON */

static int vmx_cpu_enable(struct cpu *c)
{
	struct vmx_cpu *vc = &vmx_cpus[c->id];
	if (pmm_alloc_zeroed(0, PMM_NORMAL, &vc->vmxon_pa))
		return E_NOMEM;
	/* VMXON region: revision identifier in the first 31 bits (§25.11.5). */
	*(u32 *)phys_to_virt(vc->vmxon_pa) = vmx_caps.revision;
	/* CR0/CR4 must respect IA32_VMX_CR0/CR4_FIXED0/1 in VMX operation,
	 * and CR4.VMXE must be 1 for VMXON (§24.8, §A.7, §A.8). */
	u64 cr0 = (read_cr0() | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1;
	u64 cr4 = ((read_cr4() | CR4_VMXE) | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;
	write_cr0(cr0);
	write_cr4(cr4);
	int r = vmx_on(vc->vmxon_pa);
	if (r) {
		kprintf("vmx: VMXON failed on CPU %u (%s)\n", c->id,
			r == VMX_FAIL_INVALID ? "VMfailInvalid: bad VMXON region" : "VMfailValid");
		pmm_free(vc->vmxon_pa, 0);
		return E_NOTSUP;
	}
	vc->current_vmcs = 0;
	c->backend = vc;
	if (vmx_caps.ept && (vmx_caps.ept_vpid & EPT_CAP_INVEPT) && (vmx_caps.ept_vpid & EPT_CAP_INVEPT_ALL)) {
		r = vmx_invept(2, 0);
		if (r) {
			u64 n;
			kprintf("vmx: INVEPT (all contexts) failed: %s\n", vmfail_text(r, &n));
			return E_NOTSUP;
		}
	}
	return E_OK;
}

/* ---------------------------------------------------------------- EPT */

/* ---------------------------------------------------------------- VMCS */

/* VMCB-layout attributes -> VMX access rights (§25.4.1, table 25-2):
 * type/S/DPL/P stay in bits 0-7, AVL/L/D-B/G move from 8-11 to 12-15,
 * and a segment that is not present is marked unusable (bit 16). */
static u32 attr_to_ar(u16 attr)
{
	u32 ar = (attr & 0xff) | ((u32)(attr & 0xf00) << 4);
	if (!(attr & 0x80))
		ar = AR_UNUSABLE;
	return ar;
}

static u16 ar_to_attr(u32 ar)
{
	if (ar & AR_UNUSABLE)
		return 0;
	return (u16)((ar & 0xff) | ((ar >> 4) & 0xf00));
}

static const u32 seg_fields[8][4] = {
	/* selector, base, limit, access rights */
	[SEG_ES] = {GUEST_ES_SEL, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR},
	[SEG_CS] = {GUEST_CS_SEL, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR},
	[SEG_SS] = {GUEST_SS_SEL, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR},
	[SEG_DS] = {GUEST_DS_SEL, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR},
	[SEG_FS] = {GUEST_FS_SEL, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR},
	[SEG_GS] = {GUEST_GS_SEL, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR},
	[SEG_LDTR] = {GUEST_LDTR_SEL, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR},
	[SEG_TR] = {GUEST_TR_SEL, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR},
};

struct desc_ptr64 {
	u16 limit;
	u64 base;
} __packed;

static u16 read_sel(int which)
{
	u16 s = 0;
	if (which == 0)
		__asm__ volatile("mov %%fs, %0" : "=r"(s));
	else
		__asm__ volatile("mov %%gs, %0" : "=r"(s));
	return s;
}

/* Host state (§25.5, checked by §27.2.3): what the CPU loads at every
 * VM exit (§28.5). Selectors must have RPL=0 and TI=0. */
static void write_host_state(struct vmx_vcpu *s)
{
	struct cpu *c = this_cpu();
	struct desc_ptr64 gdtr, idtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	vmw(s, HOST_CR0, read_cr0());
	vmw(s, HOST_CR3, read_cr3());
	vmw(s, HOST_CR4, read_cr4());
	vmw(s, HOST_CS_SEL, GDT_KCODE);
	vmw(s, HOST_SS_SEL, GDT_KDATA);
	vmw(s, HOST_DS_SEL, GDT_KDATA);
	vmw(s, HOST_ES_SEL, GDT_KDATA);
	vmw(s, HOST_FS_SEL, read_sel(0) & ~7);
	vmw(s, HOST_GS_SEL, read_sel(1) & ~7);
	vmw(s, HOST_TR_SEL, GDT_TSS);
	vmw(s, HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmw(s, HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	/* TR base from this CPU's 16-byte TSS descriptor (GDT slots 3, 4) */
	u64 lo = c->gdt[GDT_TSS / 8], hi = c->gdt[GDT_TSS / 8 + 1];
	u64 trbase = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) | (hi << 32);
	vmw(s, HOST_TR_BASE, trbase);
	vmw(s, HOST_GDTR_BASE, gdtr.base);
	vmw(s, HOST_IDTR_BASE, idtr.base);
	vmw(s, HOST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	vmw(s, HOST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	vmw(s, HOST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	vmw(s, HOST_EFER, rdmsr(MSR_EFER));
	if (vmx_caps.exit & EXIT_LOAD_PAT)
		vmw(s, HOST_PAT, rdmsr(MSR_IA32_PAT));
	vmw(s, HOST_RIP, (u64)vmx_exit_stub);
	/* HOST_RSP: written by vmx_enter on every entry */
}

/* The guest's CR0/CR4 as the hardware must hold them: the VMX fixed bits
 * forced (§A.7, §A.8), except PE and PG with unrestricted guest (§27.3.1.1). */
static u64 real_cr0(u64 guest)
{
	u64 f0 = vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG);
	return (guest | f0) & vmx_caps.cr0_fixed1;
}

static u64 real_cr4(u64 guest)
{
	return (guest | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;
}

static void write_guest_state(struct vmx_vcpu *s, const struct vcpu_boot_state *bs, bool shadow)
{
	for (int i = SEG_ES; i <= SEG_TR; i++) {
		const struct seg_desc *d = &bs->seg[i];
		vmw(s, seg_fields[i][0], d->sel);
		vmw(s, seg_fields[i][1], d->base);
		vmw(s, seg_fields[i][2], d->limit);
		vmw(s, seg_fields[i][3], attr_to_ar(d->attr));
	}
	vmw(s, GUEST_GDTR_BASE, bs->seg[SEG_GDTR].base);
	vmw(s, GUEST_GDTR_LIMIT, bs->seg[SEG_GDTR].limit);
	vmw(s, GUEST_IDTR_BASE, bs->seg[SEG_IDTR].base);
	vmw(s, GUEST_IDTR_LIMIT, bs->seg[SEG_IDTR].limit);

	/* CR0/CR4 guest/host masks and read shadows (§25.6.6): bits the VMX
	 * fixed rules own are host-owned; guest reads of them return the
	 * shadow, guest writes that change them exit (§26.3 "MOV to CR0"). */
	s->cr0_mask = (vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG)) | ~vmx_caps.cr0_fixed1;
	s->cr4_mask = vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1;
	s->cr0_mask &= 0xffffffffULL;
	if (shadow) {
		/* Shadow paging: Umbra owns every bit (kernel/mmu.c keeps the
		 * guest's view in the read shadows, set_hw_paging loads the
		 * real registers); every change exits. */
		s->cr0_mask = ~0ULL;
		s->cr4_mask = ~0ULL;
	}
	vmw(s, CR0_MASK, s->cr0_mask);
	vmw(s, CR4_MASK, s->cr4_mask);
	vmw(s, CR0_SHADOW, bs->cr0);
	vmw(s, CR4_SHADOW, bs->cr4);
	vmw(s, GUEST_CR0, real_cr0(bs->cr0));
	vmw(s, GUEST_CR3, bs->cr3);
	vmw(s, GUEST_CR4, real_cr4(bs->cr4));
	vmw(s, GUEST_DR7, 0x400);
	vmw(s, GUEST_DEBUGCTL, 0);
	vmw(s, GUEST_EFER, bs->efer);
	vmw(s, GUEST_SYSENTER_CS, 0);
	vmw(s, GUEST_SYSENTER_ESP, 0);
	vmw(s, GUEST_SYSENTER_EIP, 0);
	vmw(s, GUEST_RSP, bs->regs.gpr[GPR_RSP]);
	vmw(s, GUEST_RIP, bs->regs.rip);
	vmw(s, GUEST_RFLAGS, bs->regs.rflags);
	vmw(s, GUEST_ACTIVITY, 0);         /* active (§25.4.2) */
	vmw(s, GUEST_INTERRUPTIBILITY, 0);
	vmw(s, GUEST_PENDING_DBG, 0);
	vmw(s, VMCS_LINK_POINTER, ~0ULL);  /* no shadow VMCS (§27.3.1.5) */
}

/* Make @s the current VMCS of this CPU (§25.1: VMPTRLD). */
static void write_host_state(struct vmx_vcpu *s);

/* A VMCS is active on at most one CPU (§25.1); its host-state area holds
 * per-CPU values (GS base, TR, GDTR...), rewritten when it moves. */
static int vmx_load(struct vmx_vcpu *s)
{
	struct cpu *c = this_cpu();
	struct vmx_cpu *vc = c->backend;
	if (vc->current_vmcs == s->vmcs_pa)
		return VMX_OK;
	int r = vmx_ptrld(s->vmcs_pa);
	if (r != VMX_OK)
		return r;
	vc->current_vmcs = s->vmcs_pa;
	s->active_cpu = (int)c->id;
	if (s->host_cpu != (int)c->id) {
		write_host_state(s);
		s->host_cpu = (int)c->id;
	}
	return r;
}

/* The vCPU will run on another CPU: VMCLEAR it here so that CPU can
 * VMPTRLD it (§25.11.1); the next entry is a VMLAUNCH. */
static void vmx_vcpu_release(struct vcpu *v)
{
	struct vmx_vcpu *s = vmx(v);
	struct vmx_cpu *vc = this_cpu()->backend;
	if (s->active_cpu != (int)this_cpu()->id)
		return;
	int r = vmx_clear(s->vmcs_pa);
	if (r) {
		u64 n;
		kprintf("vmx: VMCLEAR of vCPU %u failed: %s\n", v->id, vmfail_text(r, &n));
	}
	if (vc->current_vmcs == s->vmcs_pa)
		vc->current_vmcs = 0;
	s->active_cpu = -1;
	s->launched = false;
}

static int vmx_vcpu_create(struct vcpu *v, const struct vcpu_boot_state *bs)
{
	struct vmx_vcpu *s = kzalloc(sizeof(*s));
	if (!s)
		return E_NOMEM;
	if (pmm_alloc_zeroed(0, PMM_NORMAL, &s->vmcs_pa)) {
		kfree(s);
		return E_NOMEM;
	}
	if (v->vm->cfg.paging == PAGING_TDP) {
		/* EPTP (§25.6.11): WB, 4-level walk; A/D flags not used. The
		 * tree is the VM's, built by kernel/vm.c in our format. */
		s->eptp = v->vm->tdp_root | EPTP_WB | EPTP_WALK4;
	}
	v->arch = s;
	s->active_cpu = -1;
	s->host_cpu = (int)this_cpu()->id; /* write_host_state below */
	/* VPID 0 is the host's; one VPID per vCPU, never reused (§29.1). */
	if (vmx_caps.proc2 & PROC2_VPID)
		s->vpid = next_vpid++;

	/* VMCS region: revision identifier, then VMCLEAR to initialize it
	 * and set its launch state to "clear", then VMPTRLD (§25.11.3). */
	*(u32 *)phys_to_virt(s->vmcs_pa) = vmx_caps.revision;
	int r = vmx_clear(s->vmcs_pa);
	struct vmx_cpu *vc = this_cpu()->backend;
	if (!r) {
		vc->current_vmcs = 0;
		r = vmx_load(s);
	}
	if (r) {
		u64 n;
		kprintf("vmx: VMCLEAR/VMPTRLD of the VMCS of vCPU %u failed: %s\n", v->id, vmfail_text(r, &n));
		return E_NOTSUP;
	}

	vmw(s, PIN_CONTROLS, vmx_caps.pin);
	u32 proc = vmx_caps.proc, proc2 = vmx_caps.proc2;
	u32 exc = BIT(18); /* #MC is always the host's */
	if (!s->eptp) {
		/* Shadow paging: CR3 loads and stores, INVLPG and #PF exit;
		 * no EPT, hence no unrestricted guest (§27.2.1.1). */
		u32 shadow_exits = PROC_CR3_LOAD_EXIT | PROC_CR3_STORE_EXIT | PROC_INVLPG_EXIT;
		if ((vmx_caps.proc_may1 & shadow_exits) != shadow_exits) {
			kprintf("vmx: CR3/INVLPG exiting not allowed by this CPU: no shadow paging\n");
			return E_NOTSUP;
		}
		proc |= shadow_exits;
		proc2 &= ~(PROC2_EPT | PROC2_UNRESTRICTED);
		exc |= BIT(14);
	}
	vmw(s, PROC_CONTROLS, proc);
	vmw(s, PROC2_CONTROLS, proc2);
	vmw(s, EXIT_CONTROLS, vmx_caps.exit);
	vmw(s, ENTRY_CONTROLS, vmx_caps.entry);
	vmw(s, EXCEPTION_BITMAP, exc);
	vmw(s, PF_ERROR_MASK, 0);
	vmw(s, PF_ERROR_MATCH, 0);
	vmw(s, CR3_TARGET_COUNT, 0);
	vmw(s, EXIT_MSR_STORE_COUNT, 0);
	vmw(s, EXIT_MSR_LOAD_COUNT, 0);
	vmw(s, ENTRY_MSR_LOAD_COUNT, 0);
	vmw(s, ENTRY_INTR_INFO, 0);
	vmw(s, MSR_BITMAP, msr_bitmap_pa);
	if (s->eptp)
		vmw(s, EPT_POINTER, s->eptp);
	if (s->vpid)
		vmw(s, VMCS_VPID, s->vpid);
	write_host_state(s);
	write_guest_state(s, bs, !s->eptp);
	if (s->err) {
		format_rw_error(s, "VMCS set-up");
		kprintf("vmx: vCPU %u: %s\n", v->id, s->why);
		return E_NOTSUP;
	}
	/* A fresh VPID may still tag translations of an earlier user on real
	 * hardware only if VPIDs were recycled; they are not, but flush it
	 * once anyway so a reused frame never meets stale entries (§29.4.3). */
	if (s->vpid) {
		u64 type = (vmx_caps.ept_vpid & VPID_CAP_INVVPID_SINGLE) ? 1 : 2;
		r = vmx_invvpid(type, s->vpid);
		if (r) {
			u64 n;
			kprintf("vmx: INVVPID failed: %s\n", vmfail_text(r, &n));
			return E_NOTSUP;
		}
	}
	if (s->eptp && (vmx_caps.ept_vpid & EPT_CAP_INVEPT) &&
	    (vmx_caps.ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		bool single = vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE;
		r = vmx_invept(single ? 1 : 2, s->eptp);
		if (r) {
			u64 n;
			kprintf("vmx: INVEPT failed: %s\n", vmfail_text(r, &n));
			return E_NOTSUP;
		}
	}
	v->regs = bs->regs;
	s->cr2 = 0;
	return E_OK;
}

static void vmx_vcpu_destroy(struct vcpu *v)
{
	struct vmx_vcpu *s = vmx(v);
	if (!s)
		return;
	/* VMCLEAR writes back the VMCS and makes it not current (§25.11.3). */
	int r = vmx_clear(s->vmcs_pa);
	if (r) {
		u64 n;
		kprintf("vmx: VMCLEAR of vCPU %u failed: %s\n", v->id, vmfail_text(r, &n));
	}
	for (u32 i = 0; i < MAX_CPUS; i++)
		if (vmx_cpus[i].current_vmcs == s->vmcs_pa)
			vmx_cpus[i].current_vmcs = 0;
	if (!r)
		pmm_free(s->vmcs_pa, 0); /* a VMCS that could not be cleared is leaked, not reused */
	kfree(s);
	v->arch = NULL;
}

/* ---------------------------------------------------------------- exits */

static void entry_fail(struct vmx_vcpu *s, struct vm_exit *e, const char *why)
{
	e->reason = EXIT_ENTRY_FAIL;
	e->fail.why = why ? why : s->why;
}

/* Sync the "IA-32e mode guest" entry control with the guest's EFER.LMA:
 * VM entry requires them equal (§27.3.1.1). */
static void sync_ia32e(struct vmx_vcpu *s, u64 efer)
{
	u64 ctl = vmr(s, ENTRY_CONTROLS);
	u64 want = (efer & EFER_LMA) ? (ctl | ENTRY_IA32E) : (ctl & ~ENTRY_IA32E);
	if (want != ctl)
		vmw(s, ENTRY_CONTROLS, want);
}

/* Load the four PDPTEs of a PAE guest into the VMCS: with EPT, VM entry
 * takes them from there (§27.3.2.4) and MOV to CR0 emulated here must do
 * what the CPU does when it enables PAE paging (vol. 3A §5.4.1). */
static int load_pdptes(struct vcpu *v, struct vmx_vcpu *s, u64 cr3)
{
	u64 pdpte[4];
	if (gmem_read(&v->vm->mem, cr3 & 0xffffffe0ULL, pdpte, sizeof(pdpte)))
		return E_FAULT;
	for (int i = 0; i < 4; i++) {
		/* reserved bits 2:1, 8:5 and above MAXPHYADDR -> #GP */
		if ((pdpte[i] & 1) && (pdpte[i] & 0x1e6ULL))
			return E_INVAL;
		vmw(s, GUEST_PDPTE0 + 2 * i, pdpte[i]);
	}
	return E_OK;
}

static void inject_gp(struct vmx_vcpu *s)
{
	vmw(s, ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_HW_EXC << 8) | INTR_INFO_ERROR | 13);
	vmw(s, ENTRY_EXC_ERROR, 0);
}

/*
 * MOV to CR0/CR4 that exited because it changes a host-owned bit (§26.1.3,
 * qualification table 28-3). Emulated here with the architectural checks
 * of MOV to CRn (SDM vol. 2 "MOV—Move to/from Control Registers"): the
 * shadow takes the guest's value, the real register the value with the
 * fixed bits. Returns true when handled (RIP advanced or fault queued).
 */
static bool handle_cr_access(struct vcpu *v, struct vmx_vcpu *s, u64 q, u8 len)
{
	u32 cr = q & 15, type = (q >> 4) & 3, gpr = (q >> 8) & 15;
	if (type != 0 || (cr != 0 && cr != 4))
		return false;
	u64 val = v->regs.gpr[gpr];
	u64 efer = vmr(s, GUEST_EFER);
	if (!(efer & EFER_LMA))
		val &= 0xffffffffULL;
	if (cr == 0) {
		u64 old = vmr(s, CR0_SHADOW);
		u64 cr4 = vmr(s, CR4_SHADOW);
		if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)) ||
		    ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME) && !(cr4 & CR4_PAE))) {
			inject_gp(s);
			return true;
		}
		if ((val & CR0_PG) && !(old & CR0_PG)) {
			if (efer & EFER_LME)
				efer |= EFER_LMA; /* vol. 3A §10.8.5 */
			else if ((cr4 & CR4_PAE) && load_pdptes(v, s, vmr(s, GUEST_CR3))) {
				inject_gp(s);
				return true;
			}
		} else if (!(val & CR0_PG) && (old & CR0_PG)) {
			efer &= ~EFER_LMA;
		}
		vmw(s, GUEST_EFER, efer);
		sync_ia32e(s, efer);
		vmw(s, CR0_SHADOW, val);
		vmw(s, GUEST_CR0, real_cr0(val));
	} else {
		/* CR4.VMXE is hidden (CPUID reports no VMX): setting it, or
		 * any bit the CPU does not allow, is #GP; so is clearing PAE
		 * in IA-32e mode. */
		if ((val & CR4_VMXE) || (val & ~vmx_caps.cr4_fixed1) ||
		    ((efer & EFER_LMA) && !(val & CR4_PAE))) {
			inject_gp(s);
			return true;
		}
		vmw(s, CR4_SHADOW, val);
		vmw(s, GUEST_CR4, real_cr4(val));
	}
	v->regs.rip += len;
	if (!(efer & EFER_LMA))
		v->regs.rip &= 0xffffffffULL;
	return true;
}

static void decode_io(struct vm_exit *e, u64 q)
{
	/* Exit qualification for I/O instructions (§28.2.1, table 28-5) */
	e->reason = EXIT_IO;
	e->io.size = (q & 7) + 1;
	e->io.in = (q >> 3) & 1;
	e->io.string = (q >> 4) & 1;
	e->io.rep = (q >> 5) & 1;
	e->io.port = (u16)(q >> 16);
}

static void virt_insn(struct vm_exit *e, enum virt_insn which)
{
	e->reason = EXIT_VIRT_INSN;
	e->insn.which = which;
}

/* Decode the exit of the current VMCS. */
static void decode_exit(struct vmx_vcpu *s, struct vm_exit *e)
{
	u32 reason = (u32)vmr(s, EXIT_REASON);
	u64 q = vmr(s, EXIT_QUALIFICATION);
	e->raw = reason;
	e->info1 = q;
	u32 basic = reason & 0xffff;

	if (reason & VMX_EXIT_ENTRY_FAILURE) {
		/* VM-entry failure after the checks of the VMCS controls
		 * passed (§27.8): basic reason 33, 34 or 41. */
		const char *what = basic == VMX_EXIT_BAD_GUEST     ? "invalid guest state"
				   : basic == VMX_EXIT_BAD_MSR_LOAD ? "MSR loading"
				   : basic == VMX_EXIT_MACHINE_CHECK ? "machine-check event"
								     : "unknown cause";
		fmt_snprintf(s->why, sizeof(s->why),
			     "VM entry failed: %s (exit reason %#x, qualification %#lx)", what, reason, q);
		entry_fail(s, e, NULL);
		return;
	}

	switch (basic) {
	case VMX_EXIT_CPUID:
	case VMX_EXIT_HLT:
	case VMX_EXIT_INVD:
	case VMX_EXIT_WBINVD:
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
	case VMX_EXIT_IO:
	case VMX_EXIT_VMCALL:
	case VMX_EXIT_XSETBV:
	case VMX_EXIT_RDPMC:
	case VMX_EXIT_PAUSE:
	case VMX_EXIT_MONITOR:
	case VMX_EXIT_MWAIT:
	case VMX_EXIT_CR_ACCESS:
	case VMX_EXIT_INVLPG:
		/* VM-exit instruction length (§28.2.5) */
		e->insn_len = (u8)vmr(s, EXIT_INSN_LEN);
		break;
	default: break;
	}

	switch (basic) {
	case VMX_EXIT_EXC_NMI: {
		/* VM-exit interruption information (§28.2.2, table 25-19) */
		u32 ii = (u32)vmr(s, EXIT_INTR_INFO);
		e->info2 = ii;
		if (INTR_INFO_TYPE(ii) == INTR_TYPE_NMI) {
			e->reason = EXIT_NMI;
			break;
		}
		e->reason = EXIT_EXCEPTION;
		e->exc.vector = INTR_INFO_VECTOR(ii);
		e->exc.has_error = (ii & INTR_INFO_ERROR) != 0;
		if (e->exc.has_error)
			e->exc.error = (u32)vmr(s, EXIT_INTR_ERROR);
		if (e->exc.vector == 14)
			e->exc.cr2 = q; /* #PF: the qualification is the linear address (§28.2.1) */
		break;
	}
	case VMX_EXIT_EXT_INTR:
	case VMX_EXIT_PREEMPT_TIMER: e->reason = EXIT_INTR; break;
	case VMX_EXIT_INTR_WINDOW: e->reason = EXIT_IRQ_WINDOW; break;
	case VMX_EXIT_TRIPLE_FAULT: e->reason = EXIT_SHUTDOWN; break;
	case VMX_EXIT_INIT:
	case VMX_EXIT_SIPI: e->reason = EXIT_INIT; break;
	case VMX_EXIT_IO_SMI:
	case VMX_EXIT_OTHER_SMI: e->reason = EXIT_SMI; break;
	case VMX_EXIT_TASK_SWITCH: e->reason = EXIT_TASK_SWITCH; break;
	case VMX_EXIT_CPUID: e->reason = EXIT_CPUID; break;
	case VMX_EXIT_HLT: e->reason = EXIT_HLT; break;
	case VMX_EXIT_INVD: e->reason = EXIT_INVD; break;
	case VMX_EXIT_WBINVD: e->reason = EXIT_WBINVD; break;
	case VMX_EXIT_RDPMC: e->reason = EXIT_RDPMC; break;
	case VMX_EXIT_PAUSE: e->reason = EXIT_PAUSE; break;
	case VMX_EXIT_MONITOR:
	case VMX_EXIT_MWAIT: e->reason = EXIT_MONITOR; break;
	case VMX_EXIT_XSETBV: e->reason = EXIT_XSETBV; break;
	case VMX_EXIT_RDMSR: e->reason = EXIT_RDMSR; break;
	case VMX_EXIT_WRMSR: e->reason = EXIT_WRMSR; break;
	case VMX_EXIT_IO: decode_io(e, q); break;
	case VMX_EXIT_VMCALL: e->reason = EXIT_HYPERCALL; break;
	case VMX_EXIT_VMCLEAR:
	case VMX_EXIT_VMLAUNCH:
	case VMX_EXIT_VMPTRLD:
	case VMX_EXIT_VMPTRST:
	case VMX_EXIT_VMREAD:
	case VMX_EXIT_VMRESUME:
	case VMX_EXIT_VMWRITE:
	case VMX_EXIT_VMXOFF:
	case VMX_EXIT_VMXON:
	case VMX_EXIT_INVEPT:
	case VMX_EXIT_INVVPID:
	case VMX_EXIT_VMFUNC: virt_insn(e, VI_VMX); break;
	case VMX_EXIT_RDTSCP: virt_insn(e, VI_RDTSCP); break;
	case VMX_EXIT_GETSEC: virt_insn(e, VI_OTHER); break;
	case VMX_EXIT_EPT_VIOLATION:
		/* Qualification (§28.2.1, table 28-7): bits 0-2 read/write/
		 * fetch, 3-5 the R/W/X of the translation (any set: present),
		 * bit 7 linear address valid, bit 8 the access was to the
		 * final translation (clear: during the guest's table walk). */
		e->reason = EXIT_TDP_FAULT;
		e->tdp.gpa = vmr(s, GUEST_PHYS_ADDR);
		e->info2 = e->tdp.gpa;
		e->tdp.read = q & 1;
		e->tdp.write = (q >> 1) & 1;
		e->tdp.fetch = (q >> 2) & 1;
		e->tdp.present = (q & 0x38) != 0;
		e->tdp.during_walk = (q & BIT(7)) && !(q & BIT(8));
		break;
	case VMX_EXIT_EPT_MISCONFIG:
		e->reason = EXIT_TDP_MISCONFIG;
		e->info2 = vmr(s, GUEST_PHYS_ADDR);
		break;
	case VMX_EXIT_CR_ACCESS:
		/* qualification (§28.2.1, table 28-3): CR in 3:0, type in
		 * 5:4 (0 MOV to, 1 MOV from, 2 CLTS, 3 LMSW), GPR in 11:8 */
		e->reason = EXIT_CR_ACCESS;
		e->cr.cr = q & 15;
		e->cr.write = ((q >> 4) & 3) != 1;
		e->cr.gpr = ((q >> 4) & 3) <= 1 ? (s8)((q >> 8) & 15) : -1;
		break;
	case VMX_EXIT_INVLPG:
		e->reason = EXIT_INVLPG; /* qualification: the linear address */
		e->invlpg.valid = true;
		e->invlpg.gva = q;
		break;
	default: e->reason = EXIT_UNKNOWN; break;
	}
}

static void vmx_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
	struct vmx_vcpu *s = vmx(v);
	memset(e, 0, sizeof(*e));
	s->err = 0;
	int r = vmx_load(s);
	if (r) {
		u64 n;
		const char *t = vmfail_text(r, &n);
		fmt_snprintf(s->why, sizeof(s->why), "VMPTRLD failed: %s (%lu)", t, n);
		entry_fail(s, e, NULL);
		return;
	}
	for (;;) {
		/* Common code moved RIP past the exiting instruction (HLT
		 * after STI, for instance): it completed, so blocking by STI
		 * or MOV SS ends (§25.4.2 interruptibility state bits 0-1). */
		if (v->regs.rip != s->exit_rip) {
			u64 is = vmr(s, GUEST_INTERRUPTIBILITY);
			if (is & 3)
				vmw(s, GUEST_INTERRUPTIBILITY, is & ~3ULL);
		}
		vmw(s, GUEST_RSP, v->regs.gpr[GPR_RSP]);
		vmw(s, GUEST_RIP, v->regs.rip);
		vmw(s, GUEST_RFLAGS, v->regs.rflags);
		if (vmx_caps.entry & ENTRY_LOAD_PAT)
			vmw(s, GUEST_PAT, v->pat);
		/* Without "save VMX-preemption timer value" every entry loads
		 * the full value again (§26.5.1): a budget per entry. The
		 * rate is TSC >> IA32_VMX_MISC[4:0] (§A.6). */
		if (vmx_caps.pin & PIN_PREEMPT_TIMER)
			vmw(s, GUEST_PREEMPT_TIMER, VMX_RUN_BUDGET_TSC >> (vmx_caps.misc & 31));
		sync_ia32e(s, vmr(s, GUEST_EFER));
		if (s->flush && s->vpid) {
			/* a translation was removed or narrowed: drop what this
			 * VPID cached (§29.4.3); without VPIDs every entry flushes */
			u64 type = (vmx_caps.ept_vpid & VPID_CAP_INVVPID_SINGLE) ? 1 : 2;
			int fr = vmx_invvpid(type, s->vpid);
			if (fr) {
				u64 n;
				fmt_snprintf(s->why, sizeof(s->why), "INVVPID failed: %s", vmfail_text(fr, &n));
				entry_fail(s, e, NULL);
				return;
			}
		}
		s->flush = false;
		if (s->err) {
			format_rw_error(s, "before VM entry");
			entry_fail(s, e, NULL);
			return;
		}
		/* The guest's CR2 lives in the real CR2 while it runs: the
		 * VMCS does not switch it (§27.3.2, §28.5 list no CR2). */
		write_cr2(s->cr2);
		r = vmx_enter(&v->regs, s->launched);
		s->cr2 = read_cr2();
		if (r) {
			/* VMLAUNCH/VMRESUME failed before loading guest state
			 * (§27.2: VMfailValid for controls/host state). */
			u64 n;
			const char *t = vmfail_text(r, &n);
			fmt_snprintf(s->why, sizeof(s->why), "%s failed: %s (VM-instruction error %lu)",
				     s->launched ? "VMRESUME" : "VMLAUNCH", t, n);
			entry_fail(s, e, NULL);
			return;
		}
		/* A VM exit, even one for a failed entry, needs VMRESUME
		 * only after a successful VMLAUNCH; after an entry failure
		 * (exit reason bit 31) the VMCS stays "clear" (§27.8). */
		u64 reason = vmr(s, EXIT_REASON);
		if (!(reason & VMX_EXIT_ENTRY_FAILURE))
			s->launched = true;
		v->regs.gpr[GPR_RSP] = vmr(s, GUEST_RSP);
		v->regs.rip = vmr(s, GUEST_RIP);
		s->exit_rip = v->regs.rip;
		v->regs.rflags = vmr(s, GUEST_RFLAGS);
		memset(e, 0, sizeof(*e));
		decode_exit(s, e);

		/* An event whose delivery the exit interrupted must be
		 * delivered again (§28.2.4 IDT-vectoring information, §27.6.1.1
		 * for the entry format; bit 12 is undefined here and must be
		 * zero in the entry field). Software events need their
		 * instruction length. */
		u32 idt = (u32)vmr(s, IDT_VECT_INFO);
		if (idt & INTR_INFO_VALID) {
			vmw(s, ENTRY_INTR_INFO, idt & ~INTR_INFO_NMI_UNBLOCK);
			if (idt & INTR_INFO_ERROR)
				vmw(s, ENTRY_EXC_ERROR, vmr(s, IDT_VECT_ERROR));
			u32 t = INTR_INFO_TYPE(idt);
			if (t == INTR_TYPE_SW_INT || t == INTR_TYPE_PRIV_SW_EXC || t == INTR_TYPE_SW_EXC)
				vmw(s, ENTRY_INSN_LEN, vmr(s, EXIT_INSN_LEN));
		}
		if (s->err) {
			format_rw_error(s, "after VM exit");
			entry_fail(s, e, NULL);
			return;
		}
		if (e->raw == VMX_EXIT_CR_ACCESS && !v->mmu && !(idt & INTR_INFO_VALID) &&
		    handle_cr_access(v, s, e->info1, e->insn_len)) {
			if (s->err) {
				format_rw_error(s, "CR access");
				entry_fail(s, e, NULL);
				return;
			}
			continue; /* the guest goes on; nothing for common code */
		}
		return;
	}
}

static void vmx_inject_event(struct vcpu *v, u8 vector, bool is_irq, bool has_error, u32 error)
{
	struct vmx_vcpu *s = vmx(v);
	/* VM-entry interruption information (§25.8.3, table 25-17). Entry
	 * checks (§27.2.1.3): "deliver error code" must be 1 exactly for the
	 * error-code exceptions 8, 10-14 and 17 and only in protected mode
	 * (CR0.PE=1, unrestricted guest). */
	u32 info = vector | INTR_INFO_VALID;
	if (is_irq)
		info |= INTR_TYPE_EXT << 8;
	else if (vector == 2)
		info |= INTR_TYPE_NMI << 8;
	else
		info |= INTR_TYPE_HW_EXC << 8;
	bool errcode_vec = !is_irq && (vector == 8 || (vector >= 10 && vector <= 14) || vector == 17);
	s->err = 0;
	if (vmx_load(s))
		return;
	bool pe = vmr(s, GUEST_CR0) & CR0_PE;
	if (errcode_vec && pe) {
		info |= INTR_INFO_ERROR;
		vmw(s, ENTRY_EXC_ERROR, has_error ? error : 0);
	}
	vmw(s, ENTRY_INTR_INFO, info);
}

/* "Interrupt-window exiting" (SDM vol. 3C §25.6.2 primary control bit 2;
 * §26.7.5): with it set, a VM exit (reason 7) happens before any
 * instruction once RFLAGS.IF=1 and there is no blocking by STI or MOV SS.
 * Common code then injects the vector and closes the window. Every VMX
 * CPU allows the control to be 1 (IA32_VMX_PROCBASED_CTLS); were it
 * refused, interrupts would simply never be delivered. */
static void vmx_irq_window(struct vcpu *v, bool open)
{
	struct vmx_vcpu *s = vmx(v);
	if (s->intr_window == open || !(vmx_caps.proc_may1 & PROC_INTR_WINDOW))
		return;
	s->err = 0;
	if (vmx_load(s))
		return;
	u32 proc = (u32)vmr(s, PROC_CONTROLS);
	vmw(s, PROC_CONTROLS, open ? proc | PROC_INTR_WINDOW : proc & ~PROC_INTR_WINDOW);
	if (!s->err)
		s->intr_window = open;
}

static int vmx_pending_exception(struct vcpu *v)
{
	struct vmx_vcpu *s = vmx(v);
	s->err = 0;
	if (vmx_load(s))
		return -1;
	u32 info = (u32)vmr(s, ENTRY_INTR_INFO);
	if (!(info & INTR_INFO_VALID) || INTR_INFO_TYPE(info) != INTR_TYPE_HW_EXC)
		return -1;
	return (int)INTR_INFO_VECTOR(info);
}

static u64 vmx_get_cr(struct vcpu *v, int cr)
{
	struct vmx_vcpu *s = vmx(v);
	if (vmx_load(s))
		return 0;
	switch (cr) {
	case 0: {
		/* the guest's view: host-owned bits from the read shadow (§25.6.6) */
		u64 m = s->cr0_mask;
		return (vmr(s, GUEST_CR0) & ~m) | (vmr(s, CR0_SHADOW) & m);
	}
	case 2: return s->cr2;
	case 3: return vmr(s, GUEST_CR3);
	case 4: {
		u64 m = s->cr4_mask;
		return (vmr(s, GUEST_CR4) & ~m) | (vmr(s, CR4_SHADOW) & m);
	}
	default: return 0;
	}
}

static void vmx_set_cr2(struct vcpu *v, u64 cr2)
{
	/* loaded into the real CR2 right before the next VM entry */
	((struct vmx_vcpu *)v->arch)->cr2 = cr2;
}

static u64 vmx_get_efer(struct vcpu *v)
{
	struct vmx_vcpu *s = vmx(v);
	if (vmx_load(s))
		return 0;
	return vmr(s, GUEST_EFER);
}

static int vmx_set_efer(struct vcpu *v, u64 efer)
{
	struct vmx_vcpu *s = vmx(v);
	if (vmx_load(s))
		return E_FAULT;
	s->err = 0;
	/* LMA is the CPU's: keep the current value (common code did too). */
	u64 cur = vmr(s, GUEST_EFER);
	efer = (efer & ~EFER_LMA) | (cur & EFER_LMA);
	vmw(s, GUEST_EFER, efer);
	sync_ia32e(s, efer);
	return s->err ? E_FAULT : E_OK;
}

static void vmx_get_seg(struct vcpu *v, enum seg_reg r, struct seg_desc *d)
{
	struct vmx_vcpu *s = vmx(v);
	memset(d, 0, sizeof(*d));
	if (vmx_load(s))
		return;
	if (r == SEG_GDTR || r == SEG_IDTR) {
		d->base = vmr(s, r == SEG_GDTR ? GUEST_GDTR_BASE : GUEST_IDTR_BASE);
		d->limit = (u32)vmr(s, r == SEG_GDTR ? GUEST_GDTR_LIMIT : GUEST_IDTR_LIMIT);
		return;
	}
	d->sel = (u16)vmr(s, seg_fields[r][0]);
	d->base = vmr(s, seg_fields[r][1]);
	d->limit = (u32)vmr(s, seg_fields[r][2]);
	d->attr = ar_to_attr((u32)vmr(s, seg_fields[r][3]));
}

static int vmx_get_cpl(struct vcpu *v)
{
	struct vmx_vcpu *s = vmx(v);
	if (vmx_load(s))
		return 0;
	/* CPL is SS.DPL (§25.4.1: the SS access rights hold the CPL) */
	return (vmr(s, GUEST_SS_AR) >> 5) & 3;
}

static void vmx_dump(struct vcpu *v)
{
	struct vmx_vcpu *s = vmx(v);
	if (vmx_load(s)) {
		kprintf("VMCS of vCPU %u (pa %#lx): cannot VMPTRLD\n", v->id, s->vmcs_pa);
		return;
	}
	u64 err = vmr_dump(VM_INSN_ERROR);
	kprintf("VMCS of vCPU %u (pa %#lx): exit reason %#lx qual %#lx intr-info %#lx idt-vect %#lx "
		"insn-error %lu (%s)\n",
		v->id, s->vmcs_pa, vmr_dump(EXIT_REASON), vmr_dump(EXIT_QUALIFICATION), vmr_dump(EXIT_INTR_INFO),
		vmr_dump(IDT_VECT_INFO), err, err ? vm_insn_error_name(err) : "none");
	kprintf("  controls pin %#lx proc %#lx proc2 %#lx exit %#lx entry %#lx excbitmap %#lx entry-intr %#lx\n",
		vmr_dump(PIN_CONTROLS), vmr_dump(PROC_CONTROLS), vmr_dump(PROC2_CONTROLS), vmr_dump(EXIT_CONTROLS),
		vmr_dump(ENTRY_CONTROLS), vmr_dump(EXCEPTION_BITMAP), vmr_dump(ENTRY_INTR_INFO));
	kprintf("  eptp %#lx vpid %lu gpa %#lx launched %d\n", vmr_dump(EPT_POINTER), vmr_dump(VMCS_VPID),
		vmr_dump(GUEST_PHYS_ADDR), s->launched);
	kprintf("  rip %#lx rsp %#lx rflags %#lx cpl %lu activity %lu interruptibility %#lx\n", vmr_dump(GUEST_RIP),
		vmr_dump(GUEST_RSP), vmr_dump(GUEST_RFLAGS), (vmr_dump(GUEST_SS_AR) >> 5) & 3,
		vmr_dump(GUEST_ACTIVITY), vmr_dump(GUEST_INTERRUPTIBILITY));
	kprintf("  cr0 %#lx (shadow %#lx mask %#lx) cr2 %#lx cr3 %#lx cr4 %#lx (shadow %#lx mask %#lx) efer %#lx\n",
		vmr_dump(GUEST_CR0), vmr_dump(CR0_SHADOW), vmr_dump(CR0_MASK), s->cr2, vmr_dump(GUEST_CR3),
		vmr_dump(GUEST_CR4), vmr_dump(CR4_SHADOW), vmr_dump(CR4_MASK), vmr_dump(GUEST_EFER));
	static const char *const names[] = {"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"};
	for (int i = 0; i < 8; i++)
		kprintf("  %-4s sel %04lx ar %05lx limit %08lx base %016lx\n", names[i], vmr_dump(seg_fields[i][0]),
			vmr_dump(seg_fields[i][3]), vmr_dump(seg_fields[i][2]), vmr_dump(seg_fields[i][1]));
	kprintf("  gdtr limit %04lx base %016lx  idtr limit %04lx base %016lx\n", vmr_dump(GUEST_GDTR_LIMIT),
		vmr_dump(GUEST_GDTR_BASE), vmr_dump(GUEST_IDTR_LIMIT), vmr_dump(GUEST_IDTR_BASE));
}

static void vmx_tdp_format(const struct pt_format **f, u64 *leaf_bits, int *max_level)
{
	*f = &pt_format_ept;
	*leaf_bits = EPT_RWX | EPT_MT_WB;
	*max_level = (vmx_caps.ept_1g && hostpt_uses_1g()) ? 3 : 2;
}

static void vmx_set_hw_paging(struct vcpu *v, u64 cr0, u64 cr3, u64 cr4, u64 efer)
{
	struct vmx_vcpu *s = vmx(v);
	s->err = 0;
	if (vmx_load(s))
		return;
	/* the real registers with the VMX fixed bits (PE and PG included:
	 * no unrestricted guest in shadow mode), the guest's view in the
	 * read shadows */
	vmw(s, GUEST_CR0, (cr0 | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1);
	vmw(s, GUEST_CR3, cr3);
	vmw(s, GUEST_CR4, real_cr4(cr4));
	vmw(s, GUEST_EFER, efer);
	vmw(s, CR0_SHADOW, vcpu_get_cr(v, 0));
	vmw(s, CR4_SHADOW, vcpu_get_cr(v, 4));
	sync_ia32e(s, efer);
}

/* An AP started by a SIPI (kernel/vcpu_mp.c): real mode needs the
 * unrestricted-guest control (SDM vol. 3C §27.2.1.1: CR0.PE=0 is allowed
 * only with it), which Umbra sets only with EPT. */
static int vmx_vcpu_set_state(struct vcpu *v, const struct vcpu_boot_state *bs)
{
	struct vmx_vcpu *s = vmx(v);
	if (vmx_load(s))
		return E_NOTSUP;
	if (!(bs->cr0 & CR0_PE) && !(vmr(s, PROC2_CONTROLS) & PROC2_UNRESTRICTED))
		return E_NOTSUP;
	s->err = 0;
	write_guest_state(s, bs, !s->eptp);
	vmw(s, ENTRY_INTR_INFO, 0);
	sync_ia32e(s, bs->efer);
	if (s->err) {
		format_rw_error(s, "SIPI state");
		kprintf("vmx: vCPU %u: %s\n", v->id, s->why);
		return E_NOTSUP;
	}
	v->regs = bs->regs;
	s->cr2 = 0;
	s->flush = true;
	return E_OK;
}

/* With "virtual NMIs" on, an injected NMI sets the guest's virtual-NMI
 * blocking (interruptibility bit 3), which its IRET clears (SDM vol. 3C
 * §27.6.1.2, §26.3 "IRET", §25.4.2 table 25-3): that bit says whether
 * another may be injected. Blocking by STI or MOV SS holds it too
 * (§27.3.1.5). Without virtual NMIs ("NMI exiting" is on, so the guest's
 * IRET would never clear a real blocking) NMI blocking is not modelled. */
static bool vmx_nmi_blocked(struct vcpu *v)
{
	struct vmx_vcpu *s = vmx(v);
	/* the STI/MOV SS shadow ends once common code moved RIP past the
	 * exiting instruction (vmx_vcpu_run clears it then) */
	u64 mask = (v->regs.rip == s->exit_rip ? BIT(0) | BIT(1) : 0) |
		   ((vmx_caps.pin & PIN_VIRTUAL_NMI) ? BIT(3) : 0);
	return vmx_load(s) || (vmr(s, GUEST_INTERRUPTIBILITY) & mask);
}

static bool vmx_event_queued(struct vcpu *v)
{
	struct vmx_vcpu *s = vmx(v);
	return !vmx_load(s) && (vmr(s, ENTRY_INTR_INFO) & INTR_INFO_VALID);
}

static void vmx_flush_tlb(struct vcpu *v)
{
	vmx(v)->flush = true;
}

static const u32 syscall_msrs[5] = {MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK};

/* @v takes the CPU: its SYSCALL/SWAPGS MSRs go into the real ones. */
static void vmx_vcpu_load(struct vcpu *v)
{
	for (int i = 0; i < 5; i++)
		wrmsr(syscall_msrs[i], vmx(v)->syscall_msrs[i]);
}

/* @v leaves the CPU: keep what the guest wrote. */
static void vmx_vcpu_put(struct vcpu *v)
{
	for (int i = 0; i < 5; i++)
		vmx(v)->syscall_msrs[i] = rdmsr(syscall_msrs[i]);
}

static bool vmx_has_tdp(void)
{
	return vmx_caps.ept;
}

const struct backend_ops vmx_backend_ops = {
	.name = "vmx",
	.probe = vmx_probe,
	.cpu_enable = vmx_cpu_enable,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_destroy = vmx_vcpu_destroy,
	.vcpu_run = vmx_vcpu_run,
	.inject_event = vmx_inject_event,
	.irq_window = vmx_irq_window,
	.pending_exception = vmx_pending_exception,
	.get_cr = vmx_get_cr,
	.set_cr2 = vmx_set_cr2,
	.get_efer = vmx_get_efer,
	.set_efer = vmx_set_efer,
	.get_seg = vmx_get_seg,
	.get_cpl = vmx_get_cpl,
	.dump = vmx_dump,
	.has_tdp = vmx_has_tdp,
	.vcpu_load = vmx_vcpu_load,
	.vcpu_release = vmx_vcpu_release,
	.vcpu_put = vmx_vcpu_put,
	.set_hw_paging = vmx_set_hw_paging,
	.flush_tlb = vmx_flush_tlb,
	.tdp_format = vmx_tdp_format,
	.vcpu_set_state = vmx_vcpu_set_state,
	.event_queued = vmx_event_queued,
	.nmi_blocked = vmx_nmi_blocked,
};
