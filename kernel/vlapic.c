/*
 * kernel/vlapic.c - the virtual local xAPIC (see vlapic.h). Section
 * numbers are Intel SDM vol. 3A chapter 11.
 *
 * Modelled:
 * - Registers of table 11-1 (§11.4.1): ID (vCPU number << 24, read-only),
 *   version 0x50014 (§11.4.8: integrated APIC version 14h, six LVT
 *   entries, no EOI-broadcast suppression; QEMU says the same), TPR, PPR
 *   computed (§11.8.3.1), APR and RRD read 0, EOI (§11.8.5), LDR and DFR
 *   (§11.6.2.2), SVR with the software enable bit (§11.9, §11.4.7.2: clearing
 *   it masks every LVT entry and keeps them masked), ISR/TMR/IRR (§11.8.4),
 *   ESR (§11.5.3: a write latches the errors gathered since the last one),
 *   ICR (§11.6.1), the six LVT entries (§11.5.1) with their writable bits,
 *   and the timer (§11.5.4): initial/current count, divide configuration,
 *   one-shot and periodic modes.
 * - The timer counts at 1 GHz before the divider (QEMU's rate), derived
 *   from the host TSC (timer_tsc_hz). Expiry is checked before each entry
 *   and by the scheduler, so an interrupt is at most one host tick late
 *   (kernel/sched.c). A periodic timer that fell more than one period
 *   behind delivers one interrupt and restarts its period from now.
 *   A divide change applies from the next period.
 * - IPIs (ICR writes, §11.6.1) to any vCPU of the VM: shorthands self,
 *   all including self, all excluding self, or a physical (APIC ID = vCPU
 *   number, 0xFF broadcast) or logical (flat/cluster) destination. Fixed
 *   delivery sets the IRR bit of each vCPU named; lowest priority gives
 *   it to the lowest-numbered one; NMI, INIT and SIPI go through
 *   kernel/vcpu_mp.c (an AP waits for INIT/SIPI like real hardware). The
 *   target is kicked out of guest mode or woken from HLT at once. SMI and
 *   the reserved delivery modes are ignored (traced, trace=io).
 * Not modelled: x2APIC, the TSC-deadline mode (CPUID hides it), level-
 * triggered interrupts and their EOI broadcast (no IOAPIC), LINT0/LINT1
 * inputs (nothing drives them: the 8259A never raises an interrupt), the
 * thermal/performance/CMCI sources, focus processor checking, APIC bus
 * arbitration. Accesses other than aligned 32-bit ones (§11.4.1 says
 * they are undefined): narrower reads return the bytes of the dword,
 * narrower writes are ignored, 64-bit accesses act on two dwords.
 */
#include "kernel/vlapic.h"
#include "kernel/backend.h"
#include "kernel/console.h"
#include "kernel/mmio.h"
#include "kernel/string.h"
#include "kernel/timer.h"
#include "kernel/trace.h"
#include "kernel/vcpu_mp.h"
#include "kernel/vm.h"
#include "kernel/x86.h"

#define APIC_VERSION 0x50014u
#define BUS_HZ 1000000000ULL /* timer input clock before the divider */

#define LVT_MASKED BIT(16)
#define LVT_TIMER_PERIODIC BIT(17)
#define SVR_ENABLE BIT(8)

/* ESR bits (§11.5.3, figure 11-9). */
#define ESR_SEND_ILLEGAL BIT(5)
#define ESR_RECV_ILLEGAL BIT(6)

/* Writable bits of each LVT entry (§11.5.1, figure 11-8): vector,
 * delivery mode, polarity, trigger mode, mask, timer mode (bit 17 only:
 * no TSC-deadline mode). */
static const u32 lvt_writable[LVT_N] = {
	[LVT_TIMER] = 0x300ff,   [LVT_THERMAL] = 0x107ff, [LVT_PERF] = 0x107ff,
	[LVT_LINT0] = 0x1a7ff,   [LVT_LINT1] = 0x1a7ff,   [LVT_ERROR] = 0x100ff,
};

static struct vlapic *L(struct vcpu *v)
{
	return &v->lapic;
}

/* Highest set bit of a 256-bit register (ISR, IRR), or -1. */
static int highest(const u32 *r)
{
	for (int i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

/* Atomic: IRR and TMR bits are also set by other vCPUs' IPIs, on other
 * CPUs (ISR is the owner's only, atomic anyway: one rule). */
static void set_bit256(u32 *r, int vec)
{
	__atomic_fetch_or(&r[vec / 32], 1u << (vec % 32), __ATOMIC_SEQ_CST);
}

static void clear_bit256(u32 *r, int vec)
{
	__atomic_fetch_and(&r[vec / 32], ~(1u << (vec % 32)), __ATOMIC_SEQ_CST);
}

/* §11.8.3.1: PPR = TPR when TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4. */
static u32 ppr(struct vlapic *a)
{
	int isrv = highest(a->isr);
	if (isrv < 0)
		isrv = 0;
	if ((a->tpr >> 4) >= ((u32)isrv >> 4))
		return a->tpr & 0xff;
	return (u32)isrv & 0xf0;
}

/* An interrupt arrives at the LAPIC (fixed, edge-triggered): §11.5.3 says
 * vectors 0-15 are illegal and only set an error. */
static void accept(struct vcpu *v, u32 vec)
{
	struct vlapic *a = L(v);
	vec &= 0xff;
	if (vec < 16) {
		__atomic_fetch_or(&a->esr_pending, ESR_RECV_ILLEGAL, __ATOMIC_SEQ_CST);
		return;
	}
	clear_bit256(a->tmr, (int)vec);
	set_bit256(a->irr, (int)vec);
}

/* ------------------------------------------------------------ timer */

/* Divide configuration (§11.5.4, figure 11-10): bits 0, 1, 3 give
 * 000 = /2 ... 110 = /128, 111 = /1. Returns log2 of the divisor. */
static u32 div_shift(u32 tdcr)
{
	u32 x = (tdcr & 3) | ((tdcr >> 1) & 4);
	return (x + 1) & 7;
}

static u64 bus_to_tsc(u64 b)
{
	u64 hz = timer_tsc_hz();
	return b / BUS_HZ * hz + (b % BUS_HZ) * hz / BUS_HZ;
}

static void timer_start(struct vlapic *a, u64 now)
{
	if (!a->tmict) {
		a->deadline_tsc = 0; /* §11.5.4: a count of 0 stops the timer */
		return;
	}
	a->period_tsc = bus_to_tsc((u64)a->tmict << div_shift(a->tdcr));
	if (!a->period_tsc)
		a->period_tsc = 1;
	a->deadline_tsc = now + a->period_tsc;
}

void vlapic_timer_check(struct vcpu *v, u64 now)
{
	struct vlapic *a = L(v);
	if (!a->deadline_tsc || now < a->deadline_tsc)
		return;
	u32 lvt = a->lvt[LVT_TIMER];
	if (!(lvt & LVT_MASKED))
		accept(v, lvt & 0xff);
	if (lvt & LVT_TIMER_PERIODIC) {
		a->deadline_tsc += a->period_tsc;
		if (a->deadline_tsc <= now)
			a->deadline_tsc = now + a->period_tsc;
	} else {
		a->deadline_tsc = 0;
	}
}

static u32 current_count(struct vlapic *a, u64 now)
{
	if (!a->deadline_tsc || now >= a->deadline_tsc)
		return 0;
	u64 cnt = timer_tsc_to(a->deadline_tsc - now, BUS_HZ) >> div_shift(a->tdcr);
	return cnt > a->tmict ? a->tmict : (u32)cnt;
}

/* ------------------------------------------------------------ IPIs */

/* Does the ICR destination name @t's LAPIC (§11.6.2.1 physical: the
 * APIC ID or 0xFF broadcast; §11.6.2.2 logical: flat or cluster model,
 * by @t's LDR and DFR)? APIC IDs are vCPU numbers. */
static bool dest_names(struct vcpu *t, u32 dest, bool logical)
{
	struct vlapic *a = L(t);
	if (!logical)
		return dest == 0xff || dest == t->id;
	u32 ldr = __atomic_load_n(&a->ldr, __ATOMIC_RELAXED) >> 24;
	if ((__atomic_load_n(&a->dfr, __ATOMIC_RELAXED) >> 28) == 0xf) /* flat model: a bit mask */
		return (dest & ldr) != 0;
	/* cluster model: cluster in bits 7:4, member mask in 3:0 */
	return ((dest >> 4) == 0xf || (dest >> 4) == (ldr >> 4)) && (dest & ldr & 0xf);
}

/* A fixed interrupt from another vCPU (or self) reaches @t: IRR set, then
 * @t is told (kicked out of guest mode, or its CPU woken from idle) so it
 * opens an interrupt window or leaves HLT. */
static void deliver_fixed(struct vcpu *from, struct vcpu *t, u32 vec)
{
	accept(t, vec);
	if (t != from)
		vcpu_notify(t);
}

/* §11.6.1: an ICR write sends one IPI. Fixed and lowest-priority (given
 * to the lowest-numbered vCPU it names: no arbitration by priority is
 * modelled) deliver a vector; NMI, INIT and SIPI reach the named vCPUs
 * through kernel/vcpu_mp.c. INIT "level de-assert" (level 0, trigger
 * level: §11.6.1) does nothing on these processors. SMI and the
 * reserved modes are ignored (traced). */
static void send_ipi(struct vcpu *v)
{
	struct vlapic *a = L(v);
	struct vm *vm = v->vm;
	u32 lo = a->icr_lo, vec = lo & 0xff, mode = (lo >> 8) & 7, shorthand = (lo >> 18) & 3;
	u32 dest = a->icr_hi >> 24;
	bool logical = (lo >> 11) & 1;
	if (mode == 5 && !(lo & BIT(14)) && (lo & BIT(15)))
		return; /* INIT level de-assert */
	if ((mode == 0 || mode == 1) && vec < 16) {
		a->esr_pending |= ESR_SEND_ILLEGAL;
		return;
	}
	if (mode == 2 || mode == 3 || mode == 7) {
		TRACE_VCPU(TRACE_IO, v, "lapic-ipi-ignored icr=%#x:%08x (delivery mode %u not modelled)", a->icr_hi,
			   lo, mode);
		return;
	}
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = vm->vcpu[i];
		bool named;
		switch (shorthand) {
		case 1: named = t == v; break;          /* self */
		case 2: named = true; break;            /* all including self */
		case 3: named = t != v; break;          /* all excluding self */
		default: named = dest_names(t, dest, logical); break;
		}
		if (!named)
			continue;
		TRACE_VCPU(TRACE_IO, v, "lapic-ipi to=%u mode=%u vector=%#x", t->id, mode, vec);
		switch (mode) {
		case 0: deliver_fixed(v, t, vec); break;
		case 1: deliver_fixed(v, t, vec); return; /* lowest priority: one vCPU */
		case 4: vcpu_send_nmi(t); break;
		case 5: vcpu_send_init(t); break;
		case 6: vcpu_send_sipi(t, (u8)vec); break;
		}
	}
}

/* ------------------------------------------------------------ registers */

static u32 reg_read(struct vcpu *v, u32 off)
{
	struct vlapic *a = L(v);
	if (off >= 0x100 && off < 0x280) {
		const u32 *bank = off < 0x180 ? a->isr : off < 0x200 ? a->tmr : a->irr;
		return bank[((off - 0x100) >> 4) & 7];
	}
	if (off >= 0x320 && off < 0x380)
		return a->lvt[(off - 0x320) >> 4];
	switch (off) {
	case 0x020: return v->id << 24;
	case 0x030: return APIC_VERSION;
	case 0x080: return a->tpr;
	case 0x0a0: return ppr(a);
	case 0x0d0: return a->ldr;
	case 0x0e0: return a->dfr;
	case 0x0f0: return a->svr;
	case 0x280: return a->esr;
	case 0x300: return a->icr_lo; /* delivery status (bit 12) always idle */
	case 0x310: return a->icr_hi;
	case 0x380: return a->tmict;
	case 0x390: return current_count(a, rdtsc());
	case 0x3e0: return a->tdcr;
	default: return 0; /* APR, RRD, EOI, reserved */
	}
}

static void reg_write(struct vcpu *v, u32 off, u32 val)
{
	struct vlapic *a = L(v);
	if (off >= 0x320 && off < 0x380) {
		u32 i = (off - 0x320) >> 4;
		a->lvt[i] = val & lvt_writable[i];
		if (!(a->svr & SVR_ENABLE))
			a->lvt[i] |= LVT_MASKED; /* §11.4.7.2 */
		return;
	}
	switch (off) {
	case 0x080: a->tpr = val & 0xff; break;
	case 0x0b0: {
		/* §11.8.5: EOI retires the highest-priority in-service vector */
		int isrv = highest(a->isr);
		if (isrv >= 0)
			clear_bit256(a->isr, isrv);
		break;
	}
	case 0x0d0: a->ldr = val & 0xff000000u; break;
	case 0x0e0: a->dfr = val | 0x0fffffffu; break;
	case 0x0f0:
		a->svr = val & 0x3ff;
		if (!(val & SVR_ENABLE))
			for (int i = 0; i < LVT_N; i++)
				a->lvt[i] |= LVT_MASKED;
		break;
	case 0x280:
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		break;
	case 0x300:
		a->icr_lo = val & 0x000ccfffu; /* vector, mode, dest mode, level, trigger, shorthand */
		send_ipi(v);
		break;
	case 0x310: a->icr_hi = val & 0xff000000u; break;
	case 0x380:
		a->tmict = val;
		timer_start(a, rdtsc());
		break;
	case 0x3e0: {
		a->tdcr = val & 0xb;
		/* the next period uses the new divisor */
		a->period_tsc = bus_to_tsc((u64)a->tmict << div_shift(a->tdcr));
		if (!a->period_tsc)
			a->period_tsc = 1;
		break;
	}
	default: break; /* read-only or reserved */
	}
}

static u32 dword_read(struct vcpu *v, u64 off)
{
	return (off & 0xf) ? 0 : reg_read(v, (u32)off);
}

static u64 mmio_read(struct vcpu *v, void *opaque, u64 off, unsigned size)
{
	vlapic_timer_check(v, rdtsc());
	if (size == 8)
		return dword_read(v, off) | ((u64)dword_read(v, off + 4) << 32);
	u32 d = dword_read(v, off & ~3ULL) >> (8 * (off & 3));
	return size == 4 ? d : d & ((1u << (8 * size)) - 1);
}

static void mmio_write(struct vcpu *v, void *opaque, u64 off, unsigned size, u64 val)
{
	vlapic_timer_check(v, rdtsc());
	if (size < 4 || (off & 0xf))
		return;
	reg_write(v, (u32)off, (u32)val);
}

static const struct mmio_ops vlapic_ops = {.read = mmio_read, .write = mmio_write};

/* ------------------------------------------------------------ life cycle */

void vlapic_reset(struct vcpu *v)
{
	struct vlapic *a = L(v);
	memset(a, 0, sizeof(*a));
	a->dfr = 0xffffffffu;
	a->svr = 0xff;
	for (int i = 0; i < LVT_N; i++)
		a->lvt[i] = LVT_MASKED;
}

void vlapic_register(struct vm *vm)
{
	if (mmio_register(vm, VLAPIC_BASE, VLAPIC_SIZE, "lapic", &vlapic_ops, NULL))
		kprintf("umbra: VM '%s': RAM covers the local APIC page %#lx: its registers are not reachable\n",
			vm->cfg.name, (u64)VLAPIC_BASE);
}

/* ------------------------------------------------------------ delivery */

int vlapic_pending(struct vcpu *v)
{
	struct vlapic *a = L(v);
	const u32 *r = a->irr;
	if (!(r[0] | r[1] | r[2] | r[3] | r[4] | r[5] | r[6] | r[7]))
		return -1; /* nothing requested: the usual case, before every entry */
	int irrv = highest(a->irr);
	if (irrv < 0 || ((u32)irrv & 0xf0) <= (ppr(a) & 0xf0))
		return -1;
	return irrv;
}

bool vlapic_may_wake(struct vcpu *v)
{
	struct vlapic *a = L(v);
	return vlapic_pending(v) >= 0 || (a->deadline_tsc && !(a->lvt[LVT_TIMER] & LVT_MASKED));
}

void vlapic_before_entry(struct vcpu *v)
{
	vlapic_timer_check(v, rdtsc());
	if (backend->irq_window)
		backend->irq_window(v, vlapic_pending(v) >= 0);
}

void vlapic_irq_window(struct vcpu *v)
{
	struct vlapic *a = L(v);
	int vec = vlapic_pending(v);
	backend->irq_window(v, false);
	if (vec < 0)
		return; /* TPR raised or EOI since: nothing to deliver */
	clear_bit256(a->irr, vec);
	set_bit256(a->isr, vec);
	a->delivered++;
	TRACE_VCPU(TRACE_EXIT, v, "inject irq=%d", vec);
	backend->inject_event(v, (u8)vec, true, false, 0);
}

/* ------------------------------------------------------------ MSR 1Bh */

/* IA32_APIC_BASE (§11.4.4, figure 11-5): base 0xFEE00000, global enable
 * (bit 11), BSP (bit 8) on vCPU 0. */
u64 vlapic_apic_base(struct vcpu *v)
{
	return VLAPIC_BASE | BIT(11) | (v->id == 0 ? BIT(8) : 0);
}

/* Only writes that change nothing (the BSP flag aside, which is read-only
 * here) are accepted: moving the base, disabling the APIC (§11.4.3) or
 * switching to x2APIC mode is not modelled and raises #GP. */
int vlapic_set_apic_base(struct vcpu *v, u64 val)
{
	return ((val ^ vlapic_apic_base(v)) & ~BIT(8)) ? E_INVAL : E_OK;
}
