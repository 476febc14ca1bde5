/*
 * tests/host/test_gwalk.c - unit tests of mm/gwalk.c.
 *
 * This file: the exhaustive differential test against the reference model
 * (tests/host/gwalk_ref.c) and main(). For each page-table shape (format x
 * page size), every combination of U/S, R/W and XD at two levels of the
 * path, P cleared at each level in turn (and A/D preset), times CR0.WP x
 * EFER.NXE x CR4.SMEP x CR4.SMAP x EFLAGS.AC x CPL x implicit-supervisor x
 * read/write/fetch (and PKE/PKRU for two shapes): same outcome, error
 * code, translation and A/D updates as the reference.
 *
 * The targeted tests are in test_gwalk_cases.c, the fuzz in
 * test_gwalk_fuzz.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tests/host/gwalk_fake.h"

void gwalk_test_cases(void);
void gwalk_test_fuzz(unsigned long iterations);

enum { F32, FPAE, F4, F5 };

struct shape {
	const char *name;
	int fmt;
	int leaf;      /* leaf level */
	bool pse;      /* CR4.PSE */
	bool stray_ps; /* 32-bit: PDE.PS = 1 while CR4.PSE = 0 (ignored) */
	int vary[2];   /* levels whose U/S, R/W, XD are varied */
	int nvary;
	bool pk;       /* also vary CR4.PKE and PKRU */
};

static const struct shape shapes[] = {
	{ "32bit-4K", F32, 1, true, false, { 2, 1 }, 2, false },
	{ "32bit-4K-PSE0-PS1", F32, 1, false, true, { 2, 1 }, 2, false },
	{ "32bit-4M", F32, 2, true, false, { 2 }, 1, false },
	{ "PAE-4K", FPAE, 1, false, false, { 2, 1 }, 2, false },
	{ "PAE-2M", FPAE, 2, false, false, { 2 }, 1, false },
	{ "4L-4K", F4, 1, false, false, { 4, 1 }, 2, true },
	{ "4L-4K-mid", F4, 1, false, false, { 3, 2 }, 2, false },
	{ "4L-2M", F4, 2, false, false, { 3, 2 }, 2, false },
	{ "4L-1G", F4, 3, false, false, { 4, 3 }, 2, false },
	{ "5L-4K", F5, 1, false, false, { 5, 1 }, 2, true },
	{ "5L-2M", F5, 2, false, false, { 5, 2 }, 2, false },
};

#define MEM_SIZE (64 * 4096)
#define TBL(level) (0x1000ULL * ((level) + 1)) /* table page of each level */
#define PDPT_GPA 0x1fe0ULL                     /* PAE: CR3 bits 11:5 in use */
#define PKEY 11u

static int fmt_levels(int fmt)
{
	return fmt == F32 ? 2 : fmt == FPAE ? 3 : fmt == F4 ? 4 : 5;
}

/* A linear address with a distinct, non-zero index at every level. */
static uint64_t shape_la(int fmt)
{
	switch (fmt) {
	case F32: return (0x2a7ULL << 22) | (0x1c5ULL << 12) | 0x456;
	case FPAE: return (2ULL << 30) | (0x133ULL << 21) | (0x0f1ULL << 12) | 0x789;
	case F4: /* PML4 index 0x1a3 >= 256: upper half, sign-extended */
		return 0xffff000000000000ULL | (0x1a3ULL << 39) | (0x0b7ULL << 30) | (0x155ULL << 21) |
		       (0x0eeULL << 12) | 0xabc;
	default:
		return (0x0c1ULL << 48) | (0x1a3ULL << 39) | (0x0b7ULL << 30) | (0x155ULL << 21) | (0x0eeULL << 12) |
		       0xdef;
	}
}

static uint64_t entry_gpa(int fmt, uint64_t table, uint64_t la, int level)
{
	if (fmt == F32)
		return table + ((la >> (12 + 10 * (level - 1))) & 1023) * 4;
	return table + ((la >> (12 + 9 * (level - 1))) & 511) * 8;
}

/* The leaf's page base, chosen to exercise high address bits. */
static uint64_t leaf_entry_addr(int fmt, int leaf)
{
	if (fmt == F32)
		/* 4 MiB: PA 0x12_c0400000 -> PDE bits 31:22 = 0x301, 20:13 = 0x12 */
		return leaf == 1 ? 0x87654000ULL : (0xc0400000ULL | (0x12ULL << 13));
	if (fmt == FPAE)
		return leaf == 1 ? 0x987654000ULL : 0x987600000ULL;
	return leaf == 1 ? 0x3f12345000ULL : leaf == 2 ? 0x3f12200000ULL : 0x3f40000000ULL;
}

static uint64_t vary_bits(const struct shape *s, int level, unsigned combo)
{
	for (int i = 0; i < s->nvary; i++) {
		if (s->vary[i] != level)
			continue;
		unsigned b = (combo >> (3 * i)) & 7;
		return ((b & 1) ? PTE_US : 0) | ((b & 2) ? PTE_RW : 0) | ((b & 4) ? PTE_NX : 0);
	}
	return PTE_US | PTE_RW;
}

/* Build the path for @s; @pcase 0: all present, 1: all present with A
 * (and the leaf's D) preset, 2 + k: the entry k levels below the top is
 * not present. */
static void build(struct fmem *fm, const struct shape *s, unsigned combo, int pcase, uint64_t la)
{
	int top = fmt_levels(s->fmt);
	unsigned size = s->fmt == F32 ? 4 : 8;
	uint64_t table = s->fmt == FPAE ? PDPT_GPA : TBL(top);

	fm_clear(fm);
	for (int level = top; level >= s->leaf; level--) {
		uint64_t v;
		if (s->fmt == FPAE && level == 3) {
			v = TBL(2) | PTE_P; /* PDPTE: only P, PWT, PCD allowed */
		} else if (level == s->leaf) {
			v = leaf_entry_addr(s->fmt, s->leaf) | PTE_P | PTE_G | PTE_PWT | vary_bits(s, level, combo);
			if (level > 1)
				v |= PTE_PS | GWALK_PTE_PAT_LARGE;
			if (s->fmt == F4 || s->fmt == F5)
				v |= (uint64_t)PKEY << GWALK_PTE_PKEY_SHIFT;
			if (pcase == 1)
				v |= PTE_A | PTE_D;
		} else {
			v = TBL(level - 1) | PTE_P | vary_bits(s, level, combo);
			if (s->stray_ps && level == 2)
				v |= PTE_PS;
			if (pcase == 1)
				v |= PTE_A;
		}
		if (pcase >= 2 && level == top - (pcase - 2))
			v &= ~PTE_P;
		fm_put(fm, entry_gpa(s->fmt, table, la, level), size, v);
		table = TBL(level - 1);
	}
}

static unsigned long exhaustive_shape(struct fmem *fm, const struct shape *s)
{
	uint64_t la = shape_la(s->fmt);
	int top = fmt_levels(s->fmt);
	int npcase = 2 + (top - s->leaf + 1);
	unsigned ncombo = 1u << (3 * s->nvary);
	unsigned long n = 0;
	char what[96];

	for (unsigned combo = 0; combo < ncombo; combo++) {
		if (s->fmt == F32 && (combo & 0444))
			continue; /* no XD bit in 4-byte entries */
		for (int pcase = 0; pcase < npcase; pcase++) {
			build(fm, s, combo, pcase, la);
			for (unsigned fl = 0; fl < 128; fl++) {
				bool wp = fl & 1, nxe = fl & 2, smep = fl & 4, smap = fl & 8;
				bool ac = fl & 16, cpl3 = fl & 32, implicit = fl & 64;
				struct ref_cpu cpu = {
					.cr0 = BIT(0) | BIT(31) | (wp ? BIT(16) : 0),
					.cr4 = BIT(7) | (s->pse ? BIT(4) : 0) | (smep ? BIT(20) : 0) |
					       (smap ? BIT(21) : 0),
					.efer = nxe ? BIT(11) : 0,
					.cpl = cpl3 ? 3 : 0,
					.ac = ac,
					.maxphyaddr = 46,
					.gbpages = true,
					.la57 = true,
					.pse36 = true,
				};
				if (s->fmt == F32) {
					cpu.cr3 = TBL(2) | 0x18; /* PWT/PCD: ignored by the walk */
				} else if (s->fmt == FPAE) {
					cpu.cr4 |= BIT(5);
					cpu.cr3 = PDPT_GPA;
				} else {
					cpu.cr4 |= BIT(5) | (s->fmt == F5 ? BIT(12) : 0);
					cpu.efer |= BIT(8) | BIT(10);
					cpu.cr3 = TBL(top);
				}
				if (s->fmt == FPAE) {
					struct gwalk_env env;
					fm_env_from_cpu(&cpu, &env);
					int r = gwalk_load_pdptes(&fm_ops, fm, &env.mode, cpu.cr3, cpu.pdpte);
					CHECK(r == E_OK, "%s: PDPTE load %d", s->name, r);
				}
				for (int pk = 0; pk < (s->pk ? 5 : 1); pk++) {
					if (pk) {
						/* Other keys all denied, ours per pk. */
						static const uint32_t ours[] = { 0, 0, 1, 2, 3 };
						cpu.cr4 |= BIT(22);
						cpu.pkru = 0xffffffffu & ~(3u << (2 * PKEY));
						cpu.pkru |= ours[pk] << (2 * PKEY);
					}
					for (int type = REF_READ; type <= REF_FETCH; type++) {
						if (implicit && type == REF_FETCH)
							continue;
						struct ref_access a = { .la = la, .type = type, .implicit = implicit };
						struct gwalk_result res;
						snprintf(what, sizeof(what), "%s combo=%#o pcase=%d", s->name, combo,
							 pcase);
						fm_differential(fm, &cpu, &a, what, &res);
						n++;
						if (type == REF_READ && !implicit && !cpl3 && !ac && pk == 0 &&
						    res.have_leaf)
							fm_check_perm_view(fm, &cpu, la, &res, what);
					}
				}
			}
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned long fuzz = argc > 1 ? strtoul(argv[1], NULL, 0) : 200000;
	struct fmem fm;
	unsigned long total = 0;

	fm_init(&fm, MEM_SIZE);
	for (unsigned i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		unsigned long n = exhaustive_shape(&fm, &shapes[i]);
		printf("exhaustive %-18s %8lu walks\n", shapes[i].name, n);
		total += n;
	}
	fm_free(&fm);
	printf("exhaustive total: %lu walks\n", total);

	gwalk_test_cases();
	gwalk_test_fuzz(fuzz);

	printf("%ld checks, %d failures\n", g_checks, g_failures);
	return g_failures ? 1 : 0;
}
