/*
 * kernel/lapic.h - the host's local APIC (xAPIC MMIO mode, SDM vol. 3A
 * ch. 11): identification, EOI, and inter-processor interrupts (INIT,
 * SIPI, fixed). Umbra's own; guests never see it.
 */
#ifndef UMBRA_KERNEL_LAPIC_H
#define UMBRA_KERNEL_LAPIC_H

#include "kernel/types.h"

#define LAPIC_SPURIOUS_VECTOR 0xff

/* Map the local APIC (once) and enable it on the calling CPU. */
int lapic_init_cpu(void);

u32 lapic_id(void);
void lapic_eoi(void);

/* INIT, then two SIPIs for start page @page_pa (below 1 MiB, 4 KiB
 * aligned), to the CPU with APIC ID @apic_id (SDM vol. 3A §9.4.4.1). */
void lapic_start_ap(u32 apic_id, u32 page_pa);

/* NMI to every CPU but this one (panic). */
void lapic_nmi_others(void);

/* Fixed IPI @vector to the CPU with APIC ID @apic_id. */
void lapic_send_ipi(u32 apic_id, u8 vector);
/* Fixed IPI @vector to every CPU but this one. */
void lapic_ipi_others(u8 vector);

/* Busy-wait about @us microseconds on the PIT (boot-time delays only). */
void udelay(u32 us);

#endif
