/*
 * tests/guests/lib/smp.h - several CPUs in one test guest: finding them
 * (fw_cfg and the ACPI MADT), starting the APs with INIT-SIPI-SIPI (Intel
 * SDM vol. 3A §9.4), IPIs through the local xAPIC's ICR (§11.6), per-vector
 * interrupt handlers, a spinlock, delays from the ACPI PM timer, and
 * fault-tolerant accesses on APs.
 *
 * Only the BSP prints: APs report through shared memory, so the output
 * never interleaves. CPU index 0 is the BSP, 1..smp_ncpus-1 the APs in
 * MADT order. Each AP runs on its own stack with the APs' IDT (every vector
 * goes to smp_isr: exceptions are expected faults or stop the AP,
 * interrupts go to the handler registered for the vector). The BSP keeps
 * the library's IDT (fault_try etc.); smp_set_handler() also points the
 * vector there at smp_isr.
 */
#ifndef UMBRA_GUEST_LIB_SMP_H
#define UMBRA_GUEST_LIB_SMP_H

#include "kernel/types.h"

#define SMP_MAX_CPUS 16
#define SMP_TRAMPOLINE 0x8000u	/* real-mode start page: SIPI vector 0x08 */

/* ------------------------------------------------------------ local APIC */

#define LAPIC_BASE 0xfee00000u
#define LAPIC_ID 0x020
#define LAPIC_VER 0x030
#define LAPIC_TPR 0x080
#define LAPIC_PPR 0x0a0
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ISR 0x100
#define LAPIC_IRR 0x200
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TMICT 0x380
#define LAPIC_TDCR 0x3e0

/* ICR low word (§11.6.1) */
#define ICR_FIXED (0u << 8)
#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_BUSY (1u << 12)	/* delivery status: send pending */
#define ICR_ASSERT (1u << 14)
#define ICR_SELF (1u << 18)	/* destination shorthands */
#define ICR_ALL (2u << 18)
#define ICR_ALL_BUT_SELF (3u << 18)

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_BSP (1u << 8)
#define APIC_BASE_ENABLE (1u << 11)

static inline u32 lapic_read(u32 reg)
{
	return *(volatile u32 *)(LAPIC_BASE + reg);
}

static inline void lapic_write(u32 reg, u32 val)
{
	*(volatile u32 *)(LAPIC_BASE + reg) = val;
}

static inline u32 lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

static inline void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

/* Is @vec set in the ISR (in service) of this CPU's local APIC? */
static inline bool lapic_in_service(u32 vec)
{
	return (lapic_read(LAPIC_ISR + (vec / 32) * 0x10) >> (vec % 32)) & 1;
}

/* Software-enable this CPU's local APIC (SVR bit 8, spurious vector 0xff)
 * with TPR 0 (§11.4.7.2). */
void lapic_enable(void);

/* Send through the ICR (§11.6.1): wait until the delivery status is idle,
 * write the destination (APIC ID) to ICR[63:56], then the low word, and
 * wait for idle again (bounded). Interrupts are held off meanwhile, so a
 * handler's IPI cannot tear a half-written ICR. False if it stayed busy. */
bool lapic_send(u32 apic_id, u32 icr_lo);
/* A fixed IPI of @vec to the CPU with @apic_id (physical destination). */
bool smp_send_ipi(u32 apic_id, u8 vec);
/* A fixed IPI of @vec to every CPU but this one (shorthand 11b). */
bool smp_send_ipi_all_but_self(u8 vec);

/* ------------------------------------------------------------ CPUs */

struct smp_cpu {
	u32 apic_id;			/* from the MADT (BSP: its ID register) */
	void (*fn)(int idx);		/* what the AP runs once started */
	volatile u32 entries;		/* times it reached smp_ap_entry */
	volatile u32 svr_at_entry;	/* its SVR as it found it there */
	volatile u32 done;		/* fn returned (then cli; hlt) */
	/* an expected fault (smp_try_*): vector, error code, CR2 */
	volatile u32 probe_armed;
	volatile int fault_vec;
	volatile u32 fault_err, fault_cr2;
	/* an unexpected exception stopped the AP */
	volatile u32 dead, dead_vec, dead_err, dead_eip, dead_cr2;
	volatile u32 stray_irqs;	/* interrupts without a handler */
	bool watchdog;			/* LAPIC timer armed (SMP_HALT) */
};
extern struct smp_cpu smp_cpus[SMP_MAX_CPUS];
extern int smp_ncpus;		/* CPUs to use: BSP + APs */
extern u32 smp_fwcfg_cpus;	/* fw_cfg item 0x05 (NB_CPUS) */
extern u32 smp_madt_cpus;	/* enabled Processor Local APICs in the MADT */
extern bool smp_bsp_in_madt;	/* the BSP's APIC ID is one of them */

/*
 * Find the CPUs (fw_cfg NB_CPUS, the MADT through the standard RSDP
 * scan), the ACPI PM timer (FADT), build the APs' IDT, mask the 8259As
 * and enable the BSP's local APIC. False (with a FAIL line printed) when
 * something is missing or fw_cfg and the MADT disagree. BSP only.
 */
bool smp_init(void);

/* Start every AP with INIT-SIPI-SIPI, one at a time; each runs @fn(idx)
 * (IF = 0, local APIC enabled), then halts with interrupts off. Returns
 * the number of APs that came up. Paging off or identity-mapping
 * SMP_TRAMPOLINE. */
int smp_start_aps(void (*fn)(int idx));
/* INIT-SIPI-SIPI to AP @idx again (it must be halted: its fn returned);
 * it re-enters through the trampoline and runs @fn. True if it entered. */
bool smp_restart_ap(int idx, void (*fn)(int idx));

/* Index of the running CPU (from its stack: 0 = BSP). */
int smp_cpu_index(void);

/* ------------------------------------------------------------ interrupts */

typedef void (*smp_handler_t)(int idx, u32 vec);
/* Handler of interrupt vector @vec (32..255) on every CPU; it runs with
 * IF = 0 and must EOI itself. @vec = 2 handles NMIs (no EOI). Call on the
 * BSP (patches its IDT too). */
void smp_set_handler(u32 vec, smp_handler_t fn);

static inline u32 irq_save(void)
{
	u32 fl;
	asm volatile("pushf; pop %0; cli" : "=r"(fl) : : "memory");
	return fl;
}

static inline void irq_restore(u32 fl)
{
	asm volatile("push %0; popf" : : "r"(fl) : "memory", "cc");
}

/* Let pending interrupts in: STI, one instruction (its shadow), CLI. */
static inline void irq_window(void)
{
	asm volatile("sti; nop; cli" ::: "memory");
}

/* Halt until an interrupt was taken (STI; HLT; CLI: no lost wake-up). */
static inline void irq_halt(void)
{
	asm volatile("sti; hlt; cli" ::: "memory");
}

/* ------------------------------------------------------------ waiting */

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

/* Busy-wait at least @us microseconds (ACPI PM timer, 3.579545 MHz: a
 * lower bound in real time however slowly the CPU runs). */
void smp_udelay(u32 us);
/* Wait until *@p == @want; false after SMP_WAIT_MS. SMP_SPIN polls with
 * interrupts as they are, SMP_IRQS opens an interrupt window each turn,
 * SMP_HALT halts (STI; HLT) between looks: for a value an interrupt
 * handler changes or that comes with an IPI; it arms this CPU's LAPIC
 * timer as a periodic watchdog (vector SMP_V_WATCHDOG, about every 10 ms)
 * so that the timeout still holds. Halting lets an emulator or a
 * hypervisor give the CPU to the vCPU being waited for. */
#define SMP_WAIT_MS 10000
#define SMP_V_WATCHDOG 0x3f
enum smp_wait_how { SMP_SPIN, SMP_IRQS, SMP_HALT };
bool smp_wait_eq(volatile u32 *p, u32 want, enum smp_wait_how how);

/* ------------------------------------------------------------ locking */

typedef struct {
	volatile u32 locked;
} smp_lock_t;

static inline void smp_lock(smp_lock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (l->locked)
			cpu_relax();
}

static inline void smp_unlock(smp_lock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------ faults */

/*
 * One 32-bit access that may fault, on any CPU: returns FAULT_NONE or the
 * vector, with the error code and CR2 in smp_cpus[idx].fault_err/cr2. On
 * an AP through the APs' IDT; on the BSP through the library's fault_try.
 */
int smp_try_read32(u32 addr, u32 *val);
int smp_try_write32(u32 addr, u32 val);

/* One FAIL line per AP an unexpected exception stopped; true if none. */
bool smp_report_dead(void);

#endif
