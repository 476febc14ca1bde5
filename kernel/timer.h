/*
 * kernel/timer.h - the host timer: the legacy PIT at TIMER_HZ through the
 * 8259 PIC (IRQ 0 on vector 32). It preempts guests so VMs sharing a CPU
 * get time slices and timeouts fire. (Per-CPU LAPIC timers come with SMP.)
 */
#ifndef UMBRA_KERNEL_TIMER_H
#define UMBRA_KERNEL_TIMER_H

#include "kernel/types.h"

#define TIMER_HZ 100
#define TIMER_VECTOR 32

/* Program the PIT and PIC; leaves every other IRQ masked. */
void timer_init(void);

/* Ticks since timer_init(). */
u64 timer_ticks(void);

/* The TSC frequency in Hz, measured against PIT channel 2 in
 * timer_init() (never 0). Virtual timers (PM timer, PIT) derive their
 * counts from the TSC with it. */
u64 timer_tsc_hz(void);

/* TSC ticks of @tsc_delta expressed in units of a @hz clock, without
 * overflow for any delta. */
u64 timer_tsc_to(u64 tsc_delta, u64 hz);

#endif
