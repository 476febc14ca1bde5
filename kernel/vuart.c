/*
 * kernel/vuart.c - virtual 16550 UART at COM1 (see vuart.h).
 *
 * Enough of the 16550 for polling drivers: THR/RBR, IER, IIR/FCR, LCR
 * (with DLAB and the divisor latch), MCR, LSR (transmitter always empty,
 * no receive data), MSR, SCR. No interrupts are raised. A byte that is not
 * printable ASCII is shown as \xNN so a guest cannot send terminal control
 * sequences to Umbra's console; '\r' is dropped.
 */
#include "kernel/vuart.h"
#include "kernel/console.h"
#include "kernel/vm.h"

#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LCR_DLAB 0x80

static void emit(struct vm *vm)
{
	struct vuart *u = &vm->uart;
	kprintf("[%s] %.*s\n", vm->cfg.name, (int)u->len, u->line);
	u->len = 0;
}

static void put(struct vm *vm, u8 c)
{
	struct vuart *u = &vm->uart;
	if (c == '\n') {
		emit(vm);
		return;
	}
	if (c == '\r')
		return;
	if (u->len + 4 >= sizeof(u->line))
		emit(vm); /* over-long line: break it */
	if (c >= 0x20 && c < 0x7f) {
		u->line[u->len++] = (char)c;
	} else {
		static const char hex[] = "0123456789abcdef";
		u->line[u->len++] = '\\';
		u->line[u->len++] = 'x';
		u->line[u->len++] = hex[c >> 4];
		u->line[u->len++] = hex[c & 15];
	}
}

void vuart_flush(struct vm *vm)
{
	spin_lock(&vm->uart.lock);
	if (vm->uart.len)
		emit(vm);
	spin_unlock(&vm->uart.lock);
}

static void io_locked(struct vm *vm, u16 port, bool in, u32 *val)
{
	struct vuart *u = &vm->uart;
	unsigned reg = port - VUART_BASE;
	bool dlab = u->lcr & LCR_DLAB;
	if (in) {
		u32 v = 0;
		switch (reg) {
		case 0: v = dlab ? u->dll : 0; break;          /* RBR: nothing received */
		case 1: v = dlab ? u->dlm : u->ier; break;
		case 2: v = 0x01 | ((u->fcr & 1) ? 0xc0 : 0); break; /* IIR: none pending */
		case 3: v = u->lcr; break;
		case 4: v = u->mcr; break;
		case 5: v = LSR_THRE | LSR_TEMT; break;
		case 6: v = (u->mcr & 0x10) ? ((u->mcr & 0x0f) << 4) : 0xb0; break; /* MSR: CTS DSR DCD */
		case 7: v = u->scr; break;
		}
		*val = v;
		return;
	}
	u8 b = (u8)*val;
	switch (reg) {
	case 0:
		if (dlab)
			u->dll = b;
		else
			put(vm, b);
		break;
	case 1:
		if (dlab)
			u->dlm = b;
		else
			u->ier = b & 0x0f;
		break;
	case 2: u->fcr = b; break;
	case 3: u->lcr = b; break;
	case 4: u->mcr = b & 0x1f; break;
	case 7: u->scr = b; break;
	default: break; /* LSR/MSR writes are ignored */
	}
}

void vuart_io(struct vm *vm, u16 port, bool in, u32 *val)
{
	spin_lock(&vm->uart.lock);
	io_locked(vm, port, in, val);
	spin_unlock(&vm->uart.lock);
}
