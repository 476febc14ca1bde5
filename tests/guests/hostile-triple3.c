/*
 * tests/guests/hostile-triple3.c - a triple fault from ring 3, under PAE
 * paging: ring 0 loads an empty IDT, drops to ring 3 and executes UD2 there
 * (#UD cannot be delivered: #GP, then #DF, then shutdown).
 *
 * Only with the argument `triple`: without it (make check-guests-bare) the
 * IDT stays and the ring-3 #UD is caught and checked. With it, bare QEMU
 * with -no-reboot exits with status 0 after the line; Umbra must end this
 * VM as triple-faulted and let the others run on.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

GUEST_NAME("hostile-triple3");

static const u8 ud2[] = { 0x0f, 0x0b };

void guest_main(void)
{
	static const struct __packed {
		u16 limit;
		u32 base;
	} empty_idt = { 0, 0 };

	u64 *pdpt = pae_new();
	pae_identity(pdpt, image_map_end(), PTE_P | PTE_W | PTE_U);
	paging_enable_pae(pdpt, true);
	if (!cmdline_has("triple")) {
		report(user_exec((u32)ud2) == VEC_UD,
		       "PAE paging, UD2 in ring 3 with an IDT: #UD");
		return;
	}
	printf("PAE paging on, loading an empty IDT, UD2 in ring 3: expect a triple fault\n");
	asm volatile("lidt %0" : : "m"(empty_idt));
	user_exec((u32)ud2);
	printf("still running after the triple fault\n");
}
