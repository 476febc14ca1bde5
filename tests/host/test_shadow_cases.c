/*
 * tests/host/test_shadow_cases.c - targeted shadow MMU cases: 10 000
 * address spaces under a tiny limit, tables that map themselves, tables
 * outside RAM, CR0.WP = 0, unsync leaf tables, the D flag, protection
 * keys, 5-level paging, running out of frames.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mm/shadow_priv.h"
#include "tests/host/shadow_test.h"

#define R 0u
#define W GWALK_WRITE
#define X GWALK_FETCH
#define U GWALK_USER

/* ---------------------------------------------------------------- 10 000 address spaces */

/* 10 000 distinct guest top-level tables (CR3 values) over 8 shared lower
 * trees, with the minimum page limit, on two vCPUs: every translation
 * right, never above the limit, frames bounded. */
static void many_address_spaces(int fmt)
{
	const unsigned nas = 10000;
	struct tworld *t = tw_new(1, 2, 64 * MiB); /* raised to SH_MIN_PAGES */
	t->w.base = 16 * MiB;
	t->w.nframes = 11000;
	uint64_t fl = PTE_RW | PTE_US, tf = PTE_RW | PTE_US;
	uint64_t trees[8];
	unsigned esz = fmt == GWALK_FMT_32 ? 4 : 8;
	/* Second translated address: another top-level entry. */
	uint64_t gva2 = fmt == GWALK_FMT_4LVL ? (1ULL << 39) + 0x1000 : 0x40001000;
	unsigned top2 = fmt == GWALK_FMT_4LVL ? 1 : fmt == GWALK_FMT_PAE ? 1 : 256;

	/* Tree k: the table below a top-level entry, mapping page 1 of its
	 * range to data frame k. */
	for (unsigned k = 0; k < 8; k++) {
		uint64_t cr3 = gb_new_as(&t->w, fmt);
		gb_map(&t->w, fmt, cr3, 0x1000, data_gpa(k), PAGE_SIZE, fl, tf);
		trees[k] = g_get((fmt == GWALK_FMT_PAE ? cr3 & ~31ULL : cr3), esz);
	}
	unsigned long peak0 = t->f.high_used;
	for (unsigned i = 0; i < nas; i++) {
		uint64_t cr3 = gb_new_as(&t->w, fmt);
		gpa_t top = fmt == GWALK_FMT_PAE ? cr3 & ~31ULL : cr3;
		g_put(top, esz, trees[i % 8]);
		g_put(top + top2 * esz, esz, trees[(i + 1) % 8]);
		struct sim_cpu *c = &t->cpu[i % 2];
		struct gstate gs = g_state(fmt, cr3);
		set_state(c, &gs, "many");
		expect_ok(c, 0x1000, W, data_gpa(i % 8), "many: first");
		expect_ok(c, gva2, R, data_gpa((i + 1) % 8), "many: second");
		struct shadow_stats st = tw_stats(t);
		if (st.pages_in_use > st.max_pages || st.overshoots) {
			FAIL("many (%d): %" PRIu64 " pages in use, limit %" PRIu64 ", %" PRIu64 " overshoots", fmt,
			     st.pages_in_use, st.max_pages, st.overshoots);
			break;
		}
	}
	struct shadow_stats st = tw_stats(t);
	CHECK(st.reclaims > 1000 || fmt != GWALK_FMT_4LVL, "many: %" PRIu64 " reclaims", st.reclaims);
	CHECK(t->f.high_peak - peak0 < 3 * SH_MIN_PAGES + 64, "many: frames grew by %" PRIu64,
	      t->f.high_peak - peak0);
	printf("  %5u address spaces (fmt %d): %" PRIu64 " pages created, %" PRIu64 " reclaimed, peak %" PRIu64
	       " frames\n",
	       nas, fmt, st.pages_created, st.reclaims, t->f.high_peak);
	tw_free(t, "many address spaces");
}

/* Four vCPUs, each cycling through 6 five-level address spaces with
 * 2 MiB and 1 GiB pages, under the minimum limit: the root caches and
 * the paths being built compete for 16 pages. Never above the limit,
 * every translation right. */
static void many_vcpus_tiny_limit(void)
{
	struct tworld *t = tw_new(1, 4, 0);
	uint64_t cr3[6];
	for (unsigned i = 0; i < 6; i++) {
		cr3[i] = gb_new_as(&t->w, GWALK_FMT_5LVL);
		gb_map(&t->w, GWALK_FMT_5LVL, cr3[i], 0x401000, data_gpa(i), PAGE_SIZE, PTE_RW, PTE_RW);
		gb_map(&t->w, GWALK_FMT_5LVL, cr3[i], 0x0001000000000000ULL, 0, GiB, PTE_RW, PTE_RW);
		gb_map(&t->w, GWALK_FMT_5LVL, cr3[i], 0xff00000000200000ULL, G_HIGH_BASE, 2 * MiB, PTE_RW, PTE_RW);
	}
	for (unsigned k = 0; k < 400; k++) {
		struct sim_cpu *c = &t->cpu[k % 4];
		unsigned i = (k * 7 + k / 4) % 6;
		struct gstate gs = g_state(GWALK_FMT_5LVL, cr3[i]);
		set_state(c, &gs, "tiny");
		expect_ok(c, 0x401000, W, data_gpa(i), "tiny 4K");
		expect_ok(c, 0x0001000000123000ULL, R, 0x123000, "tiny 1G");
		expect_ok(c, 0xff00000000345000ULL, R, G_HIGH_BASE + 0x145000, "tiny 2M");
		/* The next vCPU still runs on the root it set up at k - 3. */
		if (k >= 3)
			expect_ok(&t->cpu[(k + 1) % 4], 0x401000, R, data_gpa(((k - 3) * 7 + (k - 3) / 4) % 6),
				  "tiny other");
		struct shadow_stats st = tw_stats(t);
		if (st.pages_in_use > st.max_pages || st.overshoots) {
			FAIL("tiny: %" PRIu64 " pages, limit %" PRIu64 ", %" PRIu64 " overshoots", st.pages_in_use,
			     st.max_pages, st.overshoots);
			break;
		}
	}
	tw_free(t, "many vCPUs, tiny limit");
}

/* ---------------------------------------------------------------- self maps */

static void self_map_4level(void)
{
	struct tworld *t = tw_new(64, 1, 0);
	struct sim_cpu *c = &t->cpu[0];
	uint64_t pml4 = gb_new_as(&t->w, GWALK_FMT_4LVL);
	gpa_t pte = gb_map(&t->w, GWALK_FMT_4LVL, pml4, 0x401000, data_gpa(1), PAGE_SIZE, PTE_RW, PTE_RW);
	/* The recursive slot: PML4[511] points to the PML4 itself. */
	g_put(pml4 + 511 * 8, 8, pml4 | PTE_P | PTE_RW);
	struct gstate gs = g_state(GWALK_FMT_4LVL, pml4);
	set_state(c, &gs, "self4");
	expect_ok(c, 0x401000, R, data_gpa(1), "self4 data");
	expect_ok(c, 0xfffffffffffff000ULL, R, pml4, "self4: the PML4 through itself");
	expect_ok(c, 0xfffffffffffff000ULL + 511 * 8, R, pml4 + 511 * 8, "self4: the PML4 through itself");
	/* The PML4 is shadowed at levels 4..1 now: a write is emulated. */
	expect_outcome(c, 0xfffffffffffff000ULL + 5 * 8, W, SIM_EMULATE, pml4 + 5 * 8, "self4 write");
	CHECK(shadow_gfn_tracked(t->svm, pml4 >> 12), "self4: PML4 tracked");
	/* Emulate it: PML4[5] := PML4[0] (a second view of the low tree). */
	g_put(pml4 + 5 * 8, 8, g_get(pml4, 8));
	shadow_gpa_written(t->svm, pml4 + 5 * 8, 8);
	expect_ok(c, (5ULL << 39) + 0x401000, R, data_gpa(1), "self4: new entry");
	/* The shadow of the PT (reached by recursion) also tracks the PT. */
	expect_ok(c, 0xffffff8000000000ULL + (0x401000 >> 12) * 8, R, pte, "self4: PTE view");
	tw_free(t, "self map 4-level");
}

static void self_map_32(void)
{
	struct tworld *t = tw_new(64, 1, 0);
	struct sim_cpu *c = &t->cpu[0];
	uint64_t pd = gb_new_as(&t->w, GWALK_FMT_32);
	gpa_t pte = gb_map(&t->w, GWALK_FMT_32, pd, 0x401000, data_gpa(1), PAGE_SIZE, PTE_RW, PTE_RW);
	gpa_t pt = pte & ~0xfffULL;
	/* PD[1023] = PD: the classic 32-bit recursive map; PT[5] = PT: a
	 * page table that maps itself as a page. */
	g_put(pd + 1023 * 4, 4, pd | PTE_P | PTE_RW);
	g_put(pt + 5 * 4, 4, pt | PTE_P | PTE_RW);
	struct gstate gs = g_state(GWALK_FMT_32, pd);
	set_state(c, &gs, "self32");
	expect_ok(c, 0x401000, R, data_gpa(1), "self32 data");
	expect_ok(c, 0xfffff000, R, pd, "self32: PD through itself");
	expect_ok(c, 0x405000, R, pt, "self32: PT mapping itself");
	/* The PT is shadowed only as a leaf table: the write unsyncs it and
	 * goes through without emulation. */
	struct shadow_stats a = tw_stats(t);
	expect_ok(c, 0x405000 + 6 * 4, W, pt + 6 * 4, "self32: write PT via itself");
	struct shadow_stats b = tw_stats(t);
	CHECK(b.unsync_events == a.unsync_events + 1 && !shadow_gfn_tracked(t->svm, pt >> 12), "self32: PT unsync");
	g_put(pt + 6 * 4, 4, data_gpa(2) | PTE_P | PTE_RW);
	expect_ok(c, 0x406000, R, data_gpa(2), "self32: new PTE used");
	/* The PD is shadowed as PD and (by recursion) as a PT: emulated. */
	expect_ok(c, 0xffc00000 + 1 * 4096, R, pt, "self32: PT via recursion");
	expect_outcome(c, 0xfffff000 + 2 * 4, W, SIM_EMULATE, pd + 8, "self32: PD write emulated");
	/* A CR3 load brings the PT back in sync, tracked again. */
	set_state(c, &gs, "self32 reload");
	CHECK(shadow_gfn_tracked(t->svm, pt >> 12), "self32: PT tracked after CR3 load");
	expect_ok(c, 0x406000, R, data_gpa(2), "self32: after sync");
	tw_free(t, "self map 32-bit");
}

/* ---------------------------------------------------------------- outside RAM */

static void tables_outside_ram(void)
{
	struct tworld *t = tw_new(64, 1, 0);
	struct sim_cpu *c = &t->cpu[0];

	struct gstate gs = g_state(GWALK_FMT_4LVL, 0x30000000);
	set_state(c, &gs, "noram cr3");
	expect_outcome(c, 0x401000, R, SIM_KILL, 0x30000000, "4-level CR3 outside RAM");

	uint64_t pd = gb_new_as(&t->w, GWALK_FMT_32);
	g_put(pd + 1 * 4, 4, 0xa0000 | PTE_P | PTE_RW); /* PT in the MMIO hole */
	gs = g_state(GWALK_FMT_32, pd);
	set_state(c, &gs, "noram pt");
	expect_outcome(c, 0x403000, W, SIM_KILL, 0xa0000 + 3 * 4, "32-bit PT in MMIO");

	uint64_t pdpt = gb_new_as(&t->w, GWALK_FMT_PAE);
	g_put(pdpt & ~31ULL, 8, 0x123456000ULL | PTE_P); /* PD beyond RAM */
	gs = g_state(GWALK_FMT_PAE, pdpt);
	set_state(c, &gs, "noram pd");
	expect_outcome(c, 0x00201000, R, SIM_KILL, 0x123456000ULL + 8, "PAE PD outside RAM");
	/* Data outside RAM is MMIO, not a kill. */
	uint64_t cr3 = gb_new_as(&t->w, GWALK_FMT_PAE);
	gb_map(&t->w, GWALK_FMT_PAE, cr3, 0x401000, 0xfee00000, PAGE_SIZE, PTE_RW, PTE_RW);
	gs = g_state(GWALK_FMT_PAE, cr3);
	set_state(c, &gs, "mmio");
	expect_outcome(c, 0x401020, W, SIM_EMULATE, 0xfee00020, "PAE MMIO data");
	tw_free(t, "tables outside RAM");
}

/* ---------------------------------------------------------------- CR0.WP = 0 */

static void wp0(void)
{
	struct tworld *t = tw_new(64, 1, 0);
	struct sim_cpu *c = &t->cpu[0];
	uint64_t cr3 = gb_new_as(&t->w, GWALK_FMT_PAE);
	gb_map(&t->w, GWALK_FMT_PAE, cr3, 0x401000, data_gpa(1), PAGE_SIZE, PTE_US, PTE_RW | PTE_US);
	struct gstate gs = g_state(GWALK_FMT_PAE, cr3);
	gs.cr0 &= ~CR0_WP;
	set_state(c, &gs, "wp0");
	expect_ok(c, 0x401000, U, data_gpa(1), "wp0 user read");
	expect_ok(c, 0x401008, W, data_gpa(1) + 8, "wp0 supervisor write to a read-only user page");
	uint64_t hpa;
	uint8_t perm;
	CHECK(sim_hw_walk(c, 0x401000, &hpa, &perm) && !(perm & GWALK_P_UR) && (perm & GWALK_P_SW),
	      "wp0: shadow made the page supervisor-writable");
	expect_ok(c, 0x401000, U, data_gpa(1), "wp0 user read again");
	expect_outcome(c, 0x401000, U | W, SIM_GUEST_FAULT, GWALK_PFEC_P | GWALK_PFEC_W | GWALK_PFEC_U, "wp0 user write");
	expect_ok(c, 0x401010, W, data_gpa(1) + 0x10, "wp0 supervisor write again");
	/* With SMAP the supervisor-only form would open the page to SMAP-
	 * forbidden reads: emulated. Without AC, SMAP denies the write. */
	gs.cr4 |= CR4_SMAP;
	set_state(c, &gs, "wp0 smap");
	expect_outcome(c, 0x401000, W | GWALK_AC, SIM_EMULATE, data_gpa(1), "wp0+SMAP supervisor write");
	expect_outcome(c, 0x401000, W, SIM_GUEST_FAULT, GWALK_PFEC_P | GWALK_PFEC_W, "wp0+SMAP, AC=0");
	/* CR0.WP = 1: the supervisor write is refused. */
	gs = g_state(GWALK_FMT_PAE, cr3);
	set_state(c, &gs, "wp1");
	expect_ok(c, 0x401000, R, data_gpa(1), "wp1 supervisor read");
	expect_outcome(c, 0x401000, W, SIM_GUEST_FAULT, GWALK_PFEC_P | GWALK_PFEC_W, "wp1 supervisor write");
	/* Roles keep the two apart: both shadows exist side by side. */
	unsigned wp0_pages = 0, wp1_pages = 0;
	for (struct shadow_page *sp = t->svm->lru.lru_next; sp != &t->svm->lru; sp = sp->lru_next) {
		if (role_level(sp->role) == 1)
			(sp->role & ROLE_WP) ? wp1_pages++ : wp0_pages++;
	}
	CHECK(wp0_pages >= 1 && wp1_pages >= 1, "wp roles: %u WP=0 and %u WP=1 leaf pages", wp0_pages, wp1_pages);
	tw_free(t, "CR0.WP = 0");
}

/* ---------------------------------------------------------------- unsync */

static void unsync(void)
{
	struct tworld *t = tw_new(64, 2, 0);
	struct sim_cpu *c = &t->cpu[0], *c1 = &t->cpu[1];
	uint64_t cr3 = gb_new_as(&t->w, GWALK_FMT_PAE);
	gpa_t pte1 = gb_map(&t->w, GWALK_FMT_PAE, cr3, 0x401000, data_gpa(1), PAGE_SIZE, PTE_RW, PTE_RW);
	gpa_t pt = pte1 & ~0xfffULL;
	/* The PT seen as data at 0x800000. */
	gb_map(&t->w, GWALK_FMT_PAE, cr3, 0x800000, pt, PAGE_SIZE, PTE_RW | PTE_A | PTE_D, PTE_RW);
	struct gstate gs = g_state(GWALK_FMT_PAE, cr3);
	set_state(c, &gs, "unsync");
	set_state(c1, &gs, "unsync c1");
	expect_ok(c, 0x401000, R, data_gpa(1), "unsync: PT shadowed");
	expect_ok(c1, 0x401000, R, data_gpa(1), "unsync: c1 caches it");
	CHECK(shadow_gfn_tracked(t->svm, pt >> 12), "unsync: PT tracked");
	struct shadow_stats a = tw_stats(t);
	/* First write: a fault; the PT goes unsync; the write goes through. */
	expect_ok(c, 0x800000 + 2 * 8, W, pt + 2 * 8, "unsync: first write");
	g_put(pt + 2 * 8, 8, data_gpa(2) | PTE_P | PTE_RW);
	struct shadow_stats b = tw_stats(t);
	CHECK(b.unsync_events == a.unsync_events + 1 && !shadow_gfn_tracked(t->svm, pt >> 12), "unsync: event");
	/* Later writes: no fault. Retarget 0x401000 to data 3. */
	expect_ok(c, 0x800000 + 1 * 8, W, pt + 8, "unsync: second write");
	g_put(pt + 1 * 8, 8, data_gpa(3) | PTE_P | PTE_RW);
	struct shadow_stats d = tw_stats(t);
	CHECK(d.page_faults == b.page_faults, "unsync: the second write faulted");
	/* Until the guest invalidates, the old translation may be used. */
	expect_ok(c, 0x401000, R, data_gpa(1), "unsync: stale until INVLPG");
	expect_ok(c, 0x402000, R, data_gpa(2), "unsync: new entry faults in");
	shadow_invlpg(c->sv, 0x401000);
	expect_ok(c, 0x401000, R, data_gpa(3), "unsync: INVLPG resynced");
	/* c1 did not invalidate, but the shadow entry is shared and the
	 * narrowing change flushed c1's TLB too: new translation, allowed. */
	expect_ok(c1, 0x401000, R, data_gpa(3), "unsync: c1 sees the new one");
	/* shadow_flush resyncs everything unsync. */
	g_put(pt + 1 * 8, 8, data_gpa(4) | PTE_P | PTE_RW);
	expect_ok(c, 0x401000, R, data_gpa(3), "unsync: stale until flush");
	shadow_flush(c->sv);
	expect_ok(c, 0x401000, R, data_gpa(4), "unsync: flushed");
	CHECK(shadow_gfn_tracked(t->svm, pt >> 12), "unsync: tracked after the flush");
	struct shadow_stats e = tw_stats(t);
	expect_ok(c, 0x800000 + 3 * 8, W, pt + 3 * 8, "unsync: write after resync");
	struct shadow_stats f = tw_stats(t);
	CHECK(f.unsync_events == e.unsync_events + 1, "unsync again");
	/* A leaf table also used as a PD (by another address space) cannot
	 * go unsync: creating its level-2 shadow brings it back in sync (and
	 * write-protects it, flushing c's writable translation); writes are
	 * emulated from then on. */
	g_put(data_gpa(4), 8, data_gpa(5) | PTE_P | PTE_RW);
	uint64_t cr3b = gb_new_as(&t->w, GWALK_FMT_PAE);
	g_put(cr3b & ~31ULL, 8, pt | PTE_P);
	struct gstate gsb = g_state(GWALK_FMT_PAE, cr3b);
	set_state(c1, &gsb, "unsync: PT as PD");
	expect_ok(c1, 0x00200000, R, data_gpa(5), "unsync: the PT used as a PD");
	CHECK(shadow_gfn_tracked(t->svm, pt >> 12), "unsync: tracked again");
	expect_outcome(c, 0x800000 + 5 * 8, W, SIM_EMULATE, pt + 5 * 8, "unsync: PT that is also a PD");
	tw_free(t, "unsync");
}

/* ---------------------------------------------------------------- D flag, pkeys, 5-level */

static void dirty_and_keys(void)
{
	struct tworld *t = tw_new(64, 1, 0);
	struct sim_cpu *c = &t->cpu[0];
	uint64_t cr3 = gb_new_as(&t->w, GWALK_FMT_4LVL);
	gpa_t pte = gb_map(&t->w, GWALK_FMT_4LVL, cr3, 0x401000, data_gpa(1), PAGE_SIZE,
			   PTE_RW | 5ULL << GWALK_PTE_PKEY_SHIFT, PTE_RW);
	gpa_t pde = gb_map(&t->w, GWALK_FMT_4LVL, cr3, 0x600000, G_HIGH_BASE, 2 * MiB,
			   PTE_RW | 9ULL << GWALK_PTE_PKEY_SHIFT, PTE_RW);
	struct gstate gs = g_state(GWALK_FMT_4LVL, cr3);
	gs.cr4 |= CR4_PKE;
	set_state(c, &gs, "pke");
	CHECK(c->hw.pke, "hardware PKE follows the guest");
	expect_ok(c, 0x401000, R, data_gpa(1), "D: read");
	CHECK((g_get(pte, 8) & (PTE_A | PTE_D)) == PTE_A, "D: read sets A only");
	uint64_t hpa;
	uint8_t perm;
	CHECK(sim_hw_walk(c, 0x401000, &hpa, &perm) && !(perm & GWALK_P_SW), "D: clean page read-only in the shadow");
	expect_ok(c, 0x401000, W, data_gpa(1), "D: write");
	CHECK(g_get(pte, 8) & PTE_D, "D: the walker set D");
	CHECK(sim_hw_walk(c, 0x401000, &hpa, &perm) && (perm & GWALK_P_SW), "D: writable now");
	expect_ok(c, 0x601000, W, G_HIGH_BASE + 0x1000, "pke 2M");
	CHECK(g_get(pde, 8) & PTE_D, "D set on the 2 MiB leaf");
	struct shadow_page *root = shadow_page_by_hpa(t->svm, c->hw.cr3);
	uint64_t *spt = root->spt;
	for (unsigned l = 4; l > 1; l--)
		spt = t->f.env.p2v(spt[(0x401000ULL >> (12 + 9 * (l - 1))) & 511] & SPTE_ADDR);
	CHECK(((spt[1] >> 59) & 15) == 5, "4K leaf carries key 5: %#" PRIx64, spt[1]);
	spt = root->spt;
	for (unsigned l = 4; l > 1; l--)
		spt = t->f.env.p2v(spt[(0x601000ULL >> (12 + 9 * (l - 1))) & 511] & SPTE_ADDR);
	CHECK(((spt[1] >> 59) & 15) == 9, "2M split leaf carries key 9: %#" PRIx64, spt[1]);
	/* A protection-key fault is the guest's (its PKRU decided). */
	struct shadow_pf_result pf;
	shadow_page_fault(c->sv, 0x401000, GWALK_PFEC_P | GWALK_PFEC_W | GWALK_PFEC_PK, W, &pf);
	CHECK(pf.status == SPF_GUEST_FAULT && pf.error == (GWALK_PFEC_P | GWALK_PFEC_W | GWALK_PFEC_PK),
	      "PK fault: status %d error %#x", pf.status, pf.error);
	/* Any other hardware error code is not trusted: re-walked. */
	shadow_page_fault(c->sv, 0x401000, GWALK_PFEC_P | GWALK_PFEC_RSVD, R, &pf);
	CHECK(pf.status == SPF_FIXED, "bogus error code: status %d", pf.status);
	tw_free(t, "dirty and keys");

	/* 5-level: a PML5 entry other than 0. */
	t = tw_new(64, 1, 0);
	c = &t->cpu[0];
	cr3 = gb_new_as(&t->w, GWALK_FMT_5LVL);
	gb_map(&t->w, GWALK_FMT_5LVL, cr3, 0x0003000000401000ULL, data_gpa(7), PAGE_SIZE, PTE_RW, PTE_RW);
	gb_map(&t->w, GWALK_FMT_5LVL, cr3, 0xff00000000402000ULL, data_gpa(8), PAGE_SIZE, PTE_RW, PTE_RW);
	gs = g_state(GWALK_FMT_5LVL, cr3);
	set_state(c, &gs, "5-level");
	CHECK(c->hw.la57 && !c->hw.pae, "5-level hardware");
	expect_ok(c, 0x0003000000401000ULL, W, data_gpa(7), "5-level low");
	expect_ok(c, 0xff00000000402000ULL, W, data_gpa(8), "5-level high");
	shadow_invlpg(c->sv, 0xff00000000402000ULL);
	tw_free(t, "5-level");
}

/* ---------------------------------------------------------------- out of frames */

static void out_of_frames(void)
{
	unsigned kills = 0, nomems = 0;

	for (long n = 0; n < 80; n += 1) {
		struct tworld *t = tw_new(32, 1, 0);
		struct sim_cpu *c = &t->cpu[0];
		uint64_t cr3[3];
		for (unsigned i = 0; i < 3; i++) {
			cr3[i] = gb_new_as(&t->w, GWALK_FMT_4LVL);
			gb_map(&t->w, GWALK_FMT_4LVL, cr3[i], 0x401000 + i * 0x40000000ULL, data_gpa(i), PAGE_SIZE,
			       PTE_RW, PTE_RW);
		}
		t->f.alloc_fail_after = n;
		for (unsigned round = 0; round < 3; round++) {
			for (unsigned i = 0; i < 3; i++) {
				struct gstate gs = g_state(GWALK_FMT_4LVL, cr3[i]);
				if (sim_set_state(c, &gs) != E_OK) {
					nomems++;
					continue;
				}
				struct sim_result r;
				sim_access(c, 0x401000 + i * 0x40000000ULL, W, &r);
				if (r.outcome == SIM_KILL)
					kills++;
				else
					CHECK(r.outcome == SIM_OK && r.hpa == g_hpa(data_gpa(i)), "nomem %ld: outcome %d",
					      n, r.outcome);
			}
		}
		t->f.alloc_fail_after = -1;
		struct gstate gs = g_state(GWALK_FMT_4LVL, cr3[0]);
		set_state(c, &gs, "nomem recovery");
		expect_ok(c, 0x401000, R, data_gpa(0), "nomem recovery");
		tw_free(t, "out of frames");
	}
	CHECK(kills + nomems > 0, "out of frames never reported");
}

void shadow_test_cases(void)
{
	many_address_spaces(GWALK_FMT_4LVL);
	many_address_spaces(GWALK_FMT_PAE);
	many_address_spaces(GWALK_FMT_32);
	many_vcpus_tiny_limit();
	self_map_4level();
	self_map_32();
	tables_outside_ram();
	wp0();
	unsync();
	dirty_and_keys();
	out_of_frames();
}
