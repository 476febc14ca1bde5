/*
 * tests/guests/lapic.c - the local xAPIC a multiboot kernel finds at
 * 0xFEE00000 (Intel SDM vol. 3A chapter 11) on QEMU's pc machine, and
 * Umbra's virtual copy of it (kernel/vlapic.c, docs/platform.md):
 * IA32_APIC_BASE, ID, version, SVR, TPR/PPR, LDR/DFR, ESR, the LAPIC timer
 * in one-shot and periodic modes with interrupts counted by IDT handlers
 * (sti; hlt), IRR/ISR/EOI behaviour, priority order, TPR masking and
 * self-IPIs through the ICR.
 *
 * Only facts that hold on both are printed: no timer rates, no reset
 * values SeaBIOS may have changed, nothing about clearing the SVR
 * software-enable bit (the SDM masks every LVT entry then, §11.4.7.2, and
 * Umbra does; QEMU does not). One CPU.
 */
#include "tests/guests/lib/guest.h"
#include "kernel/string.h"

GUEST_NAME("lapic");

#define APIC 0xfee00000u
#define R_ID 0x020
#define R_VER 0x030
#define R_TPR 0x080
#define R_PPR 0x0a0
#define R_EOI 0x0b0
#define R_LDR 0x0d0
#define R_DFR 0x0e0
#define R_SVR 0x0f0
#define R_ISR 0x100
#define R_IRR 0x200
#define R_ESR 0x280
#define R_ICR_LO 0x300
#define R_ICR_HI 0x310
#define R_LVT_TIMER 0x320
#define R_LVT_ERROR 0x370
#define R_TMICT 0x380
#define R_TMCCT 0x390
#define R_TDCR 0x3e0

#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)

static u32 rd(u32 reg)
{
	return *(volatile u32 *)(APIC + reg);
}

static void wr(u32 reg, u32 val)
{
	*(volatile u32 *)(APIC + reg) = val;
}

static bool bit_set(u32 base, u32 vec)
{
	return (rd(base + (vec / 32) * 0x10) >> (vec % 32)) & 1;
}

/* ------------------------------------------------------------ handlers */

#define V_ONESHOT 0x40
#define V_PERIODIC 0x41
#define V_TPR 0x45
#define V_SELF 0x50
#define V_LOGICAL 0x51
#define V_LOW 0x60
#define V_MID 0x65
#define V_HIGH 0x70

static volatile u32 hits[256];
static volatile u32 order[8], norder;
static volatile bool isr_ok = true, ppr_ok = true;

struct interrupt_frame;

static void on_irq(u32 vec)
{
	hits[vec]++;
	if (norder < 8)
		order[norder++] = vec;
	/* while the handler runs the vector is in service and the PPR is
	 * its priority class (§11.8.3.1, TPR is 0) */
	if (!bit_set(R_ISR, vec))
		isr_ok = false;
	if (rd(R_PPR) != (vec & 0xf0))
		ppr_ok = false;
	wr(R_EOI, 0);
}

#define HANDLER(v)                                                                     \
	__attribute__((interrupt)) static void h_##v(struct interrupt_frame *f)      \
	{                                                                              \
		on_irq(v);                                                             \
	}
HANDLER(0x40)
HANDLER(0x41)
HANDLER(0x45)
HANDLER(0x50)
HANDLER(0x51)
HANDLER(0x60)
HANDLER(0x65)
HANDLER(0x70)

struct __attribute__((packed)) dtr {
	u16 limit;
	u32 base;
};

static void set_gate(u32 vec, void (*fn)(struct interrupt_frame *))
{
	struct dtr idtr;
	u16 cs;
	asm volatile("sidt %0" : "=m"(idtr));
	asm volatile("mov %%cs, %0" : "=r"(cs));
	u32 off = (u32)fn;
	u64 *idt = (u64 *)idtr.base;
	idt[vec] = (off & 0xffff) | ((u64)cs << 16) | (0x8e00ULL << 32) | ((u64)(off >> 16) << 48);
}

/* Halt with interrupts on until @vec was seen @n times (or give up after
 * many wake-ups: each one is an interrupt, and only ours are unmasked). */
static bool wait_hits(u32 vec, u32 n)
{
	for (u32 i = 0; i < 100000 && hits[vec] < n; i++)
		asm volatile("sti; hlt; cli" ::: "memory");
	return hits[vec] >= n;
}

/* Let pending interrupts in: a few instructions with IF=1. */
static void open_window(void)
{
	asm volatile("sti; nop; nop; nop; nop; cli" ::: "memory");
}

/* ------------------------------------------------------------ tests */

static void identity_tests(void)
{
	struct cpuid_regs r = cpuid(1, 0);
	report(r.d & (1u << 9), "cpuid.1:edx.apic = 1");
	u64 base = rdmsr(0x1b);
	report((base & ~0xfffull) == APIC, "IA32_APIC_BASE: base %#x", (u32)(base & ~0xfffull));
	report(base & (1u << 11), "IA32_APIC_BASE: global enable (bit 11)");
	report(base & (1u << 8), "IA32_APIC_BASE: BSP (bit 8) on the boot CPU");
	report(try_wrmsr(0x1b, base) == FAULT_NONE, "IA32_APIC_BASE: writing the same value is accepted");
	report(rd(R_ID) >> 24 == r.b >> 24, "ID register equals CPUID.1:EBX[31:24] (%u)", r.b >> 24);
	u32 ver = rd(R_VER);
	report((ver & 0xff) >= 0x10 && (ver & 0xff) <= 0x15, "version: integrated APIC (10h-15h)");
	report(((ver >> 16) & 0xff) >= 5, "version: at least 6 LVT entries");
}

static void register_tests(void)
{
	wr(R_SVR, 0x1ff);
	report((rd(R_SVR) & 0x1ff) == 0x1ff, "SVR: software enable and spurious vector 0xff read back");
	wr(R_TPR, 0x20);
	u32 tpr = rd(R_TPR), ppr = rd(R_PPR);
	wr(R_TPR, 0);
	report(tpr == 0x20 && ppr == 0x20, "TPR reads back; PPR follows it with nothing in service");
	report(rd(R_PPR) == 0, "PPR is 0 with TPR 0");
	wr(R_DFR, 0xffffffff);
	wr(R_LDR, 0x01000000);
	report(rd(R_DFR) == 0xffffffff && rd(R_LDR) == 0x01000000, "DFR (flat) and LDR read back");
	wr(R_LVT_ERROR, LVT_MASKED | 0xfe);
	report(rd(R_LVT_ERROR) == (LVT_MASKED | 0xfe), "LVT error entry reads back");
	wr(R_ESR, 0);
	report(rd(R_ESR) == 0, "ESR: no errors");
	bool clean = true;
	for (u32 i = 0; i < 8; i++)
		clean &= rd(R_ISR + i * 0x10) == 0 && rd(R_IRR + i * 0x10) == 0;
	report(clean, "ISR and IRR are empty");
}

static void timer_count_tests(void)
{
	wr(R_TDCR, 0xb); /* divide by 1 */
	wr(R_LVT_TIMER, LVT_MASKED | V_ONESHOT);
	wr(R_TMICT, 0xffffffff);
	u32 c1 = rd(R_TMCCT);
	for (volatile int i = 0; i < 1000; i++)
		;
	u32 c2 = rd(R_TMCCT);
	report(rd(R_TMICT) == 0xffffffff, "timer: initial count reads back");
	report(c1 <= 0xffffffff && c2 < c1, "timer: current count decreases");
	wr(R_TMICT, 0);
	report(rd(R_TMCCT) == 0, "timer: initial count 0 stops it (current count 0)");
	wr(R_TDCR, 0x3); /* divide by 16 */
	report(rd(R_TDCR) == 0x3, "timer: divide configuration reads back");
}

static void oneshot_tests(void)
{
	/* 100000 x 16 input clocks; the interrupt is taken from HLT */
	wr(R_LVT_TIMER, V_ONESHOT);
	wr(R_TMICT, 100000);
	report(wait_hits(V_ONESHOT, 1), "timer one-shot: interrupt taken from sti; hlt");
	report(rd(R_TMCCT) == 0, "timer one-shot: current count 0 after expiry");
	report(!bit_set(R_ISR, V_ONESHOT), "timer one-shot: EOI cleared the ISR bit");

	/* expiry with IF=0: the vector waits in the IRR */
	wr(R_TMICT, 20000);
	for (u32 i = 0; i < 100000000 && rd(R_TMCCT); i++)
		;
	/* QEMU raises the IRR bit from a timer callback that may run a while
	 * after the count reads 0 (more so on a loaded host): poll long */
	bool irr = false;
	for (u32 i = 0; i < 50000000 && !irr; i++)
		irr = bit_set(R_IRR, V_ONESHOT);
	report(irr && hits[V_ONESHOT] == 1, "timer one-shot: with IF=0 the expired vector waits in the IRR");
	open_window();
	report(hits[V_ONESHOT] == 2 && !bit_set(R_IRR, V_ONESHOT), "timer one-shot: sti delivers it (IRR -> ISR -> EOI)");
}

static void periodic_tests(void)
{
	wr(R_LVT_TIMER, LVT_PERIODIC | V_PERIODIC);
	report(rd(R_LVT_TIMER) == (LVT_PERIODIC | V_PERIODIC), "timer periodic: LVT timer entry reads back");
	wr(R_TMICT, 200000);
	report(wait_hits(V_PERIODIC, 5), "timer periodic: five interrupts from sti; hlt");
	u32 c = rd(R_TMCCT);
	report(c > 0 && c <= 200000, "timer periodic: still counting after them");
	wr(R_TMICT, 0);
	report(rd(R_TMCCT) == 0, "timer periodic: initial count 0 stops it");
	report(hits[V_ONESHOT] == 2, "timer: the one-shot vector fired exactly twice in all");
	wr(R_LVT_TIMER, LVT_MASKED | V_PERIODIC);
}

static void ipi_tests(void)
{
	/* self-IPI through the shorthand, fixed delivery */
	wr(R_ICR_HI, 0);
	wr(R_ICR_LO, (1u << 18) | V_SELF);
	report(!(rd(R_ICR_LO) & (1u << 12)), "ICR: delivery status idle after the send");
	report(bit_set(R_IRR, V_SELF) && hits[V_SELF] == 0, "self-IPI with IF=0: pending in the IRR");
	open_window();
	report(hits[V_SELF] == 1, "self-IPI: delivered once interrupts are on");

	/* logical destination naming this CPU (flat model, LDR bit 0) */
	wr(R_ICR_HI, 0x01000000);
	wr(R_ICR_LO, (1u << 11) | V_LOGICAL);
	open_window();
	report(hits[V_LOGICAL] == 1, "IPI to a logical destination naming this CPU: delivered");

	/* priority: three pending vectors are taken highest class first */
	norder = 0;
	wr(R_ICR_LO, (1u << 18) | V_LOW);
	wr(R_ICR_LO, (1u << 18) | V_HIGH);
	wr(R_ICR_LO, (1u << 18) | V_MID);
	open_window();
	report(norder == 3 && order[0] == V_HIGH && order[1] == V_MID && order[2] == V_LOW,
	       "pending vectors delivered by priority: %#x %#x %#x", order[0], order[1], order[2]);

	/* TPR masking: class 4 is held while TPR is 0x40 */
	wr(R_TPR, 0x40);
	wr(R_ICR_LO, (1u << 18) | V_TPR);
	open_window();
	bool held = hits[V_TPR] == 0 && bit_set(R_IRR, V_TPR);
	wr(R_TPR, 0);
	open_window();
	report(held, "TPR 0x40 holds vector %#x in the IRR", V_TPR);
	report(hits[V_TPR] == 1, "lowering the TPR delivers it");
	report(isr_ok, "handlers: their vector is in service (ISR) while they run");
	report(ppr_ok, "handlers: PPR is the vector's priority class while they run");
	bool clean = true;
	for (u32 i = 0; i < 8; i++)
		clean &= rd(R_ISR + i * 0x10) == 0 && rd(R_IRR + i * 0x10) == 0;
	report(clean, "ISR and IRR are empty again");
}

void guest_main(void)
{
	set_gate(V_ONESHOT, h_0x40);
	set_gate(V_PERIODIC, h_0x41);
	set_gate(V_TPR, h_0x45);
	set_gate(V_SELF, h_0x50);
	set_gate(V_LOGICAL, h_0x51);
	set_gate(V_LOW, h_0x60);
	set_gate(V_MID, h_0x65);
	set_gate(V_HIGH, h_0x70);
	/* the 8259As stay masked: only the LAPIC interrupts */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	identity_tests();
	register_tests();
	timer_count_tests();
	oneshot_tests();
	periodic_tests();
	ipi_tests();
	wr(R_LVT_TIMER, LVT_MASKED | V_PERIODIC);
}
