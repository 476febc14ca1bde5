/*
 * kernel/acpi.c - ACPI tables for a VM and its ACPI PM registers.
 *
 * The tables (ACPI 6.4 chapter 5.2) live in a read-only BIOS area at
 * guest-physical [0xE0000, 0x100000), emulated as MMIO (kernel/mmio.h):
 * the legacy hole stays non-RAM (mm/gmem.c), reads return the tables
 * (zeros past them), writes are ignored as ROM ignores them. Layout:
 *
 *   0xE0000  RSDP, revision 2 (§5.2.5.3), found by the standard scan of
 *            the BIOS area on 16-byte boundaries (§5.2.5.1)
 *   0xE0040  RSDT (§5.2.7)   0xE0080 XSDT (§5.2.8): FADT, MADT
 *   0xE0100  FADT (§5.2.9), revision 3, 244 bytes
 *   0xE0200  FACS (§5.2.10), 64-byte aligned (read-only here: see docs)
 *   0xE0240  DSDT (§5.2.11.1): a header and an empty AML body
 *   0xE0280  MADT (§5.2.12): the local APIC at 0xFEE00000, PCAT_COMPAT,
 *            one enabled Processor Local APIC (§5.2.12.2) per vCPU with
 *            APIC ID = processor UID = the vCPU number (CPUID leaf 1 EBX)
 *
 * Every table's checksum makes its bytes sum to 0 (§5.2.6); the RSDP has
 * both its 20-byte and its extended checksum (§5.2.5.3).
 *
 * The PM registers follow QEMU's pc machine (PIIX4 PM base 0x600): PM1a
 * event block at 0x600 (PM1_STS write-1-to-clear, PM1_EN), PM1a control at
 * 0x604 (SCI_EN set: the VM is already in ACPI mode, so SMI_CMD is 0,
 * §4.8.2.1 / §5.2.9), and the PM timer at 0x608 (§4.8.3.3): 32 bits
 * (TMR_VAL_EXT) counting at 3.579545 MHz from the VM's creation, derived
 * from the host TSC. The timer's overflow status/SCI is not raised.
 */
#include "kernel/platform.h"
#include "kernel/string.h"
#include "kernel/timer.h"
#include "kernel/vm.h"
#include "kernel/x86.h"

#define RSDP_OFF 0x000
#define RSDT_OFF 0x040
#define XSDT_OFF 0x080
#define FADT_OFF 0x100
#define FACS_OFF 0x200
#define DSDT_OFF 0x240
#define MADT_OFF 0x280

#define LAPIC_BASE 0xfee00000u

static void put8(u8 *t, u32 off, u8 v) { t[off] = v; }
static void put16(u8 *t, u32 off, u16 v) { memcpy(t + off, &v, 2); }
static void put32(u8 *t, u32 off, u32 v) { memcpy(t + off, &v, 4); }
static void put64(u8 *t, u32 off, u64 v) { memcpy(t + off, &v, 8); }

static u8 checksum(const u8 *p, u32 len)
{
	u8 s = 0;
	for (u32 i = 0; i < len; i++)
		s += p[i];
	return (u8)-s;
}

/* The common System Description Table header (§5.2.6, Table 5.4). */
static void header(u8 *t, const char *sig, u32 len, u8 rev)
{
	memcpy(t, sig, 4);
	put32(t, 4, len);
	put8(t, 8, rev);
	memcpy(t + 10, "UMBRA ", 6);    /* OEMID */
	memcpy(t + 16, "UMBRAVM ", 8);  /* OEM table ID */
	put32(t, 24, 1);                /* OEM revision */
	memcpy(t + 28, "UMBR", 4);      /* creator ID */
	put32(t, 32, 1);                /* creator revision */
}

static void finish(u8 *t)
{
	u32 len;
	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* A Generic Address Structure (§5.2.3.2) for a system I/O register. */
static void gas_io(u8 *t, u32 off, u8 bits, u16 port)
{
	put8(t, off, 1);          /* system I/O space */
	put8(t, off + 1, bits);   /* register bit width */
	put8(t, off + 2, 0);      /* bit offset */
	put8(t, off + 3, bits == 32 ? 3 : bits == 16 ? 2 : 1); /* access size */
	put64(t, off + 4, port);
}

static void build_fadt(u8 *t)
{
	u32 base = (u32)BIOS_ROM_BASE;
	header(t, "FACP", 244, 3);
	put32(t, 36, base + FACS_OFF);     /* FIRMWARE_CTRL */
	put32(t, 40, base + DSDT_OFF);     /* DSDT */
	put8(t, 45, 0);                    /* Preferred_PM_Profile: unspecified */
	put16(t, 46, ACPI_SCI_IRQ);        /* SCI_INT */
	put32(t, 48, 0);                   /* SMI_CMD: no transition needed */
	put32(t, 56, ACPI_PM_BASE);        /* PM1a_EVT_BLK */
	put32(t, 64, ACPI_PM_BASE + 4);    /* PM1a_CNT_BLK */
	put32(t, 76, ACPI_PM_TMR);         /* PM_TMR_BLK */
	put8(t, 88, 4);                    /* PM1_EVT_LEN */
	put8(t, 89, 2);                    /* PM1_CNT_LEN */
	put8(t, 91, 4);                    /* PM_TMR_LEN */
	put16(t, 96, 101);                 /* P_LVL2_LAT > 100: no C2 */
	put16(t, 98, 1001);                /* P_LVL3_LAT > 1000: no C3 */
	put16(t, 109, 0);                  /* IAPC_BOOT_ARCH */
	/* Flags (Table 5.10): WBINVD, PROC_C1, SLP_BUTTON (none), RTC_S4 no,
	 * TMR_VAL_EXT (32-bit PM timer) */
	put32(t, 112, BIT(0) | BIT(2) | BIT(5) | BIT(8));
	put64(t, 132, base + FACS_OFF);    /* X_FIRMWARE_CTRL */
	put64(t, 140, base + DSDT_OFF);    /* X_DSDT */
	gas_io(t, 148, 32, ACPI_PM_BASE);  /* X_PM1a_EVT_BLK */
	gas_io(t, 172, 16, ACPI_PM_BASE + 4); /* X_PM1a_CNT_BLK */
	gas_io(t, 208, 32, ACPI_PM_TMR);   /* X_PM_TMR_BLK */
	finish(t);
}

static void build_madt(u8 *t, u32 ncpus)
{
	u32 len = 44 + 8 * ncpus;
	header(t, "APIC", len, 3);
	put32(t, 36, LAPIC_BASE);  /* Local Interrupt Controller Address */
	put32(t, 40, 1);           /* PCAT_COMPAT: dual 8259s are present */
	for (u32 i = 0; i < ncpus; i++) {
		u8 *e = t + 44 + 8 * i;
		put8(e, 0, 0);          /* Processor Local APIC */
		put8(e, 1, 8);
		put8(e, 2, (u8)i);      /* ACPI processor UID */
		put8(e, 3, (u8)i);      /* APIC ID */
		put32(e, 4, 1);         /* enabled */
	}
	finish(t);
}

void acpi_build(struct vm *vm)
{
	u8 *t = vm->plat->tables;
	u32 base = (u32)BIOS_ROM_BASE;
	memset(t, 0, BIOS_TABLES_SIZE);

	/* FACS (Table 5.11): no checksum; length 64, version 2 */
	u8 *facs = t + FACS_OFF;
	memcpy(facs, "FACS", 4);
	put32(facs, 4, 64);
	put8(facs, 32, 2);

	header(t + DSDT_OFF, "DSDT", 36, 2);
	finish(t + DSDT_OFF);
	build_fadt(t + FADT_OFF);
	build_madt(t + MADT_OFF, vm->cfg.vcpus);

	header(t + RSDT_OFF, "RSDT", 36 + 2 * 4, 1);
	put32(t + RSDT_OFF, 36, base + FADT_OFF);
	put32(t + RSDT_OFF, 40, base + MADT_OFF);
	finish(t + RSDT_OFF);
	header(t + XSDT_OFF, "XSDT", 36 + 2 * 8, 1);
	put64(t + XSDT_OFF, 36, base + FADT_OFF);
	put64(t + XSDT_OFF, 44, base + MADT_OFF);
	finish(t + XSDT_OFF);

	/* RSDP (Table 5.3) */
	u8 *r = t + RSDP_OFF;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "UMBRA ", 6);
	put8(r, 15, 2);                     /* revision: ACPI 2.0+ */
	put32(r, 16, base + RSDT_OFF);
	put32(r, 20, 36);                   /* length */
	put64(r, 24, base + XSDT_OFF);
	r[8] = checksum(r, 20);
	r[32] = checksum(r, 36);
}

bool acpi_pm_io(struct platform *p, u16 port, u8 size, bool in, u32 *val)
{
	if (port < ACPI_PM_BASE || port >= ACPI_PM_TMR + 4)
		return false;
	if (port >= ACPI_PM_TMR) {
		/* §4.8.3.3: a read-only free-running counter */
		if (in) {
			u32 n = (u32)timer_tsc_to(rdtsc() - p->pm_base_tsc, ACPI_PM_TIMER_HZ);
			*val = n >> (8 * (port - ACPI_PM_TMR));
		}
		return true;
	}
	/* PM1_STS (0x600, 16 bits), PM1_EN (0x602), PM1_CNT (0x604) */
	u32 off = port - ACPI_PM_BASE;
	u8 regs[8];
	memcpy(regs, &p->pm1_sts, 2);
	memcpy(regs + 2, &p->pm1_en, 2);
	memcpy(regs + 4, &p->pm1_cnt, 2);
	regs[6] = regs[7] = 0;
	if (in) {
		u32 v = 0;
		for (u32 i = 0; i < size && off + i < 8; i++)
			v |= (u32)regs[off + i] << (8 * i);
		*val = v;
		return true;
	}
	u8 w[8];
	memcpy(w, regs, 8);
	for (u32 i = 0; i < size && off + i < 8; i++)
		w[off + i] = (u8)(*val >> (8 * i));
	u16 sts, en, cnt;
	memcpy(&sts, w, 2);
	memcpy(&en, w + 2, 2);
	memcpy(&cnt, w + 4, 2);
	if (off < 2)
		p->pm1_sts &= ~sts; /* write 1 to clear */
	p->pm1_en = en;
	/* SCI_EN (bit 0) stays set; SLP_EN (bit 13) is not honoured */
	p->pm1_cnt = (cnt & ~BIT(13)) | 1;
	return true;
}
