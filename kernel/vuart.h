/*
 * kernel/vuart.h - the virtual COM1 16550 of each VM. Output is collected
 * per line and printed on Umbra's console as "[NAME] text".
 */
#ifndef UMBRA_KERNEL_VUART_H
#define UMBRA_KERNEL_VUART_H

#include "kernel/spinlock.h"
#include "kernel/types.h"

#define VUART_BASE 0x3f8

/* One per VM; the lock serializes the VM's vCPUs (on any CPU). */
struct vuart {
	struct spinlock lock;
	u8 ier, lcr, mcr, scr, dll, dlm, fcr;
	u32 len;
	char line[160];
};

struct vm;

/* Handle a guest access to port @port (VUART_BASE..+7). */
void vuart_io(struct vm *vm, u16 port, bool in, u32 *val);

/* Print what is left in the line buffer (at VM end). */
void vuart_flush(struct vm *vm);

#endif
