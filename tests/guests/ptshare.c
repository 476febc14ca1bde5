/*
 * tests/guests/ptshare.c - two CPUs sharing page tables that one of them
 * edits while the other uses them: TLB shootdowns (issue "multi-vCPU
 * VMs").
 *
 * The BSP (the editor) and AP 1 (the checker) run on one set of tables
 * (32-bit or PAE). A page at V is mapped to one of 8 frames; the first
 * word of a frame holds the generation it was last mapped for. Each round
 * the editor picks a frame (generation % 8), writes the generation into
 * it through the identity map, rewrites the PTE of V with a plain store
 * (as an OS would; in PAE only the low half, so the store is atomic),
 * invalidates V locally (INVLPG, Intel SDM vol. 3A §4.10.4.1) and shoots
 * the checker's TLB down (§4.10.5): flush_req = generation, then a fixed
 * IPI (§11.6) or, in other rounds, nothing (the checker polls flush_req),
 * and waits for flush_ack = generation, halted (STI; HLT) until the
 * checker's acknowledging IPI: a waiting CPU that halts lets QEMU's
 * threads or a hypervisor's scheduler run the other one, where spinning
 * makes every round cost a time slice on a loaded host. The checker reads
 * V all the time with interrupts open between reads; on a request (IPI or
 * poll) it executes INVLPG V,
 * checks its first read after that is the new generation (nothing may be
 * cached beyond the INVLPG), and acknowledges. Afterwards no read may
 * return an older generation than the last acknowledged one (a TLB entry
 * may be stale only until its flush point).
 *
 * Then rounds that unmap V (PTE not present: the checker's next access
 * after the shootdown must #PF with error 0, CR2 = V; §4.7) and remap it,
 * and rounds that make V read-only (CR0.WP = 1: the checker's write must
 * #PF with error P|W) and writable again (its write must land).
 *
 * The PTEs the editor writes have A and D set, so no page walk writes to
 * them (§4.8): the editor's stores are the only writes to the PTE. Every
 * printed number is a count fixed by the round plan or a count that must
 * be 0: nothing depends on timing or interleaving.
 *
 * Argument: mode=32|pae (default: both, one after the other). Needs two
 * CPUs (-smp 2, vcpus=2); more are started and left halted.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"
#include "tests/guests/lib/smp.h"
#include "kernel/string.h"

GUEST_NAME("ptshare");

#define V 0x40000000u
#define NFRAMES 8
#define V_FLUSH 0x40 /* editor -> checker: shoot V down */
#define V_ACK 0x41   /* checker -> editor: done (wakes it from HLT) */

#define MAP_ROUNDS 2000	 /* the first half by IPI, the second polled */
#define PAIRS 100	 /* unmap+remap pairs, read-only+writable pairs */

enum kind { K_MAP, K_UNMAP, K_RO, K_RW };

static u32 frames[NFRAMES][1024] __aligned(4096);

/* ------------------------------------------------------------ shared */

static volatile u32 flush_req, flush_ack, req_kind, req_by_ipi;
static volatile u32 stop, unmap_phase, ready;
static volatile u32 run_seq, run_done; /* BSP -> checker: run one mode */
static volatile u32 run_cr3, run_pae;

/* the checker's own state and counts (read by the BSP once it is done) */
static u32 last_ack;
static struct {
	u32 flushes_ipi, flushes_poll, ipi_unasked;
	u32 stale;	/* first read after INVLPG not the new generation */
	u32 violations; /* a read older than the last acknowledged flush */
	u32 exact;	/* reads of exactly the acknowledged generation */
	u32 unmap_ok, unmap_bad, ro_ok, ro_bad, rw_ok, rw_bad;
	u32 other_faults;
} ck;

/* ------------------------------------------------------------ checker */

static bool pf_is(int v, u32 err, u32 cr2)
{
	struct smp_cpu *c = &smp_cpus[smp_cpu_index()];
	return v == VEC_PF && c->fault_err == err && c->fault_cr2 == cr2;
}

/* The checker's side of a shootdown: INVLPG, check the new state, ack. */
static void do_flush(bool by_ipi)
{
	u32 g = flush_req;
	if (g == last_ack)
		return;
	u32 k = req_kind, x = 0;
	invlpg(V);
	int v = smp_try_read32(V, &x);
	if (k == K_UNMAP) {
		if (pf_is(v, 0, V))
			ck.unmap_ok++;
		else
			ck.unmap_bad++;
	} else if (v != FAULT_NONE || x != g) {
		ck.stale++;
	}
	if (k == K_RO) {
		v = smp_try_write32(V + 4, g);
		if (pf_is(v, PF_P | PF_W, V + 4))
			ck.ro_ok++;
		else
			ck.ro_bad++;
	} else if (k == K_RW) {
		u32 y = 0;
		v = smp_try_write32(V + 4, g);
		if (v == FAULT_NONE && smp_try_read32(V + 4, &y) == FAULT_NONE && y == g)
			ck.rw_ok++;
		else
			ck.rw_bad++;
	}
	if (by_ipi)
		ck.flushes_ipi++;
	else
		ck.flushes_poll++;
	last_ack = g;
	__atomic_store_n(&flush_ack, g, __ATOMIC_RELEASE);
	smp_send_ipi(smp_cpus[0].apic_id, V_ACK);
}

static void on_ack_ipi(int idx, u32 vec)
{
	lapic_eoi();
}

static void on_flush_ipi(int idx, u32 vec)
{
	if (req_by_ipi)
		do_flush(true);
	else
		ck.ipi_unasked++;
	lapic_eoi();
}

static void check_loop(void)
{
	while (!stop) {
		irq_window(); /* shootdown IPIs are taken here */
		/* flush_req first: once it is seen, req_by_ipi (stored
		 * before it) is the new round's */
		if (flush_req != last_ack && !req_by_ipi)
			do_flush(false);
		u32 a = last_ack, x;
		int v = smp_try_read32(V, &x);
		if (v == FAULT_NONE) {
			if (x < a)
				ck.violations++;
			else if (x == a)
				ck.exact++;
		} else if (!(unmap_phase && pf_is(v, 0, V))) {
			/* only while V comes and goes may a read fault */
			ck.other_faults++;
		}
	}
}

static __noreturn void checker_main(int idx)
{
	u32 seen = 0;
	for (;;) {
		while (run_seq == seen)
			cpu_relax();
		seen = run_seq;
		if (run_pae)
			paging_enable_pae((u64 *)run_cr3, true);
		else
			paging_enable32((u32 *)run_cr3, true);
		ready = 1;
		check_loop();
		paging_disable();
		run_done = seen;
	}
}

/* AP 1 checks; any others return at once and stay halted. */
static void ap_main(int idx)
{
	if (idx == 1)
		checker_main(idx);
}

/* ------------------------------------------------------------ editor */

static volatile u32 *pte_lo; /* the low 32 bits of V's PTE */
static u32 gen, editor_bad, timeouts;

static bool one_round(enum kind k, bool by_ipi)
{
	u32 g = ++gen, f = g % NFRAMES;
	u32 pa = (u32)frames[f];
	u32 acc = PTE_P | PTE_A | PTE_D;
	if (k != K_UNMAP)
		frames[f][0] = g;
	*pte_lo = k == K_UNMAP ? 0 : k == K_RO ? pa | acc : pa | acc | PTE_W;
	invlpg(V);

	/* the editor sees its own change at once */
	u32 x = 0;
	int v = try_read32(V, &x);
	if (k == K_UNMAP)
		editor_bad += !(v == VEC_PF && last_fault.error_code == 0 && last_fault.cr2 == V);
	else
		editor_bad += !(v == FAULT_NONE && x == g);
	if (k == K_RO)
		editor_bad += !(try_write32(V + 4, g) == VEC_PF &&
				last_fault.error_code == (PF_P | PF_W) && last_fault.cr2 == V + 4);

	/* the shootdown */
	req_kind = k;
	req_by_ipi = by_ipi;
	__atomic_store_n(&flush_req, g, __ATOMIC_RELEASE);
	if (by_ipi)
		smp_send_ipi(smp_cpus[1].apic_id, V_FLUSH);
	if (!smp_wait_eq(&flush_ack, g, SMP_HALT)) {
		timeouts++;
		return false;
	}
	return true;
}

static bool run_rounds(void)
{
	for (int i = 0; i < MAP_ROUNDS; i++)
		if (!one_round(K_MAP, i < MAP_ROUNDS / 2))
			return false;
	unmap_phase = 1;
	for (int i = 0; i < PAIRS; i++)
		if (!one_round(K_UNMAP, i & 1) || !one_round(K_MAP, i & 1))
			return false;
	unmap_phase = 0;
	for (int i = 0; i < PAIRS; i++)
		if (!one_round(K_RO, i & 1) || !one_round(K_RW, i & 1))
			return false;
	return true;
}

static void run_mode(bool pae)
{
	const char *m = pae ? "pae" : "32";
	u32 flags = PTE_P | PTE_W | PTE_A | PTE_D;
	u32 root;
	memset(frames, 0, sizeof(frames));
	if (pae) {
		u64 *pdpt = pae_new();
		pae_identity(pdpt, image_map_end(), flags);
		pae_map4k(pdpt, LAPIC_BASE, LAPIC_BASE, flags | PTE_PCD | PTE_PWT);
		pae_map4k(pdpt, V, (u32)frames[0], flags);
		pte_lo = (volatile u32 *)pae_leaf(pdpt, V);
		root = (u32)pdpt;
	} else {
		u32 *pd = pt32_new();
		pt32_identity(pd, image_map_end(), flags);
		pt32_map4k(pd, LAPIC_BASE, LAPIC_BASE, flags | PTE_PCD | PTE_PWT);
		pt32_map4k(pd, V, (u32)frames[0], flags);
		pte_lo = pt32_leaf(pd, V);
		root = (u32)pd;
	}
	gen = editor_bad = timeouts = 0;
	flush_req = flush_ack = last_ack = 0;
	req_by_ipi = stop = unmap_phase = ready = 0;
	memset(&ck, 0, sizeof(ck));

	if (pae)
		paging_enable_pae((u64 *)root, true);
	else
		paging_enable32((u32 *)root, true);
	run_cr3 = root;
	run_pae = pae;
	u32 seq = run_seq + 1;
	__atomic_store_n(&run_seq, seq, __ATOMIC_RELEASE);
	bool ok = smp_wait_eq(&ready, 1, SMP_SPIN) && run_rounds();
	stop = 1;
	ok &= smp_wait_eq(&run_done, seq, SMP_SPIN);
	paging_disable();

	u32 rounds = MAP_ROUNDS + 4 * PAIRS, by_ipi = rounds / 2;
	printf("mode %s: %u rounds, %u shootdowns by IPI, %u polled\n", m, rounds, by_ipi,
	       rounds - by_ipi);
	report(ok && gen == rounds, "%s: every shootdown acknowledged in time", m);
	report(editor_bad == 0, "%s: the editor sees each change after its own INVLPG", m);
	report(ck.flushes_ipi == by_ipi && ck.flushes_poll == rounds - by_ipi && !ck.ipi_unasked,
	       "%s: checker: %u flushes on IPI, %u on polling", m, ck.flushes_ipi, ck.flushes_poll);
	report(ck.stale == 0, "%s: checker: first read after its INVLPG is the new generation (stale after flush: %u)",
	       m, ck.stale);
	report(ck.violations == 0, "%s: checker: never older than its last flush (violations: %u)", m,
	       ck.violations);
	report(ck.exact > 0, "%s: checker: read the flushed generation itself: %s", m,
	       ck.exact > 0 ? "yes" : "no");
	report(ck.unmap_ok == PAIRS && ck.unmap_bad == 0,
	       "%s: unmapped + shootdown: the checker's next read #PF error 0, CR2 = V (%u of %u)", m,
	       ck.unmap_ok, PAIRS);
	report(ck.ro_ok == PAIRS && ck.ro_bad == 0,
	       "%s: read-only + shootdown: the checker's write #PF error P|W (%u of %u)", m, ck.ro_ok,
	       PAIRS);
	report(ck.rw_ok == PAIRS && ck.rw_bad == 0,
	       "%s: writable again + shootdown: the checker's write lands (%u of %u)", m, ck.rw_ok,
	       PAIRS);
	report(ck.other_faults == 0, "%s: checker: no other fault (%u)", m, ck.other_faults);
}

void guest_main(void)
{
	char buf[16];
	const char *mode = cmdline_get("mode", buf, sizeof(buf));
	bool do32 = !mode || !strcmp(mode, "32"), dopae = !mode || !strcmp(mode, "pae");
	if (!do32 && !dopae) {
		report(false, "mode=%s: want 32 or pae", mode);
		return;
	}
	if (!smp_init())
		return;
	if (!report(smp_ncpus >= 2, "at least two CPUs (run with -smp 2 or vcpus=2)"))
		return;
	smp_set_handler(V_FLUSH, on_flush_ipi);
	smp_set_handler(V_ACK, on_ack_ipi);
	int started = smp_start_aps(ap_main);
	if (!report(started == smp_ncpus - 1, "the APs started"))
		return;
	if (do32)
		run_mode(false);
	if (dopae)
		run_mode(true);
	smp_report_dead();
}
