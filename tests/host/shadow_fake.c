/*
 * tests/host/shadow_fake.c - fake env, fake guest and simulated hardware
 * for the shadow MMU tests (see shadow_fake.h).
 */
#include "tests/host/shadow_fake.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int g_failures;
long g_checks;
struct fake *g_fake;

void fail_hook(void)
{
	static int abort_on_fail = -1;
	if (abort_on_fail < 0)
		abort_on_fail = getenv("SHADOW_ABORT") != NULL;
	if (abort_on_fail && g_failures == 1)
		__builtin_trap();
}

/* ---------------------------------------------------------------- guest memory */

bool g_is_ram(gpa_t gpa)
{
	return g_ptr(gpa) != NULL;
}

uint8_t *g_ptr(gpa_t gpa)
{
	struct fake *f = g_fake;
	if (gpa < f->ram_size && !(gpa >= G_HOLE_LO && gpa < G_HOLE_HI))
		return f->ram + gpa;
	if (gpa >= G_HIGH_BASE && gpa < G_HIGH_BASE + G_HIGH_SIZE)
		return f->high + (gpa - G_HIGH_BASE);
	return NULL;
}

uint64_t g_get(gpa_t gpa, unsigned size)
{
	uint8_t *p = g_ptr(gpa);
	uint64_t v = 0;
	if (!p) {
		FAIL("g_get of non-RAM %#" PRIx64, gpa);
		return 0;
	}
	memcpy(&v, p, size);
	return v;
}

void g_put(gpa_t gpa, unsigned size, uint64_t v)
{
	uint8_t *p = g_ptr(gpa);
	if (!p) {
		FAIL("g_put of non-RAM %#" PRIx64, gpa);
		return;
	}
	memcpy(p, &v, size);
}

hpa_t g_hpa(gpa_t gpa)
{
	return G_HPA_BASE + gpa;
}

static int g_read(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	(void)ctx;
	if ((size != 4 && size != 8) || gpa % size) {
		FAIL("guest read of %u bytes at %#" PRIx64, size, gpa);
		return E_INVAL;
	}
	uint8_t *p = g_ptr(gpa);
	if (!p)
		return E_FAULT;
	*val = 0;
	memcpy(val, p, size);
	return 0;
}

static int g_cmpxchg(void *ctx, gpa_t gpa, unsigned size, u64 old, u64 new)
{
	u64 cur;
	int r = g_read(ctx, gpa, size, &cur);
	if (r)
		return r;
	if (cur != old)
		return 1;
	memcpy(g_ptr(gpa), &new, size);
	return 0;
}

const struct gwalk_ops g_ops = { .read_pte = g_read, .cmpxchg_pte = g_cmpxchg };

/* ---------------------------------------------------------------- env */

static hpa_t env_gfn_to_hpa(void *ctx, gfn_t gfn)
{
	(void)ctx;
	if (gfn >= (1ULL << 40))
		return 0;
	return g_is_ram(gfn << 12) ? g_hpa(gfn << 12) : 0;
}

static void *env_p2v(hpa_t pa)
{
	struct fake *f = g_fake;
	uint64_t off = pa & 0xfff;
	if (pa >= HIGH_POOL_BASE && pa < HIGH_POOL_BASE + f->high_frames * PAGE_SIZE) {
		uint8_t *m = f->high_mem[(pa - HIGH_POOL_BASE) >> 12];
		if (!m)
			FAIL("p2v of a free high frame %#" PRIx64, pa);
		return m ? m + off : NULL;
	}
	if (pa >= LOW_POOL_BASE && pa < LOW_POOL_BASE + f->low_frames * PAGE_SIZE) {
		uint8_t *m = f->low_mem[(pa - LOW_POOL_BASE) >> 12];
		if (!m)
			FAIL("p2v of a free low frame %#" PRIx64, pa);
		return m ? m + off : NULL;
	}
	FAIL("p2v of foreign address %#" PRIx64, pa);
	return NULL;
}

static int pool_alloc(struct fake *f, uint8_t **mem, uint64_t n, uint64_t base, uint64_t *used, hpa_t *out)
{
	if (f->alloc_fail_after >= 0) {
		if (f->alloc_fail_after == 0)
			return E_NOMEM;
		f->alloc_fail_after--;
	}
	/* Start at a pseudo-random slot so frames are not handed out in
	 * address order. */
	static uint64_t rot;
	rot = rot * 6364136223846793005ULL + 1442695040888963407ULL;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = (k + (rot >> 33)) % n;
		if (!mem[i]) {
			mem[i] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
			memset(mem[i], 0, PAGE_SIZE);
			(*used)++;
			*out = base + i * PAGE_SIZE;
			return E_OK;
		}
	}
	return E_NOMEM;
}

static void pool_free(uint8_t **mem, uint64_t n, uint64_t base, uint64_t *used, hpa_t pa, const char *what)
{
	if (pa < base || pa >= base + n * PAGE_SIZE || (pa & 0xfff)) {
		FAIL("free of foreign %s frame %#" PRIx64, what, pa);
		return;
	}
	uint64_t i = (pa - base) >> 12;
	if (!mem[i]) {
		FAIL("double free of %s frame %#" PRIx64, what, pa);
		return;
	}
	/* Poison: a use after free shows up in the hardware walk. */
	memset(mem[i], 0xa5, PAGE_SIZE);
	free(mem[i]);
	mem[i] = NULL;
	(*used)--;
}

static int env_alloc(void *ctx, hpa_t *out)
{
	struct fake *f = ctx;
	int r = pool_alloc(f, f->high_mem, f->high_frames, HIGH_POOL_BASE, &f->high_used, out);
	if (f->high_used > f->high_peak)
		f->high_peak = f->high_used;
	return r;
}

static void env_free(void *ctx, hpa_t pa)
{
	struct fake *f = ctx;
	pool_free(f->high_mem, f->high_frames, HIGH_POOL_BASE, &f->high_used, pa, "high");
}

static int env_alloc_low(void *ctx, hpa_t *out)
{
	struct fake *f = ctx;
	return pool_alloc(f, f->low_mem, f->low_frames, LOW_POOL_BASE, &f->low_used, out);
}

static void env_free_low(void *ctx, hpa_t pa)
{
	struct fake *f = ctx;
	pool_free(f->low_mem, f->low_frames, LOW_POOL_BASE, &f->low_used, pa, "low");
}

static void env_flush(void *ctx, u32 vcpu)
{
	struct fake *f = ctx;
	f->flush_calls++;
	for (unsigned i = 0; i < SIM_MAX_VCPUS; i++) {
		if (vcpu != SHADOW_ALL_VCPUS && vcpu != i)
			continue;
		f->flushes[i]++;
		if (f->cpus[i])
			sim_tlb_flush(f->cpus[i]);
	}
}

static int env_read(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	return g_read(ctx, gpa, size, val);
}

static int env_cmpxchg(void *ctx, gpa_t gpa, unsigned size, u64 old, u64 new)
{
	return g_cmpxchg(ctx, gpa, size, old, new);
}

void fake_init(struct fake *f, uint64_t high_frames, uint64_t low_frames)
{
	uint64_t ram = f->ram_size ? f->ram_size : G_RAM_SIZE;
	memset(f, 0, sizeof(*f));
	f->ram_size = ram;
	f->ram = calloc(1, ram);
	f->high = calloc(1, G_HIGH_SIZE);
	f->high_frames = high_frames;
	f->low_frames = low_frames;
	f->high_mem = calloc(high_frames, sizeof(*f->high_mem));
	f->low_mem = calloc(low_frames, sizeof(*f->low_mem));
	f->alloc_fail_after = -1;
	if (!f->ram || !f->high || !f->high_mem || !f->low_mem) {
		perror("calloc");
		exit(2);
	}
	f->env = (struct shadow_env){
		.ctx = f,
		.read_gpa = env_read,
		.cmpxchg_gpa = env_cmpxchg,
		.gfn_to_hpa = env_gfn_to_hpa,
		.p2v = env_p2v,
		.alloc_page = env_alloc,
		.free_page = env_free,
		.alloc_low_page = env_alloc_low,
		.free_low_page = env_free_low,
		.flush_tlb = env_flush,
	};
	g_fake = f;
}

void fake_check_no_leaks(struct fake *f, const char *what)
{
	CHECK(f->high_used == 0, "%s: %" PRIu64 " frames leaked", what, f->high_used);
	CHECK(f->low_used == 0, "%s: %" PRIu64 " low frames leaked", what, f->low_used);
}

void fake_free(struct fake *f)
{
	for (uint64_t i = 0; i < f->high_frames; i++)
		free(f->high_mem[i]);
	for (uint64_t i = 0; i < f->low_frames; i++)
		free(f->low_mem[i]);
	free(f->high_mem);
	free(f->low_mem);
	free(f->ram);
	free(f->high);
	g_fake = NULL;
}

/* ---------------------------------------------------------------- guest tables */

gpa_t gb_table(struct gworld *w)
{
	if (!w->base) {
		w->base = G_TBL_BASE;
		w->nframes = G_TBL_FRAMES;
	}
	if (w->next_tbl >= w->nframes) {
		fprintf(stderr, "guest table pool exhausted\n");
		exit(2);
	}
	gpa_t gpa = w->base + (gpa_t)w->next_tbl++ * PAGE_SIZE;
	memset(g_ptr(gpa), 0, PAGE_SIZE);
	return gpa;
}

uint64_t gb_new_as(struct gworld *w, int fmt)
{
	if (fmt == GWALK_FMT_PAE) {
		/* PDPTs are 32 bytes (CR3 bits 31:5): 120 per table frame,
		 * starting at an odd offset. */
		if (!w->pdpt_frame || w->pdpt_used == 120) {
			w->pdpt_frame = gb_table(w);
			w->pdpt_used = 0;
		}
		return w->pdpt_frame + 0x40 + 32 * w->pdpt_used++;
	}
	return gb_table(w);
}

static unsigned fmt_levels(int fmt)
{
	return fmt == GWALK_FMT_32 ? 2 : fmt == GWALK_FMT_PAE ? 3 : fmt == GWALK_FMT_4LVL ? 4 : 5;
}

static uint64_t entry_gpa(int fmt, uint64_t table, uint64_t gva, unsigned level)
{
	if (fmt == GWALK_FMT_32)
		return table + ((gva >> (12 + 10 * (level - 1))) & 1023) * 4;
	if (fmt == GWALK_FMT_PAE && level == 3)
		return table + ((gva >> 30) & 3) * 8;
	return table + ((gva >> (12 + 9 * (level - 1))) & 511) * 8;
}

gpa_t gb_map(struct gworld *w, int fmt, uint64_t cr3, uint64_t gva, uint64_t gpa, uint64_t size,
	     uint64_t leaf_flags, uint64_t tbl_flags)
{
	unsigned size_e = fmt == GWALK_FMT_32 ? 4 : 8;
	unsigned leaf_level = size == PAGE_SIZE ? 1 : size == GiB ? 3 : 2;
	uint64_t table = fmt == GWALK_FMT_PAE ? (cr3 & 0xffffffe0) : (cr3 & ~0xfffULL);

	for (unsigned level = fmt_levels(fmt);; level--) {
		gpa_t e = entry_gpa(fmt, table, gva, level);
		if (level == leaf_level) {
			uint64_t v = leaf_flags | PTE_P;
			if (level > 1)
				v |= PTE_PS;
			if (fmt == GWALK_FMT_32 && level == 2)
				v |= (gpa & GENMASK(31, 22)) | ((gpa >> 32) & 0xff) << 13;
			else
				v |= gpa;
			g_put(e, size_e, v);
			return e;
		}
		uint64_t v = g_get(e, size_e);
		if (!(v & PTE_P) || (v & PTE_PS)) {
			uint64_t t = gb_table(w);
			v = t | PTE_P;
			if (!(fmt == GWALK_FMT_PAE && level == 3))
				v |= tbl_flags;
			g_put(e, size_e, v);
		}
		table = v & (fmt == GWALK_FMT_32 ? GENMASK(31, 12) : GENMASK(51, 12));
	}
}

/* ---------------------------------------------------------------- CPU state */

struct gwalk_caps g_caps(void)
{
	return (struct gwalk_caps){ .maxphyaddr = 36, .gbpages = true, .la57 = true, .pse36 = true };
}

struct gstate g_state(int fmt, uint64_t cr3)
{
	struct gstate s = { .fmt = fmt, .cr3 = cr3, .cr0 = CR0_PE | CR0_WP };
	if (fmt == GWALK_FMT_OFF)
		return s;
	s.cr0 |= CR0_PG;
	if (fmt == GWALK_FMT_32) {
		s.cr4 = CR4_PSE;
		return s;
	}
	s.cr4 = CR4_PAE;
	s.efer = EFER_NXE;
	if (fmt >= GWALK_FMT_4LVL)
		s.efer |= EFER_LME | EFER_LMA;
	if (fmt == GWALK_FMT_5LVL)
		s.cr4 |= CR4_LA57;
	return s;
}

/* ---------------------------------------------------------------- hardware */

void sim_tlb_flush(struct sim_cpu *c)
{
	for (unsigned i = 0; i < TLB_SIZE; i++)
		c->tlb[i].valid = false;
}

int sim_set_state(struct sim_cpu *c, const struct gstate *gs)
{
	struct gwalk_caps caps = g_caps();
	struct gwalk_env env;
	memset(&env, 0, sizeof(env));
	int r = gwalk_mode_init(&env.mode, gs->cr0, gs->cr4, gs->efer, &caps);
	if (r != E_OK)
		return r;
	env.cr3 = gs->cr3;
	if (env.mode.format == GWALK_FMT_PAE) {
		r = gwalk_load_pdptes(&g_ops, NULL, &env.mode, gs->cr3, env.pdpte);
		if (r != E_OK)
			return r;
	}
	r = shadow_set_mode(c->sv, &env.mode, gs->cr3, env.pdpte, &c->hw);
	if (g_fake->alloc_fail_after < 0)
		CHECK(r == E_OK, "shadow_set_mode: %d", r);
	if (r != E_OK)
		return r;
	c->have_hw = true;
	c->genv = env;
	c->gs = *gs;
	return E_OK;
}

static bool in_low_pool(hpa_t pa)
{
	return pa >= LOW_POOL_BASE && pa < LOW_POOL_BASE + g_fake->low_frames * PAGE_SIZE;
}

void sim_enter(struct sim_cpu *c)
{
	shadow_reload(c->sv, &c->hw);
	if (g_fake->alloc_fail_after < 0)
		CHECK(c->hw.cr3 != 0, "reload failed");
	if (!c->hw.cr3 || !c->hw.pae)
		return;
	/* SDM §4.4.1: a PAE root is 32-bit addressable; the PDPTE registers
	 * are loaded from it on VM entry. Only P, PWT, PCD and the address
	 * may be set: "bits 2:1, 8:5 and 63:M are reserved" (Table 4-8). */
	CHECK(c->hw.cr3 < 4 * GiB && in_low_pool(c->hw.cr3) && !(c->hw.cr3 & 31),
	      "PAE root %#" PRIx64 " not a low-pool 32-byte slot", c->hw.cr3);
	uint64_t *root = env_p2v(c->hw.cr3 & ~31ULL);
	for (unsigned i = 0; i < 4; i++) {
		c->pdpte_regs[i] = root[i];
		if (root[i] & PTE_P)
			CHECK(!(root[i] & (GENMASK(63, HOST_MAXPHY) | GENMASK(8, 5) | GENMASK(2, 1))),
			      "PDPTE %u = %#" PRIx64 " sets a reserved bit", i, root[i]);
	}
}

bool perm_allows(uint8_t perm, uint32_t access)
{
	bool user = (access & GWALK_USER) && !(access & GWALK_IMPLICIT);
	if (access & GWALK_FETCH)
		return perm & (user ? GWALK_P_UX : GWALK_P_SX);
	if (user)
		return perm & ((access & GWALK_WRITE) ? GWALK_P_UW : GWALK_P_UR);
	if ((perm & GWALK_P_SMAP) && ((access & GWALK_IMPLICIT) || !(access & GWALK_AC)))
		return false;
	return perm & ((access & GWALK_WRITE) ? GWALK_P_SW : GWALK_P_SR);
}

bool perm_subset(uint8_t a, uint8_t b)
{
	static const uint32_t kinds[] = {
		0, GWALK_WRITE, GWALK_FETCH, GWALK_USER, GWALK_USER | GWALK_WRITE, GWALK_USER | GWALK_FETCH,
		GWALK_AC, GWALK_AC | GWALK_WRITE,
	};
	for (unsigned i = 0; i < ARRAY_SIZE(kinds); i++)
		if (perm_allows(a, kinds[i]) && !perm_allows(b, kinds[i]))
			return false;
	return true;
}

/* Hardware rights with CR0.WP = 1, EFER.NXE = 1 (SDM §4.6.1). */
static uint8_t hw_perm(const struct sim_cpu *c, bool us, bool rw, bool nx)
{
	uint8_t p = GWALK_P_SR;
	if (us) {
		p |= GWALK_P_UR;
		if (rw)
			p |= GWALK_P_UW;
		if (!nx)
			p |= GWALK_P_UX;
		if (c->hw.smap)
			p |= GWALK_P_SMAP;
	}
	if (rw)
		p |= GWALK_P_SW;
	if (!nx && !(us && c->hw.smep))
		p |= GWALK_P_SX;
	return p;
}

/* Check one present shadow entry's bits for what the shadow may set. */
static void check_entry(const struct sim_cpu *c, unsigned level, bool leaf, uint64_t e)
{
	uint64_t allowed = GENMASK(HOST_MAXPHY - 1, 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_NX;
	if (leaf) {
		allowed |= PTE_D;
		if (c->hw.pke)
			allowed |= GENMASK(62, 59);
	}
	CHECK(!(e & ~allowed), "shadow entry %#" PRIx64 " at level %u sets bits %#" PRIx64, e, level, e & ~allowed);
	CHECK(e & PTE_A, "shadow entry %#" PRIx64 " without A (the hardware would write it)", e);
	if (leaf && (e & PTE_RW))
		CHECK(e & PTE_D, "writable shadow leaf %#" PRIx64 " without D", e);
	if (!leaf)
		CHECK(!(e & PTE_NX) && (e & PTE_RW) && (e & PTE_US), "shadow non-leaf %#" PRIx64 " restricts", e);
}

bool sim_hw_walk(struct sim_cpu *c, uint64_t gva, uint64_t *hpa_page, uint8_t *perm)
{
	unsigned level;
	uint64_t table, e = 0;
	bool us = true, rw = true, nx = false;

	if (c->hw.pae) {
		gva &= 0xffffffffULL;
		e = c->pdpte_regs[(gva >> 30) & 3];
		if (!(e & PTE_P))
			return false;
		table = e & GENMASK(51, 12);
		level = 2;
	} else {
		table = c->hw.cr3 & GENMASK(51, 12);
		level = c->hw.la57 ? 5 : 4;
	}
	for (;; level--) {
		uint64_t *t = env_p2v(table);
		if (!t)
			return false;
		e = t[(gva >> (12 + 9 * (level - 1))) & 511];
		if (!(e & PTE_P))
			return false;
		check_entry(c, level, level == 1, e);
		us = us && (e & PTE_US);
		rw = rw && (e & PTE_RW);
		nx = nx || (e & PTE_NX);
		if (level == 1)
			break;
		table = e & GENMASK(51, 12);
	}
	*hpa_page = e & GENMASK(51, 12);
	*perm = hw_perm(c, us, rw, nx);
	return true;
}

static struct tlb_entry *tlb_find(struct sim_cpu *c, uint64_t gva_page)
{
	struct tlb_entry *t = &c->tlb[(gva_page >> 12) % TLB_SIZE];
	return t->valid && t->gva_page == gva_page ? t : NULL;
}

void sim_access(struct sim_cpu *c, uint64_t gva, uint32_t access, struct sim_result *r)
{
	memset(r, 0, sizeof(*r));
	if (c->hw.pae)
		gva &= 0xffffffffULL;
	uint64_t page = gva & ~0xfffULL;
	for (unsigned tries = 0; tries < 8; tries++) {
		sim_enter(c);
		if (!c->hw.cr3) {
			r->outcome = SIM_KILL; /* no root: the VM is killed */
			return;
		}
		struct tlb_entry *t = tlb_find(c, page);
		uint64_t hpa;
		uint8_t perm;
		bool present = false;
		if (t) {
			present = true;
			if (perm_allows(t->perm, access)) {
				r->outcome = SIM_OK;
				r->hpa = t->hpa_page | (gva & 0xfff);
				r->via_tlb = true;
				c->tlb_hits++;
				return;
			}
			t->valid = false;
		} else if (sim_hw_walk(c, gva, &hpa, &perm)) {
			present = true;
			if (perm_allows(perm, access)) {
				struct tlb_entry *n = &c->tlb[(page >> 12) % TLB_SIZE];
				*n = (struct tlb_entry){ true, page, hpa, perm };
				c->tlb_fills++;
				r->outcome = SIM_OK;
				r->hpa = hpa | (gva & 0xfff);
				return;
			}
		}
		/* #PF: the hardware error code (the shadow must not rely on it). */
		uint32_t ec = (present ? GWALK_PFEC_P : 0) | ((access & GWALK_WRITE) ? GWALK_PFEC_W : 0) |
			      ((access & GWALK_USER) ? GWALK_PFEC_U : 0) | ((access & GWALK_FETCH) ? GWALK_PFEC_ID : 0);
		struct shadow_pf_result pf;
		r->faults++;
		shadow_page_fault(c->sv, gva, ec, access, &pf);
		switch (pf.status) {
		case SPF_FIXED:
			continue;
		case SPF_GUEST_FAULT:
			r->outcome = SIM_GUEST_FAULT;
			r->error = pf.error;
			return;
		case SPF_EMULATE:
			r->outcome = SIM_EMULATE;
			r->gpa = pf.gpa;
			return;
		default:
			r->outcome = SIM_KILL;
			r->gpa = pf.gpa;
			return;
		}
	}
	r->outcome = SIM_LIVELOCK;
}

static void each_leaf(struct sim_cpu *c, uint64_t table, unsigned level, uint64_t gva_base, bool us, bool rw, bool nx,
		      void (*fn)(void *, struct sim_cpu *, uint64_t, uint64_t, uint8_t, hpa_t), void *ctx)
{
	uint64_t *t = env_p2v(table);
	if (!t)
		return;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i];
		if (!(e & PTE_P))
			continue;
		check_entry(c, level, level == 1, e);
		uint64_t gva = gva_base | (uint64_t)i << (12 + 9 * (level - 1));
		bool u = us && (e & PTE_US), w = rw && (e & PTE_RW), x = nx || (e & PTE_NX);
		if (level == 1)
			fn(ctx, c, gva, e & GENMASK(51, 12), hw_perm(c, u, w, x), table);
		else
			each_leaf(c, e & GENMASK(51, 12), level - 1, gva, u, w, x, fn, ctx);
	}
}

void sim_for_each_leaf(struct sim_cpu *c, void (*fn)(void *ctx, struct sim_cpu *c, uint64_t gva, uint64_t hpa,
						      uint8_t perm, hpa_t pt_hpa),
		       void *ctx)
{
	if (!c->have_hw)
		return;
	if (c->hw.pae) {
		for (unsigned i = 0; i < 4; i++)
			if (c->pdpte_regs[i] & PTE_P)
				each_leaf(c, c->pdpte_regs[i] & GENMASK(51, 12), 2, (uint64_t)i << 30, true, true, false,
					  fn, ctx);
		return;
	}
	unsigned top = c->hw.la57 ? 5 : 4;
	uint64_t *t = env_p2v(c->hw.cr3 & GENMASK(51, 12));
	for (unsigned i = 0; t && i < 512; i++) {
		uint64_t e = t[i];
		if (!(e & PTE_P))
			continue;
		check_entry(c, top, false, e);
		uint64_t gva = (uint64_t)i << (12 + 9 * (top - 1));
		/* Sign-extend the canonical address. */
		unsigned width = 12 + 9 * top;
		if (gva & (1ULL << (width - 1)))
			gva |= ~0ULL << width;
		each_leaf(c, e & GENMASK(51, 12), top - 1, gva, true, true, false, fn, ctx);
	}
}

/* ---------------------------------------------------------------- a test world */

struct tworld *tw_new(uint32_t max_pages, unsigned ncpu, uint64_t ram_size)
{
	struct tworld *t = calloc(1, sizeof(*t));
	if (!t)
		exit(2);
	t->f.ram_size = ram_size;
	fake_init(&t->f, 1 << 16, 64);
	t->svm = shadow_vm_create(&t->f.env, max_pages);
	if (!t->svm) {
		fprintf(stderr, "shadow_vm_create failed\n");
		exit(2);
	}
	t->ncpu = ncpu;
	for (unsigned i = 0; i < ncpu; i++) {
		t->cpu[i].id = i;
		t->cpu[i].sv = shadow_vcpu_create(t->svm, i);
		if (!t->cpu[i].sv) {
			fprintf(stderr, "shadow_vcpu_create failed\n");
			exit(2);
		}
		t->f.cpus[i] = &t->cpu[i];
	}
	return t;
}

struct shadow_stats tw_stats(struct tworld *t)
{
	struct shadow_stats st;
	shadow_get_stats(t->svm, &st);
	return st;
}

void tw_free(struct tworld *t, const char *what)
{
	for (unsigned i = 0; i < t->ncpu; i++) {
		t->f.cpus[i] = NULL;
		shadow_vcpu_destroy(t->cpu[i].sv);
	}
	shadow_vm_destroy(t->svm);
	fake_check_no_leaks(&t->f, what);
	fake_free(&t->f);
	free(t);
}
