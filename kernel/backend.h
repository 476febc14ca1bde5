/*
 * kernel/backend.h - the seam between common code and the two hardware
 * backends (svm/, vmx/).
 *
 * One const table of operations is chosen at boot from CPUID. A backend
 * runs a vCPU until it exits and *decodes* the exit into a vendor-neutral
 * struct vm_exit; common code (kernel/exit.c) *decides* what to do. Common
 * code never touches a VMCB or VMCS field: guest state it needs goes
 * through the register cache (struct vcpu_regs, synchronized by the
 * backend around every run) and the accessors below.
 */
#ifndef UMBRA_KERNEL_BACKEND_H
#define UMBRA_KERNEL_BACKEND_H

#include "kernel/types.h"

struct cpu;
struct cpuid_regs;
struct pt_format;
struct vcpu;
struct vm;

enum exit_reason {
	EXIT_NONE,
	EXIT_CPUID,
	EXIT_RDMSR,
	EXIT_WRMSR,
	EXIT_IO,         /* port I/O; see vm_exit.io */
	EXIT_HLT,
	EXIT_SHUTDOWN,   /* triple fault */
	EXIT_INTR,       /* a host interrupt arrived while the guest ran */
	EXIT_NMI,
	EXIT_SMI,
	EXIT_INIT,
	EXIT_HYPERCALL,  /* VMMCALL / VMCALL */
	EXIT_VIRT_INSN,  /* other SVM/VMX instruction; vm_exit.insn */
	EXIT_INVD,
	EXIT_WBINVD,
	EXIT_XSETBV,
	EXIT_TASK_SWITCH,
	EXIT_TDP_FAULT,  /* NPF / EPT violation; vm_exit.tdp */
	EXIT_TDP_MISCONFIG,
	EXIT_EXCEPTION,  /* intercepted guest exception; vm_exit.exc */
	EXIT_PAUSE,
	EXIT_RDPMC,
	EXIT_MONITOR,    /* MONITOR/MWAIT */
	EXIT_ENTRY_FAIL, /* the guest state was refused; vm_exit.fail */
	EXIT_CR_ACCESS,  /* shadow paging: CR0/CR3/CR4 access; vm_exit.cr */
	EXIT_INVLPG,     /* shadow paging: INVLPG; vm_exit.invlpg */
	EXIT_UNKNOWN,    /* an exit the backend cannot name; raw code in vm_exit.raw */
	EXIT_IRQ_WINDOW, /* the guest can take an external interrupt (irq_window) */
	EXIT_NESTED,     /* nested SVM: the backend handled it (an L2 exit
			  * reflected to L1 or absorbed): nothing to do */
	EXIT_NREASONS
};

extern const char *const exit_reason_names[EXIT_NREASONS];

/* Instructions reported by EXIT_VIRT_INSN. */
enum virt_insn {
	VI_VMRUN, VI_VMLOAD, VI_VMSAVE, VI_STGI, VI_CLGI, VI_SKINIT, VI_INVLPGA,
	VI_VMX, /* any VMX instruction (VMXON, VMPTRLD, ...) */
	VI_RDTSCP, VI_OTHER,
};

struct vm_exit {
	enum exit_reason reason;
	u64 raw;        /* the backend's own exit code, for traces */
	u64 info1, info2; /* raw qualification words, for traces/dumps */
	u8 insn_len;    /* length of the exiting instruction, 0 = unknown */
	union {
		struct {
			u16 port;
			u8 size;  /* 1, 2, 4 */
			bool in, string, rep;
		} io;
		struct {
			gpa_t gpa;
			bool read, write, fetch;
			bool present;     /* a mapping existed (permission fault) */
			bool during_walk; /* fault while the CPU walked guest tables */
		} tdp;
		struct {
			u8 vector;
			bool has_error;
			u32 error;
			u64 cr2;
		} exc;
		struct {
			enum virt_insn which;
		} insn;
		struct {
			const char *why;
		} fail;
		struct {
			u8 cr;      /* 0, 3, 4 (8 is not intercepted) */
			bool write;
			s8 gpr;     /* the MOV's register, -1 unknown (decode it) */
		} cr;
		struct {
			gva_t gva;
			bool valid; /* false: decode the instruction */
		} invlpg;
	};
};

/* GPR numbers in x86 encoding order (ModRM reg field). */
enum {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	NR_GPRS
};

/* Guest registers common code may read and write directly. The backend
 * loads them into the CPU/VMCB/VMCS before each run and stores them back
 * after each exit. */
struct vcpu_regs {
	u64 gpr[NR_GPRS];
	u64 rip;
	u64 rflags;
};

enum seg_reg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_GDTR, SEG_IDTR };

struct seg_desc {
	u16 sel;
	u16 attr; /* type(4) S DPL(2) P AVL L D/B G, as in the VMCB attribute layout */
	u32 limit;
	u64 base;
};

/* Initial architectural state of a vCPU (filled by kernel/loader.c). */
struct vcpu_boot_state {
	u64 cr0, cr3, cr4, efer;
	struct seg_desc seg[10];
	struct vcpu_regs regs;
};

struct backend_ops {
	const char *name;
	/* Detect the hardware and print what it offers. E_NOTSUP (with a
	 * message printed) when it cannot run guests. */
	int (*probe)(void);
	/* Enable virtualization on the calling CPU. */
	int (*cpu_enable)(struct cpu *c);
	/* Create/destroy the backend state of @v, set to @bs. */
	int (*vcpu_create)(struct vcpu *v, const struct vcpu_boot_state *bs);
	void (*vcpu_destroy)(struct vcpu *v);
	/* Run @v until an exit that common code must see; decode it into @e.
	 * v->regs is current on return. */
	void (*vcpu_run)(struct vcpu *v, struct vm_exit *e);
	/* Queue an exception (or external interrupt with @vector >= 32 and
	 * @is_irq) for delivery at the next entry. */
	void (*inject_event)(struct vcpu *v, u8 vector, bool is_irq, bool has_error, u32 error);
	/* The exception queued for the next entry (re-injected after an exit
	 * that interrupted its delivery), or -1 (interrupts, NMIs: -1). */
	int (*pending_exception)(struct vcpu *v);
	u64 (*get_cr)(struct vcpu *v, int cr); /* 0, 2, 3, 4 */
	/* Set the guest's CR2 (before injecting a #PF found by emulation). */
	void (*set_cr2)(struct vcpu *v, u64 cr2);
	u64 (*get_efer)(struct vcpu *v);
	/* Set the guest's EFER (already checked by common code). */
	int (*set_efer)(struct vcpu *v, u64 efer);
	void (*get_seg)(struct vcpu *v, enum seg_reg s, struct seg_desc *d);
	int (*get_cpl)(struct vcpu *v);
	/* Print the VMCB/VMCS of @v (flight recorder, kills). */
	void (*dump)(struct vcpu *v);
	/* Shadow paging (VMs with paging=shadow: the backend intercepts
	 * CR0/CR3/CR4 accesses, INVLPG and #PF, and runs without NPT/EPT).
	 * Load the hardware paging registers the shadow MMU chose. */
	void (*set_hw_paging)(struct vcpu *v, u64 cr0, u64 cr3, u64 cr4, u64 efer);
	/* @v takes / leaves this CPU (another vCPU ran or will run here):
	 * switch per-vCPU state the hardware does not (NULL: nothing). */
	void (*vcpu_load)(struct vcpu *v);
	void (*vcpu_put)(struct vcpu *v);
	/* @v was set up on this CPU but will run on another: release any
	 * CPU-local hold on it (VMX: VMCLEAR). NULL: nothing to do. */
	void (*vcpu_release)(struct vcpu *v);
	/* Ask for an EXIT_IRQ_WINDOW as soon as the guest can take an
	 * external interrupt (RFLAGS.IF=1, no STI/MOV SS shadow: SVM V_IRQ
	 * with the VINTR intercept, APM vol. 2 §15.21; VMX "interrupt-window
	 * exiting", SDM vol. 3C §25.6.2, §26.7.5), or cancel the request
	 * (@open false). NULL: no interrupt delivery. */
	void (*irq_window)(struct vcpu *v, bool open);
	/* Flush @v's tagged TLB (ASID/VPID) before its next entry. */
	void (*flush_tlb)(struct vcpu *v);
	/* Features the backend gives common code. */
	bool (*has_tdp)(void);
	/* The TDP (NPT/EPT) table format, its leaf permission bits and the
	 * largest leaf level usable; kernel/vm.c builds each VM's tree. */
	void (*tdp_format)(const struct pt_format **f, u64 *leaf_bits, int *max_level);
	/* Put @v into the architectural state @bs (an AP started by a SIPI,
	 * kernel/vcpu_mp.c): registers, segments, control registers, no
	 * event pending, no interrupt shadow. On @v's CPU. E_NOTSUP when
	 * the hardware cannot run that state here (VMX real mode without
	 * unrestricted guest). */
	int (*vcpu_set_state)(struct vcpu *v, const struct vcpu_boot_state *bs);
	/* Is an event (exception, interrupt, NMI) queued for the next entry? */
	bool (*event_queued)(struct vcpu *v);
	/* Must an NMI wait (SDM vol. 3A §6.7.1: one is being handled until
	 * its IRET; STI/MOV SS shadows)? */
	bool (*nmi_blocked)(struct vcpu *v);
	/* Can the hardware run the guest with CR0.PG=1 and CR0.PE=0 (SVM
	 * "paged real mode", APM vol. 2 §15.19)? Shadow paging of a real-mode
	 * guest needs it. */
	bool paged_real_mode;
	/* Nested virtualization (DESIGN.md §6; NULL: not offered, nested=on
	 * VMs are refused). For vCPUs of nested=on VMs only:
	 *  - nested_cpuid adjusts leaf @leaf (8000_0001h, 8000_000Ah) to what
	 *    the backend emulates for an L1 hypervisor;
	 *  - nested_msr reads/writes the backend's nested MSRs: E_OK, E_NOENT
	 *    (not one), E_INVAL (#GP);
	 *  - nested_insn emulates an EXIT_VIRT_INSN of the L1 (it advances
	 *    RIP or injects the fault itself). */
	void (*nested_cpuid)(struct vcpu *v, u32 leaf, struct cpuid_regs *r);
	int (*nested_msr)(struct vcpu *v, u32 msr, bool write, u64 *val);
	void (*nested_insn)(struct vcpu *v, struct vm_exit *e);
};

/* The backend chosen at boot; NULL when the CPU has neither. */
extern const struct backend_ops *backend;

extern const struct backend_ops svm_backend_ops;
extern const struct backend_ops vmx_backend_ops;

#endif
