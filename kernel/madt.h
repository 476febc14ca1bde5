/*
 * kernel/madt.h - the host's CPUs, from the ACPI MADT (ACPI 6.x §5.2.12):
 * local APIC (type 0) and local x2APIC (type 9) entries that are enabled
 * or online-capable.
 */
#ifndef UMBRA_KERNEL_MADT_H
#define UMBRA_KERNEL_MADT_H

#include "kernel/types.h"

struct boot_info;

/* Fill @apic_ids with up to @max APIC IDs of usable CPUs (the boot CPU
 * among them). Returns the count, 0 when there is no usable MADT (then
 * only the boot CPU runs). Messages say what was found or why not. */
u32 madt_cpus(const struct boot_info *bi, u32 *apic_ids, u32 max);

#endif
