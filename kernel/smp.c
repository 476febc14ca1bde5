/*
 * kernel/smp.c - application-processor bring-up (see smp.h).
 *
 * Sequence (SDM vol. 3A §9.4.4.1): INIT IPI, 10 ms, SIPI, 200 us, SIPI.
 * The trampoline (boot/trampoline.asm) sits in a page below 1 MiB (a SIPI
 * vector is a page number below 256) and switches to long mode on Umbra's
 * own PML4, which mm/hostpt.c allocated below 4 GiB so a 32-bit CR3 can
 * hold it; the trampoline page is identity-mapped only while APs start.
 * APs are started one at a time, each waiting for the previous to report.
 * A CPU that cannot enable the backend stays offline with a message.
 */
#include "kernel/smp.h"
#include "kernel/backend.h"
#include "kernel/bootinfo.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/fpu.h"
#include "kernel/lapic.h"
#include "kernel/madt.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "mm/hostpt.h"
#include "mm/kmem.h"
#include "mm/pmm.h"

extern const u8 trampoline_start[], trampoline_end[], trampoline_params[];

struct tramp_params {
	u64 cr3, efer, stack, arg, entry;
};

/* Stacks of an AP: [guard][main stack], then struct cpu_stacks. */
#define AP_STACK_SIZE (16 * 1024)
struct ap_stack {
	u8 guard[PAGE_SIZE];
	u8 stack[AP_STACK_SIZE];
} __aligned(PAGE_SIZE);

u32 smp_cpus_online = 1;
static volatile u32 ap_reported;   /* an AP finished its start (ok or not) */
static volatile bool ap_ok;
static volatile bool released;

static void tick_ipi(struct trap_frame *tf)
{
	lapic_eoi();
}

void smp_tick(void)
{
	if (smp_cpus_online > 1)
		lapic_ipi_others(IPI_TICK_VECTOR);
}

static void __noreturn ap_entry(struct cpu *c)
{
	wrmsr(MSR_GS_BASE, (u64)c);
	cpu_init_tables(c, c->stacks);
	bool ok = lapic_init_cpu() == E_OK && lapic_id() == c->apic_id;
	if (ok) {
		fpu_cpu_init();
		ok = !backend || backend->cpu_enable(c) == E_OK;
	}
	ap_ok = ok;
	__atomic_store_n(&ap_reported, 1, __ATOMIC_RELEASE);
	if (!ok)
		halt_forever();
	while (!__atomic_load_n(&released, __ATOMIC_ACQUIRE))
		cpu_relax();
	sched_run();
	halt_forever_with_irqs();
}

/* Leave the direct-map alias of a guard page unmapped. */
static void guard(void *va)
{
	hostpt_unmap_page((u64)va);
}

static bool start_one(u32 id, u32 apic_id, hpa_t tramp_pa)
{
	struct cpu *c = kzalloc(sizeof(*c));
	hpa_t st_pa, ist_pa;
	if (!c || pmm_alloc_zeroed(3, PMM_NORMAL, &st_pa) || pmm_alloc_zeroed(4, PMM_NORMAL, &ist_pa)) {
		kprintf("smp: out of memory for CPU %u\n", id);
		return false;
	}
	struct ap_stack *st = phys_to_virt(st_pa);
	struct cpu_stacks *ist = phys_to_virt(ist_pa);
	guard(st->guard);
	for (int i = 0; i < IST_COUNT; i++)
		guard(ist->ist[i].guard);
	c->self = c;
	c->id = id;
	c->apic_id = apic_id;
	c->stacks = ist;

	struct tramp_params *p = phys_to_virt(tramp_pa + (u64)(trampoline_params - trampoline_start));
	p->cr3 = read_cr3();
	p->efer = rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE);
	p->efer |= EFER_LME;
	p->stack = (u64)(st->stack + AP_STACK_SIZE) - 8;
	p->arg = (u64)c;
	p->entry = (u64)ap_entry;
	ap_reported = 0;
	ap_ok = false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_start_ap(apic_id, (u32)tramp_pa);
	for (int ms = 0; ms < 1000 && !__atomic_load_n(&ap_reported, __ATOMIC_ACQUIRE); ms++)
		udelay(1000);
	if (!ap_reported) {
		kprintf("smp: CPU %u (APIC %u) did not start\n", id, apic_id);
		return false;
	}
	if (!ap_ok) {
		kprintf("smp: CPU %u (APIC %u) started but cannot run guests (backend refused); left offline\n", id,
			apic_id);
		return false;
	}
	cpu_register(c);
	kprintf("smp: CPU %u (APIC %u) online\n", id, apic_id);
	return true;
}

void smp_start_aps(const struct boot_info *bi, u32 max_cpus)
{
	u32 ids[MAX_CPUS];
	if (lapic_init_cpu()) {
		kprintf("smp: cannot map the local APIC: boot CPU only\n");
		return;
	}
	this_cpu()->apic_id = lapic_id();
	u32 n = madt_cpus(bi, ids, MAX_CPUS);
	if (n <= 1 || max_cpus == 1)
		return;
	hpa_t tramp;
	u64 len = (u64)(trampoline_end - trampoline_start);
	if (pmm_alloc_below(0, 1 * MiB, &tramp) || len > PAGE_SIZE) {
		kprintf("smp: no page below 1 MiB for the AP trampoline: boot CPU only\n");
		return;
	}
	memcpy(phys_to_virt(tramp), trampoline_start, len);
	if (hostpt_map_identity(tramp, PAGE_SIZE)) {
		kprintf("smp: cannot map the trampoline: boot CPU only\n");
		return;
	}
	irq_register(IPI_TICK_VECTOR, tick_ipi);
	u32 next = 1;
	for (u32 i = 0; i < n && next < MAX_CPUS && (max_cpus == 0 || next < max_cpus); i++) {
		if (ids[i] == this_cpu()->apic_id)
			continue;
		if (start_one(next, ids[i], tramp))
			next++;
	}
	smp_cpus_online = next;
	hostpt_unmap_identity(tramp, PAGE_SIZE);
	kprintf("smp: %u CPU(s) online\n", smp_cpus_online);
}

void smp_release(void)
{
	__atomic_store_n(&released, true, __ATOMIC_RELEASE);
}
