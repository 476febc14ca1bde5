/*
 * tests/guests/strio.c - instructions Umbra must decode or emulate itself
 * (no decode assists, no NRIPS on QEMU): string port I/O with and without
 * REP (OUTS to COM1, INS from an unknown port, a buffer crossing a page),
 * and intercepted instructions carrying prefixes, whose length Umbra must
 * get right to resume at the next instruction.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("strio");

#define UNKNOWN_PORT 0x2e0

static u8 page_pair[2 * 4096] __attribute__((aligned(4096)));

static void outs_line(const char *s, u32 n)
{
	/* rep outsb: ECX bytes from DS:ESI to port DX */
	__asm__ volatile("cld; rep outsb" : "+S"(s), "+c"(n) : "d"(0x3f8) : "memory");
}

void guest_main(void)
{
	static const char line[] = "printed by rep outsb\n";
	outs_line(line, sizeof(line) - 1);
	report(true, "rep outsb to COM1 (the line above)");

	/* single outsb, one byte at a time */
	static const char two[] = "o!\n";
	for (int i = 0; i < 3; i++) {
		const char *p = &two[i];
		__asm__ volatile("outsb" : "+S"(p) : "d"(0x3f8) : "memory");
	}

	/* rep insb from an unknown port: all-ones, across a page boundary */
	u8 *buf = page_pair + 4096 - 8;
	for (int i = 0; i < 16; i++)
		buf[i] = 0x5a;
	u8 *d = buf;
	u32 n = 16;
	__asm__ volatile("cld; rep insb" : "+D"(d), "+c"(n) : "d"(UNKNOWN_PORT) : "memory");
	bool ones = true;
	for (int i = 0; i < 16; i++)
		ones &= buf[i] == 0xff;
	report(ones && n == 0 && d == buf + 16, "rep insb across a page boundary reads all-ones, ECX=0, EDI advanced");

	/* rep insw / insd */
	u16 w[4] = {0, 0, 0, 0};
	u16 *dw = w;
	n = 4;
	__asm__ volatile("cld; rep insw" : "+D"(dw), "+c"(n) : "d"(UNKNOWN_PORT) : "memory");
	report(w[0] == 0xffff && w[3] == 0xffff && n == 0, "rep insw reads 0xffff");
	u32 l[2] = {0, 0};
	u32 *dl = l;
	n = 2;
	__asm__ volatile("cld; rep insl" : "+D"(dl), "+c"(n) : "d"(UNKNOWN_PORT) : "memory");
	report(l[0] == 0xffffffff && l[1] == 0xffffffff, "rep insd reads 0xffffffff");

	/* std: descending string I/O */
	u8 b2[4] = {1, 2, 3, 4};
	u8 *dd = &b2[3];
	n = 2;
	__asm__ volatile("std; rep insb; cld" : "+D"(dd), "+c"(n) : "d"(UNKNOWN_PORT) : "memory");
	report(b2[3] == 0xff && b2[2] == 0xff && b2[1] == 2 && dd == &b2[1], "std; rep insb goes downwards");

	/* CPUID with redundant prefixes: 3e (DS) 66 0f a2 is 4 bytes long */
	u32 a = 0, b, c, dx;
	__asm__ volatile(".byte 0x3e, 0x66, 0x0f, 0xa2\n\tmov $0x1234, %%esi"
			 : "+a"(a), "=b"(b), "=c"(c), "=d"(dx)
			 :
			 : "esi");
	report(a >= 1, "prefixed CPUID (3e 66 0f a2) resumes at the next instruction");

	/* RDMSR with a segment prefix */
	u32 lo, hi;
	__asm__ volatile(".byte 0x2e, 0x0f, 0x32" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	report((lo & ~0x500u) == 0 && hi == 0, "prefixed RDMSR EFER (2e 0f 32)");

	/* IN with an operand-size prefix: in ax, dx (66 ed) */
	u32 v = 0x12345678;
	__asm__ volatile("inw %%dx, %%ax" : "+a"(v) : "d"(UNKNOWN_PORT));
	report(v == 0x1234ffff, "inw keeps the upper half of EAX");
	report_summary();
}
