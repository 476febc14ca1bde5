/*
 * kernel/timer.c - PIT channel 0 in rate-generator mode (8254 data sheet)
 * and the two 8259 PICs remapped to vectors 32-47 with only IRQ 0 open.
 * SeaBIOS leaves the PIC unmasked on vector 8: we remap before sti.
 */
#include "kernel/timer.h"
#include "kernel/smp.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

#define PIT_HZ 1193182
static volatile u64 ticks;
static u64 tsc_hz;

/* PIT channel 2 in mode 0 (interrupt on terminal count) counts 10 ms with
 * its gate held high through port 0x61 bit 0; its output (port 0x61
 * bit 5) goes high at terminal count (8254 data sheet, mode 0; the PC/AT
 * port B layout). The TSC difference over that time gives its rate. */
static void calibrate_tsc(void)
{
	const u16 count = PIT_HZ / 100;
	u8 b = inb(0x61);
	outb(0x61, (b & ~0x02) | 0x01); /* gate 2 on, speaker off */
	outb(0x43, 0xb0);               /* channel 2, lo/hi, mode 0 */
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	u64 t0 = rdtsc(), t1 = t0;
	for (u64 spins = 0; !(inb(0x61) & 0x20) && spins < 100000000; spins++)
		t1 = rdtsc();
	t1 = rdtsc();
	outb(0x61, b);
	tsc_hz = (t1 - t0) * 100;
	if (tsc_hz < 1000000)
		tsc_hz = 1000000000; /* no usable channel 2: assume 1 GHz */
}

u64 timer_tsc_hz(void)
{
	return tsc_hz;
}

u64 timer_tsc_to(u64 d, u64 hz)
{
	u64 f = tsc_hz ? tsc_hz : 1000000000;
	return d / f * hz + (d % f) * hz / f;
}

static void timer_irq(struct trap_frame *tf)
{
	ticks++;
	outb(0x20, 0x20); /* EOI */
	smp_tick();       /* APs have no PIT: forward the tick */
}

void timer_init(void)
{
	calibrate_tsc();
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
