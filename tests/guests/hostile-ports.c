/*
 * tests/guests/hostile-ports.c - every I/O port and a wide range of MSRs.
 *
 * IN (8 bits) from every port 0..0xffff, and 16/32 bits from every 16th,
 * except COM1 (0x3f8-0x3ff: the guest's own output) and the debug-exit
 * port (0xf4-0xf7); OUT of 0 to every port outside a skip list of ports
 * whose writes have effects on a PC (reset 0x64/0x92/0xcf9, A20, PCI
 * configuration 0xcf8-0xcff, fw_cfg 0x510-0x51b, PIC/PIT/RTC/DMA below
 * 0x100, COM1, debug exit). RDMSR of 0..0x1fff, 0xc0000000..0xc0001fff and
 * 0xc0010000..0xc0011fff (#GP caught); WRMSR of 0 only to MSRs that must
 * #GP everywhere (unimplemented numbers). Values and the number of #GPs
 * depend on the platform, so only the counts of accesses are printed.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("hostile-ports");

static bool no_in(u32 p)
{
	return (p >= 0x3f8 && p <= 0x3ff) || (p >= 0xf4 && p <= 0xf7);
}

static bool no_out(u32 p)
{
	return p < 0x100 || no_in(p) || (p >= 0x3f8 && p <= 0x3ff) ||
	       (p >= 0xcf8 && p <= 0xcff) || (p >= 0x510 && p <= 0x51b) ||
	       (p >= 0x3b0 && p <= 0x3df) || (p >= 0x600 && p <= 0x6ff) ||
	       (p >= 0xb000 && p <= 0xb0ff) || (p >= 0xc000);
}

void guest_main(void)
{
	u32 ins = 0, outs = 0, x = 0;
	for (u32 p = 0; p < 0x10000; p++) {
		if (no_in(p))
			continue;
		x ^= inb((u16)p);
		ins++;
		if ((p & 15) == 0 && !no_in(p + 3)) {
			x ^= inw((u16)p) ^ inl((u16)p);
			ins += 2;
		}
	}
	for (u32 p = 0; p < 0x10000; p++) {
		if (no_out(p))
			continue;
		outb((u16)p, 0);
		outs++;
		if ((p & 15) == 0 && !no_out(p + 3)) {
			outw((u16)p, 0);
			outl((u16)p, 0);
			outs += 2;
		}
	}
	printf("%u port reads, %u port writes\n", ins, outs);
	static const u32 ranges[][2] = {
		{ 0, 0x2000 }, { 0xc0000000, 0xc0002000 }, { 0xc0010000, 0xc0012000 },
	};
	u32 rd = 0, gp = 0;
	for (unsigned r = 0; r < ARRAY_SIZE(ranges); r++)
		for (u32 m = ranges[r][0]; m < ranges[r][1]; m++) {
			u64 v;
			int f = try_rdmsr(m, &v);
			rd++;
			gp += f == VEC_GP;
			if (f != FAULT_NONE && f != VEC_GP) {
				report(false, "RDMSR %#x: vector %d", m, f);
				return;
			}
		}
	printf("%u MSR reads\n", rd);
	(void)gp; /* platform-dependent: not printed */
	static const u32 bad[] = { 0x12345678, 0x40000ff0, 0xc0001fff, 0x3fffffff };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		int f = try_wrmsr(bad[i], 0);
		report(f == VEC_GP || (on_qemu_tcg() && f == FAULT_NONE),
		       "WRMSR of unimplemented MSR %#x: #GP(0)", bad[i]);
	}
	(void)x;
	report(true, "still alive after every port and MSR");
}
