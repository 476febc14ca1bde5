/*
 * kernel/vcpu_state.c - the guest's view of its control registers and
 * EFER. With paging=shadow the hardware runs on registers Umbra chose
 * (kernel/mmu.h), so common code asks here, never the backend directly.
 */
#include "kernel/mmu.h"
#include "kernel/vm.h"

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
