/*
 * kernel/x86.h - thin wrappers for x86 instructions and architectural
 * constants used by more than one layer (control registers, EFER, CPUID).
 * Vendor-specific constants live in svm/ and vmx/.
 */
#ifndef UMBRA_KERNEL_X86_H
#define UMBRA_KERNEL_X86_H

#include "kernel/types.h"
#include "kernel/x86_regs.h"

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u32 inl(u16 port)
{
	u32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};
static inline struct cpuid_regs cpuid_count(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
	return r;
}
static inline struct cpuid_regs cpuid(u32 leaf) { return cpuid_count(leaf, 0); }

#define DEFINE_CR(n)                                                         \
	static inline u64 read_cr##n(void)                                   \
	{                                                                    \
		u64 v;                                                       \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));            \
		return v;                                                    \
	}                                                                    \
	static inline void write_cr##n(u64 v) { __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}
static inline u64 read_rflags(void)
{
	u64 f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void invlpg(u64 va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline void __noreturn halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}
/* Idle for good but keep taking interrupts (an AP with nothing to run
 * still answers tick IPIs and NMIs). */
static inline void __noreturn halt_forever_with_irqs(void)
{
	for (;;)
		__asm__ volatile("sti; hlt");
}
static inline u64 read_rbp(void)
{
	u64 v;
	__asm__ volatile("mov %%rbp, %0" : "=r"(v));
	return v;
}
static inline void xsetbv(u32 idx, u64 v)
{
	__asm__ volatile("xsetbv" ::"c"(idx), "a"((u32)v), "d"((u32)(v >> 32)));
}
static inline u64 xgetbv(u32 idx)
{
	u32 lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
	return ((u64)hi << 32) | lo;
}

#endif
