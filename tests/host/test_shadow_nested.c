/*
 * tests/host/test_shadow_nested.c - the shadow MMU's nested role (npt02,
 * mm/shadow.h "A nested MMU"): for an L1's nested tables (npt12) in
 * 2-level, PAE and 4-level format, the tables the hardware walks must be
 * 4-level with the private upper-level pages above PAE-level roots, map
 * exactly what npt12 allows to user accesses (APM vol. 2 §15.25.5: nested
 * walks are user accesses), report the right #NPF bits when npt12 denies,
 * never write-track npt12 frames, carry ROLE_NESTED, and forget every
 * translation at a generation bump (shadow_zap_all). Switching among
 * several nCR3s and tags (L1 ASIDs) reuses their roots with their entries
 * (no zap, no fault); an L1 flush (shadow_nested_resync) re-derives
 * exactly what npt12 changed - edited leaves, top-level entries that lead
 * elsewhere (the private PAE-level root re-reads its PDPTEs) - in the
 * flushed tag only. Runs against the fake physical memory of tests/host/
 * shadow_fake.c; frames are checked for leaks at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/shadow_priv.h"
#include "tests/host/shadow_fake.h"

/* The hardware's nested walk of npt02 (4-level, long-mode format, user
 * access): the host frame and whether a user write is allowed. */
static bool hw_walk(struct fake *f, hpa_t root, u64 gpa, u64 *hpa, bool *writable, bool *exec)
{
	hpa_t table = root;
	bool w = true, x = true;

	for (int level = 4; level >= 1; level--) {
		u64 *t = f->env.p2v(table);
		u64 e = t[(gpa >> (12 + 9 * (level - 1))) & 511];
		if (!(e & PTE_P))
			return false;
		CHECK(e & PTE_US, "npt02 entry at level %d lacks U (nested walks are user accesses): %#llx", level,
		      (unsigned long long)e);
		CHECK(!(e & PTE_PS), "npt02 never maps large pages");
		w = w && (e & PTE_RW);
		x = x && !(e & PTE_NX);
		table = e & SPTE_ADDR;
	}
	*hpa = table;
	*writable = w;
	*exec = x;
	return true;
}

struct npt_case {
	int fmt;
	const char *name;
	u64 cr4, efer;
};

static void one_format(const struct npt_case *c)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct gworld w;
	struct shadow_pf_result res;
	struct shadow_hw hw;
	struct gwalk_mode m;
	struct gwalk_caps caps = g_caps();
	u64 hpa;
	bool wr, ex;

	memset(&w, 0, sizeof(w));
	fake_init(f, 1 << 14, 16);
	struct shadow_vm *svm = shadow_nested_vm_create(&f->env, 64);
	struct shadow_vcpu *sv = svm ? shadow_vcpu_create(svm, 0) : NULL;
	if (!sv) {
		FAIL("%s: create", c->name);
		exit(1);
	}
	CHECK(f->low_used == 0, "%s: a nested MMU takes no low-pool frame", c->name);

	u64 ncr3 = gb_new_as(&w, c->fmt);
	const u64 user_rw = PTE_RW | PTE_US | PTE_A | PTE_D, tbl = PTE_RW | PTE_US;
	gpa_t leaf1 = gb_map(&w, c->fmt, ncr3, 0x1000, 0x400000, PAGE_SIZE, user_rw, tbl);
	gb_map(&w, c->fmt, ncr3, 0x2000, 0x401000, PAGE_SIZE, PTE_US | PTE_A | PTE_D, tbl);  /* read-only */
	gb_map(&w, c->fmt, ncr3, 0x3000, 0x402000, PAGE_SIZE, PTE_RW | PTE_A | PTE_D, tbl);  /* supervisor */
	gb_map(&w, c->fmt, ncr3, 0x4000, 0x403000, PAGE_SIZE, PTE_RW | PTE_US | PTE_A, tbl); /* D clear */

	CHECK(gwalk_mode_init(&m, CR0_PE | CR0_PG | CR0_WP, c->cr4, c->efer, &caps) == E_OK, "%s: mode", c->name);
	CHECK(m.format == c->fmt, "%s: format %d", c->name, m.format);
	CHECK(shadow_set_mode(sv, &m, ncr3, NULL, &hw) == E_OK, "%s: set_mode", c->name);
	CHECK(!hw.pae, "%s: the hardware format of npt02 is always 4-level", c->name);
	CHECK(sv->root->role & ROLE_NESTED, "%s: root role has ROLE_NESTED", c->name);
	if (c->fmt != GWALK_FMT_4LVL) {
		/* private PML4 -> private PDPT (the PAE-level root) */
		u64 *pml4 = f->env.p2v(hw.cr3);
		CHECK((pml4[0] & SPTE_ADDR) == sv->root->hpa && (pml4[0] & SPTE_TABLE) == SPTE_TABLE,
		      "%s: private PML4 entry 0 links the PDPT-level root with P|RW|US|A", c->name);
		for (int i = 1; i < 512; i++)
			CHECK(!pml4[i], "%s: PML4 entry %d empty (npt12 reaches 4 GiB)", c->name, i);
		CHECK(sv->root->flags & SP_PRIVATE, "%s: the PAE-level root is private", c->name);
	} else {
		CHECK(hw.cr3 == sv->root->hpa, "%s: 4-level npt12: the shadow root is nCR3", c->name);
	}

	/* A user read of a mapped page: npt02 gets the composed entry. */
	CHECK(!hw_walk(f, hw.cr3, 0x1000, &hpa, &wr, &ex), "%s: empty before the fault", c->name);
	shadow_page_fault(sv, 0x1000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(res.status == SPF_FIXED, "%s: fault on mapped page: %d", c->name, res.status);
	CHECK(hw_walk(f, hw.cr3, 0x1000, &hpa, &wr, &ex) && hpa == g_hpa(0x400000) && wr,
	      "%s: 0x1000 -> host frame of L1 0x400000, writable", c->name);
	if (c->fmt != GWALK_FMT_4LVL) {
		u64 *pdpt = f->env.p2v(sv->root->hpa);
		CHECK((pdpt[0] & SPTE_TABLE) == SPTE_TABLE, "%s: PDPT entry is a long-mode table entry", c->name);
	}

	/* Read-only: reads map, writes are the L1's #NPF (P|W|U). */
	shadow_page_fault(sv, 0x2000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(res.status == SPF_FIXED && hw_walk(f, hw.cr3, 0x2000, &hpa, &wr, &ex) && !wr,
	      "%s: read-only npt12 leaf maps read-only", c->name);
	shadow_page_fault(sv, 0x2000, GWALK_PFEC_U | GWALK_PFEC_W | GWALK_PFEC_P, GWALK_USER | GWALK_WRITE, &res);
	CHECK(res.status == SPF_GUEST_FAULT &&
		      res.error == (GWALK_PFEC_P | GWALK_PFEC_W | GWALK_PFEC_U),
	      "%s: write to read-only leaf: NPF P|W|U (got %d %#x)", c->name, res.status, res.error);

	/* U = 0 in npt12: every access is denied (user accesses). */
	shadow_page_fault(sv, 0x3000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(res.status == SPF_GUEST_FAULT && res.error == (GWALK_PFEC_P | GWALK_PFEC_U),
	      "%s: supervisor npt12 leaf: NPF P|U (got %d %#x)", c->name, res.status, res.error);

	/* Not mapped: NPF U, P clear. */
	shadow_page_fault(sv, 0x5000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(res.status == SPF_GUEST_FAULT && res.error == GWALK_PFEC_U, "%s: unmapped: NPF U (got %d %#x)",
	      c->name, res.status, res.error);

	/* D clear: read-only until a write, which sets D in npt12. */
	shadow_page_fault(sv, 0x4000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(hw_walk(f, hw.cr3, 0x4000, &hpa, &wr, &ex) && !wr, "%s: clean page maps read-only", c->name);
	shadow_page_fault(sv, 0x4000, GWALK_PFEC_U | GWALK_PFEC_W | GWALK_PFEC_P, GWALK_USER | GWALK_WRITE, &res);
	CHECK(res.status == SPF_FIXED && hw_walk(f, hw.cr3, 0x4000, &hpa, &wr, &ex) && wr,
	      "%s: write sets D and maps writable", c->name);

	/* Nothing is write-tracked, not even npt12's own frames. */
	CHECK(!shadow_gfn_tracked(svm, (ncr3 & ~0xfffULL) >> 12), "%s: npt12 root frame not tracked", c->name);
	CHECK(!shadow_gfn_tracked(svm, leaf1 >> 12), "%s: npt12 leaf table not tracked", c->name);

	/* An npt12 edit is seen after a flush point (zap_all + reload). */
	g_put(leaf1, c->fmt == GWALK_FMT_32 ? 4 : 8, 0x404000 | PTE_P | user_rw);
	CHECK(hw_walk(f, hw.cr3, 0x1000, &hpa, &wr, &ex) && hpa == g_hpa(0x400000),
	      "%s: stale until the L1 flushes (allowed)", c->name);
	shadow_zap_all(svm);
	shadow_set_mode(sv, &m, ncr3, NULL, &hw);
	CHECK(!hw_walk(f, hw.cr3, 0x1000, &hpa, &wr, &ex), "%s: nothing survives the flush point", c->name);
	shadow_page_fault(sv, 0x1000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(res.status == SPF_FIXED && hw_walk(f, hw.cr3, 0x1000, &hpa, &wr, &ex) && hpa == g_hpa(0x404000),
	      "%s: the new npt12 entry after the flush", c->name);

	struct shadow_stats st;
	shadow_get_stats(svm, &st);
	CHECK(st.private_root_allocs == (c->fmt == GWALK_FMT_4LVL ? 0u : 2u),
	      "%s: private upper-level frames: %llu", c->name, (unsigned long long)st.private_root_allocs);

	shadow_vcpu_destroy(sv);
	shadow_vm_destroy(svm);
	fake_check_no_leaks(f, c->name);
	fake_free(f);
	free(f);
}

/* The entry of npt12 table @table (format @fmt) for L2 address 0 at the
 * top level: PML4E 0, PDPTE 0 (in memory) or PDE 0. */
static gpa_t top_entry(int fmt, u64 ncr3)
{
	return fmt == GWALK_FMT_PAE ? (ncr3 & ~0x1fULL) : (ncr3 & ~0xfffULL);
}

static bool maps(struct fake *f, const struct shadow_hw *hw, u64 gpa, gpa_t l1)
{
	u64 hpa;
	bool wr, ex;
	return hw_walk(f, hw->cr3, gpa, &hpa, &wr, &ex) && hpa == g_hpa(l1);
}

/* Several nCR3s (two L2s) and two tags (L1 ASIDs) on one vCPU: switches
 * keep everything; a flush re-derives only what changed, in its tag. */
static void switching(const struct npt_case *c)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct gworld w;
	struct shadow_pf_result res;
	struct shadow_hw hw;
	struct gwalk_mode m;
	struct gwalk_caps caps = g_caps();
	struct shadow_stats st0, st;
	const unsigned esz = c->fmt == GWALK_FMT_32 ? 4 : 8;
	const u64 user_rw = PTE_RW | PTE_US | PTE_A | PTE_D, tbl = PTE_RW | PTE_US;

	memset(&w, 0, sizeof(w));
	fake_init(f, 1 << 14, 16);
	struct shadow_vm *svm = shadow_nested_vm_create(&f->env, 64);
	struct shadow_vcpu *sv = svm ? shadow_vcpu_create(svm, 0) : NULL;
	if (!sv) {
		FAIL("%s: create", c->name);
		exit(1);
	}
	CHECK(gwalk_mode_init(&m, CR0_PE | CR0_PG | CR0_WP, c->cr4, c->efer, &caps) == E_OK, "%s: mode", c->name);

	/* L2 "a" and L2 "b": their own npt12, the same L2 addresses. */
	u64 a = gb_new_as(&w, c->fmt), b = gb_new_as(&w, c->fmt);
	gpa_t a1 = gb_map(&w, c->fmt, a, 0x1000, 0x400000, PAGE_SIZE, user_rw, tbl);
	gpa_t a2 = gb_map(&w, c->fmt, a, 0x2000, 0x401000, PAGE_SIZE, user_rw, tbl);
	gb_map(&w, c->fmt, b, 0x1000, 0x402000, PAGE_SIZE, user_rw, tbl);
	gb_map(&w, c->fmt, b, 0x2000, 0x403000, PAGE_SIZE, user_rw, tbl);
	hpa_t root_a, root_b;

	CHECK(shadow_nested_set_root(sv, &m, a, 0, &hw) == E_OK, "%s: root a", c->name);
	root_a = hw.cr3;
	shadow_page_fault(sv, 0x1000, GWALK_PFEC_U, GWALK_USER, &res);
	shadow_page_fault(sv, 0x2000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(maps(f, &hw, 0x1000, 0x400000) && maps(f, &hw, 0x2000, 0x401000), "%s: a mapped", c->name);
	CHECK(shadow_nested_set_root(sv, &m, b, 0, &hw) == E_OK, "%s: root b", c->name);
	root_b = hw.cr3;
	CHECK(root_b != root_a, "%s: another nCR3, another root", c->name);
	CHECK(!maps(f, &hw, 0x1000, 0x402000), "%s: b empty before its faults", c->name);
	shadow_page_fault(sv, 0x1000, GWALK_PFEC_U, GWALK_USER, &res);
	shadow_page_fault(sv, 0x2000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(maps(f, &hw, 0x1000, 0x402000) && maps(f, &hw, 0x2000, 0x403000), "%s: b mapped", c->name);

	/* Alternating: the same roots, with their entries, and no fault. */
	shadow_get_stats(svm, &st0);
	for (int i = 0; i < 4; i++) {
		shadow_nested_set_root(sv, &m, a, 0, &hw);
		CHECK(hw.cr3 == root_a && maps(f, &hw, 0x1000, 0x400000) && maps(f, &hw, 0x2000, 0x401000),
		      "%s: switch %d back to a: its root and entries kept", c->name, i);
		shadow_nested_set_root(sv, &m, b, 0, &hw);
		CHECK(hw.cr3 == root_b && maps(f, &hw, 0x1000, 0x402000) && maps(f, &hw, 0x2000, 0x403000),
		      "%s: switch %d back to b: its root and entries kept", c->name, i);
	}
	shadow_get_stats(svm, &st);
	CHECK(st.pages_created == st0.pages_created && st.zap_alls == 0 && st.page_faults == st0.page_faults &&
		      st.private_root_allocs == st0.private_root_allocs,
	      "%s: switches created %llu pages, %llu zaps, %llu faults", c->name,
	      (unsigned long long)(st.pages_created - st0.pages_created), (unsigned long long)st.zap_alls,
	      (unsigned long long)(st.page_faults - st0.page_faults));
	CHECK(st.root_hits - st0.root_hits == 8, "%s: 8 switches, 8 root hits (%llu)", c->name,
	      (unsigned long long)(st.root_hits - st0.root_hits));

	/* An npt12 leaf edit: maybe stale until the flush (allowed), then
	 * exactly that translation changes; a's other page and b keep
	 * theirs without a fault. */
	g_put(a1, esz, 0x404000 | PTE_P | user_rw);
	shadow_nested_set_root(sv, &m, a, 0, &hw);
	CHECK(maps(f, &hw, 0x1000, 0x400000) || maps(f, &hw, 0x1000, 0x404000), "%s: no flush: old or new",
	      c->name);
	unsigned long flushes = f->flushes[0];
	shadow_get_stats(svm, &st0);
	shadow_nested_resync(sv, 0);
	shadow_get_stats(svm, &st);
	CHECK(f->flushes[0] > flushes, "%s: a changed translation is flushed", c->name);
	CHECK(maps(f, &hw, 0x1000, 0x404000), "%s: after the flush: the edited leaf, current", c->name);
	CHECK(maps(f, &hw, 0x2000, 0x401000), "%s: after the flush: the other leaf kept", c->name);
	CHECK(st.pages_created == st0.pages_created && st.page_faults == st0.page_faults && st.pages_synced > 0,
	      "%s: a flush resyncs (%llu pages), creates and faults nothing", c->name,
	      (unsigned long long)(st.pages_synced - st0.pages_synced));
	shadow_nested_set_root(sv, &m, b, 0, &hw);
	CHECK(maps(f, &hw, 0x1000, 0x402000) && maps(f, &hw, 0x2000, 0x403000), "%s: b kept across a's flush",
	      c->name);

	/* A leaf made not present: gone after the flush, an #NPF after. */
	g_put(a2, esz, 0);
	shadow_nested_resync(sv, 0);
	shadow_nested_set_root(sv, &m, a, 0, &hw);
	CHECK(!maps(f, &hw, 0x2000, 0x401000), "%s: a not-present leaf is dropped at the flush", c->name);
	shadow_page_fault(sv, 0x2000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(res.status == SPF_GUEST_FAULT && res.error == GWALK_PFEC_U, "%s: then its fault is the L1's",
	      c->name);
	/* ... and made present again without a flush: the fault maps it. */
	g_put(a2, esz, 0x405000 | PTE_P | user_rw);
	shadow_page_fault(sv, 0x2000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(res.status == SPF_FIXED && maps(f, &hw, 0x2000, 0x405000),
	      "%s: not present -> present needs no flush", c->name);

	/* Another tag (ASID) on nCR3 a: its own, empty root; a flush of
	 * that tag leaves tag 0's pages as they were. */
	CHECK(shadow_nested_set_root(sv, &m, a, 1, &hw) == E_OK && hw.cr3 != root_a, "%s: tag 1: another root",
	      c->name);
	CHECK(!maps(f, &hw, 0x1000, 0x404000), "%s: tag 1 starts empty", c->name);
	shadow_page_fault(sv, 0x1000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(res.status == SPF_FIXED && maps(f, &hw, 0x1000, 0x404000), "%s: tag 1 faults in", c->name);
	g_put(a1, esz, 0x406000 | PTE_P | user_rw);
	shadow_nested_resync(sv, 1);
	CHECK(maps(f, &hw, 0x1000, 0x406000), "%s: tag 1 flushed: current", c->name);
	shadow_nested_set_root(sv, &m, a, 0, &hw);
	CHECK(hw.cr3 == root_a && maps(f, &hw, 0x1000, 0x404000), "%s: tag 0 not flushed: as it was", c->name);
	shadow_nested_resync(sv, SHADOW_ALL_TAGS);
	CHECK(maps(f, &hw, 0x1000, 0x406000), "%s: every tag flushed: current", c->name);

	/* A top-level npt12 entry that now leads to other tables (L2 "c"'s):
	 * the shadow's link is cut at the flush (for PAE: the private
	 * PAE-level root's entry, from the PDPTE in memory), and faults
	 * rebuild it from the new tables. */
	u64 cc = gb_new_as(&w, c->fmt);
	gb_map(&w, c->fmt, cc, 0x1000, 0x407000, PAGE_SIZE, user_rw, tbl);
	g_put(top_entry(c->fmt, a), esz, g_get(top_entry(c->fmt, cc), esz));
	CHECK(maps(f, &hw, 0x1000, 0x406000), "%s: top entry edited, no flush: old (allowed)", c->name);
	shadow_nested_resync(sv, 0);
	CHECK(!maps(f, &hw, 0x1000, 0x406000) && !maps(f, &hw, 0x2000, 0x405000),
	      "%s: top entry edited, flushed: the old tables are unlinked", c->name);
	shadow_page_fault(sv, 0x1000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(res.status == SPF_FIXED && maps(f, &hw, 0x1000, 0x407000), "%s: rebuilt from the new tables",
	      c->name);
	shadow_page_fault(sv, 0x2000, GWALK_PFEC_U, GWALK_USER, &res);
	CHECK(res.status == SPF_GUEST_FAULT, "%s: what the new tables lack is the L1's #NPF", c->name);
	shadow_nested_set_root(sv, &m, b, 0, &hw);
	CHECK(hw.cr3 == root_b && maps(f, &hw, 0x1000, 0x402000) && maps(f, &hw, 0x2000, 0x403000),
	      "%s: b untouched through it all", c->name);
	shadow_get_stats(svm, &st);
	CHECK(st.zap_alls == 0, "%s: no zap-all", c->name);

	shadow_vcpu_destroy(sv);
	shadow_vm_destroy(svm);
	fake_check_no_leaks(f, c->name);
	fake_free(f);
	free(f);
}

int main(void)
{
	static const struct npt_case cases[] = {
		{GWALK_FMT_32, "2-level npt12", CR4_PSE, 0},
		{GWALK_FMT_PAE, "PAE npt12", CR4_PAE, EFER_NXE},
		{GWALK_FMT_4LVL, "4-level npt12", CR4_PAE, EFER_LME | EFER_LMA | EFER_NXE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		one_format(&cases[i]);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		switching(&cases[i]);
	printf("shadow_nested: %ld checks, %d failures\n", g_checks, g_failures);
	return g_failures ? 1 : 0;
}
