/*
 * kernel/fpu.h - the guests' FPU/SSE/AVX state.
 *
 * Umbra never uses FPU or vector registers itself (-mgeneral-regs-only),
 * so the registers hold the running vCPU's state across exits; they are
 * saved and restored only when the CPU switches to another vCPU (XSAVE of
 * every supported component when present, else FXSAVE).
 */
#ifndef UMBRA_KERNEL_FPU_H
#define UMBRA_KERNEL_FPU_H

#include "kernel/types.h"

struct vcpu;

/* Detect XSAVE and enable it (CR4.OSXSAVE, OSFXSR) on this CPU. */
void fpu_cpu_init(void);

/* Allocate @v's save area in the reset state (FNINIT, MXCSR=0x1f80). */
int fpu_init_vcpu(struct vcpu *v);
void fpu_free_vcpu(struct vcpu *v);

/* Save @from's state (may be NULL) and load @to's, including XCR0. */
void fpu_switch(struct vcpu *from, struct vcpu *to);

#endif
