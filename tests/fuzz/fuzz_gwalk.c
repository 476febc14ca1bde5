/*
 * tests/fuzz/fuzz_gwalk.c - libFuzzer target for the guest page walker
 * (mm/gwalk.c), checked against the reference model of SDM vol. 3A ch. 4
 * (tests/host/gwalk_ref.c) through the differential helper of
 * tests/host/gwalk_fake.c.
 *
 * Input: a 16-byte header (paging format, CR0/CR4/EFER bits, PKRU, CPL,
 * EFLAGS.AC, MAXPHYADDR, CPUID bits, CR3), then records:
 *   0 raw write   u16 slot, u64 value: one 8-byte slot of guest memory
 *   1 path        u64 la, then per level (top first) a byte of flags and
 *                 a u64 entry: written where a walk of la reads that
 *                 level, the flags may pull the entry's address into the
 *                 fake memory so the next level lands there
 *   2 walk        u64 la, u8 access (read/write/fetch, implicit, peek,
 *                 keep A/D): walker vs reference
 *   3 walk+view   as 2, then also each permission view of the result
 * The fake guest memory is FZ_PAGES pages in one exact-size heap block:
 * ASan reports any access outside it, the callbacks any misaligned or
 * wrongly sized entry.
 *
 * Checks: gwalk_mode_init accepts exactly the states the architecture
 * allows; gwalk_load_pdptes refuses exactly PDPTs with a present entry
 * that sets a reserved bit; every walk agrees with the reference (status,
 * #PF error code, translation, page size, global, A/D updates in order),
 * reads at most one entry per level, and its result fields are coherent.
 */
#include "mm/gwalk.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/host/gwalk_fake.h"

#define FZ_PAGES 8
#define FZ_MEM (FZ_PAGES * 4096ULL)

static const unsigned maxphys[8] = { 32, 36, 39, 40, 46, 48, 52, 31 /* invalid */ };

enum { FM_OFF, FM_32, FM_PAE, FM_4L, FM_5L };

static int levels_of(int fmt)
{
	static const int l[] = { 0, 2, 3, 4, 5 };
	return l[fmt];
}

/* Entry address of @level for @la below table @table (PAE top: PDPT). */
static u64 entry_at(int fmt, u64 table, u64 la, int level)
{
	if (fmt == FM_32)
		return table + ((la >> (12 + 10 * (level - 1))) & 1023) * 4;
	if (fmt == FM_PAE && level == 3)
		return table + ((la >> 30) & 3) * 8;
	return table + ((la >> (12 + 9 * (level - 1))) & 511) * 8;
}

/* Root table address as the format reads it from CR3. */
static u64 root_of(int fmt, u64 cr3, unsigned m)
{
	if (fmt == FM_32)
		return cr3 & 0xfffff000ULL;
	if (fmt == FM_PAE)
		return cr3 & 0xffffffe0ULL;
	return cr3 & GENMASK(m - 1, 12);
}

static void put(struct fmem *fm, u64 gpa, unsigned size, u64 v)
{
	if (gpa < fm->size && fm->size - gpa >= size)
		fm_put(fm, gpa, size, v);
}

/* Expected gwalk_mode_init result. */
static int expected_init(const struct ref_cpu *c)
{
	bool pg = c->cr0 & BIT(31), pe = c->cr0 & BIT(0), pae = c->cr4 & BIT(5);
	bool lm = c->efer & (BIT(8) | BIT(10));

	if (c->maxphyaddr < 32 || c->maxphyaddr > 52)
		return E_INVAL;
	if (!pg)
		return E_OK;
	if (!pe || (lm && !pae))
		return E_INVAL;
	if (lm && (c->cr4 & BIT(12)) && !c->la57)
		return E_NOTSUP;
	return E_OK;
}

static void check_result(const struct gwalk_result *r, int fmt, u64 la, unsigned long reads)
{
	FZ_CHECK(reads <= (unsigned long)levels_of(fmt), "%lu entry reads in a %d-level walk", reads,
		 levels_of(fmt));
	FZ_CHECK(r->status >= GWALK_OK && r->status <= GWALK_RETRY, "status %d", r->status);
	if (fmt >= FM_4L)
		FZ_CHECK(r->gva == la, "gva %#llx", (unsigned long long)r->gva);
	else
		FZ_CHECK(r->gva == (la & 0xffffffffULL), "gva not truncated to 32 bits");
	if (r->status == GWALK_NONCANONICAL)
		return;
	FZ_CHECK(r->top_level == levels_of(fmt), "top level %u", r->top_level);
	FZ_CHECK(r->fault_level <= r->top_level, "fault level %u", r->fault_level);
	if (r->status == GWALK_OK)
		FZ_CHECK(r->have_leaf && r->error_code == 0 && r->fault_level == 0, "OK walk fields");
	if (r->status == GWALK_PF)
		FZ_CHECK((r->error_code & ~0x3fu) == 0 && (r->fault_level == 0) == r->have_leaf,
			 "#PF fields: ec %#x fault level %u leaf %d", r->error_code, r->fault_level, r->have_leaf);
	if (!r->have_leaf)
		return;
	u64 ps = r->page_size;
	FZ_CHECK(ps == 4096 || ps == (2ULL << 20) || ps == (4ULL << 20) || ps == (1ULL << 30), "page size %#llx",
		 (unsigned long long)ps);
	FZ_CHECK((r->gpa & (ps - 1)) == (r->gva & (ps - 1)), "offset not kept");
	if (fmt == FM_OFF) {
		FZ_CHECK(r->gpa == r->gva && r->leaf_level == 0, "paging off");
		return;
	}
	FZ_CHECK(r->leaf_level >= 1 && r->leaf_level <= r->top_level, "leaf level %u", r->leaf_level);
	FZ_CHECK((ps == 4096) == (r->leaf_level == 1), "page size %#llx at level %u", (unsigned long long)ps,
		 r->leaf_level);
	FZ_CHECK(ps != (4ULL << 20) || fmt == FM_32, "4 MiB page outside 32-bit paging");
	FZ_CHECK(ps != (1ULL << 30) || fmt >= FM_4L, "1 GiB page outside 4/5-level paging");
	FZ_CHECK(r->pat < 8 && r->pkey < 16, "pat/pkey");
	FZ_CHECK(r->perm & GWALK_P_SR, "supervisor read always allowed by the tables");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct fmem fm;
	struct ref_cpu cpu;
	char what[48];

	/* the header */
	u8 b0 = fz_u8(&f), b1 = fz_u8(&f), b2 = fz_u8(&f), b3 = fz_u8(&f);
	int fmt = b0 % 5;
	memset(&cpu, 0, sizeof(cpu));
	cpu.cr0 = BIT(0) | (fmt ? BIT(31) : 0) | ((b1 & 1) ? BIT(16) : 0);
	if ((b0 & 0xe0) == 0xe0)
		cpu.cr0 ^= BIT(0); /* PG without PE, sometimes */
	cpu.cr4 = ((b1 & 2) ? BIT(4) : 0) | ((b1 & 4) ? BIT(7) : 0) | ((b1 & 8) ? BIT(20) : 0) |
		  ((b1 & 16) ? BIT(21) : 0) | ((b1 & 32) ? BIT(22) : 0);
	cpu.efer = (b1 & 64) ? BIT(11) : 0;
	if (fmt >= FM_PAE)
		cpu.cr4 |= BIT(5);
	if (fmt >= FM_4L)
		cpu.efer |= BIT(8) | BIT(10);
	if (fmt == FM_5L)
		cpu.cr4 |= BIT(12);
	if ((b0 & 0xe0) == 0xc0 && fmt >= FM_4L)
		cpu.cr4 &= ~BIT(5); /* long mode without PAE: refused */
	cpu.cpl = (b2 & 3);
	cpu.ac = b2 & 4;
	cpu.gbpages = b2 & 8;
	cpu.la57 = !(b2 & 16) || fmt != FM_5L || (b0 & 0xe0) != 0xa0;
	cpu.pse36 = b2 & 32;
	cpu.amd = b2 & 64;
	cpu.pdpte_in_memory = b2 & 128;
	cpu.maxphyaddr = maxphys[b3 & 7];
	cpu.pkru = fz_u32(&f);
	u64 cr3 = fz_u64(&f);
	if (!(b3 & 8))
		cr3 = ((cr3 % FZ_PAGES) << 12) | (fmt == FM_PAE ? cr3 & 0xfe0 : cr3 & 0x18);
	cpu.cr3 = cr3;

	struct gwalk_caps caps = fm_caps(&cpu);
	struct gwalk_mode mode;
	int ir = gwalk_mode_init(&mode, cpu.cr0, cpu.cr4, cpu.efer, &caps);
	FZ_CHECK(ir == expected_init(&cpu), "gwalk_mode_init %d, expected %d (cr0 %#llx cr4 %#llx efer %#llx M %u)", ir,
		 expected_init(&cpu), (unsigned long long)cpu.cr0, (unsigned long long)cpu.cr4,
		 (unsigned long long)cpu.efer, cpu.maxphyaddr);
	if (ir != E_OK)
		return 0;
	FZ_CHECK(mode.format == fmt && mode.levels == levels_of(fmt), "format %u levels %u for %d", mode.format,
		 mode.levels, fmt);

	fm_init(&fm, FZ_MEM);
	g_failures = 0;
	unsigned psize = fmt == FM_32 ? 4 : 8;
	int nwalks = 0;
	while (!fz_empty(&f) && nwalks < 64) {
		u8 op = fz_u8(&f) % 4;
		if (op == 0) {
			u64 slot = fz_u16(&f) % (FZ_MEM / 8);
			fm_put(&fm, slot * 8, 8, fz_u64(&f));
			continue;
		}
		u64 la = fz_u64(&f);
		if (op == 1) {
			u64 table = root_of(fmt, cpu.cr3, cpu.maxphyaddr);
			for (int level = levels_of(fmt); level >= 1 && !fz_empty(&f); level--) {
				u8 fl = fz_u8(&f);
				u64 v = fz_u64(&f);
				if (fl & 1) /* next table inside the memory */
					v = (v & ~GENMASK(51, 12)) | ((u64)((fl >> 1) % FZ_PAGES) << 12);
				if (fl & 0x10)
					v |= PTE_P;
				if (fmt == FM_32)
					v &= 0xffffffffULL;
				put(&fm, entry_at(fmt, table, la, level), psize, v);
				table = v & (fmt == FM_32 ? 0xfffff000ULL : GENMASK(51, 12));
			}
			continue;
		}
		u8 acc = fz_u8(&f);
		struct ref_access a = {
			.la = la,
			.type = (acc & 3) == 3 ? REF_READ : acc & 3,
			.implicit = acc & 4,
			.peek = acc & 8,
		};
		if (a.type == REF_FETCH)
			a.implicit = false;
		if (fmt < FM_4L && (acc & 0x20))
			a.la &= 0xffffffffULL;
		if (fmt >= FM_4L && (acc & 0x40)) {
			unsigned s = fmt == FM_5L ? 7 : 16; /* canonical */
			a.la = (u64)((s64)(a.la << s) >> s);
		}
		struct ref_cpu wc = cpu;
		if (fmt == FM_PAE && !wc.pdpte_in_memory) {
			/* MOV to CR3 loads the PDPTE registers */
			u64 pd[4] = { 0 }, base = cpu.cr3 & 0xffffffe0ULL, rsvd;
			int want = E_OK;
			rsvd = GENMASK(63, cpu.maxphyaddr) | GENMASK(8, 5) | GENMASK(2, 1);
			for (int i = 0; i < 4 && want == E_OK; i++) {
				if (base + 8 * i + 8 > FZ_MEM) {
					want = E_FAULT;
					break;
				}
				u64 e = fm_get(&fm, base + 8 * i, 8);
				if ((e & PTE_P) && (e & rsvd))
					want = E_INVAL;
			}
			int lr = gwalk_load_pdptes(&fm_ops, &fm, &mode, cpu.cr3, pd);
			FZ_CHECK(lr == want, "gwalk_load_pdptes %d, expected %d", lr, want);
			if (lr != E_OK)
				wc.pdpte_in_memory = true; /* walk as AMD nested paging does */
			else
				memcpy(wc.pdpte, pd, sizeof(pd));
		}
		struct gwalk_result res;
		unsigned long reads = fm.reads;
		snprintf(what, sizeof(what), "walk %d fmt %d", nwalks, fmt);
		bool same = fm_differential(&fm, &wc, &a, what, &res);
		FZ_CHECK(same && g_failures == 0, "walker and reference disagree (%s)", what);
		check_result(&res, fmt, a.la, fm.reads - reads);
		if (op == 3 && res.have_leaf && fmt != FM_OFF) {
			fm_check_perm_view(&fm, &wc, a.la, &res, what);
			FZ_CHECK(g_failures == 0, "permission views disagree with the reference");
		}
		if ((acc & 0x10) && res.status == GWALK_OK && !a.peek) {
			/* let the A/D bits stick, as a guest's would */
			struct gwalk_env env;
			fm_env_from_cpu(&wc, &env);
			gwalk_walk(&fm_ops, &fm, &env, a.la, fm_access_flags(&wc, &a), &res);
			FZ_CHECK(res.status == GWALK_OK, "the same walk again: %s", gwalk_status_name(res.status));
			fm.nlog = 0;
		}
		nwalks++;
	}
	FZ_CHECK(g_failures == 0, "%d failures", g_failures);
	fm_free(&fm);
	return 0;
}
