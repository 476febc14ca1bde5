/*
 * tests/host/test_gwalk_cases2.c - more targeted walker tests with
 * hand-written expectations:
 *   mode selection from CR0/CR4/EFER, canonical addresses and LA57,
 *   A/D updates racing with other writers (cmpxchg retry), peek walks,
 *   unreadable tables, and single rules worth a named test (I/D in 32-bit
 *   paging, implicit supervisor accesses and SMAP, CR0.WP, PGE, pkeys).
 */
#include <inttypes.h>
#include <string.h>

#include "tests/host/gwalk_path.h"

void gwalk_test_cases2(void);

/* ------------------------------------------------------------- modes */

static void test_modes(void)
{
	struct gwalk_caps caps = { .maxphyaddr = 40, .gbpages = true, .la57 = false, .pse36 = true };
	struct gwalk_mode m;
	const u64 PE = BIT(0), WP = BIT(16), PG = BIT(31);
	const u64 PSE = BIT(4), PAE = BIT(5), PGE = BIT(7), LA57 = BIT(12), SMEP = BIT(20), SMAP = BIT(21),
		  PKE = BIT(22);
	const u64 LME = BIT(8), LMA = BIT(10), NXE = BIT(11);
	static const struct {
		u64 cr0, cr4, efer;
		int ret, fmt;
		u32 flags;
	} t[] = {
		{ PE, PAE | PSE, LME | NXE, E_OK, GWALK_FMT_OFF, 0 },
		{ 0, 0, 0, E_OK, GWALK_FMT_OFF, 0 },
		{ PG, 0, 0, E_INVAL, 0, 0 },                          /* PG without PE */
		{ PE | PG | WP, PSE | PGE | SMEP | SMAP | PKE, NXE, E_OK, GWALK_FMT_32,
		  GWALK_M_WP | GWALK_M_PSE | GWALK_M_PGE | GWALK_M_SMEP | GWALK_M_SMAP }, /* no NXE, PKE */
		{ PE | PG, PAE | PSE | PKE | LA57, NXE, E_OK, GWALK_FMT_PAE, GWALK_M_NXE }, /* no PSE, PKE; LA57 ignored */
		{ PE | PG, PSE, LME | LMA, E_INVAL, 0, 0 },           /* long mode without PAE */
		{ PE | PG, PAE | PKE | PSE, LME | LMA | NXE, E_OK, GWALK_FMT_4LVL, GWALK_M_NXE | GWALK_M_PKE },
		{ PE | PG, PAE, LMA, E_OK, GWALK_FMT_4LVL, 0 },       /* LMA alone */
		{ PE | PG, PAE | LA57, LME | LMA, E_NOTSUP, 0, 0 },   /* no LA57 in caps */
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = gwalk_mode_init(&m, t[i].cr0, t[i].cr4, t[i].efer, &caps);
		CHECK(r == t[i].ret, "mode %u: ret %d want %d", i, r, t[i].ret);
		if (r == E_OK)
			CHECK(m.format == t[i].fmt && m.flags == t[i].flags, "mode %u: fmt %d flags %#x, want %d %#x", i,
			      m.format, m.flags, t[i].fmt, t[i].flags);
	}
	caps.la57 = true;
	CHECK(gwalk_mode_init(&m, PE | PG, PAE | LA57, LME | LMA, &caps) == E_OK && m.format == GWALK_FMT_5LVL &&
		      m.levels == 5,
	      "5-level mode");
	caps.maxphyaddr = 31;
	CHECK(gwalk_mode_init(&m, PE | PG, 0, 0, &caps) == E_INVAL, "MAXPHYADDR 31");
	caps.maxphyaddr = 53;
	CHECK(gwalk_mode_init(&m, PE | PG, 0, 0, &caps) == E_INVAL, "MAXPHYADDR 53");
}

/* --------------------------------------------------- canonical, LA57 */

static void test_la57(void)
{
	struct gwalk_caps caps = { .maxphyaddr = 46, .gbpages = true, .la57 = true };
	struct gwalk_mode m4, m5, mpae;
	static const struct {
		u64 va;
		bool c4, c5;
	} t[] = {
		{ 0x00007fffffffffffULL, true, true },   { 0x0000800000000000ULL, false, true },
		{ 0xffff800000000000ULL, true, true },   { 0xffff7fffffffffffULL, false, true },
		{ 0x00ffffffffffffffULL, false, true },  { 0x0100000000000000ULL, false, false },
		{ 0xff00000000000000ULL, false, true },  { 0xfe00000000000000ULL, false, false },
		{ 0x8000000000000000ULL, false, false }, { 0, true, true },
	};
	gwalk_mode_init(&m4, BIT(0) | BIT(31), BIT(5), BIT(8) | BIT(10), &caps);
	gwalk_mode_init(&m5, BIT(0) | BIT(31), BIT(5) | BIT(12), BIT(8) | BIT(10), &caps);
	gwalk_mode_init(&mpae, BIT(0) | BIT(31), BIT(5) | BIT(12), 0, &caps);
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK(gwalk_canonical(&m4, t[i].va) == t[i].c4, "4-level canonical %#" PRIx64, t[i].va);
		CHECK(gwalk_canonical(&m5, t[i].va) == t[i].c5, "5-level canonical %#" PRIx64, t[i].va);
		CHECK(gwalk_canonical(&mpae, t[i].va), "PAE: everything canonical");
	}

	/* A 5-level walk indexes the PML5 with bits 56:48. */
	struct fmem fm;
	struct path p;
	struct gwalk_result res;
	fm_init(&fm, PATH_MEM);
	p.cpu = path_cpu(P_5L);
	path_simple(&fm, &p, P_5L, 1, 0x777000);
	CHECK(p.gpa[5] == PT_TBL(5) + 0x0c1 * 8, "PML5E placement");
	int st = path_walk(&fm, &p, 0, &res);
	CHECK(st == GWALK_OK && res.gpa == 0x777def && res.top_level == 5 && res.lv[5].gpa == p.gpa[5] &&
		      res.lv[4].gpa == p.gpa[4],
	      "5-level walk: %s gpa %#" PRIx64, gwalk_status_name(st), res.gpa);
	fm_undo(&fm);

	/* Non-canonical: #GP/#SS, not #PF, and nothing read. */
	unsigned long reads = fm.reads;
	p.la = 0x0200000000001000ULL;
	st = path_walk(&fm, &p, GWALK_WRITE, &res);
	CHECK(st == GWALK_NONCANONICAL && fm.reads == reads && fm.nlog == 0, "5L non-canonical: %s",
	      gwalk_status_name(st));
	/* PML5E not present. */
	p.la = path_la(P_5L);
	fm_put(&fm, p.gpa[5], 8, 0);
	st = path_walk(&fm, &p, GWALK_FETCH | GWALK_USER, &res);
	CHECK(st == GWALK_PF && res.fault_level == 5 && res.error_code == (GWALK_PFEC_U | GWALK_PFEC_ID),
	      "PML5E not present: %s %#x", gwalk_status_name(st), res.error_code);

	/* 4-level: a 5-level-canonical address is #GP. */
	fm_clear(&fm);
	p.cpu = path_cpu(P_4L);
	path_simple(&fm, &p, P_4L, 1, 0x777000);
	p.la |= 0x0000800000000000ULL;
	st = path_walk(&fm, &p, 0, &res);
	CHECK(st == GWALK_NONCANONICAL, "4L non-canonical: %s", gwalk_status_name(st));
	fm_free(&fm);
}

/* ----------------------------------------------------- A/D and races */

struct interference {
	uint64_t target;   /* entry to change */
	uint64_t value;    /* its new value */
	int remaining;     /* how many more times (-1: forever, toggling bit 9) */
};

static void interfere(struct fmem *fm, uint64_t gpa, unsigned size)
{
	struct interference *in = fm->interfere_ctx;
	if (!in->remaining)
		return;
	if (in->remaining < 0) {
		fm_put(fm, in->target, size, fm_get(fm, in->target, size) ^ BIT(9));
		return;
	}
	in->remaining--;
	fm_put(fm, in->target, size, in->value);
}

static void test_races(void)
{
	struct fmem fm;
	struct path p;
	struct gwalk_result res;
	struct interference in;
	int st;

	fm_init(&fm, PATH_MEM);
	fm.interfere = interfere;
	fm.interfere_ctx = &in;

	/* The PDE is made not present while we set its A bit: the walk
	 * restarts and faults at level 2; A bits above stay set. */
	fm_clear(&fm);
	p.cpu = path_cpu(P_4L);
	path_simple(&fm, &p, P_4L, 1, 0x555000);
	in = (struct interference){ p.gpa[2], 0, 1 };
	st = path_walk(&fm, &p, GWALK_WRITE, &res);
	CHECK(st == GWALK_PF && res.error_code == GWALK_PFEC_W && res.fault_level == 2,
	      "PDE vanished: %s %#x level %d", gwalk_status_name(st), res.error_code, res.fault_level);
	CHECK((fm_get(&fm, p.gpa[4], 8) & PTE_A) && (fm_get(&fm, p.gpa[3], 8) & PTE_A) && fm_get(&fm, p.gpa[2], 8) == 0,
	      "A bits after restart");

	/* The leaf becomes read-only while we set its A/D (upper A bits
	 * preset, so the leaf's update is the first exchange): the
	 * restarted walk denies the write and changes nothing. */
	fm_clear(&fm);
	path_simple(&fm, &p, P_4L, 1, 0x555000);
	for (int l = 4; l >= 2; l--)
		fm_put(&fm, p.gpa[l], 8, fm_get(&fm, p.gpa[l], 8) | PTE_A);
	in = (struct interference){ p.gpa[1], 0x555000 | PTE_P | PTE_US, 1 };
	unsigned long cx = fm.cmpxchgs;
	st = path_walk(&fm, &p, GWALK_WRITE | GWALK_USER, &res);
	CHECK(st == GWALK_PF && res.error_code == (GWALK_PFEC_P | GWALK_PFEC_W | GWALK_PFEC_U) &&
		      fm.cmpxchgs == cx + 1 && fm_get(&fm, p.gpa[1], 8) == (0x555000 | PTE_P | PTE_US),
	      "leaf made read-only: %s %#x", gwalk_status_name(st), res.error_code);

	/* The leaf is moved to another frame: the walk returns the new one. */
	in = (struct interference){ p.gpa[1], 0x666000 | PTE_P | PTE_US | PTE_RW, 1 };
	fm_put(&fm, p.gpa[1], 8, 0x555000 | PTE_P | PTE_US | PTE_RW);
	st = path_walk(&fm, &p, 0, &res);
	CHECK(st == GWALK_OK && res.gpa == 0x666abc && fm_get(&fm, p.gpa[1], 8) == (0x666000 | PTE_P | PTE_US | PTE_RW | PTE_A),
	      "leaf moved: %s gpa %#" PRIx64, gwalk_status_name(st), res.gpa);

	/* An entry that changes on every attempt: bounded, GWALK_RETRY. */
	fm_put(&fm, p.gpa[1], 8, 0x555000 | PTE_P | PTE_US | PTE_RW);
	in = (struct interference){ p.gpa[1], 0, -1 };
	cx = fm.cmpxchgs;
	st = path_walk(&fm, &p, GWALK_WRITE, &res);
	CHECK(st == GWALK_RETRY && fm.cmpxchgs - cx >= 2 && fm.cmpxchgs - cx <= 64, "livelock: %s after %lu",
	      gwalk_status_name(st), fm.cmpxchgs - cx);
	in.remaining = 0;

	/* cmpxchg cannot write (e.g. the table is in ROM): GWALK_BAD_GPA. */
	fm_clear(&fm);
	path_simple(&fm, &p, P_4L, 1, 0x555000);
	fm.cmpxchg_error = -42;
	st = path_walk(&fm, &p, 0, &res);
	CHECK(st == GWALK_BAD_GPA && res.mem_err == -42 && res.bad_gpa == p.gpa[4] && res.fault_level == 4,
	      "cmpxchg error: %s %d", gwalk_status_name(st), res.mem_err);
	fm.cmpxchg_error = 0;

	/* Peek: nothing written, nothing exchanged; also with no cmpxchg op. */
	cx = fm.cmpxchgs;
	st = path_walk(&fm, &p, GWALK_WRITE | GWALK_PEEK, &res);
	CHECK(st == GWALK_OK && fm.cmpxchgs == cx && !(fm_get(&fm, p.gpa[1], 8) & (PTE_A | PTE_D)), "peek");
	{
		const struct gwalk_ops ro = { .read_pte = fm_ops.read_pte };
		struct gwalk_env env;
		fm_env_from_cpu(&p.cpu, &env);
		st = gwalk_walk(&ro, &fm, &env, p.la, GWALK_WRITE, &res);
		CHECK(st == GWALK_OK && fm.cmpxchgs == cx && !(fm_get(&fm, p.gpa[1], 8) & PTE_A), "no cmpxchg op");
	}

	/* D on the leaf only, with A, in one update; 32-bit entries use
	 * 4-byte exchanges. */
	fm_clear(&fm);
	p.cpu = path_cpu(P_32);
	path_simple(&fm, &p, P_32, 1, 0x444000);
	st = path_walk(&fm, &p, GWALK_WRITE, &res);
	CHECK(st == GWALK_OK && fm.nlog == 2 && fm.log[0].size == 4 && fm.log[1].size == 4 &&
		      fm.log[0].new == (fm.log[0].old | PTE_A) && fm.log[1].new == (fm.log[1].old | PTE_A | PTE_D) &&
		      res.lv[1].pte == fm.log[1].new,
	      "32-bit A/D: %s nlog %d", gwalk_status_name(st), fm.nlog);
	fm_free(&fm);
}

/* ------------------------------------------------- single rules by name */

static int walk_ec(struct fmem *fm, struct path *p, u32 access, u32 *ec)
{
	struct gwalk_result res;
	int st = path_walk(fm, p, access, &res);
	*ec = res.error_code;
	fm_undo(fm);
	return st;
}

static void test_rules(void)
{
	struct fmem fm;
	struct path p;
	struct gwalk_result res;
	u32 ec;
	int st;

	fm_init(&fm, PATH_MEM);

	/* I/D (§4.7): with 32-bit paging EFER.NXE does not count; SMEP does. */
	p.cpu = path_cpu(P_32); /* NXE = 1 */
	path_simple(&fm, &p, P_32, 1, 0x333000);
	fm_put(&fm, p.gpa[1], 4, 0);
	st = walk_ec(&fm, &p, GWALK_FETCH, &ec);
	CHECK(st == GWALK_PF && ec == 0, "32-bit NXE fetch: ec %#x", ec);
	p.cpu.cr4 |= BIT(20);
	st = walk_ec(&fm, &p, GWALK_FETCH, &ec);
	CHECK(st == GWALK_PF && ec == GWALK_PFEC_ID, "32-bit SMEP fetch: ec %#x", ec);
	fm_clear(&fm);
	p.cpu = path_cpu(P_PAE);
	path_simple(&fm, &p, P_PAE, 1, 0x333000);
	fm_put(&fm, p.gpa[1], 8, 0);
	st = walk_ec(&fm, &p, GWALK_FETCH | GWALK_USER, &ec);
	CHECK(st == GWALK_PF && ec == (GWALK_PFEC_ID | GWALK_PFEC_U), "PAE NXE fetch: ec %#x", ec);
	p.cpu.efer = 0;
	st = walk_ec(&fm, &p, GWALK_FETCH | GWALK_USER, &ec);
	CHECK(st == GWALK_PF && ec == GWALK_PFEC_U, "PAE no NXE fetch: ec %#x", ec);

	/* Implicit supervisor access at CPL 3 to a user page with SMAP:
	 * denied even with EFLAGS.AC = 1, and U/S clear in the error code.
	 * An explicit CPL 0 access with AC = 1 is allowed. */
	fm_clear(&fm);
	p.cpu = path_cpu(P_4L);
	p.cpu.cr4 |= BIT(21);
	path_simple(&fm, &p, P_4L, 1, 0x333000);
	st = walk_ec(&fm, &p, GWALK_USER | GWALK_IMPLICIT | GWALK_AC, &ec);
	CHECK(st == GWALK_PF && ec == GWALK_PFEC_P, "implicit SMAP: %s ec %#x", gwalk_status_name(st), ec);
	st = walk_ec(&fm, &p, GWALK_AC | GWALK_WRITE, &ec);
	CHECK(st == GWALK_OK, "explicit AC=1: %s", gwalk_status_name(st));
	st = walk_ec(&fm, &p, GWALK_WRITE, &ec);
	CHECK(st == GWALK_PF && ec == (GWALK_PFEC_P | GWALK_PFEC_W), "explicit AC=0: %s ec %#x",
	      gwalk_status_name(st), ec);

	/* CR0.WP = 0: a supervisor write to a read-only page succeeds and
	 * sets D; a user write does not. */
	fm_clear(&fm);
	p.cpu = path_cpu(P_4L);
	p.cpu.cr0 &= ~BIT(16);
	path_simple(&fm, &p, P_4L, 1, 0x333000);
	fm_put(&fm, p.gpa[2], 8, fm_get(&fm, p.gpa[2], 8) & ~PTE_RW);
	st = path_walk(&fm, &p, GWALK_WRITE, &res);
	CHECK(st == GWALK_OK && (fm_get(&fm, p.gpa[1], 8) & PTE_D) && !(res.perm & GWALK_P_UW) &&
		      (res.perm & GWALK_P_SW),
	      "WP=0 write: %s perm %#x", gwalk_status_name(st), res.perm);
	fm_undo(&fm);
	st = walk_ec(&fm, &p, GWALK_WRITE | GWALK_USER, &ec);
	CHECK(st == GWALK_PF && ec == (GWALK_PFEC_P | GWALK_PFEC_W | GWALK_PFEC_U), "WP=0 user write: ec %#x", ec);

	/* Global needs CR4.PGE; the protection key is reported with PKE. */
	fm_put(&fm, p.gpa[1], 8, 0x333000 | PTE_P | PTE_US | PTE_G | (9ULL << GWALK_PTE_PKEY_SHIFT));
	path_walk(&fm, &p, GWALK_PEEK, &res);
	CHECK(res.global && res.pkey == 0, "G with PGE, no PKE: global %d pkey %u", res.global, res.pkey);
	p.cpu.cr4 &= ~BIT(7);
	p.cpu.cr4 |= BIT(22);
	p.cpu.pkru = 1u << 18; /* AD for key 9 */
	st = path_walk(&fm, &p, GWALK_PEEK | GWALK_USER, &res);
	CHECK(!res.global && res.pkey == 9 && st == GWALK_PF && res.error_code == (GWALK_PFEC_P | GWALK_PFEC_U | GWALK_PFEC_PK),
	      "no PGE, key 9 AD: %s ec %#x", gwalk_status_name(st), res.error_code);
	st = path_walk(&fm, &p, GWALK_PEEK | GWALK_USER | GWALK_FETCH, &res);
	CHECK(st == GWALK_OK, "pkeys do not apply to fetches: %s", gwalk_status_name(st));

	/* Unreadable table: BAD_GPA at the level whose entry cannot be read,
	 * A already set above it. */
	fm_clear(&fm);
	p.cpu = path_cpu(P_4L);
	path_simple(&fm, &p, P_4L, 1, 0x333000);
	fm_put(&fm, p.gpa[2], 8, 0x7ff000 | PTE_P | PTE_RW);
	st = path_walk(&fm, &p, 0, &res);
	CHECK(st == GWALK_BAD_GPA && res.fault_level == 1 && res.bad_gpa == 0x7ff000 + 0xee * 8 &&
		      res.mem_err == E_FAULT && (fm_get(&fm, p.gpa[2], 8) & PTE_A),
	      "unreadable PT: %s level %d bad %#" PRIx64, gwalk_status_name(st), res.fault_level, res.bad_gpa);

	/* Paging off: identity on 32 bits, nothing read. */
	p.cpu.cr0 = BIT(0);
	p.la = 0x1234567890abcdefULL;
	unsigned long reads = fm.reads;
	st = path_walk(&fm, &p, GWALK_WRITE | GWALK_USER, &res);
	CHECK(st == GWALK_OK && res.gpa == 0x90abcdef && fm.reads == reads && res.leaf_level == 0,
	      "paging off: %s %#" PRIx64, gwalk_status_name(st), res.gpa);
	/* 32-bit modes truncate the linear address. */
	fm_clear(&fm);
	p.cpu = path_cpu(P_32);
	path_simple(&fm, &p, P_32, 1, 0x333000);
	st = path_walk(&fm, &p, 0, &res);
	p.la |= 0xabcd00000000ULL;
	struct gwalk_result res2;
	path_walk(&fm, &p, 0, &res2);
	CHECK(st == GWALK_OK && res2.status == GWALK_OK && res2.gpa == res.gpa && res2.gva == (uint32_t)p.la,
	      "32-bit truncation");
	fm_free(&fm);
}

void gwalk_test_cases2(void)
{
	test_modes();
	test_la57();
	test_races();
	test_rules();
}
