/*
 * kernel/vcpu_state.c - the guest's view of its control registers and
 * EFER. With paging=shadow the hardware runs on registers Umbra chose
 * (kernel/mmu.h), so common code asks here, never the backend directly.
 */
#include "kernel/mmu.h"
#include "kernel/vm.h"
#include "kernel/x86.h"

u64 vcpu_get_cr(struct vcpu *v, int cr)
{
	if (!v->mmu || cr == 2)
		return backend->get_cr(v, cr);
	switch (cr) {
	case 0: return v->mmu->cr0;
	case 3: return v->mmu->cr3;
	case 4: return v->mmu->cr4;
	default: return 0;
	}
}

u64 vcpu_get_efer(struct vcpu *v)
{
	return v->mmu ? v->mmu->efer : backend->get_efer(v);
}

u64 vcpu_cr4_feature_bits(void)
{
	struct cpuid_regs l1 = cpuid(1), l7 = cpuid_count(7, 0);
	u64 ok = 0;
	if (l1.ecx & BIT(26))
		ok |= CR4_OSXSAVE;
	if (l1.ecx & BIT(17))
		ok |= CR4_PCIDE;
	if (l7.ebx & BIT(7))
		ok |= CR4_SMEP;
	if (l7.ebx & BIT(20))
		ok |= CR4_SMAP;
	if (l7.ebx & BIT(0))
		ok |= CR4_FSGSBASE;
	if (l7.ecx & BIT(2))
		ok |= CR4_UMIP;
	if (l7.ecx & BIT(3))
		ok |= CR4_PKE;
	if (l7.ecx & BIT(16))
		ok |= CR4_LA57;
	return ok;
}
