/*
 * kernel/vpic.c - the two 8259A interrupt controllers of a VM (master at
 * 0x20/0x21, slave at 0xa0/0xa1), as registers only.
 *
 * Intel 8259A data sheet ("Programming the 8259A"): a write to the even
 * port with D4=1 is ICW1 and starts initialization (it clears the IMR,
 * selects IRR for reads and expects ICW2, then ICW3 unless SNGL, then ICW4
 * if IC4); afterwards the odd port takes OCW1 (the IMR) and the even port
 * OCW2 (EOI / rotation: D4=D3=0) or OCW3 (D4=0, D3=1: RR/RIS select what
 * the even port reads). Reads of the odd port return the IMR.
 *
 * No virtual device raises an interrupt yet, so IRR and ISR stay 0 and the
 * guest never receives one: the PIC behaves as if every line were masked,
 * whatever the IMR says. The reset state is what SeaBIOS leaves on QEMU's pc
 * machine for a multiboot kernel: vectors 8 and 0x70, every line masked
 * except the cascade (IRQ 2).
 */
#include "kernel/platform.h"

void vpic_reset(struct platform *p)
{
	for (int i = 0; i < 2; i++)
		p->pic[i] = (struct vpic_chip){.imr = i ? 0xff : 0xfb, .vector_base = i ? 0x70 : 0x08,
					       .icw4_needed = true};
}

static void command(struct vpic_chip *c, u8 v)
{
	if (v & 0x10) { /* ICW1 */
		c->imr = 0;
		c->isr = 0;
		c->irr = 0;
		c->read_isr = false;
		c->single = (v & 0x02) != 0;
		c->icw4_needed = (v & 0x01) != 0;
		c->auto_eoi = false;
		c->icw_step = 2;
		return;
	}
	if (v & 0x08) { /* OCW3: D1 = RR (read register), D0 = RIS */
		if (v & 0x02)
			c->read_isr = (v & 0x01) != 0;
		return;
	}
	/* OCW2: R SL EOI in D7-D5, level in D2-D0 */
	switch ((v >> 5) & 7) {
	case 1: /* non-specific EOI: the highest-priority bit in service */
	case 5:
		for (int i = 0; i < 8; i++)
			if (c->isr & (1u << i)) {
				c->isr &= ~(1u << i);
				break;
			}
		break;
	case 3: /* specific EOI */
	case 7:
		c->isr &= ~(1u << (v & 7));
		break;
	default: /* rotation / priority commands: no effect without interrupts */
		break;
	}
}

static void data(struct vpic_chip *c, u8 v)
{
	switch (c->icw_step) {
	case 2:
		c->vector_base = v & 0xf8;
		c->icw_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;
		break;
	case 3: /* cascade wiring: fixed (slave on IRQ 2) */
		c->icw_step = c->icw4_needed ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = (v & 0x02) != 0;
		c->icw_step = 0;
		break;
	default: /* OCW1 */
		c->imr = v;
		break;
	}
}

bool vpic_io(struct platform *p, u16 port, bool in, u32 *val)
{
	struct vpic_chip *c;
	if (port == 0x20 || port == 0x21)
		c = &p->pic[0];
	else if (port == 0xa0 || port == 0xa1)
		c = &p->pic[1];
	else
		return false;
	bool odd = port & 1;
	if (in)
		*val = odd ? c->imr : c->read_isr ? c->isr : c->irr;
	else if (odd)
		data(c, (u8)*val);
	else
		command(c, (u8)*val);
	return true;
}
