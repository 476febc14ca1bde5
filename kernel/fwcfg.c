/*
 * kernel/fwcfg.c - QEMU's firmware configuration device, legacy I/O
 * interface only (QEMU's docs/specs/fw_cfg.rst, "Selector Register" and
 * "Data Register" on x86: 16-bit selector at port 0x510, 8-bit data at
 * 0x511). Writing the selector picks an item and rewinds its offset; each
 * data read returns the item's next byte, 0 past its end or for an item
 * that does not exist. Writes to the data port are ignored (QEMU too
 * ignores them since 2.4). No DMA interface: the ID says so.
 *
 * Items (multi-byte values little-endian, as the specification says,
 * except the file directory, which is big-endian):
 *   0x00 SIGNATURE  "QEMU"
 *   0x01 ID         1: traditional interface, no DMA (bit 1 clear)
 *   0x03 RAM_SIZE   64 bits: the VM's mem= (QEMU: -m)
 *   0x05 NB_CPUS    16 bits: the VM's vcpus= (QEMU: -smp)
 *   0x0f MAX_CPUS   16 bits: the same
 *   0x19 FILE_DIR   a 32-bit count of 0: no files
 */
#include "kernel/platform.h"
#include "kernel/string.h"
#include "kernel/vm.h"

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19

/* Byte @off of item @key of @vm (0 when none). */
static u8 item_byte(struct vm *vm, u16 key, u32 off)
{
	u8 buf[8];
	u32 len;
	u64 v;
	switch (key) {
	case FW_CFG_SIGNATURE: memcpy(buf, "QEMU", 4); len = 4; break;
	case FW_CFG_ID: v = 1; memcpy(buf, &v, 4); len = 4; break;
	case FW_CFG_RAM_SIZE: v = vm->cfg.mem; memcpy(buf, &v, 8); len = 8; break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS: v = vm->nr_vcpus ? vm->nr_vcpus : vm->cfg.vcpus; memcpy(buf, &v, 2); len = 2; break;
	case FW_CFG_FILE_DIR: memset(buf, 0, 4); len = 4; break; /* count 0, big-endian */
	default: return 0;
	}
	return off < len ? buf[off] : 0;
}

bool fwcfg_io(struct vm *vm, u16 port, u8 size, bool in, u32 *val)
{
	struct fwcfg *f = &vm->plat->fwcfg;
	if (port == FWCFG_SELECTOR) {
		if (in)
			*val = 0xffffffff; /* the selector is write-only */
		else if (size == 2) {
			f->key = (u16)*val;
			f->off = 0;
		}
		return true;
	}
	if (port == FWCFG_DATA) {
		if (in) {
			*val = item_byte(vm, f->key, f->off);
			if (f->off < 0xffffffffu)
				f->off++;
		}
		return true;
	}
	return false;
}
