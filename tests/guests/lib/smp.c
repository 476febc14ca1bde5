/*
 * tests/guests/lib/smp.c - several CPUs in one test guest (see smp.h).
 *
 * References: Intel SDM vol. 3A §9.4 (MP initialization: the BSP's
 * INIT-SIPI-SIPI sequence of §9.4.4.1 with its 10 ms and 200 us delays),
 * §11.4 (local APIC enable, IA32_APIC_BASE), §11.6 (issuing IPIs through
 * the ICR, delivery status, destination shorthands), §11.8.5 (EOI); ACPI
 * 6.4 §5.2.5.1 (finding the RSDP), §5.2.12 (MADT), §4.8.3.3 (PM timer);
 * QEMU's fw_cfg item 0x05 (FW_CFG_NB_CPUS), which Umbra provides too
 * (docs/platform.md).
 *
 * Timing never shows in the output: delays are lower bounds measured with
 * the ACPI PM timer (real time, however slowly the CPU is emulated), and
 * waits have generous timeouts that only matter when something is broken.
 */
#include "tests/guests/lib/smp.h"
#include "tests/guests/lib/guest.h"
#include "kernel/string.h"

struct smp_cpu smp_cpus[SMP_MAX_CPUS];
int smp_ncpus = 1;
u32 smp_fwcfg_cpus, smp_madt_cpus;
bool smp_bsp_in_madt;

/* ------------------------------------------------------------ PM timer */

static u16 pm_port;
static u32 pm_mask = 0xffffff; /* 24-bit unless FADT TMR_VAL_EXT */

static u32 pm_read(void)
{
	return inl(pm_port) & pm_mask;
}

/* Ticks since @*last, accumulated into @*total (call more often than the
 * timer wraps: 4.6 s for 24 bits). */
static void pm_advance(u32 *last, u64 *total)
{
	u32 now = pm_read();
	*total += (now - *last) & pm_mask;
	*last = now;
}

/* At least @us microseconds of PM timer ticks (3580 per ms rounds up;
 * 32-bit arithmetic: no libgcc division). */
static u64 us_to_ticks(u32 us)
{
	return (u64)(us / 1000) * 3580 + (us % 1000) * 3580 / 1000 + 1;
}

void smp_udelay(u32 us)
{
	u64 want = us_to_ticks(us), total = 0;
	u32 last = pm_read();
	while (total < want) {
		for (int i = 0; i < 32; i++) /* fewer timer reads (exits) */
			cpu_relax();
		pm_advance(&last, &total);
	}
}

static void watchdog_tick(int idx, u32 vec)
{
	lapic_eoi();
}

/* This CPU's LAPIC timer, periodic (§11.5.4): 625000 x 16 bus clocks,
 * 10 ms at the 1 GHz QEMU and Umbra count at; only wakes SMP_HALT. */
static void watchdog_arm(struct smp_cpu *c)
{
	if (c->watchdog)
		return;
	smp_set_handler(SMP_V_WATCHDOG, watchdog_tick);
	lapic_write(LAPIC_TDCR, 0x3);
	lapic_write(LAPIC_LVT_TIMER, (1u << 17) | SMP_V_WATCHDOG);
	lapic_write(LAPIC_TMICT, 625000);
	c->watchdog = true;
}

bool smp_wait_eq(volatile u32 *p, u32 want, enum smp_wait_how how)
{
	u64 limit = us_to_ticks(SMP_WAIT_MS * 1000), total = 0;
	u32 last = pm_read();
	if (how == SMP_HALT)
		watchdog_arm(&smp_cpus[smp_cpu_index()]);
	for (u32 i = 0;; i++) {
		if (*p == want)
			return true;
		if (how == SMP_HALT) {
			u32 fl = irq_save();
			if (*p != want)
				irq_halt();
			irq_restore(fl);
		} else if (how == SMP_IRQS) {
			irq_window();
		}
		cpu_relax();
		if (how == SMP_HALT || (i & 1023) == 0) {
			pm_advance(&last, &total);
			if (total >= limit)
				return *p == want;
		}
	}
}

/* ------------------------------------------------------------ ACPI */

static u8 acpi_sum(u32 addr, u32 len)
{
	u8 s = 0;
	for (u32 i = 0; i < len; i++)
		s += *(volatile u8 *)(addr + i);
	return s;
}

static bool acpi_sig(u32 addr, const char *s)
{
	for (int i = 0; i < 4; i++)
		if (*(volatile u8 *)(addr + i) != (u8)s[i])
			return false;
	return true;
}

static u32 rsdp_scan(u32 start, u32 end)
{
	for (u32 a = start; a < end; a += 16)
		if (peek32(a) == 0x20445352 && peek32(a + 4) == 0x20525450 && /* "RSD PTR " */
		    acpi_sum(a, 20) == 0)
			return a;
	return 0;
}

/* The RSDP by ACPI 6.4 §5.2.5.1: the first KiB of the EBDA, then the BIOS
 * area 0xE0000-0xFFFFF on 16-byte boundaries. */
static u32 rsdp_find(void)
{
	u32 bda = 0x40e;
	__asm__("" : "+r"(bda)); /* an address, not a null-pointer offset */
	u32 ebda = (u32)*(volatile u16 *)bda << 4, r = 0;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		r = rsdp_scan(ebda, ebda + 1024);
	return r ? r : rsdp_scan(0xe0000, 0x100000);
}

static u32 madt_ids[SMP_MAX_CPUS];

/* Walk the RSDT for the FADT (PM timer) and the MADT (enabled local
 * APICs: type 0, flags bit 0). */
static const char *acpi_scan(void)
{
	u32 rsdp = rsdp_find();
	if (!rsdp)
		return "no ACPI RSDP";
	u32 rsdt = peek32(rsdp + 16);
	if (!acpi_sig(rsdt, "RSDT") || acpi_sum(rsdt, peek32(rsdt + 4)))
		return "no valid RSDT";
	u32 n = (peek32(rsdt + 4) - 36) / 4, fadt = 0, madt = 0;
	for (u32 i = 0; i < n; i++) {
		u32 t = peek32(rsdt + 36 + 4 * i);
		if (acpi_sig(t, "FACP"))
			fadt = t;
		else if (acpi_sig(t, "APIC"))
			madt = t;
	}
	if (!fadt || !madt)
		return "no FADT or MADT";
	pm_port = (u16)peek32(fadt + 76);
	if (peek32(fadt + 112) & (1u << 8))
		pm_mask = 0xffffffff;
	if (!pm_port)
		return "no ACPI PM timer";
	u32 end = madt + peek32(madt + 4);
	for (u32 e = madt + 44; e + 2 <= end;) {
		u8 type = *(volatile u8 *)e, len = *(volatile u8 *)(e + 1);
		if (len < 2)
			return "malformed MADT";
		if (type == 0 && len >= 8 && (peek32(e + 4) & 1)) {
			if (smp_madt_cpus < SMP_MAX_CPUS)
				madt_ids[smp_madt_cpus] = *(volatile u8 *)(e + 3);
			smp_madt_cpus++;
		}
		e += len;
	}
	return NULL;
}

static u32 fwcfg_cpus(void)
{
	u16 n = 0;
	outw(0x510, 0x05); /* FW_CFG_NB_CPUS, 16-bit little-endian */
	n = inb(0x511);
	n |= (u16)inb(0x511) << 8;
	return n;
}

/* ------------------------------------------------------------ IDTs */

struct __packed dtr {
	u16 limit;
	u32 base;
};

extern const u32 smp_isr_stub_table[256];
static u64 ap_idt[256] __aligned(8);
struct dtr smp_ap_idtr; /* loaded by ap_entry32 */
static smp_handler_t handlers[256];

static u64 gate(u32 off)
{
	/* 32-bit interrupt gate (IF cleared), DPL 0, CS 0x08 */
	return (off & 0xffff) | (0x08ull << 16) | (0x8e00ull << 32) | ((u64)(off >> 16) << 48);
}

void smp_set_handler(u32 vec, smp_handler_t fn)
{
	if ((vec < 32 && vec != 2) || vec > 255)
		return;
	handlers[vec] = fn;
	struct dtr idtr;
	asm volatile("sidt %0" : "=m"(idtr));
	((u64 *)idtr.base)[vec] = gate(smp_isr_stub_table[vec]);
}

/* Frame built by smp_isr_common (pushad, then the stub's pushes). */
struct smp_frame {
	u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
	u32 vector, error_code, eip, cs, eflags;
};

extern char smp_probe_read_insn[], smp_probe_write_insn[], smp_probe_fix[];
u32 smp_probe_read(u32 addr);
void smp_probe_write(u32 addr, u32 val);

void smp_isr(struct smp_frame *f);
void smp_isr(struct smp_frame *f)
{
	int idx = smp_cpu_index();
	struct smp_cpu *c = &smp_cpus[idx];
	u32 vec = f->vector;
	if (vec == 2 && handlers[2]) { /* NMI: no EOI (§11.6.1: not through the ISR) */
		handlers[2](idx, vec);
		return;
	}
	if (vec < 32) {
		if (c->probe_armed && (f->eip == (u32)smp_probe_read_insn ||
				       f->eip == (u32)smp_probe_write_insn)) {
			c->fault_vec = (int)vec;
			c->fault_err = f->error_code;
			c->fault_cr2 = read_cr2();
			c->probe_armed = 0;
			f->eip = (u32)smp_probe_fix;
			return;
		}
		/* unexpected: record it for the BSP and stop this CPU */
		c->dead_vec = vec;
		c->dead_err = f->error_code;
		c->dead_eip = f->eip;
		c->dead_cr2 = read_cr2();
		c->dead = 1;
		for (;;)
			asm volatile("cli; hlt");
	}
	if (handlers[vec]) {
		handlers[vec](idx, vec);
	} else if (vec != 0xff) { /* 0xff: spurious, no EOI (§11.9) */
		c->stray_irqs++;
		lapic_eoi();
	}
}

/* ------------------------------------------------------------ faults */

int smp_try_read32(u32 addr, u32 *val)
{
	int idx = smp_cpu_index();
	struct smp_cpu *c = &smp_cpus[idx];
	if (idx == 0) {
		int v = try_read32(addr, val);
		c->fault_err = last_fault.error_code;
		c->fault_cr2 = last_fault.cr2;
		return v;
	}
	u32 fl = irq_save();
	c->fault_vec = FAULT_NONE;
	c->probe_armed = 1;
	u32 x = smp_probe_read(addr);
	c->probe_armed = 0;
	int v = c->fault_vec;
	irq_restore(fl);
	if (v == FAULT_NONE && val)
		*val = x;
	return v;
}

int smp_try_write32(u32 addr, u32 val)
{
	int idx = smp_cpu_index();
	struct smp_cpu *c = &smp_cpus[idx];
	if (idx == 0) {
		int v = try_write32(addr, val);
		c->fault_err = last_fault.error_code;
		c->fault_cr2 = last_fault.cr2;
		return v;
	}
	u32 fl = irq_save();
	c->fault_vec = FAULT_NONE;
	c->probe_armed = 1;
	smp_probe_write(addr, val);
	c->probe_armed = 0;
	int v = c->fault_vec;
	irq_restore(fl);
	return v;
}

bool smp_report_dead(void)
{
	bool ok = true;
	for (int i = 1; i < smp_ncpus; i++) {
		struct smp_cpu *c = &smp_cpus[i];
		if (c->dead) {
			report(false, "AP %d: unexpected exception vector %u error %#x at eip %#x (cr2 %#x)",
			       i, c->dead_vec, c->dead_err, c->dead_eip, c->dead_cr2);
			ok = false;
		}
	}
	return ok;
}

/* ------------------------------------------------------------ local APIC */

void lapic_enable(void)
{
	lapic_write(LAPIC_SVR, 0x100 | 0xff);
	lapic_write(LAPIC_TPR, 0);
}

static bool icr_idle(void)
{
	for (int i = 0; i < 100000; i++) {
		if (!(lapic_read(LAPIC_ICR_LO) & ICR_BUSY))
			return true;
		cpu_relax();
	}
	return false;
}

bool lapic_send(u32 apic_id, u32 icr_lo)
{
	u32 fl = irq_save();
	bool ok = icr_idle();
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo); /* the write to the low word sends */
	ok &= icr_idle();
	irq_restore(fl);
	return ok;
}

bool smp_send_ipi(u32 apic_id, u8 vec)
{
	return lapic_send(apic_id, ICR_FIXED | ICR_ASSERT | vec);
}

bool smp_send_ipi_all_but_self(u8 vec)
{
	return lapic_send(0, ICR_ALL_BUT_SELF | ICR_FIXED | ICR_ASSERT | vec);
}

/* ------------------------------------------------------------ APs */

#define AP_STACK 4096
static u8 ap_stacks[SMP_MAX_CPUS][AP_STACK] __aligned(4096);
volatile u32 smp_boot_esp, smp_boot_idx; /* read by ap_entry32 */

int smp_cpu_index(void)
{
	u32 sp;
	asm volatile("mov %%esp, %0" : "=r"(sp));
	u32 base = (u32)ap_stacks;
	if (sp > base && sp <= base + sizeof(ap_stacks))
		return (int)((sp - base - 1) / AP_STACK);
	return 0;
}

__noreturn void smp_ap_entry(int idx);
__noreturn void smp_ap_entry(int idx)
{
	struct smp_cpu *c = &smp_cpus[idx];
	c->svr_at_entry = lapic_read(LAPIC_SVR);
	c->watchdog = false; /* INIT reset the LAPIC timer */
	lapic_enable();
	void (*fn)(int) = c->fn;
	__atomic_store_n(&c->entries, c->entries + 1, __ATOMIC_RELEASE);
	fn(idx);
	c->done = 1;
	for (;;)
		asm volatile("cli; hlt");
}

extern char ap_tramp_start[], ap_tramp_end[], ap_tramp_gdtr[];

static void tramp_install(void)
{
	u8 *dst = (u8 *)SMP_TRAMPOLINE;
	__asm__("" : "+r"(dst));
	memcpy(dst, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
	struct dtr gdtr;
	asm volatile("sgdt %0" : "=m"(gdtr));
	memcpy(dst + (ap_tramp_gdtr - ap_tramp_start), &gdtr, sizeof(gdtr));
}

/* The BSP's part of §9.4.4.1, aimed at one AP: INIT, 10 ms, SIPI, 200 us,
 * SIPI, 200 us (an AP that started on the first SIPI ignores the second:
 * only a CPU waiting for a SIPI takes one), then wait for it to arrive. */
static bool start_one(int idx, void (*fn)(int))
{
	struct smp_cpu *c = &smp_cpus[idx];
	u32 before = c->entries;
	c->fn = fn;
	c->done = 0;
	smp_boot_idx = (u32)idx;
	smp_boot_esp = (u32)ap_stacks[idx] + AP_STACK;
	asm volatile("" ::: "memory");
	bool ok = lapic_send(c->apic_id, ICR_INIT | ICR_ASSERT);
	smp_udelay(10000);
	for (int i = 0; i < 2; i++) {
		ok &= lapic_send(c->apic_id, ICR_STARTUP | ICR_ASSERT | (SMP_TRAMPOLINE >> 12));
		smp_udelay(200);
	}
	return smp_wait_eq(&c->entries, before + 1, SMP_SPIN) && ok;
}

int smp_start_aps(void (*fn)(int idx))
{
	tramp_install();
	int n = 0;
	for (int i = 1; i < smp_ncpus; i++)
		n += start_one(i, fn);
	return n;
}

bool smp_restart_ap(int idx, void (*fn)(int idx))
{
	if (idx < 1 || idx >= smp_ncpus)
		return false;
	tramp_install();
	return start_one(idx, fn);
}

/* ------------------------------------------------------------ set-up */

bool smp_init(void)
{
	for (int v = 0; v < 256; v++)
		ap_idt[v] = gate(smp_isr_stub_table[v]);
	smp_ap_idtr.limit = sizeof(ap_idt) - 1;
	smp_ap_idtr.base = (u32)ap_idt;

	/* only the local APICs interrupt: both 8259As masked */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_enable();
	smp_cpus[0].apic_id = lapic_id();

	smp_fwcfg_cpus = fwcfg_cpus();
	const char *why = acpi_scan();
	if (why) {
		report(false, "SMP set-up: %s", why);
		return false;
	}
	if (smp_fwcfg_cpus != smp_madt_cpus || smp_madt_cpus > SMP_MAX_CPUS || smp_madt_cpus < 1) {
		report(false, "SMP set-up: fw_cfg says %u CPUs, the MADT %u (at most %d)",
		       smp_fwcfg_cpus, smp_madt_cpus, SMP_MAX_CPUS);
		return false;
	}
	smp_ncpus = 1;
	for (u32 i = 0; i < smp_madt_cpus; i++) {
		if (madt_ids[i] == smp_cpus[0].apic_id) {
			smp_bsp_in_madt = true;
			continue;
		}
		if (smp_ncpus < SMP_MAX_CPUS)
			smp_cpus[smp_ncpus++].apic_id = madt_ids[i];
	}
	if (!smp_bsp_in_madt) {
		report(false, "SMP set-up: the BSP's APIC ID %u is not in the MADT", smp_cpus[0].apic_id);
		return false;
	}
	return true;
}
