/*
 * kernel/console.c - polled 16550 UART console.
 *
 * Owns the console lock and the per-CPU line buffers. Output is polled
 * (no interrupts): Umbra must be able to print from any context, including
 * exception handlers. A line is emitted only when complete (or when the
 * buffer fills), under the lock, so CPUs never tear each other's lines.
 */
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/fmt.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

/* 16550 registers (offsets from the base port). */
#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_RBR 0 /* receive buffer (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define LSR_DR BIT(0)
#define LSR_THRE BIT(5)
#define LCR_DLAB BIT(7)

static u16 con_port = COM1_PORT;
static struct spinlock con_lock = SPINLOCK_INIT;
static volatile bool con_panic;

static void uart_setup(u16 port, u32 baud)
{
	u32 div = 115200 / (baud ? baud : 115200);
	if (div == 0)
		div = 1;
	outb(port + UART_IER, 0);           /* polled: no interrupts */
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, div & 0xff);
	outb(port + UART_DLM, (div >> 8) & 0xff);
	outb(port + UART_LCR, 0x03);        /* 8N1 */
	outb(port + UART_FCR, 0x07);        /* FIFO on, cleared */
	outb(port + UART_MCR, 0x03);        /* DTR, RTS */
}

static bool uart_present(u16 port)
{
	outb(port + UART_SCR, 0x5a);
	if (inb(port + UART_SCR) != 0x5a)
		return false;
	outb(port + UART_SCR, 0xa5);
	return inb(port + UART_SCR) == 0xa5;
}

void console_init_early(void)
{
	con_port = COM1_PORT;
	uart_setup(con_port, 115200);
}

int console_configure(u16 port, u32 baud)
{
	if (port == 0) {
		con_port = 0;
		return E_OK;
	}
	if (!uart_present(port)) {
		con_port = 0;
		return E_NOENT;
	}
	con_port = port;
	uart_setup(port, baud);
	return E_OK;
}

u16 console_port(void)
{
	return con_port;
}

static void uart_putc(char c)
{
	u16 port = con_port;
	if (!port)
		return;
	/* bounded wait: a missing or wedged UART must not hang Umbra */
	for (int i = 0; i < 100000 && !(inb(port + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(port + UART_THR, (u8)c);
}

void console_write_raw(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

void console_drain(void)
{
	u16 port = con_port;
	if (!port)
		return;
	/* TEMT: holding register and shift register both empty */
	for (int i = 0; i < 1000000 && !(inb(port + UART_LSR) & BIT(6)); i++)
		cpu_relax();
}

void console_panic_mode(void)
{
	con_panic = true;
}

int console_getc(void)
{
	if (!con_port || !(inb(con_port + UART_LSR) & LSR_DR))
		return -1;
	return inb(con_port + UART_RBR);
}

static void flush_line(struct cpu *c)
{
	if (c->con_len == 0)
		return;
	if (con_panic) {
		console_write_raw(c->con_buf, c->con_len);
	} else {
		u64 f = spin_lock_irqsave(&con_lock);
		console_write_raw(c->con_buf, c->con_len);
		spin_unlock_irqrestore(&con_lock, f);
	}
	c->con_len = 0;
}

static void line_putc(void *ctx, char ch)
{
	struct cpu *c = ctx;
	c->con_buf[c->con_len++] = ch;
	if (ch == '\n' || c->con_len == sizeof(c->con_buf))
		flush_line(c);
}

void kvprintf(const char *fmt, va_list ap)
{
	struct cpu *c = this_cpu();
	u64 flags = read_rflags();
	irq_disable(); /* the line buffer is per CPU: keep interrupts out */
	fmt_vcbprintf(line_putc, c, fmt, ap);
	if (flags & RFLAGS_IF)
		irq_enable();
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
