/*
 * tests/host/gwalk_fake.c - fake guest memory and the walker-vs-reference
 * comparison (see gwalk_fake.h).
 */
#include "tests/host/gwalk_fake.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int g_failures;
long g_checks;

static bool fm_entry_ok(const struct fmem *fm, uint64_t gpa, unsigned size)
{
	if (size != 4 && size != 8) {
		FAIL("walker used entry size %u", size);
		return false;
	}
	if (gpa % size) {
		FAIL("walker used misaligned entry gpa %#" PRIx64, gpa);
		return false;
	}
	return gpa < fm->size && fm->size - gpa >= size;
}

uint64_t fm_get(const struct fmem *fm, uint64_t gpa, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)fm->bytes[gpa + i] << (8 * i);
	return v;
}

void fm_put(struct fmem *fm, uint64_t gpa, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size; i++)
		fm->bytes[gpa + i] = (uint8_t)(v >> (8 * i));
}

static int fm_read(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	struct fmem *fm = ctx;
	fm->reads++;
	if (!fm_entry_ok(fm, gpa, size))
		return E_FAULT;
	*val = fm_get(fm, gpa, size);
	return 0;
}

static int fm_cmpxchg(void *ctx, gpa_t gpa, unsigned size, u64 old, u64 new)
{
	struct fmem *fm = ctx;
	fm->cmpxchgs++;
	if (fm->cmpxchg_error)
		return fm->cmpxchg_error;
	if (!fm_entry_ok(fm, gpa, size))
		return E_FAULT;
	if (fm->interfere)
		fm->interfere(fm, gpa, size);
	uint64_t cur = fm_get(fm, gpa, size);
	if (cur != old)
		return 1;
	if (fm->nlog < (int)(sizeof(fm->log) / sizeof(fm->log[0])))
		fm->log[fm->nlog++] = (struct fm_log){ gpa, size, old, new };
	else
		FAIL("too many cmpxchg writes in one walk");
	fm_put(fm, gpa, size, new);
	return 0;
}

const struct gwalk_ops fm_ops = {
	.read_pte = fm_read,
	.cmpxchg_pte = fm_cmpxchg,
};

void fm_init(struct fmem *fm, uint64_t size)
{
	memset(fm, 0, sizeof(*fm));
	fm->bytes = calloc(1, size);
	fm->size = size;
	if (!fm->bytes) {
		perror("calloc");
		exit(2);
	}
}

void fm_free(struct fmem *fm)
{
	free(fm->bytes);
	fm->bytes = NULL;
}

void fm_clear(struct fmem *fm)
{
	memset(fm->bytes, 0, fm->size);
	fm->nlog = 0;
}

void fm_undo(struct fmem *fm)
{
	while (fm->nlog > 0) {
		struct fm_log *l = &fm->log[--fm->nlog];
		fm_put(fm, l->gpa, l->size, l->old);
	}
}

struct gwalk_caps fm_caps(const struct ref_cpu *cpu)
{
	return (struct gwalk_caps){
		.maxphyaddr = (u8)cpu->maxphyaddr,
		.gbpages = cpu->gbpages,
		.la57 = cpu->la57,
		.pse36 = cpu->pse36,
		.amd = cpu->amd,
	};
}

int fm_env_from_cpu(const struct ref_cpu *cpu, struct gwalk_env *env)
{
	struct gwalk_caps caps = fm_caps(cpu);
	memset(env, 0, sizeof(*env));
	int r = gwalk_mode_init(&env->mode, cpu->cr0, cpu->cr4, cpu->efer, &caps);
	env->cr3 = cpu->cr3;
	memcpy(env->pdpte, cpu->pdpte, sizeof(env->pdpte));
	env->pdpte_in_memory = cpu->pdpte_in_memory;
	env->pkru = cpu->pkru;
	return r;
}

u32 fm_access_flags(const struct ref_cpu *cpu, const struct ref_access *acc)
{
	u32 f = 0;
	if (acc->type == REF_WRITE)
		f |= GWALK_WRITE;
	if (acc->type == REF_FETCH)
		f |= GWALK_FETCH;
	if (cpu->cpl == 3)
		f |= GWALK_USER;
	if (acc->implicit)
		f |= GWALK_IMPLICIT;
	if (cpu->ac)
		f |= GWALK_AC;
	if (acc->peek)
		f |= GWALK_PEEK;
	return f;
}

static const char *type_name(int t)
{
	return t == REF_READ ? "read" : t == REF_WRITE ? "write" : "fetch";
}

static void describe(const struct ref_cpu *c, const struct ref_access *a, const char *what)
{
	if (g_failures > 40)
		return;
	fprintf(stderr,
		"  case %s: la=%#" PRIx64 " %s%s%s cpl=%u ac=%d cr0=%#" PRIx64 " cr4=%#" PRIx64 " efer=%#" PRIx64
		" pkru=%#x M=%u\n",
		what, a->la, type_name(a->type), a->implicit ? " implicit" : "", a->peek ? " peek" : "", c->cpl,
		c->ac, c->cr0, c->cr4, c->efer, c->pkru, c->maxphyaddr);
}

static int expected_status(int outcome)
{
	switch (outcome) {
	case REF_TRANSLATED: return GWALK_OK;
	case REF_PAGE_FAULT: return GWALK_PF;
	case REF_GP: return GWALK_NONCANONICAL;
	default: return GWALK_BAD_GPA;
	}
}

bool fm_differential(struct fmem *fm, const struct ref_cpu *cpu, const struct ref_access *acc, const char *what,
		     struct gwalk_result *res_out)
{
	struct ref_mem rm = { fm->bytes, fm->size };
	struct ref_result ref;
	struct gwalk_env env;
	struct gwalk_result res;
	int before = g_failures;

	ref_translate(&rm, cpu, acc, &ref);
	if (fm_env_from_cpu(cpu, &env) != E_OK) {
		FAIL("gwalk_mode_init refused a valid state");
		describe(cpu, acc, what);
		return false;
	}
	fm->nlog = 0;
	int st = gwalk_walk(&fm_ops, fm, &env, acc->la, fm_access_flags(cpu, acc), &res);

	g_checks++;
	if (st != res.status)
		FAIL("return value %d != res.status %d", st, res.status);
	if (st != expected_status(ref.outcome)) {
		FAIL("status %s, reference says %s (ref pfec %#x)", gwalk_status_name(st),
		     gwalk_status_name(expected_status(ref.outcome)), ref.pfec);
	} else if (st == GWALK_PF && res.error_code != ref.pfec) {
		FAIL("error code %#x, reference %#x", res.error_code, ref.pfec);
	} else if (st == GWALK_BAD_GPA && res.bad_gpa != ref.unreadable) {
		FAIL("bad gpa %#" PRIx64 ", reference %#" PRIx64, res.bad_gpa, ref.unreadable);
	}
	if (st == GWALK_OK || st == GWALK_PF) {
		if (res.have_leaf != ref.have_translation)
			FAIL("have_leaf %d, reference %d", res.have_leaf, ref.have_translation);
		else if (res.have_leaf && (res.gpa != ref.pa || res.page_size != ref.page_size))
			FAIL("gpa %#" PRIx64 "/%#" PRIx64 ", reference %#" PRIx64 "/%#" PRIx64, res.gpa,
			     res.page_size, ref.pa, ref.page_size);
		else if (res.have_leaf && res.global != ref.global)
			FAIL("global %d, reference %d", res.global, ref.global);
	}
	/* A/D updates: same entries, same order, same new values. */
	if (fm->nlog != ref.nwrites) {
		FAIL("%d A/D updates, reference %d", fm->nlog, ref.nwrites);
	} else {
		for (int i = 0; i < fm->nlog; i++) {
			if (fm->log[i].gpa != ref.w[i].addr || fm->log[i].size != ref.w[i].size ||
			    fm->log[i].new != ref.w[i].value)
				FAIL("update %d: %#" PRIx64 "/%u <- %#" PRIx64 ", reference %#" PRIx64 "/%u <- %#" PRIx64,
				     i, fm->log[i].gpa, fm->log[i].size, fm->log[i].new, ref.w[i].addr, ref.w[i].size,
				     ref.w[i].value);
		}
	}
	/* The recorded leaf value is what memory now holds. */
	if (res.have_leaf && res.leaf_level && !(env.mode.format == GWALK_FMT_PAE && res.leaf_level == 3)) {
		const struct gwalk_level *lv = &res.lv[res.leaf_level];
		if (fm_get(fm, lv->gpa, env.mode.pte_size) != lv->pte)
			FAIL("lv[%d] = %#" PRIx64 " but memory holds %#" PRIx64, res.leaf_level, lv->pte,
			     fm_get(fm, lv->gpa, env.mode.pte_size));
	}
	if (res_out)
		*res_out = res;
	fm_undo(fm);
	if (g_failures != before) {
		describe(cpu, acc, what);
		return false;
	}
	return true;
}

void fm_check_perm_view(struct fmem *fm, const struct ref_cpu *cpu, uint64_t la, const struct gwalk_result *res,
			const char *what)
{
	static const struct {
		u8 bit;
		unsigned cpl;
		int type;
	} views[] = {
		{ GWALK_P_UR, 3, REF_READ },  { GWALK_P_UW, 3, REF_WRITE }, { GWALK_P_UX, 3, REF_FETCH },
		{ GWALK_P_SR, 0, REF_READ },  { GWALK_P_SW, 0, REF_WRITE }, { GWALK_P_SX, 0, REF_FETCH },
	};
	struct ref_mem rm = { fm->bytes, fm->size };
	struct ref_cpu c = *cpu;
	struct ref_result ref;

	c.pkru = 0;
	c.ac = true;
	for (unsigned i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		struct ref_access a = { .la = la, .type = views[i].type, .peek = true };
		c.cpl = views[i].cpl;
		ref_translate(&rm, &c, &a, &ref);
		bool allowed = ref.outcome == REF_TRANSLATED;
		CHECK(allowed == !!(res->perm & views[i].bit), "%s: perm %#x view %#x: reference says %d", what,
		      res->perm, views[i].bit, allowed);
	}
	/* SMAP withdraws supervisor data access iff the address is a
	 * user-mode one and CR4.SMAP = 1: compare with an AC = 0 read. */
	struct ref_access a = { .la = la, .type = REF_READ, .peek = true };
	c.cpl = 0;
	c.ac = false;
	ref_translate(&rm, &c, &a, &ref);
	bool smap_blocks = ref.outcome != REF_TRANSLATED;
	CHECK(smap_blocks == !!(res->perm & GWALK_P_SMAP), "%s: perm %#x, SMAP blocks: %d", what, res->perm,
	      smap_blocks);
}
