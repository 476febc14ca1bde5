/*
 * tests/host/test_shootdown.c - the cross-CPU TLB shootdown of issue
 * "SMP", on the host: the real shadow MMU (mm/shadow*.c, its VM lock)
 * and the real entry/request handshake (kernel/vcpu_sync.h), with one
 * thread per simulated CPU, each with its own tagged TLB (the simulated
 * hardware of tests/host/shadow_fake.c).
 *
 * Readers (vCPUs 1..N) loop: shadow_reload in the host, then the
 * handshake's entry; "in guest mode" they load the PDPTE registers from
 * their root (hardware PAE: VMRUN does it), read the published floor,
 * translate V through their TLB or a hardware walk of the shadow tables
 * and read the word there; then they leave guest mode and, after a miss,
 * take the #PF through shadow_page_fault. A pending request (TLB flush)
 * makes the entry back out: they flush their TLB and start again.
 *
 * The editor (vCPU 0, in the host) remaps V to frame gen % 8 holding the
 * value gen, as Umbra does for an emulated guest write to a write-tracked
 * page table (guest store, then shadow_gpa_written), and only then
 * publishes floor = gen. The shadow MMU's flush_tlb callback here is the
 * kernel's protocol: post VREQ_TLB_FLUSH, and for a vCPU in guest mode
 * wait until it leaves it (kernel/mmu.c env_flush + vcpu_kick.c, minus
 * the IPI: a simulated CPU leaves guest mode on its own at the end of
 * each access).
 *
 * Invariants checked:
 *  - no read in a guest-mode stay that saw floor F returns a value < F
 *    (a stale translation after the flush point);
 *  - no simulated CPU ever walks a freed shadow table (the walk would hit
 *    a freed frame: env p2v fails the test, ASan reports the use);
 *  - every frame comes back at the end (tw_free).
 * Run for 32-bit, PAE and 4-level guest paging with 2 and 3 readers.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/vcpu_sync.h"
#include "tests/host/shadow_fake.h"

#define V_GVA 0x40000000ULL      /* the page the editor remaps */
#define NFRAMES 8
#define ROUNDS 1000

static struct tworld *T;
static struct vcpu_sync sync_[SIM_MAX_VCPUS];
static _Atomic uint64_t floor_gen;
static _Atomic int stop;
static _Atomic long stale, reads, fresh_reads, flushes_taken, faults, waits;
static __thread int self_id = -1;
static _Atomic long stays[SIM_MAX_VCPUS]; /* guest-mode stays per reader */

/* The shadow MMU's flush_tlb (called with its lock held). */
static void mt_flush(void *ctx, u32 vcpu)
{
	(void)ctx;
	for (unsigned i = 0; i < T->ncpu; i++) {
		if (vcpu != SHADOW_ALL_VCPUS && vcpu != i)
			continue;
		if ((int)i == self_id) {
			sim_tlb_flush(&T->cpu[i]);
			continue;
		}
		u64 seq = vsync_post(&sync_[i], VREQ_TLB_FLUSH);
		if (!vsync_in_guest(seq))
			continue;
		atomic_fetch_add(&waits, 1);
		while (!vsync_left(&sync_[i], seq))
			sched_yield(); /* more threads than cores */
	}
}

static uint64_t data_gpa(uint64_t gen)
{
	return G_DATA_BASE + (gen % NFRAMES) * PAGE_SIZE;
}

/* Entry: the PDPTE registers come from the PAE root (SDM §4.4.1). */
static void load_pdptes(struct sim_cpu *c)
{
	if (!c->hw.pae)
		return;
	uint64_t *root = T->f.env.p2v(c->hw.cr3 & ~31ULL);
	for (unsigned i = 0; i < 4; i++)
		c->pdpte_regs[i] = __atomic_load_n(&root[i], __ATOMIC_RELAXED);
}

static bool translate(struct sim_cpu *c, uint64_t gva, uint64_t *hpa)
{
	uint64_t page = gva & ~0xfffULL;
	struct tlb_entry *t = &c->tlb[(page >> 12) % TLB_SIZE];
	if (t->valid && t->gva_page == page) {
		*hpa = t->hpa_page;
		return true;
	}
	uint8_t perm;
	if (!sim_hw_walk(c, gva, hpa, &perm) || !perm_allows(perm, 0))
		return false;
	*t = (struct tlb_entry){true, page, *hpa, perm};
	return true;
}

static void *reader(void *arg)
{
	struct sim_cpu *c = arg;
	self_id = (int)c->id;
	while (!atomic_load(&stop)) {
		shadow_reload(c->sv, &c->hw);
		if (!c->hw.cr3) {
			FAIL("reader %u: reload failed", c->id);
			return NULL;
		}
		if (!vsync_enter(&sync_[c->id])) {
			if (vsync_take(&sync_[c->id]) & VREQ_TLB_FLUSH) {
				sim_tlb_flush(c);
				atomic_fetch_add(&flushes_taken, 1);
			}
			continue;
		}
		/* guest mode: a stay of several accesses (a real vCPU stays
		 * in guest mode for long), each checked against the floor
		 * published at that moment */
		load_pdptes(c);
		bool ok = true;
		long n_ok = 0;
		for (int k = 0; k < 32 && ok; k++) {
			uint64_t f = atomic_load_explicit(&floor_gen, memory_order_acquire);
			uint64_t hpa;
			ok = translate(c, V_GVA, &hpa);
			if (!ok)
				break;
			uint64_t val = __atomic_load_n((uint32_t *)g_ptr(hpa - G_HPA_BASE), __ATOMIC_RELAXED);
			n_ok++;
			if (val < f) {
				if (atomic_fetch_add(&stale, 1) < 5)
					fprintf(stderr, "reader %u: read %" PRIu64 " after floor %" PRIu64 "\n", c->id,
						val, f);
			} else if (val == f) {
				atomic_fetch_add(&fresh_reads, 1);
			}
		}
		vsync_exit(&sync_[c->id]);
		atomic_fetch_add(&stays[c->id], 1);
		atomic_fetch_add(&reads, n_ok);
		sched_yield(); /* more threads than cores: let the editor run */
		if (ok)
			continue;
		atomic_fetch_add(&faults, 1);
		struct shadow_pf_result pf;
		shadow_page_fault(c->sv, V_GVA, 0, 0, &pf);
		if (pf.status != SPF_FIXED) {
			FAIL("reader %u: fault at V gave status %d", c->id, pf.status);
			return NULL;
		}
	}
	return NULL;
}

static void run(int fmt, unsigned readers)
{
	T = tw_new(512, readers + 1, 0);
	T->f.env.flush_tlb = mt_flush;
	/* tw_new created the VM with the old env copy: the MMU keeps its own
	 * copy of env, so patch that one through a fresh VM */
	for (unsigned i = 0; i < T->ncpu; i++)
		shadow_vcpu_destroy(T->cpu[i].sv);
	shadow_vm_destroy(T->svm);
	T->svm = shadow_vm_create(&T->f.env, 512);
	for (unsigned i = 0; i < T->ncpu; i++)
		T->cpu[i].sv = shadow_vcpu_create(T->svm, i);

	uint64_t cr3 = gb_new_as(&T->w, fmt);
	/* identity map of the table pool so the guest could reach them,
	 * and V -> frame 0 */
	gpa_t pte = gb_map(&T->w, fmt, cr3, V_GVA, data_gpa(0), PAGE_SIZE, PTE_RW, PTE_RW);
	unsigned pte_size = fmt == GWALK_FMT_32 ? 4 : 8;
	for (unsigned g = 0; g < NFRAMES; g++)
		g_put(data_gpa(g), 4, 0);
	struct gstate gs = g_state(fmt, cr3);
	for (unsigned i = 0; i < T->ncpu; i++)
		CHECK(sim_set_state(&T->cpu[i], &gs) == E_OK, "set state");
	atomic_store(&floor_gen, 0);
	atomic_store(&stop, 0);
	atomic_store(&stale, 0);
	atomic_store(&reads, 0);
	atomic_store(&fresh_reads, 0);
	atomic_store(&flushes_taken, 0);
	atomic_store(&faults, 0);
	atomic_store(&waits, 0);
	memset(sync_, 0, sizeof(sync_));
	for (unsigned i = 0; i < SIM_MAX_VCPUS; i++)
		atomic_store(&stays[i], 0);

	pthread_t th[SIM_MAX_VCPUS];
	for (unsigned i = 1; i <= readers; i++)
		pthread_create(&th[i], NULL, reader, &T->cpu[i]);
	self_id = 0;
	uint64_t old = g_get(pte, pte_size);
	for (uint64_t gen = 1; gen <= ROUNDS; gen++) {
		g_put(data_gpa(gen), 4, gen);
		uint64_t e = (old & ~GENMASK(51, 12)) | data_gpa(gen);
		g_put(pte, pte_size, e);
		shadow_gpa_written(T->svm, pte, pte_size);
		atomic_store_explicit(&floor_gen, gen, memory_order_release);
		/* every reader runs two more guest-mode stays (one with the
		 * new translation cached) before the next edit */
		for (unsigned i = 1; i <= readers; i++) {
			long want = atomic_load(&stays[i]) + 2;
			while (atomic_load(&stays[i]) < want)
				sched_yield();
		}
	}
	atomic_store(&stop, 1);
	for (unsigned i = 1; i <= readers; i++)
		pthread_join(th[i], NULL);
	self_id = -1;

	printf("fmt %d, %u readers: %ld reads (%ld of the newest value), %ld faults, %ld flushes taken, "
	       "%ld waits for guest mode, %ld stale\n",
	       fmt, readers, atomic_load(&reads), atomic_load(&fresh_reads), atomic_load(&faults),
	       atomic_load(&flushes_taken), atomic_load(&waits), atomic_load(&stale));
	CHECK(atomic_load(&stale) == 0, "fmt %d: %ld stale reads after the flush point", fmt, atomic_load(&stale));
	CHECK(atomic_load(&reads) > 0, "fmt %d: the readers never read", fmt);
	CHECK(atomic_load(&flushes_taken) > 0, "fmt %d: no shootdown reached a reader", fmt);
	tw_free(T, "shootdown");
	T = NULL;
}

int main(void)
{
	static const int fmts[] = {GWALK_FMT_32, GWALK_FMT_PAE, GWALK_FMT_4LVL};
	for (unsigned i = 0; i < 3; i++)
		for (unsigned r = 2; r <= 3; r++)
			run(fmts[i], r);
	printf("%ld checks, %d failures\n", g_checks, g_failures);
	return g_failures ? 1 : 0;
}
