/*
 * kernel/vcpu_kick.h - asking a vCPU, possibly on another CPU, to do
 * something before it next enters guest mode (the protocol is in
 * kernel/vcpu_sync.h): TLB shootdowns of the shadow MMU, interrupts, INIT
 * and SIPI from a virtual local APIC.
 */
#ifndef UMBRA_KERNEL_VCPU_KICK_H
#define UMBRA_KERNEL_VCPU_KICK_H

#include "kernel/types.h"
#include "kernel/vcpu_sync.h"

struct vcpu;

#define IPI_KICK_VECTOR 0x22 /* makes a CPU leave guest mode or its idle HLT */

/* Register the kick IPI handler (once, before the APs start). */
void vcpu_kick_init(void);

/* Post VREQ_* @bits to @v and make sure it sees them before its next
 * entry: a vCPU in guest mode on another CPU is kicked out, an idle CPU
 * that may hold it halted is woken. Returns at once. */
void vcpu_post(struct vcpu *v, u32 bits);

/* Like vcpu_post, then wait until @v is out of the guest-mode stay in
 * which it could not have seen @bits (a TLB shootdown: nothing may be
 * freed while another CPU may still walk it). Never waits for the
 * calling CPU's own vCPU. */
void vcpu_post_wait(struct vcpu *v, u32 bits);

/* The owner, before entering guest mode: true when it may enter; false
 * when requests are pending (take them with vcpu_take_requests). */
bool vcpu_enter_begin(struct vcpu *v);
void vcpu_enter_end(struct vcpu *v);
u32 vcpu_take_requests(struct vcpu *v);

#endif
