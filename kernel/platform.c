/*
 * kernel/platform.c - a VM's legacy platform: creation, the BIOS-area ROM
 * and the port dispatch (see platform.h), plus the two simplest devices:
 *
 * - PCI configuration mechanism #1 (PCI Local Bus Specification 3.0
 *   §3.2.2.3.2): the 32-bit CONFIG_ADDRESS register at 0xcf8 reads back
 *   what was written; CONFIG_DATA (0xcfc-0xcff) reads all-ones, which is
 *   what a read from an absent device returns, and ignores writes: there
 *   are no PCI devices (QEMU's pc machine has a host bridge, an ISA bridge
 *   and more: a guest enumerating PCI sees a different bus, documented).
 * - Port 0x80, the POST diagnostic port: writes ignored, reads 0xff (as
 *   QEMU's pc machine).
 */
#include "kernel/platform.h"
#include "kernel/mmio.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "kernel/vlapic.h"
#include "kernel/vm.h"
#include "kernel/x86.h"
#include "mm/kmem.h"

static u64 rom_read(struct vcpu *v, void *opaque, u64 off, unsigned size)
{
	struct platform *p = opaque;
	u64 val = 0;
	for (unsigned i = 0; i < size; i++)
		if (off + i < BIOS_TABLES_SIZE)
			val |= (u64)p->tables[off + i] << (8 * i);
	return val;
}

static void rom_write(struct vcpu *v, void *opaque, u64 off, unsigned size, u64 val)
{
	/* read-only memory: the write goes nowhere */
}

static const struct mmio_ops rom_ops = {.read = rom_read, .write = rom_write};

int platform_init(struct vm *vm)
{
	struct platform *p = kzalloc(sizeof(*p));
	if (!p)
		return E_NOMEM;
	vm->plat = p;
	vpic_reset(p);
	vpit_reset(p);
	p->pm1_cnt = 1; /* SCI_EN */
	p->pm_base_tsc = rdtsc();
	acpi_build(vm);
	vlapic_register(vm);
	return mmio_register(vm, BIOS_ROM_BASE, BIOS_ROM_END - BIOS_ROM_BASE, "bios-rom", &rom_ops, p);
}

void platform_destroy(struct vm *vm)
{
	kfree(vm->plat);
	vm->plat = NULL;
}

static bool pci_io(struct platform *p, u16 port, u8 size, bool in, u32 *val)
{
	if (port >= 0xcf8 && port < 0xcfc) {
		if (port != 0xcf8 || size != 4) {
			/* byte/word accesses (0xcf9 is the reset control
			 * register on real chipsets): not modelled */
			if (in)
				*val = 0xffffffff;
			return true;
		}
		if (in)
			*val = p->pci_addr;
		else
			p->pci_addr = *val;
		return true;
	}
	if (port >= 0xcfc && port < 0xd00) {
		if (in)
			*val = 0xffffffff; /* no device answers */
		return true;
	}
	return false;
}

bool platform_port_io(struct vcpu *v, u16 port, u8 size, bool in, u32 *val)
{
	struct platform *p = v->vm->plat;
	if (!p)
		return false;
	if (port == 0x80) {
		if (in)
			*val = 0xff;
		return true;
	}
	spin_lock(&p->lock);
	bool mine = vpic_io(p, port, in, val) || vpit_io(p, port, in, val) || pci_io(p, port, size, in, val) ||
		    fwcfg_io(v->vm, port, size, in, val) || acpi_pm_io(p, port, size, in, val);
	spin_unlock(&p->lock);
	return mine;
}
