/*
 * tests/host/test_gwalk_cases.c - targeted walker tests with hand-written
 * expectations taken from the SDM tables (not from the reference model,
 * though every walk is also compared with it):
 *   reserved bits per format and level (RSVD|P, A bits above only),
 *   PSE-36 and large-page address composition, PAT index,
 *   PAE PDPTE loading and PDPTE-register semantics.
 * More in test_gwalk_cases2.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tests/host/gwalk_path.h"

void gwalk_test_cases(void);
void gwalk_test_cases2(void);

/* ------------------------------------------------------- reserved bits */

struct rsvd_spec {
	const char *name;
	int fmt, leaf, level;
	unsigned maxphyaddr;
	bool nxe, amd, gbpages, pse36;
	const char *reserved; /* bits that must fault, "a-b,c" */
	const char *allowed;  /* bits that must not */
};

/* Straight from the SDM's entry-format tables (§4.3, §4.4.2, §4.5) and,
 * for AMD, the APM's long-mode PML4E format (§5.3.3). */
static const struct rsvd_spec rsvd_specs[] = {
	/* 32-bit (Table 4-4..4-6): reserved bits only in 4 MiB PDEs. */
	{ "32 4M PDE M36", P_32, 2, 2, 36, true, false, true, true, "17-21", "1-6,8-16,22-31" },
	{ "32 4M PDE M40", P_32, 2, 2, 40, true, false, true, true, "21", "13-20" },
	{ "32 4M PDE M52", P_32, 2, 2, 52, true, false, true, true, "21", "13-20" },
	{ "32 4M PDE no PSE-36", P_32, 2, 2, 40, true, false, true, false, "13-21", "12,22-31" },
	{ "32 PDE->PT", P_32, 1, 2, 36, true, false, true, true, "", "1-6,8-11" },
	{ "32 PTE", P_32, 1, 1, 36, true, false, true, true, "", "1-31" },
	/* PAE (Tables 4-8..4-11). PDPTEs: see the PDPTE tests. */
	{ "PAE PDE->PT", P_PAE, 1, 2, 36, true, false, true, true, "36-62", "1-6,8-11,63" },
	{ "PAE PDE->PT NXE=0", P_PAE, 1, 2, 36, false, false, true, true, "36-63", "1-6,8-11" },
	{ "PAE 2M PDE", P_PAE, 2, 2, 36, true, false, true, true, "13-20,36-62", "1-6,8-12,21-35,63" },
	{ "PAE PTE", P_PAE, 1, 1, 36, true, false, true, true, "36-62", "1-35,63" },
	{ "PAE PTE M52", P_PAE, 1, 1, 52, true, false, true, true, "52-62", "1-51,63" },
	/* 4-level (§4.5). */
	{ "4L PML4E", P_4L, 1, 4, 36, true, false, true, true, "7,36-51", "1-6,8-11,52-63" },
	{ "4L PML4E AMD", P_4L, 1, 4, 36, true, true, true, true, "7-8,36-51", "1-6,9-11,52-63" },
	{ "4L PML4E NXE=0", P_4L, 1, 4, 36, false, false, true, true, "7,36-51,63", "1-6,8-11,52-62" },
	{ "4L PDPTE->PD", P_4L, 1, 3, 36, true, false, true, true, "36-51", "1-6,8-11,52-63" },
	{ "4L PDPTE->PD AMD", P_4L, 1, 3, 36, true, true, true, true, "36-51", "1-6,8-11,52-63" },
	{ "4L PDPTE no 1G", P_4L, 1, 3, 36, true, false, false, true, "7,36-51", "1-6,8-11,52-63" },
	{ "4L 1G PDPTE", P_4L, 3, 3, 36, true, false, true, true, "13-29,36-51", "1-6,8-12,30-35,52-63" },
	{ "4L PDE->PT", P_4L, 1, 2, 36, true, false, true, true, "36-51", "1-6,8-11,52-63" },
	{ "4L 2M PDE", P_4L, 2, 2, 36, true, false, true, true, "13-20,36-51", "1-6,8-12,21-35,52-63" },
	{ "4L PTE", P_4L, 1, 1, 36, true, false, true, true, "36-51", "1-35,52-63" },
	{ "4L PTE NXE=0", P_4L, 1, 1, 36, false, false, true, true, "36-51,63", "1-35,52-62" },
	{ "4L PTE M52", P_4L, 1, 1, 52, true, false, true, true, "", "1-63" },
	{ "4L 2M PDE M52", P_4L, 2, 2, 52, true, false, true, true, "13-20", "1-6,8-12,21-63" },
	/* 5-level: the PML5E is formatted like a PML4E. */
	{ "5L PML5E", P_5L, 1, 5, 36, true, false, true, true, "7,36-51", "1-6,8-11,52-63" },
	{ "5L PML5E AMD", P_5L, 1, 5, 36, true, true, true, true, "7-8,36-51", "1-6,9-11,52-63" },
	{ "5L PML4E", P_5L, 1, 4, 40, true, false, true, true, "7,40-51", "1-6,8-11,52-63" },
};

/* Parse "a-b,c" into a 64-bit mask. */
static uint64_t parse_bits(const char *s)
{
	uint64_t m = 0;
	while (*s) {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		for (unsigned long b = lo; b <= hi; b++)
			m |= 1ULL << b;
		s = *end == ',' ? end + 1 : end;
	}
	return m;
}

static uint64_t frame_for(int fmt, int leaf)
{
	if (fmt == P_32)
		return leaf == 1 ? 0x87654000ULL : 0xc0400000ULL;
	return leaf == 1 ? 0x912345000ULL : leaf == 2 ? 0x912200000ULL : 0x940000000ULL;
}

static void rsvd_case(struct fmem *fm, const struct rsvd_spec *s, unsigned b, bool reserved, u32 access)
{
	struct path p;
	struct gwalk_result res;
	char what[96];

	fm_clear(fm);
	p.cpu = path_cpu(s->fmt);
	p.cpu.maxphyaddr = s->maxphyaddr;
	p.cpu.amd = s->amd;
	p.cpu.gbpages = s->gbpages;
	p.cpu.pse36 = s->pse36;
	if (!s->nxe)
		p.cpu.efer &= ~BIT(11);
	path_simple(fm, &p, s->fmt, s->leaf, frame_for(s->fmt, s->leaf));
	uint64_t e = fm_get(fm, p.gpa[s->level], p.size);
	fm_put(fm, p.gpa[s->level], p.size, e | (1ULL << b));
	snprintf(what, sizeof(what), "%s bit %u", s->name, b);

	/* Same answer as the reference, including the A updates. */
	struct ref_access ra = { .la = p.la,
				 .type = (access & GWALK_WRITE) ? REF_WRITE : (access & GWALK_FETCH) ? REF_FETCH : REF_READ };
	p.cpu.cpl = (access & GWALK_USER) ? 3 : 0;
	fm_differential(fm, &p.cpu, &ra, what, NULL);

	int st = path_walk(fm, &p, access, &res);
	u32 want_ec = GWALK_PFEC_RSVD | GWALK_PFEC_P | ((access & GWALK_WRITE) ? GWALK_PFEC_W : 0) |
		      ((access & GWALK_USER) ? GWALK_PFEC_U : 0) |
		      ((access & GWALK_FETCH) && s->nxe && s->fmt != P_32 ? GWALK_PFEC_ID : 0);
	if (reserved) {
		CHECK(st == GWALK_PF && res.error_code == want_ec && res.fault_level == s->level,
		      "%s: reserved: status %d ec %#x (want %#x) level %d", what, st, res.error_code, want_ec,
		      res.fault_level);
		/* A set above the faulting level, not in it or below. */
		for (int l = p.top; l >= s->leaf; l--) {
			if (s->fmt == P_PAE && l == 3)
				continue;
			bool a = fm_get(fm, p.gpa[l], p.size) & PTE_A;
			CHECK(a == (l > s->level), "%s: A of level %d is %d", what, l, a);
		}
	} else {
		CHECK(st == GWALK_OK, "%s: allowed bit: status %s ec %#x", what, gwalk_status_name(st),
		      res.error_code);
	}
	fm_undo(fm);
}

static void test_reserved_bits(void)
{
	struct fmem fm;
	int n = 0;

	fm_init(&fm, PATH_MEM);
	for (unsigned i = 0; i < sizeof(rsvd_specs) / sizeof(rsvd_specs[0]); i++) {
		const struct rsvd_spec *s = &rsvd_specs[i];
		uint64_t rsvd = parse_bits(s->reserved), ok = parse_bits(s->allowed);
		if (rsvd & ok)
			FAIL("spec %s lists a bit both ways", s->name);
		for (unsigned b = 0; b < (s->fmt == P_32 ? 32u : 64u); b++) {
			if (rsvd & (1ULL << b)) {
				rsvd_case(&fm, s, b, true, 0);
				rsvd_case(&fm, s, b, true, GWALK_WRITE | GWALK_USER);
				rsvd_case(&fm, s, b, true, GWALK_FETCH);
				n += 3;
			} else if (ok & (1ULL << b)) {
				rsvd_case(&fm, s, b, false, 0);
				n++;
			}
		}
	}
	fm_free(&fm);
	printf("reserved bits: %d cases\n", n);
}

/* --------------------------------------------- address composition, PAT */

static void expect_translation(struct fmem *fm, struct path *p, uint64_t want_gpa, uint64_t want_size,
			       const char *what)
{
	struct gwalk_result res;
	int st = path_walk(fm, p, 0, &res);
	CHECK(st == GWALK_OK && res.gpa == want_gpa && res.page_size == want_size,
	      "%s: status %s gpa %#" PRIx64 " size %#" PRIx64 ", want %#" PRIx64 " size %#" PRIx64, what,
	      gwalk_status_name(st), res.gpa, res.page_size, want_gpa, want_size);
	struct ref_access ra = { .la = p->la, .type = REF_READ };
	fm_differential(fm, &p->cpu, &ra, what, NULL);
	fm_undo(fm);
}

static void test_composition(void)
{
	struct fmem fm;
	struct path p;
	uint64_t v[6];

	fm_init(&fm, PATH_MEM);

	/* 32-bit 4 MiB page, PSE-36: PA 39:32 from PDE 20:13 (§4.3). */
	fm_clear(&fm);
	p.cpu = path_cpu(P_32);
	p.cpu.maxphyaddr = 40;
	v[2] = 0xc0400000ULL | (0xabULL << 13) | PTE_PS | PTE_P | GWALK_PTE_PAT_LARGE;
	path_build(&fm, &p, P_32, 0x2a7abcdeULL, v, 2);
	expect_translation(&fm, &p, 0xabc0400000ULL | 0x3abcde, 4 * MiB, "4M PSE-36 M40");

	/* Same with MAXPHYADDR 36: PA 35:32 = 0xb allowed, 0xab reserved. */
	p.cpu.maxphyaddr = 36;
	fm_put(&fm, p.gpa[2], 4, 0xc0400000ULL | (0xbULL << 13) | PTE_PS | PTE_P);
	expect_translation(&fm, &p, 0xbc0400000ULL | 0x3abcde, 4 * MiB, "4M PSE-36 M36");

	/* CR4.PSE = 0: the same PDE references a page table (at its bits
	 * 31:12, outside memory here): it is not a 4 MiB page. */
	p.cpu.cr4 &= ~BIT(4);
	{
		struct gwalk_result res;
		int st = path_walk(&fm, &p, 0, &res);
		CHECK(st == GWALK_BAD_GPA && res.fault_level == 1 && res.bad_gpa == 0xc0416000ULL + 0x3abULL * 4,
		      "PSE=0: PS ignored: status %s bad %#" PRIx64, gwalk_status_name(st), res.bad_gpa);
		fm_undo(&fm);
	}

	/* PAE 2 MiB: PAT (bit 12) is not an address bit. */
	fm_clear(&fm);
	p.cpu = path_cpu(P_PAE);
	v[3] = PT_TBL(2) | PTE_P;
	v[2] = 0x987600000ULL | PTE_PS | PTE_P | GWALK_PTE_PAT_LARGE | PTE_PCD;
	path_build(&fm, &p, P_PAE, 0xc02fedcbULL, v, 2);
	expect_translation(&fm, &p, 0x987600000ULL | 0xfedcb, 2 * MiB, "PAE 2M");

	/* 4-level 1 GiB and 2 MiB, MAXPHYADDR 52: bit 51 is an address bit. */
	fm_clear(&fm);
	p.cpu = path_cpu(P_4L);
	p.cpu.maxphyaddr = 52;
	v[4] = PT_TBL(3) | PTE_P | PTE_RW;
	v[3] = 0x8000040000000ULL | PTE_PS | PTE_P | GWALK_PTE_PAT_LARGE;
	path_build(&fm, &p, P_4L, (0x12ULL << 39) | (0x34ULL << 30) | 0x2345678, v, 3);
	expect_translation(&fm, &p, 0x8000040000000ULL | 0x2345678, 1 * GiB, "4L 1G M52");
	fm_clear(&fm);
	v[3] = PT_TBL(2) | PTE_P | PTE_RW;
	v[2] = 0x80000ffe00000ULL | PTE_PS | PTE_P | GWALK_PTE_PAT_LARGE;
	path_build(&fm, &p, P_4L, (0x12ULL << 39) | (0x34ULL << 30) | (0x56ULL << 21) | 0x1abcde, v, 2);
	expect_translation(&fm, &p, 0x80000ffe00000ULL | 0x1abcde, 2 * MiB, "4L 2M M52");
	fm_clear(&fm);
	v[2] = PT_TBL(1) | PTE_P | PTE_RW;
	v[1] = 0xfffffffffe000ULL | PTE_P | GWALK_PTE_PAT_4K;
	path_build(&fm, &p, P_4L, (0x12ULL << 39) | (0x34ULL << 30) | (0x56ULL << 21) | (0x78ULL << 12) | 0xfff,
		   v, 1);
	expect_translation(&fm, &p, 0xfffffffffefffULL, 4 * KiB, "4L 4K M52");

	/* PAT index = PAT:PCD:PWT, PAT at bit 7 (4 KiB) or 12 (large). */
	for (unsigned idx = 0; idx < 8; idx++) {
		struct gwalk_result res;
		uint64_t attr = ((idx & 1) ? PTE_PWT : 0) | ((idx & 2) ? PTE_PCD : 0);
		fm_put(&fm, p.gpa[1], 8, 0x5000ULL | PTE_P | attr | ((idx & 4) ? GWALK_PTE_PAT_4K : 0));
		path_walk(&fm, &p, GWALK_PEEK, &res);
		CHECK(res.pat == idx, "4K PAT index %u, got %u", idx, res.pat);
		fm_put(&fm, p.gpa[2], 8, 0x600000ULL | PTE_P | PTE_PS | attr | ((idx & 4) ? GWALK_PTE_PAT_LARGE : 0));
		path_walk(&fm, &p, GWALK_PEEK, &res);
		CHECK(res.pat == idx && res.gpa == (0x600000ULL | (0x78ULL << 12) | 0xfff),
		      "2M PAT index %u, got %u gpa %#" PRIx64, idx, res.pat, res.gpa);
		fm_put(&fm, p.gpa[2], 8, v[2]);
	}
	fm_free(&fm);
}

/* ------------------------------------------------------------- PDPTEs */

static void test_pdptes(void)
{
	struct fmem fm;
	struct gwalk_mode m36, m52;
	struct gwalk_caps caps = { .maxphyaddr = 36 };
	uint64_t out[4], sentinel[4] = { 1, 2, 3, 4 };
	const uint64_t good[4] = { 0x3000 | PTE_P | PTE_PWT | PTE_PCD | (7ULL << 9), 0xfffffffe0ULL /* P=0 */,
				   0xfffff000ULL | PTE_P, 0 };
	int r, n = 0;

	fm_init(&fm, PATH_MEM);
	gwalk_mode_init(&m36, BIT(0) | BIT(31), BIT(5), 0, &caps);
	caps.maxphyaddr = 52;
	gwalk_mode_init(&m52, BIT(0) | BIT(31), BIT(5), 0, &caps);

	/* Valid table at CR3[31:5] = 0x1fe0; CR3 bits 4:0 and 63:32 ignored
	 * (Table 4-7). */
	for (int i = 0; i < 4; i++)
		fm_put(&fm, PT_PDPT + 8 * i, 8, good[i]);
	const uint64_t cr3s[] = { PT_PDPT, PT_PDPT | 0x1f, PT_PDPT | (1ULL << 40) };
	for (unsigned c = 0; c < 3; c++) {
		memcpy(out, sentinel, sizeof(out));
		r = gwalk_load_pdptes(&fm_ops, &fm, &m36, cr3s[c], out);
		CHECK(r == E_OK && !memcmp(out, good, sizeof(out)), "PDPTE load cr3 %#" PRIx64 ": %d", cr3s[c], r);
		n++;
	}

	/* Each reserved bit in each PDPTE: #GP (E_INVAL), nothing loaded.
	 * Table 4-8: 2:1, 8:5, 63:M. Present entries only. */
	uint64_t rsvd36 = parse_bits("1-2,5-8,36-63"), rsvd52 = parse_bits("1-2,5-8,52-63");
	for (int i = 0; i < 4; i++) {
		for (unsigned b = 1; b < 64; b++) {
			uint64_t base = (i == 1 || i == 3) ? (0x4000 | PTE_P) : good[i];
			fm_put(&fm, PT_PDPT + 8 * i, 8, base | (1ULL << b));
			memcpy(out, sentinel, sizeof(out));
			r = gwalk_load_pdptes(&fm_ops, &fm, &m36, PT_PDPT, out);
			bool want = (rsvd36 >> b) & 1;
			CHECK(want ? (r == E_INVAL && !memcmp(out, sentinel, sizeof(out))) : r == E_OK,
			      "PDPTE%d bit %u (M36): %d", i, b, r);
			r = gwalk_load_pdptes(&fm_ops, &fm, &m52, PT_PDPT, out);
			want = (rsvd52 >> b) & 1;
			CHECK(want ? r == E_INVAL : r == E_OK, "PDPTE%d bit %u (M52): %d", i, b, r);
			/* Not present: reserved bits are ignored. */
			fm_put(&fm, PT_PDPT + 8 * i, 8, (base | (1ULL << b)) & ~PTE_P);
			r = gwalk_load_pdptes(&fm_ops, &fm, &m36, PT_PDPT, out);
			CHECK(r == E_OK, "PDPTE%d bit %u not present: %d", i, b, r);
			fm_put(&fm, PT_PDPT + 8 * i, 8, good[i]);
			n += 3;
		}
	}

	/* Unreadable PDPT. */
	r = gwalk_load_pdptes(&fm_ops, &fm, &m36, 0xffffffe0ULL, out);
	CHECK(r == E_FAULT, "PDPT outside memory: %d", r);

	/* Register semantics (§4.4.1): the walk uses the loaded values, not
	 * memory; with pdpte_in_memory it reads memory and a reserved bit
	 * there is a RSVD #PF at level 3. */
	struct path p;
	struct gwalk_result res;
	fm_clear(&fm);
	p.cpu = path_cpu(P_PAE);
	path_simple(&fm, &p, P_PAE, 1, 0x123000);
	fm_put(&fm, p.gpa[3], 8, 0); /* guest clears the PDPTE in memory */
	int st = path_walk(&fm, &p, 0, &res);
	CHECK(st == GWALK_OK && res.gpa == (0x123000 | 0x789), "PDPTE register used: %s", gwalk_status_name(st));
	CHECK(res.lv[3].gpa == p.gpa[3] && res.lv[3].pte == (PT_TBL(2) | PTE_P), "lv[3] = %#" PRIx64 "@%#" PRIx64,
	      res.lv[3].pte, res.lv[3].gpa);
	p.cpu.pdpte_in_memory = true;
	st = path_walk(&fm, &p, 0, &res);
	CHECK(st == GWALK_PF && res.error_code == 0 && res.fault_level == 3, "PDPTE in memory, P=0: %s %#x",
	      gwalk_status_name(st), res.error_code);
	fm_put(&fm, p.gpa[3], 8, PT_TBL(2) | PTE_P | PTE_A);
	st = path_walk(&fm, &p, GWALK_WRITE, &res);
	CHECK(st == GWALK_PF && res.error_code == (GWALK_PFEC_RSVD | GWALK_PFEC_P | GWALK_PFEC_W) &&
		      res.fault_level == 3,
	      "PDPTE in memory, bit 5: %s %#x", gwalk_status_name(st), res.error_code);
	p.cpu.pdpte_in_memory = false;
	p.cpu.pdpte[2] = 0;
	st = path_walk(&fm, &p, GWALK_USER, &res);
	CHECK(st == GWALK_PF && res.error_code == GWALK_PFEC_U && res.fault_level == 3,
	      "PDPTE register P=0: %s %#x", gwalk_status_name(st), res.error_code);
	/* PDPTEs carry no permissions: U/S=0/R/W=0 would be reserved anyway;
	 * a user write through P-only PDPTE reaches the PDE/PTE rights. */
	p.cpu.pdpte[2] = PT_TBL(2) | PTE_P;
	st = path_walk(&fm, &p, GWALK_USER | GWALK_WRITE, &res);
	CHECK(st == GWALK_OK, "PDPTE has no rights: %s", gwalk_status_name(st));
	fm_undo(&fm);
	fm_free(&fm);
	printf("PDPTE: %d load cases\n", n);
}

void gwalk_test_cases(void)
{
	test_reserved_bits();
	test_composition();
	test_pdptes();
	gwalk_test_cases2();
}
