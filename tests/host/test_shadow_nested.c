/*
 * tests/host/test_shadow_nested.c - the shadow MMU's nested role (npt02,
 * mm/shadow.h "A nested MMU"): for an L1's nested tables (npt12) in
 * 2-level, PAE and 4-level format, the tables the hardware walks must be
 * 4-level with the private upper-level pages above PAE-level roots, map
 * exactly what npt12 allows to user accesses (APM vol. 2 §15.25.5: nested
 * walks are user accesses), report the right #NPF bits when npt12 denies,
 * never write-track npt12 frames, carry ROLE_NESTED, and forget every
 * translation at a flush point (shadow_zap_all). Runs against the fake
 * physical memory of tests/host/shadow_fake.c; frames are checked for
 * leaks at the end.
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

int main(void)
{
	static const struct npt_case cases[] = {
		{GWALK_FMT_32, "2-level npt12", CR4_PSE, 0},
		{GWALK_FMT_PAE, "PAE npt12", CR4_PAE, EFER_NXE},
		{GWALK_FMT_4LVL, "4-level npt12", CR4_PAE, EFER_LME | EFER_LMA | EFER_NXE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		one_format(&cases[i]);
	printf("shadow_nested: %ld checks, %d failures\n", g_checks, g_failures);
	return g_failures ? 1 : 0;
}
