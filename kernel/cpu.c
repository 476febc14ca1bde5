/*
 * kernel/cpu.c - GDT, TSS and IDT set-up for each CPU (SDM vol. 3A §3.4.5,
 * §7.2.3 for the 64-bit TSS, §6.14 for IST stacks).
 *
 * NMI, #DF and #MC run on their own IST stacks so a corrupt RSP (stack
 * overflow into a guard page) still gets a readable dump.
 */
#include "kernel/cpu.h"
#include "kernel/string.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

struct cpu cpu_bsp;
struct cpu_stacks cpu_bsp_stacks;
struct cpu *cpus[MAX_CPUS] = {&cpu_bsp};

void cpu_register(struct cpu *c)
{
	if (c->id < MAX_CPUS)
		__atomic_store_n(&cpus[c->id], c, __ATOMIC_RELEASE);
}

extern u8 boot_stack_guard[];

struct idt_gate {
	u16 off_lo, sel;
	u8 ist, type_attr;
	u16 off_mid;
	u32 off_hi, zero;
} __packed;

static struct idt_gate idt[256] __aligned(16);
static bool idt_ready;

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

void cpu_early_init_bsp(void)
{
	cpu_bsp.self = &cpu_bsp;
	cpu_bsp.id = 0;
	wrmsr(MSR_GS_BASE, (u64)&cpu_bsp);
}

static void idt_build(void)
{
	for (int v = 0; v < 256; v++) {
		u64 off = isr_stub_table[v];
		struct idt_gate *g = &idt[v];
		g->off_lo = off & 0xffff;
		g->off_mid = (off >> 16) & 0xffff;
		g->off_hi = off >> 32;
		g->sel = GDT_KCODE;
		g->type_attr = 0x8e; /* present, DPL0, 64-bit interrupt gate */
		g->ist = 0;
		g->zero = 0;
	}
	idt[2].ist = IST_NMI;
	idt[8].ist = IST_DF;
	idt[18].ist = IST_MC;
	idt_ready = true;
}

void cpu_init_tables(struct cpu *c, struct cpu_stacks *stacks)
{
	if (!idt_ready)
		idt_build();

	memset(&c->tss, 0, sizeof(c->tss));
	for (int i = 0; i < IST_COUNT; i++)
		c->tss.ist[i] = (u64)(stacks->ist[i].stack + IST_STACK_SIZE);
	c->tss.iomap_base = sizeof(c->tss); /* no I/O bitmap */

	u64 tss = (u64)&c->tss;
	u64 lim = sizeof(c->tss) - 1;
	c->gdt[0] = 0;
	c->gdt[1] = 0x00af9a000000ffffULL; /* 64-bit code, DPL0 */
	c->gdt[2] = 0x00cf92000000ffffULL; /* data */
	/* 64-bit available TSS descriptor (type 9), SDM vol. 3A §8.2.3 */
	c->gdt[3] = (lim & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ULL << 40) |
		    (((lim >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
	c->gdt[4] = tss >> 32;

	struct desc_ptr gdtr = {sizeof(c->gdt) - 1, (u64)c->gdt};
	struct desc_ptr idtr = {sizeof(idt) - 1, (u64)idt};
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %2, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "ltr %w3\n\t"
			 "lidt %4"
			 :
			 : "m"(gdtr), "i"(GDT_KCODE), "i"(GDT_KDATA), "r"((u16)GDT_TSS), "m"(idtr)
			 : "rax", "memory");
}

size_t cpu_guard_pages(u64 *va, size_t max)
{
	size_t n = 0;
	if (n < max)
		va[n++] = (u64)boot_stack_guard;
	for (int i = 0; i < IST_COUNT && n < max; i++)
		va[n++] = (u64)cpu_bsp_stacks.ist[i].guard;
	return n;
}
