/*
 * tests/guests/spin.c - prints one line, then spins forever with
 * interrupts off (IF=0). It never exits: bare QEMU runs until killed, and
 * Umbra must end it through its timeout= VM option. No SUMMARY line.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("spin");

void guest_main(void)
{
	printf("spinning forever with interrupts off\n");
	asm volatile("cli");
	for (;;)
		asm volatile("" ::: "memory");
}
