/*
 * kernel/gva.c - guest-virtual memory access for a vCPU (see gva.h).
 */
#include "kernel/gva.h"
#include "kernel/mmio.h"
#include "kernel/mmu.h"
#include "kernel/string.h"
#include "kernel/vm.h"
#include "kernel/x86.h"
#include "mm/hostpt.h"

static int vm_read_pte(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	struct vm *vm = ctx;
	u64 v = 0;
	if (gmem_read(&vm->mem, gpa, &v, size))
		return E_FAULT;
	*val = v;
	return 0;
}

/* Guest RAM is ordinary memory shared with the vCPU(s): a locked
 * compare-exchange keeps A/D updates atomic against other CPUs. */
static int vm_cmpxchg_pte(void *ctx, gpa_t gpa, unsigned size, u64 old, u64 new_val)
{
	struct vm *vm = ctx;
	if (!IS_ALIGNED(gpa, size) || !gmem_is_ram(&vm->mem, gpa))
		return -1;
	void *p = phys_to_virt(gmem_hpa(&vm->mem, gpa));
	bool ok;
	if (size == 8)
		ok = __atomic_compare_exchange_n((u64 *)p, &old, new_val, false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST);
	else {
		u32 o = (u32)old;
		ok = __atomic_compare_exchange_n((u32 *)p, &o, (u32)new_val, false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST);
	}
	return ok ? 0 : 1;
}

const struct gwalk_ops vm_gwalk_ops = {
	.read_pte = vm_read_pte,
	.cmpxchg_pte = vm_cmpxchg_pte,
};

const struct gwalk_caps *gva_caps(void)
{
	static struct gwalk_caps caps;
	static bool ready;
	if (!ready) {
		struct cpuid_regs r = cpuid(0x80000000);
		caps.maxphyaddr = r.eax >= 0x80000008 ? (cpuid(0x80000008).eax & 0xff) : 36;
		caps.gbpages = (cpuid(0x80000001).edx & BIT(26)) != 0;
		caps.la57 = (cpuid_count(7, 0).ecx & BIT(16)) != 0;
		caps.pse36 = (cpuid(1).edx & BIT(17)) != 0;
		caps.amd = cpuid(0).ebx == 0x68747541;
		ready = true;
	}
	return &caps;
}

int gva_env(struct vcpu *v, struct gwalk_env *env)
{
	memset(env, 0, sizeof(*env));
	int r = gwalk_mode_init(&env->mode, vcpu_get_cr(v, 0), vcpu_get_cr(v, 4), vcpu_get_efer(v), gva_caps());
	if (r)
		return r;
	env->cr3 = vcpu_get_cr(v, 3);
	if (v->mmu && env->mode.format == GWALK_FMT_PAE) {
		/* shadow paging: Umbra holds the PDPTE registers itself */
		memcpy(env->pdpte, v->mmu->pdpte, sizeof(env->pdpte));
		return E_OK;
	}
	if (env->mode.format == GWALK_FMT_PAE &&
	    gwalk_load_pdptes(&vm_gwalk_ops, v->vm, &env->mode, env->cr3, env->pdpte)) {
		/* The CPU accepted these PDPTEs when the guest loaded CR3 (it
		 * is running on them), but they now hold bits a PDPTE load
		 * refuses: QEMU TCG sets the accessed bit (5) in PDPTEs when it
		 * walks (a deviation; SDM Table 4-8 reserves it). Use them as
		 * the CPU does, without the bits the CPU itself set. */
		u32 base = (u32)env->cr3 & ~0x1fu;
		for (int i = 0; i < 4; i++) {
			u64 e = 0;
			if (gmem_read(&v->vm->mem, base + 8 * i, &e, 8))
				return E_INVAL;
			env->pdpte[i] = e & ~(PTE_A | PTE_D);
		}
	}
	return E_OK;
}

/* Translate one page's worth of an access; GVA_OK with *gpa. */
static int translate(struct vcpu *v, struct gwalk_env *env, u64 la, u32 acc, gpa_t *gpa, struct gva_fault *f)
{
	struct gwalk_result res;
	int st = gwalk_walk(&vm_gwalk_ops, v->vm, env, la, acc, &res);
	if (st == GWALK_PF) {
		f->vector = 14;
		f->error = res.error_code;
		f->cr2 = la;
		return GVA_FAULT;
	}
	if (st == GWALK_NONCANONICAL) {
		f->vector = 13;
		f->error = 0;
		f->cr2 = 0;
		return GVA_FAULT;
	}
	if (st != GWALK_OK)
		return GVA_BAD_GPA;
	*gpa = res.gpa;
	return GVA_OK;
}

/* An access of at most one page, possibly straddling two: both pages are
 * translated (and may fault) before any byte moves, as the processor
 * checks the whole access before it completes. */
static int access(struct vcpu *v, u64 la, u8 *buf, unsigned len, u32 acc, bool write, struct gva_fault *f)
{
	struct gwalk_env env;
	if (len > PAGE_SIZE || gva_env(v, &env))
		return GVA_BAD_GPA;
	if (write)
		acc |= GWALK_WRITE;
	unsigned first = MIN(len, (unsigned)(PAGE_SIZE - (la & (PAGE_SIZE - 1))));
	gpa_t gpa[2] = {0, 0};
	int r = translate(v, &env, la, acc, &gpa[0], f);
	if (!r && first < len)
		r = translate(v, &env, la + first, acc, &gpa[1], f);
	if (r)
		return r;
	for (int i = 0; i < 2 && len; i++) {
		unsigned n = i == 0 ? first : len;
		int e = write ? gmem_write(&v->vm->mem, gpa[i], buf, n) : gmem_read(&v->vm->mem, gpa[i], buf, n);
		if (e) {
			/* not RAM: an emulated device's registers (never
			 * code: fetching from MMIO is not supported) */
			if ((acc & GWALK_FETCH) || !mmio_find(v->vm, gpa[i], n))
				return GVA_BAD_GPA;
			mmio_access(v, gpa[i], buf, n, write);
			buf += n;
			len -= n;
			continue;
		}
		/* Umbra wrote guest memory on the guest's behalf: shadows of a
		 * write-tracked page table must follow (DESIGN.md §5.1). */
		if (write && v->vm->shadow && shadow_gfn_tracked(v->vm->shadow, gpa[i] >> PAGE_SHIFT))
			shadow_gpa_written(v->vm->shadow, gpa[i], n);
		buf += n;
		len -= n;
	}
	return GVA_OK;
}

int gva_read(struct vcpu *v, u64 la, void *buf, unsigned len, u32 acc, struct gva_fault *f)
{
	return access(v, la, buf, len, acc, false, f);
}

int gva_write(struct vcpu *v, u64 la, const void *buf, unsigned len, u32 acc, struct gva_fault *f)
{
	return access(v, la, (u8 *)buf, len, acc, true, f);
}

/* ---------------------------------------------------------- code fetch */

static u64 pte_now(const void *p, unsigned size)
{
	return size == 8 ? __atomic_load_n((const u64 *)p, __ATOMIC_RELAXED)
			 : __atomic_load_n((const u32 *)p, __ATOMIC_RELAXED);
}

static bool cache_hit(struct vcpu *v, const struct gva_code_cache *c, u64 page, u32 acc, u64 cr0)
{
	if (!c->valid || c->page != page || c->acc != acc || c->cr0 != cr0)
		return false;
	if (!(cr0 & CR0_PG))
		return true; /* linear = guest-physical */
	if (c->cr4 != vcpu_get_cr(v, 4) || c->efer != vcpu_get_efer(v))
		return false;
	if (v->mmu && (c->cr4 & CR4_PAE) && !(c->efer & EFER_LMA)) {
		/* PAE under shadow paging: the walk starts at the PDPTE
		 * register, not at CR3, so address spaces sharing the code's
		 * page directory share the entry */
		if (v->mmu->pdpte[(page >> 30) & 3] != c->pdpte)
			return false;
	} else if (c->cr3 != vcpu_get_cr(v, 3)) {
		return false;
	}
	for (unsigned i = 0; i < c->nlv; i++)
		if (pte_now(c->pte[i].p, c->pte_size) != c->pte[i].val)
			return false;
	return true;
}

/* Translate @la's page for the cache; false when it cannot be cached
 * (the caller then takes the ordinary path, which also reports faults). */
static bool cache_fill(struct vcpu *v, struct gva_code_cache *c, u64 la, u32 acc, u64 cr0)
{
	struct gmem *mem = &v->vm->mem;
	gpa_t gpa = la & ~(u64)(PAGE_SIZE - 1);

	c->valid = false;
	c->nlv = 0;
	if (cr0 & CR0_PG) {
		struct gwalk_env env;
		struct gwalk_result res;
		if (gva_env(v, &env) || (env.mode.format == GWALK_FMT_PAE && !v->mmu))
			return false; /* PAE under TDP: PDPTEs from memory, not cached */
		if (gwalk_walk(&vm_gwalk_ops, v->vm, &env, la, acc, &res) != GWALK_OK)
			return false;
		c->pte_size = (u8)env.mode.pte_size;
		for (int l = res.top_level; l >= res.leaf_level; l--) {
			if (env.mode.format == GWALK_FMT_PAE && l == 3) {
				c->pdpte = res.lv[3].pte; /* the register */
				continue;
			}
			hpa_t hpa = gmem_hpa(mem, res.lv[l].gpa);
			if (!hpa)
				return false;
			c->pte[c->nlv].p = phys_to_virt(hpa);
			c->pte[c->nlv].val = res.lv[l].pte; /* as the walk used it, A set */
			c->nlv++;
		}
		c->cr3 = env.cr3;
		c->cr4 = vcpu_get_cr(v, 4);
		c->efer = vcpu_get_efer(v);
		gpa = res.gpa & ~(gpa_t)(PAGE_SIZE - 1);
	}
	hpa_t hpa = gmem_hpa(mem, gpa);
	if (!hpa || !gmem_is_ram(mem, gpa + PAGE_SIZE - 1))
		return false;
	c->host = phys_to_virt(hpa);
	c->page = la & ~(u64)(PAGE_SIZE - 1);
	c->acc = acc;
	c->cr0 = cr0;
	c->valid = true;
	return true;
}

int gva_fetch(struct vcpu *v, u64 la, void *buf, unsigned len, u32 acc, struct gva_fault *f)
{
	struct gva_code_cache *c = &v->code_cache;
	u64 page = la & ~(u64)(PAGE_SIZE - 1);
	unsigned off = la & (PAGE_SIZE - 1);
	u64 cr0 = vcpu_get_cr(v, 0);

	if (off + len > PAGE_SIZE)
		return gva_read(v, la, buf, len, acc, f);
	if (!cache_hit(v, c, page, acc, cr0) && !cache_fill(v, c, la, acc, cr0)) {
		if (!(cr0 & CR0_PG))
			return gmem_read(&v->vm->mem, la, buf, len) ? GVA_BAD_GPA : GVA_OK;
		return gva_read(v, la, buf, len, acc, f);
	}
	u8 *d = buf;
	for (unsigned i = 0; i < len; i++)
		d[i] = c->host[off + i];
	return GVA_OK;
}
