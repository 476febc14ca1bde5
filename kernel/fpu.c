/*
 * kernel/fpu.c - see fpu.h. SDM vol. 1 §13 (XSAVE), vol. 2 FXSAVE.
 */
#include "kernel/fpu.h"
#include "kernel/string.h"
#include "kernel/vm.h"
#include "kernel/x86.h"
#include "mm/kmem.h"

static bool use_xsave;
static u64 xcr0_all;   /* every component the CPU supports */
static u32 area_size;

void fpu_cpu_init(void)
{
	struct cpuid_regs r = cpuid(1);
	u64 cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	use_xsave = (r.ecx & BIT(26)) != 0;
	if (use_xsave)
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);
	area_size = 512;
	if (use_xsave) {
		struct cpuid_regs d = cpuid_count(0xd, 0);
		xcr0_all = d.eax | ((u64)d.edx << 32);
		xsetbv(0, xcr0_all);
		area_size = cpuid_count(0xd, 0).ebx; /* size for the enabled set */
		xsetbv(0, 1);
	}
}

int fpu_init_vcpu(struct vcpu *v)
{
	/* XSAVE areas are 64-byte aligned; kzalloc rounds to a power of two
	 * aligned to its size (>= 64 here). */
	u8 *a = kzalloc(MAX(area_size, 576u));
	if (!a)
		return E_NOMEM;
	*(u32 *)(a + 24) = 0x1f80; /* MXCSR at reset */
	*(u16 *)(a + 0) = 0x37f;   /* FCW at FNINIT */
	v->fpu = a;
	v->xcr0 = 1;               /* x87 only, the reset value */
	return E_OK;
}

void fpu_free_vcpu(struct vcpu *v)
{
	kfree(v->fpu);
	v->fpu = NULL;
}

void fpu_switch(struct vcpu *from, struct vcpu *to)
{
	if (use_xsave) {
		u32 lo = (u32)xcr0_all, hi = (u32)(xcr0_all >> 32);
		xsetbv(0, xcr0_all);
		if (from)
			__asm__ volatile("xsave64 (%0)" ::"r"(from->fpu), "a"(lo), "d"(hi) : "memory");
		if (to) {
			__asm__ volatile("xrstor64 (%0)" ::"r"(to->fpu), "a"(lo), "d"(hi) : "memory");
			xsetbv(0, to->xcr0);
		}
	} else {
		if (from)
			__asm__ volatile("fxsave64 (%0)" ::"r"(from->fpu) : "memory");
		if (to)
			__asm__ volatile("fxrstor64 (%0)" ::"r"(to->fpu) : "memory");
	}
}
