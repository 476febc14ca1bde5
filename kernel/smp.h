/*
 * kernel/smp.h - the other CPUs: found in the ACPI MADT, started with
 * INIT-SIPI-SIPI through a trampoline below 1 MiB, each with its own GDT,
 * TSS, IST and main stacks (guard pages unmapped), per-CPU data and the
 * virtualization backend enabled. Each CPU runs the VMs placed on it.
 */
#ifndef UMBRA_KERNEL_SMP_H
#define UMBRA_KERNEL_SMP_H

#include "kernel/types.h"

struct boot_info;

#define IPI_TICK_VECTOR 0x21 /* the BSP's timer tick, forwarded to APs */

/* CPUs running Umbra (the BSP included). */
extern u32 smp_cpus_online;

/* Start up to @max_cpus - 1 application processors (cpus= option; 0 =
 * all). Each enables the backend and waits for smp_release(). */
void smp_start_aps(const struct boot_info *bi, u32 max_cpus);

/* Let the APs run their VMs (after the VMs have been placed). */
void smp_release(void);

/* Called by the BSP's timer tick: forward it to every AP. */
void smp_tick(void);

#endif
