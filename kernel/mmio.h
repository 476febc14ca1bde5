/*
 * kernel/mmio.h - emulated memory-mapped devices of a VM.
 *
 * A device claims a range of guest-physical addresses that is not RAM
 * (the legacy hole, or above the VM's RAM). Guest accesses to it reach
 * Umbra as a TDP fault (paging=tdp: the range has no NPT/EPT mapping) or a
 * shadow page fault the shadow MMU cannot fix (paging=shadow: SPF_EMULATE
 * for a non-RAM frame); kernel/emulate.c then runs the instruction and
 * kernel/gva.c sends its data accesses here.
 *
 * Contract: regions never overlap RAM or each other; callbacks see the
 * offset into the region and a size of 1, 2, 4 or 8 bytes, never crossing
 * a region boundary (longer or unaligned accesses are split, low address
 * first, as a bus splits them). Instruction fetch from MMIO is refused.
 * An access to non-RAM that no device claims still ends the VM
 * ("... of guest-physical 0x... outside RAM").
 */
#ifndef UMBRA_KERNEL_MMIO_H
#define UMBRA_KERNEL_MMIO_H

#include "kernel/types.h"

struct vcpu;
struct vm;

struct mmio_ops {
	u64 (*read)(struct vcpu *v, void *opaque, u64 off, unsigned size);
	void (*write)(struct vcpu *v, void *opaque, u64 off, unsigned size, u64 val);
};

struct mmio_region {
	gpa_t base;
	u64 len;
	const char *name;
	const struct mmio_ops *ops;
	void *opaque;
};

#define MMIO_MAX_REGIONS 8

struct mmio_bus {
	u32 n;
	struct mmio_region r[MMIO_MAX_REGIONS];
};

/* Claim [@base, @base + @len) for a device. E_INVAL when the range holds
 * RAM or overlaps another region, E_NOMEM when the table is full. */
int mmio_register(struct vm *vm, gpa_t base, u64 len, const char *name, const struct mmio_ops *ops,
		  void *opaque);

/* The region holding every byte of [@gpa, @gpa + @len), or NULL. */
const struct mmio_region *mmio_find(const struct vm *vm, gpa_t gpa, u64 len);

/* Move @len bytes between @buf and the device at @gpa (which must be
 * claimed: mmio_find). Counts the access in the VM's statistics. */
void mmio_access(struct vcpu *v, gpa_t gpa, void *buf, unsigned len, bool write);

#endif
