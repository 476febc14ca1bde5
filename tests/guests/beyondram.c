/*
 * tests/guests/beyondram.c - reads and writes a guest-physical address far
 * beyond the VM's RAM (3 GiB, with paging off).
 *
 * Bare QEMU -M pc reads 0 there and drops the write; Umbra may instead kill
 * the VM at the access. Everything up to and including the "probing" line
 * is the same in both; a harness compares that prefix and accepts either
 * ending.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("beyondram");

#define PROBE 0xc0000000u
#define PATTERN 0xa5c3e1f0u

void guest_main(void)
{
	u64 ram = mb_available_bytes(0, 4 * GiB);
	report(ram >= 32 * MiB, "RAM per multiboot memory map >= 32 MiB");
	report(mb_available_bytes(PROBE, 4 * KiB) == 0 && (u64)PROBE > ram,
	       "%#x is beyond RAM", PROBE);

	/* The write must not wrap into RAM at the probe address modulo a
	 * power of two: remember what RAM holds at those addresses. */
	u32 before[32];
	int n = 0;
	for (u32 m = (u32)MiB; m && m <= PROBE; m <<= 1) {
		u32 a = PROBE & (m - 1);
		if (a && a < 32 * MiB)
			before[n++] = peek32(a);
	}

	printf("probing guest-physical %#x (beyond RAM)\n", PROBE);
	u32 v = peek32(PROBE);
	printf("read %#x: 0x%08x\n", PROBE, v);
	poke32(PROBE, PATTERN);
	v = peek32(PROBE);
	printf("read %#x after writing %#x: 0x%08x\n", PROBE, PATTERN, v);
	report(v != PATTERN, "the write beyond RAM was not stored");

	bool same = true;
	n = 0;
	for (u32 m = (u32)MiB; m && m <= PROBE; m <<= 1) {
		u32 a = PROBE & (m - 1);
		if (a && a < 32 * MiB)
			same &= before[n++] == peek32(a);
	}
	report(same && peek32(0) != PATTERN, "the write did not alias into RAM");
}
