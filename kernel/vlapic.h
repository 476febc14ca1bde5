/*
 * kernel/vlapic.h - the virtual local xAPIC of a vCPU (Intel SDM vol. 3A
 * chapter 11, "Advanced Programmable Interrupt Controller (APIC)").
 *
 * One MMIO range per VM at VLAPIC_BASE (the MADT's local APIC address);
 * an access reaches the state of the vCPU making it, as every CPU sees its
 * own local APIC at the same address (§11.4.1). The registers of §11.4.1
 * table 11-1 are modelled, without x2APIC (§11.12), the TSC-deadline timer
 * mode (§11.5.4.1). IPIs reach the other vCPUs of the VM (see vlapic.c).
 *
 * Interrupt delivery (docs/platform.md): a source (the LAPIC timer, a
 * self-IPI) sets an IRR bit; before each entry vlapic_before_entry() asks
 * the backend for an interrupt window when an IRR vector may be delivered
 * (§11.8.3: its priority class above the PPR's); the window exit
 * (EXIT_IRQ_WINDOW) calls vlapic_irq_window(), which injects the vector
 * and moves it from IRR to ISR (§11.8.4).
 */
#ifndef UMBRA_KERNEL_VLAPIC_H
#define UMBRA_KERNEL_VLAPIC_H

#include "kernel/types.h"

struct vcpu;
struct vm;

#define VLAPIC_BASE 0xfee00000ULL
#define VLAPIC_SIZE 0x1000ULL
#define MSR_IA32_APIC_BASE 0x1b

/* Local vector table entries, in register order 0x320..0x370. */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_N };

struct vlapic {
	u32 tpr, ldr, dfr, svr;
	u32 esr, esr_pending; /* ESR reads what the last write latched (§11.5.3) */
	u32 icr_lo, icr_hi;
	u32 isr[8], tmr[8], irr[8];
	u32 lvt[LVT_N];
	u32 tmict, tdcr;
	u64 deadline_tsc;     /* next timer expiry; 0: the timer is not counting */
	u64 period_tsc;       /* tmict << divide, in TSC ticks */
	u64 delivered;        /* interrupts injected (VM-STATS) */
};

/* Reset @v's LAPIC (§11.4.7.1 power-up state). */
void vlapic_reset(struct vcpu *v);

/* Claim the LAPIC page of @vm (skipped when RAM covers it: mem= beyond
 * 0xFEE00000). */
void vlapic_register(struct vm *vm);

/* Timer expiry up to @now (a TSC value): sets the IRR bit of the timer. */
void vlapic_timer_check(struct vcpu *v, u64 now);

/* The vector of the highest-priority interrupt the LAPIC may deliver now
 * (IRR above PPR), or -1. */
int vlapic_pending(struct vcpu *v);

/* A halted @v can still be woken by its LAPIC: an interrupt is pending or
 * the timer counts with an unmasked LVT entry. */
bool vlapic_may_wake(struct vcpu *v);

/* Before entering @v: timer check, then ask the backend for an interrupt
 * window when an interrupt is pending (and cancel it otherwise). */
void vlapic_before_entry(struct vcpu *v);

/* EXIT_IRQ_WINDOW: the guest can take an interrupt now; inject it. */
void vlapic_irq_window(struct vcpu *v);

/* IA32_APIC_BASE (MSR 1Bh). */
u64 vlapic_apic_base(struct vcpu *v);
int vlapic_set_apic_base(struct vcpu *v, u64 val);

#endif
