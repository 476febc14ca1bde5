/*
 * kernel/vpit.c - the 8254 programmable interval timer of a VM (ports
 * 0x40-0x42 counters, 0x43 control), counting at 1.193182 MHz derived from
 * the host TSC (kernel/timer.c measured its rate).
 *
 * Intel 8254 data sheet: the control word selects a counter (SC1-0), its
 * access (RW1-0: latch command, LSB, MSB, LSB then MSB), its mode (M2-0)
 * and BCD (ignored: binary only). SC=3 is the read-back command (latch
 * count and/or status of the counters in D3-D1). Writing the count
 * (re)starts counting; a latched count or status is read before the live
 * count. Modes 2 and 3 reload the count at terminal count (mode 3 is
 * modelled like mode 2: the count goes down by one per input clock, not
 * two); the others wrap through 0xffff.
 *
 * Deviations (docs/platform.md): no counter output drives an interrupt
 * (the PIC never raises one) and the gate of counter 2 (port 0x61) is not
 * modelled; counting starts as SeaBIOS leaves counter 0 (mode 3, 65536).
 */
#include "kernel/platform.h"
#include "kernel/timer.h"
#include "kernel/x86.h"

#define PIT_HZ 1193182ULL

void vpit_reset(struct platform *p)
{
	u64 now = rdtsc();
	for (int i = 0; i < 3; i++)
		p->pit[i] = (struct vpit_chan){.mode = 3, .rw = 3, .reload = 65536, .start_tsc = now,
					       .counting = i == 0};
}

static u16 current(const struct vpit_chan *c)
{
	if (!c->counting)
		return (u16)c->reload;
	u64 t = timer_tsc_to(rdtsc() - c->start_tsc, PIT_HZ);
	if (c->mode == 2 || c->mode == 3)
		return (u16)(c->reload - t % c->reload);
	return (u16)(c->reload - t);
}

static void control(struct platform *p, u8 v)
{
	unsigned sc = v >> 6;
	if (sc == 3) { /* read-back: D5 = 0 latch count, D4 = 0 latch status */
		for (int i = 0; i < 3; i++) {
			struct vpit_chan *c = &p->pit[i];
			if (!(v & (2u << i)))
				continue;
			if (!(v & 0x20) && !c->latched) {
				c->latch = current(c);
				c->latched = true;
				c->read_msb = false;
			}
			if (!(v & 0x10) && !c->status_latched) {
				c->status = (u8)((c->rw << 4) | (c->mode << 1) | (c->counting ? 0 : 0x40));
				c->status_latched = true;
			}
		}
		return;
	}
	struct vpit_chan *c = &p->pit[sc];
	unsigned rw = (v >> 4) & 3;
	if (rw == 0) { /* counter latch command */
		if (!c->latched) {
			c->latch = current(c);
			c->latched = true;
			c->read_msb = false;
		}
		return;
	}
	c->rw = (u8)rw;
	c->mode = (v >> 1) & 7;
	if (c->mode >= 6)
		c->mode -= 4; /* 110b, 111b are modes 2, 3 */
	c->write_msb = c->read_msb = false;
	c->latched = c->status_latched = false;
	c->counting = false;
}

static void load(struct vpit_chan *c, u8 v)
{
	u16 n;
	if (c->rw == 3 && !c->write_msb) {
		c->reload_partial = v;
		c->write_msb = true;
		return;
	}
	if (c->rw == 1)
		n = v;
	else if (c->rw == 2)
		n = (u16)(v << 8);
	else
		n = (u16)(c->reload_partial | (v << 8));
	c->write_msb = false;
	c->reload = n ? n : 65536;
	c->start_tsc = rdtsc();
	c->counting = true;
}

static u8 read(struct vpit_chan *c)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	u16 n = c->latched ? c->latch : current(c);
	u8 out;
	if (c->rw == 1)
		out = n & 0xff;
	else if (c->rw == 2)
		out = n >> 8;
	else
		out = c->read_msb ? n >> 8 : n & 0xff;
	bool done = c->rw != 3 || c->read_msb;
	if (c->rw == 3)
		c->read_msb = !c->read_msb;
	if (done && c->latched)
		c->latched = false;
	return out;
}

bool vpit_io(struct platform *p, u16 port, bool in, u32 *val)
{
	if (port < 0x40 || port > 0x43)
		return false;
	if (port == 0x43) {
		if (in)
			*val = 0xff; /* the control register cannot be read */
		else
			control(p, (u8)*val);
		return true;
	}
	struct vpit_chan *c = &p->pit[port - 0x40];
	if (in)
		*val = read(c);
	else
		load(c, (u8)*val);
	return true;
}
