/*
 * kernel/vm.h - VM and vCPU objects and their lifecycle.
 *
 * A VM is created from one multiboot module: the module's command line
 * configures it (name= paging= mem= vcpus= timeout= nested=), the words
 * after `--` are the guest's own command line. A VM ends by writing to the
 * debug-exit port, by a triple fault, or by being killed (timeout, a
 * guest action Umbra cannot honour); the other VMs go on.
 */
#ifndef UMBRA_KERNEL_VM_H
#define UMBRA_KERNEL_VM_H

#include "kernel/backend.h"
#include "kernel/gva.h"
#include "kernel/mmio.h"
#include "kernel/spinlock.h"
#include "kernel/types.h"
#include "kernel/vcpu_sync.h"
#include "kernel/vlapic.h"
#include "kernel/vuart.h"
#include "mm/gmem.h"

#define VM_NAME_MAX 24
#define VM_MAX_VCPUS 8
#define VM_MAX 16
#define VM_CMDLINE_MAX 512

enum vm_paging { PAGING_TDP, PAGING_SHADOW };

struct vm_config {
	char name[VM_NAME_MAX];
	u32 paging;     /* enum vm_paging */
	u64 mem;        /* bytes */
	u64 vcpus;
	u64 timeout_s;  /* 0 = none */
	bool nested;
	u64 shadow_pages; /* limit on shadow page-table pages (paging=shadow) */
	char affinity[64];  /* "CPU[,CPU...]": where vCPU i runs (cycled) */
};

enum vm_result {
	VMR_RUNNING,
	VMR_EXIT,        /* wrote to the debug-exit port: exit_code */
	VMR_TRIPLE_FAULT,
	VMR_KILLED,      /* Umbra stopped it: why */
};

struct platform;
struct shadow_vm;
struct shadow_env;
struct vcpu_mmu;

/* Events a vCPU receives from the local APICs of its VM (VEV_*, set
 * atomically by the sender, taken by the owner before its next entry). */
#define VEV_INIT BIT(0)
#define VEV_SIPI BIT(1)  /* vector in vcpu.sipi_vector */
#define VEV_NMI BIT(2)

/*
 * Ownership: everything in a vCPU belongs to the CPU it is placed on
 * (vcpu.cpu), except what other vCPUs of the VM may post to it: the
 * atomic fields sync (requests), events/sipi_vector, and the IRR/ESR of
 * its local APIC (kernel/vlapic.c).
 */
struct vcpu {
	struct vcpu_regs regs; /* register cache, see kernel/backend.h */
	struct vm *vm;
	u32 id;
	u32 cpu;               /* the physical CPU that runs it */
	bool halted;           /* in HLT, waiting for an interrupt */
	bool wait_sipi;        /* an AP after INIT: waits for a SIPI (SDM §9.4.2) */
	u32 events;            /* VEV_* (atomic) */
	u8 sipi_vector;        /* start page of the last SIPI (with VEV_SIPI) */
	struct vcpu_sync sync; /* requests and guest-mode sequence (vcpu_sync.h) */
	void *arch;            /* backend state (VMCB/VMCS...) */
	void *fpu;             /* XSAVE/FXSAVE area of the guest */
	u64 xcr0;              /* guest XCR0 */
	u64 pat;               /* guest IA32_PAT */
	s64 tsc_offset;        /* guest TSC = host TSC + tsc_offset */
	u64 exits;
	struct vcpu_mmu *mmu;  /* paging=shadow state, NULL with TDP */
	struct vlapic lapic;   /* its local APIC (kernel/vlapic.h) */
	u64 exit_count[EXIT_NREASONS];
	bool nmi_pending;      /* an NMI waits for delivery (owner) */
	struct gva_code_cache code_cache; /* kernel/gva.c: instruction fetch */
	void *nested;          /* nested SVM state (svm/nested.c; starts with
				* a struct nested_vcpu, kernel/nested.h), NULL
				* unless the VM has nested=on */
};

struct vm {
	struct vm_config cfg;
	u32 id;
	u32 cpu;                /* its home CPU (vCPU 0's): timeouts, ends */
	u32 affinity[VM_MAX_VCPUS]; /* affinity=: CPU of vCPU i (nr_affinity entries, cycled) */
	u32 nr_affinity;
	u32 wake_seq;           /* bumped by every cross-vCPU wake (blocked-VM check) */
	char guest_cmdline[VM_CMDLINE_MAX];
	struct gmem mem;
	hpa_t tdp_root;         /* NPT/EPT root, 0 without TDP */
	struct shadow_vm *shadow;       /* paging=shadow MMU, NULL with TDP */
	struct shadow_env *shadow_env;
	struct vcpu *vcpu[VM_MAX_VCPUS];
	u32 nr_vcpus;
	enum vm_result result;
	u32 exit_code;
	char why[96];
	u64 start_tick;
	struct vuart uart;
	u64 unknown_ports;      /* atomic */
	struct mmio_bus mmio;     /* emulated MMIO devices (kernel/mmio.h) */
	struct platform *plat;    /* legacy devices, fw_cfg, ACPI (kernel/platform.h) */
};

extern struct vm *vms[VM_MAX];
extern u32 nr_vms;

/* Create a VM from module @index of the boot information, loading its ELF
 * image. On any error a clear message names the module and the VM is not
 * created (the others still run). */
int vm_create_from_module(u32 index, hpa_t start, hpa_t end, const char *cmdline);

/* End @vm with @result; @fmt says why (for kills). Idempotent. */
void vm_end(struct vm *vm, enum vm_result result, u32 code, const char *fmt, ...) __printf(4, 5);

static inline bool vm_running(const struct vm *vm)
{
	return __atomic_load_n(&vm->result, __ATOMIC_ACQUIRE) == VMR_RUNNING;
}

/* Exits of @reason so far, all vCPUs. */
u64 vm_exit_count(const struct vm *vm, u32 reason);

/* Print the one-line result of @vm ("VM-END name=... result=..."). */
void vm_print_result(const struct vm *vm);

/* Print "VM-STATS name=... REASON=N ... unknown-ports=N": @vm's counters
 * so far (at VM end, on the stats hypercall, on the console key 's'). */
void vm_print_stats(const struct vm *vm);

/* Release everything @vm holds. */
void vm_destroy(struct vm *vm);

#endif
