/*
 * kernel/timer.c - PIT channel 0 in rate-generator mode (8254 data sheet)
 * and the two 8259 PICs remapped to vectors 32-47 with only IRQ 0 open.
 * SeaBIOS leaves the PIC unmasked on vector 8: we remap before sti.
 */
#include "kernel/timer.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

#define PIT_HZ 1193182
static volatile u64 ticks;

static void timer_irq(struct trap_frame *tf)
{
	ticks++;
	outb(0x20, 0x20); /* EOI */
}

void timer_init(void)
{
	/* ICW1-4: edge, cascade, vectors 32/40, 8086 mode */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, TIMER_VECTOR);
	outb(0xa1, TIMER_VECTOR + 8);
	outb(0x21, 4);
	outb(0xa1, 2);
	outb(0x21, 1);
	outb(0xa1, 1);
	outb(0x21, 0xfe); /* only IRQ 0 */
	outb(0xa1, 0xff);
	u16 div = PIT_HZ / TIMER_HZ;
	outb(0x43, 0x34); /* channel 0, lo/hi, mode 2 */
	outb(0x40, div & 0xff);
	outb(0x40, div >> 8);
	irq_register(TIMER_VECTOR, timer_irq);
	/* spurious IRQ 7/15 vectors are ignored by trap_entry */
}

u64 timer_ticks(void)
{
	return ticks;
}
