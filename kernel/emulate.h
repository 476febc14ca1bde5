/*
 * kernel/emulate.h - runs the instruction emulator (kernel/x86_emu.c) on a
 * vCPU: registers and segments from the register cache and backend
 * accessors, memory through the guest's page tables (kernel/gva.c), ports
 * through the VM's platform.
 */
#ifndef UMBRA_KERNEL_EMULATE_H
#define UMBRA_KERNEL_EMULATE_H

#include "kernel/types.h"

struct vcpu;

/* Emulate the instruction at @v's RIP. On success the register cache is
 * updated; an architectural fault is injected; an instruction the
 * emulator cannot do ends the VM with its bytes in the reason. Returns
 * E_OK when the guest can continue. */
int emulate_insn(struct vcpu *v);

struct x86_insn;

/* Fetch the instruction at @v's CS:RIP through the guest's tables and
 * decode it. E_FAULT when it cannot be fetched or decoded. */
int emulate_fetch_decode(struct vcpu *v, struct x86_insn *insn);

/* Length of the instruction at @v's RIP (fetched and decoded). */
int emulate_insn_length(struct vcpu *v, u8 *len);

/* The exit says which instruction is at @v's CS:RIP, and @op (@n <= 4
 * bytes) is its only encoding without prefixes: @n when the bytes there
 * are exactly @op, else 0 (prefixes, or not fetched: decode instead).
 * Reads only those bytes, through the vCPU's code cache (kernel/gva.h). */
unsigned emulate_known_length(struct vcpu *v, const u8 *op, unsigned n);

#endif
