/*
 * kernel/shutdown.c - the end of a run.
 *
 * Under QEMU a write of v to the isa-debug-exit port 0xf4 ends QEMU with
 * status (v << 1) | 1; under Bochs the string "Shutdown" written to port
 * 0x8900 stops the simulation. On real hardware neither port is touched
 * unless asked (exit=emu): we halt (or reboot with exit=reboot).
 */
#include "kernel/shutdown.h"
#include "kernel/console.h"
#include "kernel/x86.h"

static enum exit_mode exit_mode = EXIT_AUTO;

void shutdown_set_mode(enum exit_mode mode)
{
	exit_mode = mode;
}

/* QEMU's fw_cfg answers "QEMU" at selector 0 (signature). */
static bool qemu_detected(void)
{
	outw(0x510, 0);
	char sig[4];
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(0x511);
	return sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
}

/* Bochs: its BIOS identifies itself in CPUID? No; but its port 0xe9 hack
 * reads back 0xe9 when compiled in (Debian's build has it). */
static bool bochs_detected(void)
{
	return inb(0xe9) == 0xe9;
}

void shutdown_finish(bool pass, const char *reason)
{
	if (pass)
		kprintf("UMBRA-RESULT: PASS\n");
	else
		kprintf("UMBRA-RESULT: FAIL %s\n", reason);

	console_drain();
	enum exit_mode m = exit_mode;
	if (m == EXIT_AUTO)
		m = (qemu_detected() || bochs_detected()) ? EXIT_EMU : EXIT_HALT;
	if (m == EXIT_EMU) {
		outb(0xf4, pass ? 0 : 1);
		static const char bochs_cmd[] = "Shutdown";
		for (const char *p = bochs_cmd; *p; p++)
			outb(0x8900, (u8)*p);
	} else if (m == EXIT_REBOOT) {
		outb(0xcf9, 0x0e);
		outb(0x64, 0xfe);
	}
	halt_forever();
}
