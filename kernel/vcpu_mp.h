/*
 * kernel/vcpu_mp.h - the multiprocessor life of a vCPU: INIT, SIPI and
 * NMI from the local APICs of its VM, and the requests other CPUs post to
 * it (kernel/vcpu_kick.h), taken on the vCPU's own CPU.
 */
#ifndef UMBRA_KERNEL_VCPU_MP_H
#define UMBRA_KERNEL_VCPU_MP_H

#include "kernel/types.h"

struct vcpu;

/* On @v's own CPU, with @v loaded or not: take the pending requests and
 * events (TLB flush, INIT, SIPI, NMI). May end the VM. */
void vcpu_service(struct vcpu *v);

/* Something another vCPU sent to @v is visible (an IRR bit, an event):
 * count it as a wake (the blocked-VM check, kernel/sched.c) and make @v's
 * CPU look at it before @v enters again. */
void vcpu_notify(struct vcpu *v);

/* Post an INIT, a SIPI with start page @vector, or an NMI to @v (any CPU;
 * vcpu_service takes it on @v's CPU). */
void vcpu_send_init(struct vcpu *v);
void vcpu_send_sipi(struct vcpu *v, u8 vector);
void vcpu_send_nmi(struct vcpu *v);

#endif
