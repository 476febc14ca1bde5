/*
 * kernel/insn_len.c - instruction lengths for exits without next-RIP.
 *
 * Each intercepted instruction has one encoding without prefixes; the
 * table gives its length. Guests that put prefixes in front of CPUID,
 * RDMSR... are handled once the instruction decoder fetches the bytes
 * (not yet: see docs/architecture.md).
 */
#include "kernel/insn_len.h"

int insn_length(struct vcpu *v, const struct vm_exit *e, u8 *len)
{
	switch (e->reason) {
	case EXIT_HLT: *len = 1; return E_OK;               /* F4 */
	case EXIT_CPUID:                                     /* 0F A2 */
	case EXIT_RDMSR:                                     /* 0F 32 */
	case EXIT_WRMSR:                                     /* 0F 30 */
	case EXIT_INVD:                                      /* 0F 08 */
	case EXIT_WBINVD:                                    /* 0F 09 */
	case EXIT_PAUSE: *len = 2; return E_OK;             /* F3 90 */
	case EXIT_HYPERCALL:                                 /* 0F 01 D9 */
	case EXIT_XSETBV: *len = 3; return E_OK;            /* 0F 01 D1 */
	default: return E_FAULT;
	}
}
