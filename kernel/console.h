/*
 * kernel/console.h - the serial console: a polled 16550 UART, kprintf with
 * whole-line output (lines from different CPUs never interleave), and a
 * raw path for panics.
 */
#ifndef UMBRA_KERNEL_CONSOLE_H
#define UMBRA_KERNEL_CONSOLE_H

#include "kernel/types.h"

#define COM1_PORT 0x3f8

/* Initialize the console on COM1 at 115200 baud (GRUB already set it up;
 * this makes the UART state known). Safe to call before anything else. */
void console_init_early(void);

/* Switch the console to UART @port (0 = no console) at @baud. Returns
 * E_NOENT when no UART answers at @port (the console is then off). */
int console_configure(u16 port, u32 baud);

/* Current console port (0 when off). */
u16 console_port(void);

/* Formatted output. Text is collected per CPU and written one whole line at
 * a time under the console lock. */
void kprintf(const char *fmt, ...) __printf(1, 2);
void kvprintf(const char *fmt, va_list ap);

/* Write @len bytes straight to the UART, ignoring the lock (panic path). */
void console_write_raw(const char *s, size_t len);

/* Wait (bounded) until the UART has shifted out every byte, so an
 * emulator stopped right after still shows the last line. */
void console_drain(void);

/* Enter panic mode: from now on output bypasses the lock so a CPU that
 * died holding it cannot silence the panic message. */
void console_panic_mode(void);

/* Non-blocking read of one byte from the console (-1 when none). */
int console_getc(void);

#endif
