/*
 * kernel/cpu.h - per-CPU state: descriptor tables, stacks, console line
 * buffer, and the pointer to the vCPU running here. Reached through GS.
 */
#ifndef UMBRA_KERNEL_CPU_H
#define UMBRA_KERNEL_CPU_H

#include "kernel/types.h"

#define MAX_CPUS 64
#define IST_STACK_SIZE (8 * 1024)
#define IST_NMI 1
#define IST_DF 2
#define IST_MC 3
#define IST_COUNT 3

#define GDT_KCODE 0x08
#define GDT_KDATA 0x10
#define GDT_TSS 0x18

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;

/* One IST stack with the guard page under it (unmapped by mm/hostpt.c). */
struct guarded_stack {
	u8 guard[PAGE_SIZE];
	u8 stack[IST_STACK_SIZE];
} __aligned(PAGE_SIZE);

struct vcpu;

struct cpu {
	struct cpu *self;        /* must be first: this_cpu() reads %gs:0 */
	u32 id;                  /* Umbra's CPU number, 0 = BSP */
	u32 apic_id;
	struct vcpu *vcpu;       /* vCPU loaded on this CPU, NULL in the host */
	u64 gdt[5];              /* null, code, data, TSS (2 slots) */
	struct tss64 tss __aligned(16);
	u32 con_len;
	char con_buf[240];       /* console line being assembled */
	void *backend;           /* backend's per-CPU area (host save area...) */
	struct cpu_stacks *stacks; /* IST stacks (APs; the BSP's are static) */
	u64 ticks;               /* host timer ticks seen on this CPU */
};

/* Per-CPU IST stacks live outside struct cpu so they can be page aligned. */
struct cpu_stacks {
	struct guarded_stack ist[IST_COUNT];
};

extern struct cpu cpu_bsp;
extern struct cpu_stacks cpu_bsp_stacks;

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

/* Set GS base to the BSP's struct cpu. First thing kmain does. */
void cpu_early_init_bsp(void);

/* Load this CPU's GDT, TSS and the shared IDT. */
void cpu_init_tables(struct cpu *c, struct cpu_stacks *stacks);

/* Every online CPU by number (cpus[0] is the BSP); NULL past the last. */
extern struct cpu *cpus[MAX_CPUS];

/* Record @c in cpus[] once it is online. */
void cpu_register(struct cpu *c);

/* Guard pages the host page tables must leave unmapped; returns count. */
size_t cpu_guard_pages(u64 *va, size_t max);

#endif
