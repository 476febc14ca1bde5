/*
 * tests/guests/hello.c - the demo guest: prints its arguments and checks
 * the multiboot memory information, then exits with 0.
 *
 * Only facts that hold for any VM of at least 32 MiB are printed, so the
 * output is the same bare (QEMU -m 64M or more) and under Umbra.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("hello");

void guest_main(void)
{
	char buf[128];
	int argc = cmdline_argc();

	printf("hello from a multiboot guest\n");
	printf("args: %d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("arg %d: %s\n", i, cmdline_arg(i, buf, sizeof(buf)));

	report(mb.flags & MB_INFO_MEM, "multiboot info has mem_lower/mem_upper");
	report(mb.mem_lower_kib >= 512 && mb.mem_lower_kib <= 640,
	       "mem_lower between 512 and 640 KiB");
	report(mb.mem_upper_kib >= 31 * 1024, "mem_upper >= 31 MiB");
	report(mb.flags & MB_INFO_MMAP, "multiboot info has a memory map");
	report(mb_available_bytes(0, 512 * KiB) == 512 * KiB,
	       "memory map: RAM in [0, 512 KiB)");
	report(mb_available_bytes(640 * KiB, 384 * KiB) == 0,
	       "memory map: no RAM in the 640 KiB - 1 MiB hole");
	report(mb_available_bytes(1 * MiB, 31 * MiB) == 31 * MiB,
	       "memory map: RAM in [1 MiB, 32 MiB)");
	/* mem_upper is the RAM right above 1 MiB: the map must agree. */
	report(mb_available_bytes(1 * MiB, (u64)mb.mem_upper_kib * KiB) ==
		       (u64)mb.mem_upper_kib * KiB,
	       "memory map covers mem_upper");
}
