/*
 * tests/guests/smpwake.c - waking the application processors and IPIs
 * between CPUs (issue "multi-vCPU VMs").
 *
 * The CPU count from fw_cfg (item 0x05) and the ACPI MADT must agree; every
 * AP is started with the BSP's INIT-SIPI-SIPI sequence (Intel SDM vol. 3A
 * §9.4.4.1) and reports through shared memory: its local APIC ID (ID
 * register, = its MADT entry and CPUID.1:EBX[31:24]), IA32_APIC_BASE (BSP
 * flag clear, §11.4.4), its SVR as found (0xff after INIT, §11.4.7.3).
 * Then fixed IPIs (§11.6.1) BSP -> AP and AP -> BSP, each one counted by
 * the receiver's handler (sti; hlt loops; a handler checks its vector is
 * in service, then EOIs), a ping-pong of 100 round trips per AP, the
 * all-excluding-self shorthand (each AP takes it exactly once, the BSP
 * never), a spinlock under contention, NMI IPIs (§11.6.1 delivery mode
 * 100b; each taken once, and one sent while the AP is still in its NMI
 * handler is held until the handler's IRET: §6.7.1), and a second
 * INIT-SIPI-SIPI to a halted AP, which must restart it at the trampoline.
 *
 * Every send waits until the previous one was counted (an IPI sent while
 * the same vector is still pending merges into its IRR bit), so every
 * count is exact. Only the BSP prints, after the APs finished each step.
 * Run with -smp 2 or more (vcpus= under Umbra); the lines do not depend on
 * timing.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/smp.h"

GUEST_NAME("smpwake");

#define V_TEST 0x40	/* BSP -> AP, counted */
#define V_TO_BSP 0x41	/* AP -> BSP, counted */
#define V_PING 0x42	/* BSP -> AP; its handler answers with V_PONG */
#define V_PONG 0x43	/* AP -> BSP */
#define V_BCAST 0x44	/* all excluding self */
#define V_KICK 0x4f	/* wakes an AP to look at its mailbox */

#define N_TEST 50
#define N_TO_BSP 50
#define N_PINGPONG 100
#define N_BCAST 3
#define N_LOCK 2000
#define N_RESTART_IPIS 10
#define N_NMI 5

enum { CMD_NONE, CMD_SEND_TO_BSP, CMD_LOCK, CMD_QUIT };

struct ap_state {
	/* filled in by the AP */
	u32 lapic_id, cpuid_id, svr_at_entry;
	u64 apic_base;
	volatile u32 recorded; /* the fields above are filled in */
	/* mailbox: the BSP writes cmd and arg, then bumps seq; the AP
	 * writes done = seq when finished */
	volatile u32 cmd, arg, seq, done;
	volatile u32 stuck; /* a command could not finish */
};

static struct ap_state aps[SMP_MAX_CPUS];
static volatile u32 hits[SMP_MAX_CPUS][256]; /* per CPU and vector */
static volatile u32 isr_bad;		     /* a handler's vector not in service */
static volatile u32 nmi_hits[SMP_MAX_CPUS], nmi_nested[SMP_MAX_CPUS];
static volatile u32 nmi_active[SMP_MAX_CPUS], nmi_hold[SMP_MAX_CPUS], nmi_held_in[SMP_MAX_CPUS];
static smp_lock_t lock;
static volatile u32 locked_counter;

/* ------------------------------------------------------------ handlers */

static void on_irq(int idx, u32 vec)
{
	if (!lapic_in_service(vec))
		isr_bad++;
	hits[idx][vec]++;
	if (vec == V_PING)
		smp_send_ipi(smp_cpus[0].apic_id, V_PONG);
	lapic_eoi();
}

/* NMI: counted; a second NMI must never arrive while one is handled
 * (§6.7.1: NMIs are blocked until the handler's IRET). With nmi_hold set
 * the handler says it is in, then waits until the BSP releases it. */
static void on_nmi(int idx, u32 vec)
{
	if (nmi_active[idx])
		nmi_nested[idx]++;
	nmi_active[idx] = 1;
	nmi_hits[idx]++;
	if (nmi_hold[idx]) {
		nmi_held_in[idx] = 1;
		while (nmi_hold[idx])
			cpu_relax();
	}
	nmi_active[idx] = 0;
}

/* ------------------------------------------------------------ APs */

static void ap_do(int idx, struct ap_state *a)
{
	switch (a->cmd) {
	case CMD_SEND_TO_BSP: {
		/* one at a time: the next only after the BSP counted it */
		volatile u32 *bsp = &hits[0][V_TO_BSP];
		u32 base = *bsp;
		for (u32 i = 1; i <= a->arg; i++) {
			smp_send_ipi(smp_cpus[0].apic_id, V_TO_BSP);
			if (!smp_wait_eq(bsp, base + i, SMP_SPIN)) {
				a->stuck = 1;
				break;
			}
		}
		break;
	}
	case CMD_LOCK:
		for (u32 i = 0; i < a->arg; i++) {
			smp_lock(&lock);
			u32 v = locked_counter;
			cpu_relax(); /* widen the window a lost update needs */
			locked_counter = v + 1;
			smp_unlock(&lock);
		}
		break;
	}
}

/* Serve the mailbox, halting with interrupts on in between (IPIs are
 * taken and counted by the handlers), until CMD_QUIT. */
static void ap_serve(int idx)
{
	struct ap_state *a = &aps[idx];
	u32 seen = a->done;
	for (;;) {
		u32 seq = a->seq;
		if (seq != seen) {
			u32 cmd = a->cmd;
			ap_do(idx, a);
			seen = seq;
			a->done = seq;
			if (cmd == CMD_QUIT)
				return;
			continue;
		}
		irq_halt();
	}
}

static void ap_record(int idx)
{
	struct ap_state *a = &aps[idx];
	a->lapic_id = lapic_id();
	a->cpuid_id = cpuid(1, 0).b >> 24;
	a->apic_base = rdmsr(MSR_APIC_BASE);
	a->svr_at_entry = smp_cpus[idx].svr_at_entry;
	__atomic_store_n(&a->recorded, 1, __ATOMIC_RELEASE);
}

static void ap_main(int idx)
{
	ap_record(idx);
	ap_serve(idx);
}

/* ------------------------------------------------------------ BSP */

static void cmd_post(int idx, u32 cmd, u32 arg)
{
	struct ap_state *a = &aps[idx];
	a->cmd = cmd;
	a->arg = arg;
	__atomic_store_n(&a->seq, a->seq + 1, __ATOMIC_RELEASE);
	smp_send_ipi(smp_cpus[idx].apic_id, V_KICK);
}

static bool cmd_wait(int idx)
{
	struct ap_state *a = &aps[idx];
	return smp_wait_eq(&a->done, a->seq, SMP_HALT) && !a->stuck;
}

static bool cmd_run(int idx, u32 cmd, u32 arg)
{
	cmd_post(idx, cmd, arg);
	return cmd_wait(idx);
}

static int naps;

static void check_identity(bool restarted)
{
	bool ids = true, base = true, reset = true, distinct = true;
	for (int i = 1; i <= naps; i++) {
		struct ap_state *a = &aps[i];
		/* the AP counts its entry before its start function runs */
		ids &= smp_wait_eq(&a->recorded, 1, SMP_SPIN);
		ids &= a->lapic_id == smp_cpus[i].apic_id && a->cpuid_id == a->lapic_id;
		base &= !(a->apic_base & APIC_BASE_BSP) && (a->apic_base & APIC_BASE_ENABLE) &&
			(a->apic_base & ~0xfffull) == LAPIC_BASE;
		reset &= (a->svr_at_entry & 0x1ff) == 0xff;
		for (int j = 0; j < i; j++)
			distinct &= a->lapic_id != (j ? aps[j].lapic_id : smp_cpus[0].apic_id);
	}
	const char *who = restarted ? "every restarted AP" : "every AP";
	report(ids, "%s: APIC ID register = its MADT entry = CPUID.1:EBX[31:24]", who);
	report(distinct, "%s: APIC IDs distinct (BSP included)", who);
	report(base, "%s: IA32_APIC_BASE at 0xfee00000, enabled, BSP flag clear", who);
	report(reset, "%s: local APIC found reset by INIT (SVR 0xff)", who);
}

static void test_start(void)
{
	int started = smp_start_aps(ap_main);
	report(started == naps, "INIT-SIPI-SIPI started %d of %d APs", started, naps);
	bool once = true;
	for (int i = 1; i <= naps; i++)
		once &= smp_cpus[i].entries == 1;
	report(once, "every AP entered the trampoline once (the second SIPI is ignored)");
	check_identity(false);
}

static void test_bsp_to_ap(void)
{
	bool ok = true;
	for (int i = 1; i <= naps && ok; i++)
		for (u32 n = 1; n <= N_TEST && ok; n++) {
			smp_send_ipi(smp_cpus[i].apic_id, V_TEST);
			ok = smp_wait_eq(&hits[i][V_TEST], n, SMP_SPIN);
		}
	report(ok, "BSP -> each AP: %d fixed IPIs (vector %#x), each taken once", N_TEST, V_TEST);
}

static void test_ap_to_bsp(void)
{
	bool ok = true;
	for (int i = 1; i <= naps && ok; i++)
		ok = cmd_run(i, CMD_SEND_TO_BSP, N_TO_BSP);
	report(ok && hits[0][V_TO_BSP] == (u32)(N_TO_BSP * naps),
	       "each AP -> BSP: %d fixed IPIs (vector %#x), each taken once", N_TO_BSP, V_TO_BSP);
}

static void test_pingpong(void)
{
	bool ok = true;
	for (int i = 1; i <= naps && ok; i++) {
		u32 base = hits[0][V_PONG];
		for (u32 n = 1; n <= N_PINGPONG && ok; n++) {
			smp_send_ipi(smp_cpus[i].apic_id, V_PING);
			ok = smp_wait_eq(&hits[0][V_PONG], base + n, SMP_HALT);
		}
		ok &= hits[i][V_PING] == N_PINGPONG;
	}
	report(ok, "ping-pong with each AP: %d round trips (ping %#x, pong %#x)", N_PINGPONG, V_PING,
	       V_PONG);
}

static void test_broadcast(void)
{
	bool ok = true;
	for (u32 n = 1; n <= N_BCAST && ok; n++) {
		smp_send_ipi_all_but_self(V_BCAST);
		for (int i = 1; i <= naps && ok; i++)
			ok = smp_wait_eq(&hits[i][V_BCAST], n, SMP_SPIN);
	}
	smp_udelay(10000); /* room for a wrong extra delivery to show */
	for (int i = 0; i < 10; i++)
		irq_window();
	for (int i = 1; i <= naps; i++)
		ok &= hits[i][V_BCAST] == N_BCAST;
	report(ok, "all-excluding-self shorthand, %d times: every AP took it once each time", N_BCAST);
	report(hits[0][V_BCAST] == 0, "all-excluding-self shorthand: never delivered to the sender");
}

static void test_lock(void)
{
	for (int i = 1; i <= naps; i++)
		cmd_post(i, CMD_LOCK, N_LOCK);
	for (u32 i = 0; i < N_LOCK; i++) {
		smp_lock(&lock);
		u32 v = locked_counter;
		cpu_relax();
		locked_counter = v + 1;
		smp_unlock(&lock);
	}
	bool ok = true;
	for (int i = 1; i <= naps; i++)
		ok &= cmd_wait(i);
	u32 want = (u32)N_LOCK * (u32)(naps + 1);
	report(ok && locked_counter == want, "spinlock: %d CPUs x %d increments = %u", naps + 1, N_LOCK,
	       locked_counter);
}

static void test_nmi(void)
{
	bool ok = true, held = true, after = true, nested = true;
	for (int i = 1; i <= naps; i++) {
		u32 id = smp_cpus[i].apic_id, base = nmi_hits[i];
		for (u32 n = 1; n <= N_NMI && ok; n++) {
			lapic_send(id, ICR_NMI | ICR_ASSERT);
			ok = smp_wait_eq(&nmi_hits[i], base + n, SMP_SPIN);
		}
		/* one NMI in its handler, a second one sent meanwhile */
		base = nmi_hits[i];
		nmi_hold[i] = 1;
		lapic_send(id, ICR_NMI | ICR_ASSERT);
		ok &= smp_wait_eq(&nmi_held_in[i], 1, SMP_SPIN);
		lapic_send(id, ICR_NMI | ICR_ASSERT);
		smp_udelay(20000);
		held &= nmi_hits[i] == base + 1;
		nmi_hold[i] = 0;
		after &= smp_wait_eq(&nmi_hits[i], base + 2, SMP_SPIN);
		nested &= nmi_nested[i] == 0;
	}
	report(ok, "NMI IPIs (delivery mode NMI): %d to each AP, each taken once", N_NMI);
	report(held, "an NMI sent while the AP runs its NMI handler waits (NMIs blocked until IRET)");
	report(after, "that NMI is taken after the handler's IRET");
	report(nested, "no NMI handler ever interrupted by another NMI");
}

static void test_restart(void)
{
	bool quit = true, restarted = true;
	for (int i = 1; i <= naps; i++) {
		quit &= cmd_run(i, CMD_QUIT, 0);
		quit &= smp_wait_eq(&smp_cpus[i].done, 1, SMP_SPIN);
	}
	report(quit, "every AP halted (its start function returned)");
	for (int i = 1; i <= naps; i++) {
		aps[i].lapic_id = aps[i].svr_at_entry = 0;
		aps[i].recorded = 0;
		aps[i].apic_base = 0;
		restarted &= smp_restart_ap(i, ap_main);
		restarted &= smp_cpus[i].entries == 2;
	}
	report(restarted, "INIT-SIPI-SIPI to a halted AP: every AP entered the trampoline again (twice in all)");
	check_identity(true);
	bool ok = true;
	for (int i = 1; i <= naps && ok; i++) {
		u32 base = hits[i][V_TEST];
		for (u32 n = 1; n <= N_RESTART_IPIS && ok; n++) {
			smp_send_ipi(smp_cpus[i].apic_id, V_TEST);
			ok = smp_wait_eq(&hits[i][V_TEST], base + n, SMP_SPIN);
		}
	}
	report(ok, "every restarted AP takes IPIs again: %d each", N_RESTART_IPIS);
	for (int i = 1; i <= naps; i++)
		ok &= cmd_run(i, CMD_QUIT, 0);
	report(ok, "every AP halted again");
}

void guest_main(void)
{
	if (!smp_init())
		return;
	naps = smp_ncpus - 1;
	printf("CPUs: %u\n", smp_fwcfg_cpus);
	report(true, "fw_cfg CPU count (item 0x05) = MADT enabled local APICs");
	report(smp_bsp_in_madt, "the BSP's APIC ID is in the MADT");
	u64 base = rdmsr(MSR_APIC_BASE);
	report((base & APIC_BASE_BSP) && (base & APIC_BASE_ENABLE),
	       "IA32_APIC_BASE on the BSP: enabled, BSP flag set");
	if (!report(naps >= 1, "at least one AP (run with -smp 2 or vcpus=2)"))
		return;
	smp_set_handler(V_TEST, on_irq);
	smp_set_handler(V_TO_BSP, on_irq);
	smp_set_handler(V_PING, on_irq);
	smp_set_handler(V_PONG, on_irq);
	smp_set_handler(V_BCAST, on_irq);
	smp_set_handler(V_KICK, on_irq);
	smp_set_handler(2, on_nmi);

	test_start();
	test_bsp_to_ap();
	test_ap_to_bsp();
	test_pingpong();
	test_broadcast();
	test_lock();
	test_nmi();
	test_restart();

	report(!isr_bad, "every handler ran with its vector in service (ISR)");
	u32 stray = 0;
	for (int i = 0; i <= naps; i++)
		stray += smp_cpus[i].stray_irqs;
	report(stray == 0, "no interrupt without a handler");
	report(smp_report_dead(), "no unexpected exception on an AP");
}
