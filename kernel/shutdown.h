/*
 * kernel/shutdown.h - how Umbra ends a run: the final result line, then
 * (under an emulator) QEMU isa-debug-exit and the Bochs shutdown port.
 */
#ifndef UMBRA_KERNEL_SHUTDOWN_H
#define UMBRA_KERNEL_SHUTDOWN_H

#include "kernel/types.h"

enum exit_mode {
	EXIT_AUTO,  /* emulator ports when an emulator is detected, else halt */
	EXIT_HALT,  /* print the result and halt */
	EXIT_EMU,   /* always use the emulator exit ports (0xf4, 0x8900) */
	EXIT_REBOOT /* reset through the keyboard controller / 0xcf9 */
};

void shutdown_set_mode(enum exit_mode mode);

/* Print "UMBRA-RESULT: PASS" or "UMBRA-RESULT: FAIL <reason>", leave as the
 * exit mode says, and never return. */
void shutdown_finish(bool pass, const char *reason) __noreturn;

#endif
