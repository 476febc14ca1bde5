/*
 * tests/guests/triplefault.c - prints one line, then triple-faults: with an
 * empty IDT, #UD cannot be delivered (#GP), nor can #GP (#DF), nor #DF.
 *
 * Bare QEMU with -no-reboot exits with status 0; Umbra must end this VM as
 * triple-faulted and let the others run on. No SUMMARY line is printed.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("triplefault");

void guest_main(void)
{
	static const struct __packed {
		u16 limit;
		u32 base;
	} empty_idt = { 0, 0 };

	printf("loading an empty IDT and raising #UD: expect a triple fault\n");
	asm volatile("lidt %0; ud2" : : "m"(empty_idt));
	printf("still running after the triple fault\n");
}
