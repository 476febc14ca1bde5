/*
 * tests/host/test_shadow.c - unit tests of the shadow MMU (mm/shadow*.c):
 * targeted cases and main(). The random sequences with invariants after
 * every step are in test_shadow_fuzz.c, more targeted cases in
 * test_shadow_cases.c.
 *
 * Every access goes through the simulated hardware of shadow_fake.c: a
 * walk of the shadow tables and a tagged TLB that only env->flush_tlb
 * empties.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mm/shadow_priv.h"
#include "tests/host/shadow_fake.h"
#include "tests/host/shadow_test.h"

#define R 0u
#define W GWALK_WRITE
#define X GWALK_FETCH
#define U GWALK_USER

/* ---------------------------------------------------------------- helpers */

void expect_ok(struct sim_cpu *c, uint64_t gva, uint32_t access, gpa_t gpa, const char *what)
{
	struct sim_result r;
	sim_access(c, gva, access, &r);
	CHECK(r.outcome == SIM_OK && r.hpa == g_hpa(gpa),
	      "%s: gva %#" PRIx64 " access %#x: outcome %d hpa %#" PRIx64 ", want gpa %#" PRIx64, what, gva, access,
	      r.outcome, r.hpa, gpa);
}

void expect_outcome(struct sim_cpu *c, uint64_t gva, uint32_t access, int outcome, uint64_t val, const char *what)
{
	struct sim_result r;
	sim_access(c, gva, access, &r);
	CHECK(r.outcome == outcome, "%s: gva %#" PRIx64 " access %#x: outcome %d, want %d", what, gva, access,
	      r.outcome, outcome);
	if (r.outcome != outcome)
		return;
	if (outcome == SIM_GUEST_FAULT)
		CHECK(r.error == val, "%s: error %#x, want %#" PRIx64, what, r.error, val);
	if (outcome == SIM_EMULATE || outcome == SIM_KILL)
		CHECK(r.gpa == val, "%s: gpa %#" PRIx64 ", want %#" PRIx64, what, r.gpa, val);
}

/* ---------------------------------------------------------------- paging off */

static void test_paging_off(void)
{
	struct tworld *t = tw_new(64, 1, 0);
	struct sim_cpu *c = &t->cpu[0];
	struct gstate gs = g_state(GWALK_FMT_OFF, 0);

	set_state(c, &gs, "off");
	CHECK(c->hw.pae && c->hw.cr3 < 4 * GiB && !c->hw.smep && !c->hw.smap, "paging off runs on a PAE root");
	expect_ok(c, 0x1234, R, 0x1234, "off read");
	expect_ok(c, 0x1234, W, 0x1234, "off write");
	expect_ok(c, 0x5678, X | U, 0x5678, "off user fetch");
	expect_ok(c, 0x5678, W | U, 0x5678, "off user write");
	expect_ok(c, 0xfff000, W, 0xfff000, "off last RAM page");
	expect_outcome(c, 0xa0010, R, SIM_EMULATE, 0xa0010, "off legacy hole");
	expect_outcome(c, 0x2000000, W, SIM_EMULATE, 0x2000000, "off beyond RAM");
	expect_outcome(c, 0xfffff000, R, SIM_EMULATE, 0xfffff000, "off top of 4 GiB");
	/* A guest running on host-physical addresses never happens: every
	 * translation maps guest RAM to its host frame. */
	expect_ok(c, 0x100000, R, 0x100000, "off 1 MiB");
	struct shadow_stats st = tw_stats(t);
	CHECK(st.pages_created == 3, "off: %" PRIu64 " pages (2 direct PTs, 1 direct PD)", st.pages_created);
	tw_free(t, "paging off");
}

/* ---------------------------------------------------------------- 32-bit */

static void test_32bit(void)
{
	struct tworld *t = tw_new(64, 1, 0);
	struct sim_cpu *c = &t->cpu[0];
	uint64_t cr3 = gb_new_as(&t->w, GWALK_FMT_32);
	uint64_t fl = PTE_RW | PTE_US, tf = PTE_RW | PTE_US;

	gb_map(&t->w, GWALK_FMT_32, cr3, 0x00401000, data_gpa(1), PAGE_SIZE, fl, tf);
	gb_map(&t->w, GWALK_FMT_32, cr3, 0x00601000, data_gpa(2), PAGE_SIZE, fl, tf);  /* same PT, upper half */
	gb_map(&t->w, GWALK_FMT_32, cr3, 0x40001000, data_gpa(3), PAGE_SIZE, fl, tf);  /* PD quadrant 1 */
	gb_map(&t->w, GWALK_FMT_32, cr3, 0xc0201000, data_gpa(4), PAGE_SIZE, fl, tf);  /* PD quadrant 3 */
	/* A 4 MiB page above 4 GiB: PSE-36 (SDM §4.3, PDE bits 20:13). */
	gb_map(&t->w, GWALK_FMT_32, cr3, 0x7fc00000, G_HIGH_BASE, 4 * MiB, fl | PTE_A | PTE_D, tf);
	struct gstate gs = g_state(GWALK_FMT_32, cr3);
	set_state(c, &gs, "32");
	CHECK(c->hw.pae, "32-bit guest runs on hardware PAE");

	expect_ok(c, 0x00401abc, R, data_gpa(1) + 0xabc, "32 q0");
	expect_ok(c, 0x00601abc, W, data_gpa(2) + 0xabc, "32 PT upper half");
	expect_ok(c, 0x40001000, U, data_gpa(3), "32 PD quadrant 1");
	expect_ok(c, 0xc0201ff8, U | W, data_gpa(4) + 0xff8, "32 PD quadrant 3");
	static const uint64_t offs[] = { 0, 0x1000, 0x1ff000, 0x200000, 0x2ab000, 0x3ff000 };
	for (unsigned i = 0; i < ARRAY_SIZE(offs); i++)
		expect_ok(c, 0x7fc00000 + offs[i], W, G_HIGH_BASE + offs[i], "32 4 MiB PSE-36 page");
	expect_outcome(c, 0x00402000, R, SIM_GUEST_FAULT, 0, "32 not present");
	expect_outcome(c, 0x00402000, W | U, SIM_GUEST_FAULT, GWALK_PFEC_W | GWALK_PFEC_U, "32 not present, user write");

	/* Pages: PD quadrants 0, 1, 3 (3); the PT at 0x400000 in two halves
	 * and one half of two others (4); two direct halves of the 4 MiB page. */
	struct shadow_stats st = tw_stats(t);
	CHECK(st.pages_created == 9, "32: %" PRIu64 " pages created, want 9", st.pages_created);

	/* CR4.PSE = 0: the PS bit is ignored, the PDE is a table pointer
	 * (to gpa 0x2000, zero: not present). */
	gs.cr4 &= ~CR4_PSE;
	set_state(c, &gs, "32 PSE off");
	expect_outcome(c, 0x7fc00000, R, SIM_GUEST_FAULT, 0, "32 PSE off: PDE is a table");
	expect_ok(c, 0x00401000, R, data_gpa(1), "32 PSE off, 4K");
	gs.cr4 |= CR4_PSE;
	set_state(c, &gs, "32 PSE on");
	expect_ok(c, 0x7fe01000, R, G_HIGH_BASE + 0x201000, "32 PSE on again");

	/* A reserved bit in a 4 MiB PDE (bit 21 with MAXPHYADDR 36): RSVD|P. */
	gpa_t pde = cr3 + (0x7fc00000 >> 22) * 4;
	g_put(pde, 4, g_get(pde, 4) | BIT(21));
	shadow_gpa_written(t->svm, pde, 4);
	expect_outcome(c, 0x7fc00000, R, SIM_GUEST_FAULT, GWALK_PFEC_RSVD | GWALK_PFEC_P, "32 reserved PDE bit");
	tw_free(t, "32-bit");
}

/* ---------------------------------------------------------------- PAE root cache */

static void map_pae_as(struct tworld *t, uint64_t cr3, unsigned i)
{
	uint64_t fl = PTE_RW | PTE_US, tf = PTE_RW | PTE_US;
	gb_map(&t->w, GWALK_FMT_PAE, cr3, 0x00401000, data_gpa(i), PAGE_SIZE, fl, tf);
	gb_map(&t->w, GWALK_FMT_PAE, cr3, 0x40002000, data_gpa(10 + i), PAGE_SIZE, fl, tf);
	gb_map(&t->w, GWALK_FMT_PAE, cr3, 0xc0003000, data_gpa(20 + i), PAGE_SIZE, fl | PTE_NX, tf);
	gb_map(&t->w, GWALK_FMT_PAE, cr3, 0x7fe00000, G_HIGH_BASE + (i % 2) * 2 * MiB, 2 * MiB, fl, tf);
}

static void check_pae_as(struct sim_cpu *c, unsigned i, const char *what)
{
	expect_ok(c, 0x00401000, R, data_gpa(i), what);
	expect_ok(c, 0x40002008, W, data_gpa(10 + i) + 8, what);
	expect_ok(c, 0xc0003000, U, data_gpa(20 + i), what);
	expect_outcome(c, 0xc0003000, X, SIM_GUEST_FAULT, GWALK_PFEC_P | GWALK_PFEC_ID, what);
	expect_ok(c, 0x7fe12345, R, G_HIGH_BASE + (i % 2) * 2 * MiB + 0x12345, what);
}

static void test_pae_root_cache(void)
{
	struct tworld *t = tw_new(256, 1, 0);
	struct sim_cpu *c = &t->cpu[0];
	uint64_t cr3[5];
	hpa_t roots[5];

	for (unsigned i = 0; i < 5; i++) {
		cr3[i] = gb_new_as(&t->w, GWALK_FMT_PAE);
		map_pae_as(t, cr3[i], i);
	}
	for (unsigned i = 0; i < 4; i++) {
		struct gstate gs = g_state(GWALK_FMT_PAE, cr3[i]);
		set_state(c, &gs, "pae warm");
		roots[i] = c->hw.cr3;
		check_pae_as(c, i, "pae warm");
		CHECK(roots[i] < 4 * GiB, "PAE root below 4 GiB");
		for (unsigned j = 0; j < i; j++)
			CHECK(roots[j] != roots[i], "two address spaces share a PAE root");
	}
	struct shadow_stats a = tw_stats(t);
	unsigned long flushes = t->f.flushes[0];
	for (unsigned round = 0; round < 5; round++) {
		for (unsigned i = 0; i < 4; i++) {
			struct gstate gs = g_state(GWALK_FMT_PAE, cr3[(i + round) % 4]);
			set_state(c, &gs, "pae switch");
			CHECK(c->hw.cr3 == roots[(i + round) % 4], "PAE root of an address space changed");
			check_pae_as(c, (i + round) % 4, "pae switch");
		}
	}
	struct shadow_stats b = tw_stats(t);
	/* Switching among cached address spaces rebuilds nothing: no shadow
	 * page created, no shadow page fault but the expected guest ones (one
	 * NX fetch per switch), every switch a cache hit. */
	CHECK(b.pages_created == a.pages_created, "pae switch created %" PRIu64 " pages",
	      b.pages_created - a.pages_created);
	CHECK(b.page_faults - a.page_faults == 20, "pae switch: %" PRIu64 " shadow faults, want 20 (guest #PF)",
	      b.page_faults - a.page_faults);
	CHECK(b.root_hits - a.root_hits == 20 && b.root_misses == a.root_misses, "pae switch: hits %" PRIu64,
	      b.root_hits - a.root_hits);
	CHECK(t->f.flushes[0] - flushes >= 20, "every CR3 switch flushes the vCPU's TLB");

	/* A fifth address space evicts the least recently used slot; its
	 * pages are still hashed: relinked by faults, not rebuilt. */
	struct gstate gs = g_state(GWALK_FMT_PAE, cr3[4]);
	set_state(c, &gs, "pae fifth");
	check_pae_as(c, 4, "pae fifth");
	a = tw_stats(t);
	for (unsigned i = 0; i < 5; i++) {
		gs = g_state(GWALK_FMT_PAE, cr3[i]);
		set_state(c, &gs, "pae five");
		check_pae_as(c, i, "pae five");
	}
	b = tw_stats(t);
	CHECK(b.pages_created == a.pages_created, "pae five: %" PRIu64 " pages rebuilt", b.pages_created - a.pages_created);

	/* PDPTE registers (SDM §4.4.1): a write to the PDPT in memory has no
	 * effect until CR3 is loaded again. */
	gpa_t pdpt = cr3[0] & ~31ULL;
	gs = g_state(GWALK_FMT_PAE, cr3[0]);
	set_state(c, &gs, "pae pdpte");
	uint64_t old = g_get(pdpt, 8);
	g_put(pdpt, 8, g_get(pdpt + 8, 8)); /* PDPTE 0 := PDPTE 1 */
	sim_tlb_flush(c);
	expect_ok(c, 0x00401000, R, data_gpa(0), "pae PDPTE registers hold");
	set_state(c, &gs, "pae reload");
	expect_ok(c, 0x00002000, R, data_gpa(10), "pae PDPTE reloaded");
	g_put(pdpt, 8, old);
	tw_free(t, "pae root cache");
}

/* ---------------------------------------------------------------- 4-level roots */

static void map_long_as(struct tworld *t, int fmt, uint64_t cr3, unsigned i)
{
	uint64_t fl = PTE_RW | PTE_US, tf = PTE_RW | PTE_US;
	gb_map(&t->w, fmt, cr3, 0x00401000, data_gpa(i), PAGE_SIZE, fl, tf);
	gb_map(&t->w, fmt, cr3, 0xffff800000402000ULL, data_gpa(10 + i), PAGE_SIZE, PTE_RW, tf);
	gb_map(&t->w, fmt, cr3, 0x0000004000000000ULL, 0, GiB, fl | PTE_A, tf);
}

static void check_long_as(struct sim_cpu *c, unsigned i, const char *what)
{
	expect_ok(c, 0x00401000, R, data_gpa(i), what);
	expect_ok(c, 0xffff800000402010ULL, W, data_gpa(10 + i) + 0x10, what);
	expect_outcome(c, 0xffff800000402010ULL, U, SIM_GUEST_FAULT, GWALK_PFEC_P | GWALK_PFEC_U, what);
	expect_ok(c, 0x0000004000123000ULL, W, 0x123000, what);
	expect_outcome(c, 0x00000040000a0000ULL, R, SIM_EMULATE, 0xa0000, what);
}

static struct shadow_page *root_of(struct tworld *t, struct sim_cpu *c)
{
	return shadow_page_by_hpa(t->svm, c->hw.cr3);
}

static void test_shared_roots(void)
{
	struct tworld *t = tw_new(512, 2, 0);
	struct sim_cpu *c0 = &t->cpu[0], *c1 = &t->cpu[1];
	uint64_t cr3[6];

	for (unsigned i = 0; i < 6; i++) {
		cr3[i] = gb_new_as(&t->w, GWALK_FMT_4LVL);
		map_long_as(t, GWALK_FMT_4LVL, cr3[i], i);
	}
	struct gstate gs = g_state(GWALK_FMT_4LVL, cr3[0]);
	set_state(c0, &gs, "roots A0");
	set_state(c1, &gs, "roots A1");
	check_long_as(c0, 0, "roots A0");
	check_long_as(c1, 0, "roots A1");
	CHECK(c0->hw.cr3 == c1->hw.cr3 && !c0->hw.pae, "two vCPUs on one address space share the root");
	struct shadow_page *a = root_of(t, c0);
	hpa_t a_hpa = c0->hw.cr3;
	CHECK(a && a->root_count == 2, "root_count %u, want 2", a ? a->root_count : 0);

	for (unsigned i = 1; i <= 4; i++) {
		gs = g_state(GWALK_FMT_4LVL, cr3[i]);
		set_state(c0, &gs, "roots c0");
		check_long_as(c0, i, "roots c0");
	}
	CHECK(a->root_count == 1, "after c0's cache evicted A: root_count %u", a->root_count);
	for (unsigned i = 1; i <= 4; i++) {
		gs = g_state(GWALK_FMT_4LVL, cr3[i]);
		set_state(c1, &gs, "roots c1");
	}
	CHECK(shadow_page_by_hpa(t->svm, a_hpa) == a && a->root_count == 0 && a->gfn == cr3[0] >> 12,
	      "an unreferenced current root stays hashed");
	struct shadow_stats s0 = tw_stats(t);
	gs = g_state(GWALK_FMT_4LVL, cr3[0]);
	set_state(c0, &gs, "roots back to A");
	check_long_as(c0, 0, "roots back to A");
	struct shadow_stats s1 = tw_stats(t);
	CHECK(c0->hw.cr3 == a_hpa && s1.pages_created == s0.pages_created, "back to A: found in the hash");
	CHECK(a->root_count == 1, "A root_count %u", a->root_count);
	/* Among the four cached: hits only. */
	s0 = tw_stats(t);
	for (unsigned k = 0; k < 12; k++) {
		unsigned i = k % 4 == 0 ? 0 : k % 4 + 1;
		gs = g_state(GWALK_FMT_4LVL, cr3[i]);
		set_state(c0, &gs, "roots cycle");
		check_long_as(c0, i, "roots cycle");
	}
	s1 = tw_stats(t);
	CHECK(s1.root_hits - s0.root_hits == 12 && s1.pages_created == s0.pages_created, "cycle: %" PRIu64 " hits",
	      s1.root_hits - s0.root_hits);

	/* zap_all: every root obsolete; reload rebuilds; an old root is
	 * freed when its last reference is put. */
	hpa_t old0 = c0->hw.cr3;
	shadow_zap_all(t->svm);
	check_long_as(c0, 4, "after zap_all");
	CHECK(c0->hw.cr3 != old0, "reload switched roots");
	struct shadow_page *o = shadow_page_by_hpa(t->svm, old0);
	CHECK(o && o->root_count == 1 && o->gen != t->svm->gen, "obsolete root still held by c1");
	check_long_as(c1, 4, "c1 after zap_all");
	o = shadow_page_by_hpa(t->svm, old0);
	CHECK(!o || o->gen == t->svm->gen, "obsolete root freed once unreferenced");
	sim_enter(c0);
	struct shadow_stats st = tw_stats(t);
	CHECK(st.pages_in_use < 20, "obsolete pages reclaimed: %" PRIu64 " in use", st.pages_in_use);
	tw_free(t, "shared roots");
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	/* test_shadow [seeds [fuzz]]: "fuzz" runs the random sequences only. */
	unsigned long seeds = argc > 1 ? strtoul(argv[1], NULL, 0) : 40;
	bool fuzz_only = argc > 2 && !strcmp(argv[2], "fuzz");

	if (!fuzz_only) {
		test_paging_off();
		test_32bit();
		test_pae_root_cache();
		test_shared_roots();
		shadow_test_cases();
	}
	shadow_test_fuzz(seeds);
	printf("%ld checks, %d failures\n", g_checks, g_failures);
	return g_failures ? 1 : 0;
}
