/*
 * kernel/trap.h - host interrupt and exception handling: the trap frame,
 * handler registration for interrupt vectors, and safe MSR access through
 * an exception-fixup table.
 */
#ifndef UMBRA_KERNEL_TRAP_H
#define UMBRA_KERNEL_TRAP_H

#include "kernel/types.h"

/* Layout pushed by kernel/isr.asm (lowest address first). */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};

extern const u64 isr_stub_table[256];

typedef void (*irq_handler_fn)(struct trap_frame *tf);

/* Install @fn for interrupt vector @vector (32..255). */
void irq_register(u8 vector, irq_handler_fn fn);

/* Called by the stubs. Exceptions not covered by a fixup are fatal. */
void trap_entry(struct trap_frame *tf);

/* Name of an exception vector ("#GP", ...), or "IRQ". */
const char *exception_name(u64 vector);

/* RDMSR/WRMSR that return E_FAULT instead of dying on #GP. */
int rdmsr_safe(u32 msr, u64 *val);
int wrmsr_safe(u32 msr, u64 val);

#endif
