/*
 * kernel/lapic.c - see lapic.h. Register offsets: SDM vol. 3A Table 11-1.
 */
#include "kernel/lapic.h"
#include "kernel/x86.h"
#include "mm/hostpt.h"

#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_PENDING BIT(12)
#define ICR_INIT (5u << 8)
#define ICR_SIPI (6u << 8)
#define ICR_ASSERT BIT(14)
#define ICR_LEVEL BIT(15)
#define ICR_ALL_BUT_SELF (3u << 18)

static volatile u32 *lapic;

static inline u32 rd(u32 reg) { return lapic[reg / 4]; }
static inline void wr(u32 reg, u32 v) { lapic[reg / 4] = v; }

int lapic_init_cpu(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & BIT(11)))
		wrmsr(MSR_IA32_APIC_BASE, base | BIT(11)); /* global enable */
	if (!lapic) {
		lapic = hostpt_map_mmio(base & GENMASK(51, 12), PAGE_SIZE);
		if (!lapic)
			return E_NOMEM;
	}
	wr(LAPIC_TPR, 0);
	wr(LAPIC_SVR, BIT(8) | LAPIC_SPURIOUS_VECTOR); /* software enable */
	return E_OK;
}

u32 lapic_id(void)
{
	return rd(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	wr(LAPIC_EOI, 0);
}

static void icr_wait(void)
{
	for (int i = 0; i < 1000000 && (rd(LAPIC_ICR_LO) & ICR_PENDING); i++)
		cpu_relax();
}

static void send(u32 apic_id, u32 lo)
{
	icr_wait();
	wr(LAPIC_ICR_HI, apic_id << 24);
	wr(LAPIC_ICR_LO, lo);
	icr_wait();
}

/* PIT channel 2 as a one-shot stopwatch (8254 mode 0, gate via port 0x61). */
void udelay(u32 us)
{
	while (us) {
		u32 chunk = MIN(us, 50000u);
		u32 count = (u32)((u64)chunk * 1193182 / 1000000);
		if (!count)
			count = 1;
		outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
		outb(0x43, 0xb0);                       /* channel 2, lo/hi, mode 0 */
		outb(0x42, count & 0xff);
		outb(0x42, count >> 8);
		for (int i = 0; i < 100000000 && !(inb(0x61) & 0x20); i++)
			cpu_relax();
		us -= chunk;
	}
}

void lapic_start_ap(u32 apic_id, u32 page_pa)
{
	send(apic_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
	udelay(200);
	send(apic_id, ICR_INIT | ICR_LEVEL); /* de-assert (older CPUs) */
	udelay(10000);
	for (int i = 0; i < 2; i++) {
		send(apic_id, ICR_SIPI | ((page_pa >> 12) & 0xff));
		udelay(200);
	}
}

void lapic_nmi_others(void)
{
	send(0, ICR_ALL_BUT_SELF | ICR_ASSERT | (4u << 8)); /* delivery mode NMI */
}

void lapic_send_ipi(u32 apic_id, u8 vector)
{
	send(apic_id, ICR_ASSERT | vector);
}

void lapic_ipi_others(u8 vector)
{
	send(0, ICR_ALL_BUT_SELF | ICR_ASSERT | vector);
}
