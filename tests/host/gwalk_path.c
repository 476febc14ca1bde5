/*
 * tests/host/gwalk_path.c - path layout helpers (see gwalk_path.h).
 */
#include "tests/host/gwalk_path.h"

#include <string.h>

struct ref_cpu path_cpu(int fmt)
{
	struct ref_cpu c = {
		.cr0 = BIT(0) | BIT(16) | BIT(31),
		.cr4 = BIT(4) | BIT(7),
		.efer = BIT(11),
		.maxphyaddr = 36,
		.gbpages = true,
		.la57 = true,
		.pse36 = true,
	};
	switch (fmt) {
	case P_32:
		c.cr3 = PT_TBL(2);
		break;
	case P_PAE:
		c.cr4 |= BIT(5);
		c.cr3 = PT_PDPT;
		break;
	case P_4L:
		c.cr4 |= BIT(5);
		c.efer |= BIT(8) | BIT(10);
		c.cr3 = PT_TBL(4);
		break;
	default:
		c.cr4 |= BIT(5) | BIT(12);
		c.efer |= BIT(8) | BIT(10);
		c.cr3 = PT_TBL(5);
		break;
	}
	return c;
}

uint64_t path_la(int fmt)
{
	switch (fmt) {
	case P_32: return (0x2a7ULL << 22) | (0x1c5ULL << 12) | 0x456;
	case P_PAE: return (2ULL << 30) | (0x133ULL << 21) | (0x0f1ULL << 12) | 0x789;
	case P_4L:
		return (0x0a3ULL << 39) | (0x0b7ULL << 30) | (0x155ULL << 21) | (0x0eeULL << 12) | 0xabc;
	default:
		return (0x0c1ULL << 48) | (0x1a3ULL << 39) | (0x0b7ULL << 30) | (0x155ULL << 21) | (0x0eeULL << 12) |
		       0xdef;
	}
}

void path_build(struct fmem *fm, struct path *p, int fmt, uint64_t la, const uint64_t *v, int leaf)
{
	p->fmt = fmt;
	p->top = fmt == P_32 ? 2 : fmt == P_PAE ? 3 : fmt == P_4L ? 4 : 5;
	p->size = fmt == P_32 ? 4 : 8;
	p->la = la;
	memset(p->gpa, 0, sizeof(p->gpa));

	uint64_t table = fmt == P_PAE ? PT_PDPT : PT_TBL(p->top);
	for (int level = p->top; level >= leaf; level--) {
		unsigned shift = fmt == P_32 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
		uint64_t idx = (la >> shift) & (fmt == P_32 ? 1023 : 511);
		if (fmt == P_PAE && level == 3)
			idx = (la >> 30) & 3;
		p->gpa[level] = table + idx * p->size;
		fm_put(fm, p->gpa[level], p->size, v[level]);
		table = PT_TBL(level - 1);
	}
	if (fmt == P_PAE && !p->cpu.pdpte_in_memory) {
		struct gwalk_env env;
		fm_env_from_cpu(&p->cpu, &env);
		int r = gwalk_load_pdptes(&fm_ops, fm, &env.mode, p->cpu.cr3, p->cpu.pdpte);
		CHECK(r == E_OK, "path_build: PDPTE load failed: %d", r);
	}
}

void path_simple(struct fmem *fm, struct path *p, int fmt, int leaf, uint64_t frame)
{
	uint64_t v[6] = { 0 };
	int top = fmt == P_32 ? 2 : fmt == P_PAE ? 3 : fmt == P_4L ? 4 : 5;
	for (int level = top; level > leaf; level--)
		v[level] = PT_TBL(level - 1) | PTE_P | PTE_RW | PTE_US;
	if (fmt == P_PAE)
		v[3] = PT_TBL(2) | PTE_P;
	v[leaf] = frame | PTE_P | PTE_RW | PTE_US | (leaf > 1 ? PTE_PS : 0);
	path_build(fm, p, fmt, path_la(fmt), v, leaf);
}

int path_walk(struct fmem *fm, const struct path *p, u32 access, struct gwalk_result *res)
{
	struct gwalk_env env;
	int r = fm_env_from_cpu(&p->cpu, &env);
	CHECK(r == E_OK, "path_walk: mode init %d", r);
	fm->nlog = 0;
	return gwalk_walk(&fm_ops, fm, &env, p->la, access, res);
}
