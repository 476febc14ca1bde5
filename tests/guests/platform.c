/*
 * tests/guests/platform.c - the legacy PC platform a multiboot kernel finds
 * on QEMU's pc machine, and Umbra's copy of it (docs/platform.md): the
 * 8259A PICs, the 8254 PIT, PCI configuration mechanism #1, the POST port,
 * QEMU's fw_cfg (legacy I/O), and the ACPI tables found the standard way
 * (ACPI 6.4 §5.2.5.1: the first KiB of the EBDA, then the BIOS area
 * 0xE0000-0xFFFFF on 16-byte boundaries), with every checksum checked and
 * the PM timer read.
 *
 * Only facts that hold on both are printed: QEMU has more ACPI tables,
 * PCI devices, an IOAPIC and a fw_cfg DMA interface that Umbra lacks. Run
 * with -m 64M / mem=64M and one CPU.
 */
#include "tests/guests/lib/guest.h"
#include "kernel/string.h"

GUEST_NAME("platform");

/* ------------------------------------------------------------ PIC, PIT */

static void pic_tests(void)
{
	/* ICW1 (edge, cascade, ICW4), ICW2 (vectors 0x20/0x28), ICW3, ICW4 (8086) */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	bool cleared = inb(0x21) == 0 && inb(0xa1) == 0;
	outb(0x21, 0xa5);
	outb(0xa1, 0x5a);
	u8 m = inb(0x21), s = inb(0xa1);
	report(cleared, "PIC: ICW1 clears the IMR");
	report(m == 0xa5 && s == 0x5a, "PIC: OCW1 masks read back (master %#x, slave %#x)", m, s);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	report(inb(0x21) == 0xff && inb(0xa1) == 0xff, "PIC: everything masked");
	outb(0x20, 0x0b); /* OCW3: read ISR */
	outb(0xa0, 0x0b);
	u8 isr_m = inb(0x20), isr_s = inb(0xa0);
	outb(0x20, 0x0a); /* back to IRR */
	outb(0xa0, 0x0a);
	report(isr_m == 0 && isr_s == 0, "PIC: nothing in service (OCW3 ISR read)");
	outb(0x20, 0x20); /* non-specific EOI: accepted */
}

static u16 pit_read0(void)
{
	outb(0x43, 0x00); /* latch counter 0 */
	u8 lo = inb(0x40);
	u8 hi = inb(0x40);
	return (u16)(lo | hi << 8);
}

static void pit_tests(void)
{
	/* counter 0, LSB then MSB, mode 2, binary; count 0x8000 */
	outb(0x43, 0x34);
	outb(0x40, 0x00);
	outb(0x40, 0x80);
	u16 a = pit_read0();
	report(a >= 1 && a <= 0x8000, "PIT: latched count of counter 0 is within its count");
	bool changed = false;
	for (int i = 0; i < 100000 && !changed; i++) {
		u16 b = pit_read0();
		changed = b != a;
		if (b < 1 || b > 0x8000)
			break;
	}
	report(changed, "PIT: counter 0 counts");
	/* read-back command: status of counter 0 (D5 = 1: no count latch) */
	outb(0x43, 0xe2);
	u8 st = inb(0x40);
	report((st & 0x3f) == 0x34, "PIT: read-back status says LSB/MSB, mode 2, binary");
	/* counter 2, mode 0, LSB only: checked through the read-back status
	 * (time-independent; a 0x40 count expires in 54 us, and the counter
	 * then wraps, so reading the count itself races a loaded host) */
	outb(0x43, 0x90);
	outb(0x42, 0x40);
	outb(0x43, 0xe8); /* read-back: status of counter 2 */
	u8 st2 = inb(0x42);
	report((st2 & 0x3f) == 0x10, "PIT: counter 2 programmed LSB-only, mode 0, binary (read-back status)");
}

static void pci_post_tests(void)
{
	outl(0xcf8, 0x80000000);
	report(inl(0xcf8) == 0x80000000, "PCI: CONFIG_ADDRESS reads back");
	outl(0xcf8, 0);
	outb(0x80, 0x55);
	report(true, "port 0x80 (POST) write accepted");
}

/* ------------------------------------------------------------ fw_cfg */

static void fwcfg_select(u16 key)
{
	outw(0x510, key);
}

static void fwcfg_read(void *buf, u32 n)
{
	u8 *p = buf;
	while (n--)
		*p++ = inb(0x511);
}

static u16 fw_cpus;

static void fwcfg_tests(void)
{
	char sig[5] = {0};
	fwcfg_select(0);
	fwcfg_read(sig, 4);
	report(!memcmp(sig, "QEMU", 4), "fw_cfg: signature \"%s\"", sig);
	u32 id = 0;
	fwcfg_select(1);
	fwcfg_read(&id, 4);
	report(id & 1, "fw_cfg: ID has the traditional interface (bit 0)");
	u64 ram = 0;
	fwcfg_select(3);
	fwcfg_read(&ram, 8);
	/* QEMU's multiboot mem_upper leaves out the top 128 KiB (reserved for
	 * the BIOS in its e820 map); Umbra's covers all of mem= */
	u64 mb_ram = ALIGN_UP(((u64)mb.mem_upper_kib + 1024) * 1024, (u64)MiB);
	report(ram == mb_ram, "fw_cfg: RAM size equals multiboot RAM rounded up to MiB: %s",
	       ram == mb_ram ? "yes" : "no");
	fwcfg_select(5);
	fwcfg_read(&fw_cpus, 2);
	report(fw_cpus >= 1, "fw_cfg: CPU count >= 1");
	/* file directory: big-endian count, 64-byte entries */
	u32 be = 0;
	fwcfg_select(0x19);
	fwcfg_read(&be, 4);
	u32 count = __builtin_bswap32(be);
	bool ok = count < 1000;
	for (u32 i = 0; ok && i < count; i++) {
		struct {
			u32 size;
			u16 select, reserved;
			char name[56];
		} f;
		fwcfg_read(&f, sizeof(f));
		u16 sel = __builtin_bswap16(f.select);
		bool nul = false;
		for (u32 j = 0; j < sizeof(f.name); j++)
			nul |= f.name[j] == 0;
		ok = sel >= 0x20 && nul && f.name[0];
	}
	report(ok, "fw_cfg: file directory well-formed");
	/* an item that does not exist reads 0 */
	fwcfg_select(0x7fff);
	report(inb(0x511) == 0, "fw_cfg: an unknown item reads 0");
}

/* ------------------------------------------------------------ ACPI */

static u8 sum(u32 addr, u32 len)
{
	u8 s = 0;
	for (u32 i = 0; i < len; i++)
		s += *(volatile u8 *)(addr + i);
	return s;
}

static bool sig_is(u32 addr, const char *s)
{
	for (int i = 0; i < 4; i++)
		if (*(volatile u8 *)(addr + i) != (u8)s[i])
			return false;
	return true;
}

static bool table_ok(u32 addr)
{
	u32 len = peek32(addr + 4);
	return len >= 36 && len < 0x100000 && sum(addr, len) == 0;
}

static u32 scan_rsdp(u32 start, u32 end)
{
	for (u32 a = start; a < end; a += 16)
		if (peek32(a) == 0x20445352 && peek32(a + 4) == 0x20525450 && sum(a, 20) == 0) /* "RSD PTR " */
			return a;
	return 0;
}

static void acpi_tests(void)
{
	u32 bda = 0x40e; /* the BDA's EBDA segment */
	__asm__("" : "+r"(bda)); /* an address, not a null-pointer offset */
	u32 ebda = (u32)*(volatile u16 *)bda << 4;
	u32 rsdp = 0;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		rsdp = scan_rsdp(ebda, ebda + 1024);
	if (!rsdp)
		rsdp = scan_rsdp(0xe0000, 0x100000);
	if (!report(rsdp != 0, "ACPI: RSDP found by the standard scan, checksum valid"))
		return;
	u8 rev = *(volatile u8 *)(rsdp + 15);
	u32 rsdt = peek32(rsdp + 16);
	bool xok = true;
	u32 xsdt = 0;
	if (rev >= 2) {
		u32 len = peek32(rsdp + 20);
		u32 xhi = peek32(rsdp + 28);
		xsdt = peek32(rsdp + 24);
		xok = len >= 36 && sum(rsdp, len) == 0 && xhi == 0 && (xsdt == 0 || (sig_is(xsdt, "XSDT") && table_ok(xsdt)));
	}
	report(xok, "ACPI: RSDP revision 2 fields valid (extended checksum, XSDT) where present");
	report(sig_is(rsdt, "RSDT") && table_ok(rsdt), "ACPI: RSDT signature and checksum");
	u32 n = (peek32(rsdt + 4) - 36) / 4;
	bool all_ok = true;
	u32 fadt = 0, madt = 0;
	for (u32 i = 0; i < n; i++) {
		u32 t = peek32(rsdt + 36 + 4 * i);
		all_ok &= table_ok(t);
		if (sig_is(t, "FACP"))
			fadt = t;
		if (sig_is(t, "APIC"))
			madt = t;
	}
	report(all_ok, "ACPI: every table the RSDT lists has a valid checksum");
	if (xsdt) {
		/* the XSDT lists the same tables */
		u32 xn = (peek32(xsdt + 4) - 36) / 8;
		bool same = xn == n;
		for (u32 i = 0; same && i < n; i++)
			same = peek32(xsdt + 36 + 8 * i) == peek32(rsdt + 36 + 4 * i) && peek32(xsdt + 40 + 8 * i) == 0;
		report(same, "ACPI: the XSDT (where present) lists the RSDT's tables");
	} else {
		report(true, "ACPI: the XSDT (where present) lists the RSDT's tables");
	}
	if (!report(fadt != 0, "ACPI: FADT found"))
		return;
	u32 dsdt = peek32(fadt + 40), facs = peek32(fadt + 36);
	report(sig_is(dsdt, "DSDT") && table_ok(dsdt), "ACPI: DSDT signature and checksum");
	report(sig_is(facs, "FACS") && peek32(facs + 4) >= 64 && !(facs & 63), "ACPI: FACS signature, length, alignment");
	u16 pmtmr = (u16)peek32(fadt + 76);
	u8 pmlen = *(volatile u8 *)(fadt + 91);
	u32 flags = peek32(fadt + 112);
	report(pmtmr != 0 && pmlen == 4, "ACPI: FADT has a PM timer block");
	u32 mask = (flags & (1u << 8)) ? 0xffffffff : 0xffffff;
	u32 t0 = inl(pmtmr) & mask, t1 = t0;
	for (int i = 0; i < 100000 && t1 == t0; i++)
		t1 = inl(pmtmr) & mask;
	report(t1 != t0, "ACPI: PM timer advances");
	if (!report(madt != 0, "ACPI: MADT found"))
		return;
	report(peek32(madt + 36) == 0xfee00000, "ACPI: MADT local APIC address 0xfee00000");
	u32 end = madt + peek32(madt + 4), lapics = 0;
	bool walk_ok = true;
	for (u32 e = madt + 44; e < end;) {
		u8 type = *(volatile u8 *)e, len = *(volatile u8 *)(e + 1);
		if (len < 2) {
			walk_ok = false;
			break;
		}
		if (type == 0 && (peek32(e + 4) & 1))
			lapics++;
		e += len;
	}
	report(walk_ok, "ACPI: MADT entries walk to its end");
	report(lapics >= 1, "ACPI: MADT lists >= 1 enabled local APIC");
	report(lapics == fw_cpus, "ACPI: MADT enabled local APICs equal fw_cfg's CPU count");
}

void guest_main(void)
{
	pic_tests();
	pit_tests();
	pci_post_tests();
	fwcfg_tests();
	acpi_tests();
}
