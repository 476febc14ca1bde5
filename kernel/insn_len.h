/*
 * kernel/insn_len.h - the length of the instruction that caused an exit,
 * for CPUs that do not report it (AMD without NRIPS, e.g. QEMU TCG).
 */
#ifndef UMBRA_KERNEL_INSN_LEN_H
#define UMBRA_KERNEL_INSN_LEN_H

#include "kernel/backend.h"

struct vcpu;

/* Length of the instruction at the guest's RIP that caused exit @e.
 * Returns E_OK, or E_FAULT when it cannot be determined. */
int insn_length(struct vcpu *v, const struct vm_exit *e, u8 *len);

#endif
