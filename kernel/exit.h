/*
 * kernel/exit.h - the common exit policy: what Umbra does for each
 * vendor-neutral exit record (kernel/backend.h).
 */
#ifndef UMBRA_KERNEL_EXIT_H
#define UMBRA_KERNEL_EXIT_H

#include "kernel/backend.h"

struct vcpu;

/* Handle exit @e of @v. On return either the vCPU can be resumed, or its
 * VM has ended (vm_running() is false). */
void exit_handle(struct vcpu *v, struct vm_exit *e);

/* Port I/O of @v to the VM's platform (COM1, debug exit, unknown ports):
 * for IN, *@val receives the value. */
void exit_port_io(struct vcpu *v, u16 port, u8 size, bool in, u32 *val);

/* Queue exception @vector (with @error when @has_error) for @v. */
void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error);

#endif
