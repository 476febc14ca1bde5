/*
 * kernel/platform.h - the legacy PC platform of a VM, modelled on QEMU's
 * pc machine as a multiboot kernel sees it after SeaBIOS (docs/platform.md):
 *
 *   kernel/vpic.c    two 8259A PICs (ports 0x20/0x21, 0xa0/0xa1), all masked
 *   kernel/vpit.c    the 8254 PIT (0x40-0x43), counting from the TSC
 *   kernel/fwcfg.c   QEMU's fw_cfg, legacy I/O interface (0x510/0x511)
 *   kernel/acpi.c    ACPI tables in a read-only BIOS area [0xE0000, 0x100000)
 *                    and the ACPI PM registers (PM1 at 0x600, PM timer 0x608)
 *   kernel/platform.c  the port dispatch, PCI config (0xcf8/0xcfc: no
 *                    devices) and the POST port 0x80
 *
 * Each device's state lives in struct platform; each device file offers an
 * I/O handler that says whether it owns the port. Contract: handlers only
 * touch their device's state and the calling vCPU's VM; none raises an
 * interrupt (only the local APIC, kernel/vlapic.c, delivers interrupts).
 */
#ifndef UMBRA_KERNEL_PLATFORM_H
#define UMBRA_KERNEL_PLATFORM_H

#include "kernel/spinlock.h"
#include "kernel/types.h"

struct vcpu;
struct vm;

/* One 8259A (Intel 8259A data sheet: ICW1-4, OCW1-3). */
struct vpic_chip {
	u8 imr, irr, isr;
	u8 vector_base;   /* ICW2 */
	u8 icw_step;      /* 0: ready; 2, 3, 4: expecting that ICW */
	bool icw4_needed, single, read_isr, auto_eoi;
};

/* One 8254 counter. */
struct vpit_chan {
	u8 mode, rw;        /* rw: 1 = LSB, 2 = MSB, 3 = LSB then MSB */
	bool write_msb;     /* rw=3: the next data write is the MSB */
	bool read_msb;      /* rw=3: the next data read is the MSB */
	bool latched;       /* a latched count waits to be read */
	bool status_latched;
	u8 status;
	u16 latch;
	u16 reload_partial;
	u32 reload;         /* 1..65536 */
	u64 start_tsc;      /* when counting (re)started */
	bool counting;      /* a count has been written since the control word */
};

#define FWCFG_SELECTOR 0x510
#define FWCFG_DATA 0x511

struct fwcfg {
	u16 key;
	u32 off;
};

/* The read-only BIOS area holding the ACPI tables. */
#define BIOS_ROM_BASE 0xe0000ULL
#define BIOS_ROM_END 0x100000ULL
#define BIOS_TABLES_SIZE 4096 /* table bytes at BIOS_ROM_BASE; the rest reads 0 */

#define ACPI_PM_BASE 0x600    /* PM1a event (4 bytes), PM1a control (2) */
#define ACPI_PM_TMR 0x608     /* PM timer, 32 bits, 3.579545 MHz */
#define ACPI_PM_TIMER_HZ 3579545ULL
#define ACPI_SCI_IRQ 9

/* The lock serializes port accesses of the VM's vCPUs (any CPU). */
struct platform {
	struct spinlock lock;
	struct vpic_chip pic[2];
	struct vpit_chan pit[3];
	struct fwcfg fwcfg;
	u32 pci_addr;          /* 0xcf8 */
	u16 pm1_sts, pm1_en, pm1_cnt;
	u64 pm_base_tsc;       /* the PM timer reads 0 here */
	u8 tables[BIOS_TABLES_SIZE];
};

/* Create @vm's platform (devices reset, ACPI tables built, the BIOS area
 * claimed as MMIO). E_NOMEM on failure. */
int platform_init(struct vm *vm);
void platform_destroy(struct vm *vm);

/* A port access by @v: true when a platform device owns @port (then *val
 * holds the value read), false for an unknown port. */
bool platform_port_io(struct vcpu *v, u16 port, u8 size, bool in, u32 *val);

/* The devices (each in its own file). Same return convention. */
void vpic_reset(struct platform *p);
bool vpic_io(struct platform *p, u16 port, bool in, u32 *val);
void vpit_reset(struct platform *p);
bool vpit_io(struct platform *p, u16 port, bool in, u32 *val);
bool fwcfg_io(struct vm *vm, u16 port, u8 size, bool in, u32 *val);
/* Build the ACPI tables of @vm into p->tables (at BIOS_ROM_BASE). */
void acpi_build(struct vm *vm);
bool acpi_pm_io(struct platform *p, u16 port, u8 size, bool in, u32 *val);

#endif
