/*
 * kernel/nested_mmu.c - npt02 = npt01 ∘ npt12 through the shadow MMU's
 * nested role, L2 memory reads through npt12, NESTED-STATS (see
 * kernel/nested.h). Vendor-neutral: the backend calls in at VMRUN, before
 * each L2 entry and on each L2 nested page fault.
 *
 * The nested walk (AMD APM vol. 2 §15.25.5 "Nested Table Walk"): npt12 is
 * in the L1's own paging format (4-level for a long-mode L1, PAE or
 * 2-level for a legacy-mode L1: "the nested page tables use the paging
 * mode of the host", i.e. of the L1's CR4.PAE/PSE and EFER.LMA/NXE), PAE
 * nested tables have no PDPTE registers (the PDPTEs are read from memory
 * on each walk), and "all nested page table accesses are treated as user
 * accesses": the walk is gwalk's with GWALK_USER, without SMEP, SMAP or
 * protection keys. Addresses it yields are L1 guest-physical, mapped to
 * host frames by the VM's gmem (gfn_to_hpa): the same whether Umbra runs
 * the L1 with paging=tdp or paging=shadow.
 *
 * Invalidation, the choice. npt02 pages are never write-tracked (a
 * nested shadow MMU tracks nothing, mm/shadow.h): write-tracking npt12
 * would need 4 KiB write protection in npt01 for a paging=tdp L1. npt02
 * stands instead for what the L1's TLB may hold, which the architecture
 * defines per ASID: translations derived from nested tables are cached in
 * the TLB tagged by ASID, survive VMRUN and #VMEXIT, and "software must
 * flush the TLB (TLB_CONTROL) after changing nested page table entries"
 * (APM vol. 2 §15.16 "TLB Control", §15.16.1 "TLB Flush", §15.25.9
 * "Nested Paging and TLB"). So:
 *  - every L1 ASID has a shadow tag (ROLE_TAG, 64 per vCPU, the least
 *    recently used handed to a new ASID, marked stale), and pages of one
 *    tag hold only values npt12 had while that ASID ran since its last
 *    flush: exactly what its TLB could have cached;
 *  - another nCR3 or ASID (every L1 alternating L2s) is no flush point:
 *    the root for (npt12 top table, format, tag) is taken from the shadow
 *    MMU's root cache or hash (4-level), or from the vCPU's private
 *    upper-level slots (PAE, 2-level: 8 sets keyed by nCR3 and format),
 *    with every entry it had; a new ASID gets a new tag, so an empty root
 *    ("a new ASID has no cached translations");
 *  - TLB_CONTROL 3 or 7 (this ASID's entries) resyncs this tag's pages at
 *    the VMRUN: every entry re-derived from npt12 as an unsync page is
 *    (shadow_nested_resync: leaves updated or dropped, non-leaf entries
 *    whose npt12 entry now leads elsewhere unlinked, PAE PDPTEs re-read);
 *    TLB_CONTROL 1 (every ASID) resyncs this tag now and marks the others
 *    stale, resynced at their own next VMRUN - not now, since their TLBs
 *    are empty from the flush on and must see edits made until then.
 *    Flushing only the tag's pages is sound because tags never share
 *    pages: a page one ASID's faults created is never linked below
 *    another's root (which would bring back, after that ASID's flush,
 *    values only the other one could have cached). Other values, the
 *    price: an npt12 used with several ASIDs is shadowed once per ASID;
 *  - the L2's hardware ASID is flushed by the backend at every flush
 *    point and ASID change, and by npt02 whenever it removes or narrows
 *    an entry (env.flush_tlb);
 *  - a not-present entry made present needs no flush, since nothing was
 *    cached for it: that case faults on npt02 and is walked again here;
 *  - INVLPGA invalidates guest-virtual (L2 linear) translations only:
 *    the backend flushes the L2's hardware ASID, npt02 is unchanged;
 *  - pages no longer reachable (the L1 freed an npt12) are reclaimed
 *    lazily, least recently used first, within the VM's page limit.
 *
 * It must not: map anything the VM's RAM does not back (a non-RAM L1
 * address is a clean VM kill: emulating L1 devices for L2 through NPT is
 * not supported), trust npt12 (every entry is re-read on a fault and at
 * a resync), or let a stale npt02 translation survive a flush of its
 * ASID.
 */
#include "kernel/nested.h"
#include "kernel/console.h"
#include "kernel/gva.h"
#include "kernel/mmu.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "kernel/vm.h"
#include "kernel/x86.h"
#include "kernel/x86_dec.h"
#include "mm/hostpt.h"
#include "mm/pmm.h"

/* ---------------------------------------------------------- the env */

static struct vm *vm_of(void *ctx)
{
	return ((struct nested_vcpu *)ctx)->v->vm;
}

static int env_read(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	return vm_gwalk_ops.read_pte(vm_of(ctx), gpa, size, val);
}

static int env_cmpxchg(void *ctx, gpa_t gpa, unsigned size, u64 old, u64 new_val)
{
	return vm_gwalk_ops.cmpxchg_pte(vm_of(ctx), gpa, size, old, new_val);
}

static hpa_t env_gfn_to_hpa(void *ctx, gfn_t gfn)
{
	return gmem_hpa(&vm_of(ctx)->mem, gfn << PAGE_SHIFT);
}

static int env_alloc(void *ctx, hpa_t *out)
{
	return pmm_alloc_zeroed(0, PMM_NORMAL, out);
}

static void env_free(void *ctx, hpa_t pa)
{
	pmm_free(pa, 0);
}

/* npt02 belongs to one vCPU: a flush is a flush of its L2 ASID. */
static void env_flush(void *ctx, u32 vcpu_id)
{
	((struct nested_vcpu *)ctx)->npt_tlb_dirty = true;
}

/* Contract in kernel/nested.h. */
int nested_vcpu_init(struct vcpu *v, struct nested_vcpu *n)
{
	n->v = v;
	n->env.ctx = n;
	n->env.read_gpa = env_read;
	n->env.cmpxchg_gpa = env_cmpxchg;
	n->env.gfn_to_hpa = env_gfn_to_hpa;
	n->env.p2v = phys_to_virt;
	n->env.alloc_page = env_alloc;
	n->env.free_page = env_free;
	n->env.alloc_low_page = env_alloc; /* never used by a nested MMU */
	n->env.free_low_page = env_free;
	n->env.flush_tlb = env_flush;
	n->npt_svm = shadow_nested_vm_create(&n->env, (u32)v->vm->cfg.shadow_pages);
	if (!n->npt_svm)
		return E_NOMEM;
	n->npt_sv = shadow_vcpu_create(n->npt_svm, 0);
	if (!n->npt_sv) {
		shadow_vm_destroy(n->npt_svm);
		n->npt_svm = NULL;
		return E_NOMEM;
	}
	return E_OK;
}

void nested_vcpu_fini(struct nested_vcpu *n)
{
	if (n->npt_sv)
		shadow_vcpu_destroy(n->npt_sv);
	if (n->npt_svm)
		shadow_vm_destroy(n->npt_svm);
	n->npt_svm = NULL;
	n->npt_sv = NULL;
}

/* ---------------------------------------------------------- npt02 */

/* npt12's format: the L1's paging mode (§15.25.5), as a walk of user
 * accesses sees it. The L1's CR0.WP, SMEP, SMAP and PKE never apply to a
 * user access through nested tables; PG/PE are forced (a paging-off L1
 * still gives its nested tables the 2-level or PAE format). */
static int npt12_mode(struct vcpu *v, struct gwalk_mode *m)
{
	u64 cr4 = vcpu_get_cr(v, 4) & (CR4_PAE | CR4_PSE);
	u64 efer = vcpu_get_efer(v) & (EFER_LMA | EFER_LME | EFER_NXE);
	if (!(efer & EFER_LMA))
		efer &= ~EFER_LME;
	return gwalk_mode_init(m, CR0_PE | CR0_PG | CR0_WP, cr4, efer, gva_caps());
}

/* The tag of the L1's ASID @asid: its own, or the least recently used
 * one, given to it stale (its pages hold what another ASID cached). */
static unsigned asid_tag(struct nested_vcpu *n, u32 asid)
{
	unsigned victim = 0;

	n->tag_clock++;
	for (unsigned t = 0; t < SHADOW_NESTED_TAGS; t++) {
		struct nested_asid_tag *g = &n->tags[t];
		if (g->asid == asid) {
			g->last = n->tag_clock;
			return t;
		}
		if (n->tags[victim].asid && (!g->asid || g->last < n->tags[victim].last))
			victim = t;
	}
	n->tags[victim].asid = asid;
	n->tags[victim].stale = n->tags[victim].last != 0; /* pages of another ASID */
	n->tags[victim].last = n->tag_clock;
	return victim;
}

/* Contract in kernel/nested.h. The choice (header comment): no zap; the
 * root for (nCR3, format, ASID tag) is reused; a flush resyncs. */
int nested_npt_enter(struct vcpu *v, u64 ncr3, u32 asid, enum nested_flush flush, hpa_t *root)
{
	struct nested_vcpu *n = v->nested;
	struct gwalk_mode m;
	struct shadow_stats before, after;

	if (npt12_mode(v, &m))
		return E_INVAL;
	if (m.format != GWALK_FMT_4LVL && m.format != GWALK_FMT_5LVL)
		ncr3 &= 0xffffffffULL;
	bool same = n->npt_env.mode.format == m.format && n->npt_env.mode.flags == m.flags &&
		    n->npt_env.cr3 == ncr3 && n->last_asid == asid;
	unsigned tag = asid_tag(n, asid);
	struct nested_asid_tag *g = &n->tags[tag];
	if (flush != NESTED_FLUSH_NONE) {
		n->st.npt_flushes++;
		TRACE_NESTED_EV(v, "npt-flush", "ncr3=%#lx asid=%u tag=%u all=%d", ncr3, asid, tag,
				flush == NESTED_FLUSH_ALL);
	}
	if (flush == NESTED_FLUSH_ALL) {
		/* every other ASID's TLB is empty now: its pages are resynced
		 * when it next runs (not now: it may see later edits) */
		for (unsigned t = 0; t < SHADOW_NESTED_TAGS; t++)
			if (t != tag && n->tags[t].asid)
				n->tags[t].stale = true;
	}
	if (flush != NESTED_FLUSH_NONE || g->stale) {
		shadow_get_stats(n->npt_svm, &before);
		shadow_nested_resync(n->npt_sv, tag);
		shadow_get_stats(n->npt_svm, &after);
		n->st.npt_resyncs++;
		TRACE_NESTED_EV(v, "npt-resync", "asid=%u tag=%u why=%s pages=%lu", asid, tag,
				flush != NESTED_FLUSH_NONE ? "flush" : "stale", after.pages_synced - before.pages_synced);
		g->stale = false;
	}
	memset(&n->npt_env, 0, sizeof(n->npt_env));
	n->npt_env.mode = m;
	n->npt_env.cr3 = ncr3;
	n->npt_env.pdpte_in_memory = true;
	n->last_asid = asid;
	shadow_get_stats(n->npt_svm, &before);
	int r = shadow_nested_set_root(n->npt_sv, &m, ncr3, tag, &n->npt_hw);
	if (r)
		return r;
	if (!same) {
		/* reused: found in a cache slot, or in the hash (a shared
		 * root), with whatever it had */
		shadow_get_stats(n->npt_svm, &after);
		bool shared = m.format == GWALK_FMT_4LVL || m.format == GWALK_FMT_5LVL;
		bool reused = after.root_hits > before.root_hits || (shared && after.pages_created == before.pages_created);
		n->st.npt_switches++;
		if (reused)
			n->st.npt_root_reuses++;
		TRACE_NESTED_EV(v, "npt-switch", "ncr3=%#lx asid=%u tag=%u format=%u root=%s", ncr3, asid, tag,
				m.format, reused ? "reused" : "new");
	}
	n->npt_on = true;
	*root = n->npt_hw.cr3;
	return E_OK;
}

/* Contract in kernel/nested.h. */
bool nested_npt_reload(struct vcpu *v, hpa_t *root)
{
	struct nested_vcpu *n = v->nested;
	if (!shadow_reload(n->npt_sv, &n->npt_hw))
		return false;
	*root = n->npt_hw.cr3;
	return true;
}

/* The highest L2 guest-physical address npt12 can translate: 32 bits in
 * the legacy formats, 48/57 with 4/5 levels. */
static bool npt12_reaches(const struct gwalk_mode *m, u64 gpa)
{
	switch (m->format) {
	case GWALK_FMT_4LVL: return gpa < BIT(48);
	case GWALK_FMT_5LVL: return gpa < BIT(57);
	default: return gpa <= 0xffffffffULL;
	}
}

/* Contract in kernel/nested.h. The L2 access is walked again in npt12
 * with the hardware's access type (W and I/D of its error code): either
 * npt12 allows it and npt02 gets the entry, or the fault is the L1's, with
 * P and RSVD from npt12 (US is always set: a user access) and bits 32/33
 * as the hardware reported them. */
int nested_npt_fault(struct vcpu *v, u64 gpa, u64 hw_info1, u64 *info1)
{
	struct nested_vcpu *n = v->nested;
	u32 acc = GWALK_USER;
	if (hw_info1 & GWALK_PFEC_W)
		acc |= GWALK_WRITE;
	if (hw_info1 & GWALK_PFEC_ID)
		acc |= GWALK_FETCH;
	u64 where = hw_info1 & (BIT(32) | BIT(33));
	n->st.npt_faults++;
	if (!npt12_reaches(&n->npt_env.mode, gpa)) {
		TRACE_NESTED_EV(v, "npt-fault", "l2-gpa=%#lx info1=%#lx status=beyond-npt12", gpa, hw_info1);
		*info1 = where | GWALK_PFEC_U | (hw_info1 & (GWALK_PFEC_W | GWALK_PFEC_ID));
		return NESTED_NPF_REFLECT;
	}
	struct shadow_pf_result res;
	shadow_page_fault(n->npt_sv, gpa, (u32)hw_info1, acc, &res);
	TRACE_NESTED_EV(v, "npt-fault", "l2-gpa=%#lx info1=%#lx status=%d l1-gpa=%#lx", gpa, hw_info1, res.status,
			res.gpa);
	switch (res.status) {
	case SPF_FIXED:
		return NESTED_NPF_FIXED;
	case SPF_GUEST_FAULT:
		*info1 = where | GWALK_PFEC_U | (res.error & (GWALK_PFEC_P | GWALK_PFEC_RSVD)) |
			 (hw_info1 & (GWALK_PFEC_W | GWALK_PFEC_ID));
		return NESTED_NPF_REFLECT;
	case SPF_EMULATE:
		vm_end(v->vm, VMR_KILLED, 0,
		       "L2 guest-physical %#lx maps L1 guest-physical %#lx, which is not RAM (not supported)", gpa,
		       res.gpa);
		return NESTED_NPF_KILL;
	default:
		if (res.gpa)
			vm_end(v->vm, VMR_KILLED, 0, "L1's nested page tables at %#lx are not in RAM", res.gpa);
		else
			vm_end(v->vm, VMR_KILLED, 0, "out of memory for nested page tables (npt02)");
		return NESTED_NPF_KILL;
	}
}

/* ---------------------------------------------------------- L2 memory */

/* L2 guest-physical -> L1 guest-physical through npt12 (a user read that
 * changes nothing: the hardware already made the access we look at). */
static int l2_to_l1(struct nested_vcpu *n, u64 gpa, u32 acc, u64 *l1)
{
	if (!n->npt_on) {
		*l1 = gpa;
		return E_OK;
	}
	if (!npt12_reaches(&n->npt_env.mode, gpa))
		return E_FAULT;
	struct gwalk_result w;
	if (gwalk_walk(&vm_gwalk_ops, n->v->vm, &n->npt_env, gpa, acc | GWALK_USER | GWALK_PEEK, &w) != GWALK_OK)
		return E_FAULT;
	*l1 = w.gpa;
	return E_OK;
}

/* Contract in kernel/nested.h. */
int nested_l2_read(struct vcpu *v, u64 gpa, void *buf, unsigned len)
{
	struct nested_vcpu *n = v->nested;
	u8 *p = buf;
	while (len) {
		unsigned chunk = MIN(len, (unsigned)(PAGE_SIZE - (gpa & (PAGE_SIZE - 1))));
		u64 l1;
		if (l2_to_l1(n, gpa, 0, &l1) || gmem_read(&v->vm->mem, l1, p, chunk))
			return E_FAULT;
		p += chunk;
		gpa += chunk;
		len -= chunk;
	}
	return E_OK;
}

/* L2's page tables live in L2 guest-physical memory. */
static int l2_read_pte(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	u64 v = 0;
	if (nested_l2_read(ctx, gpa, &v, size))
		return E_FAULT;
	*val = v;
	return 0;
}

static const struct gwalk_ops l2_gwalk_ops = {
	.read_pte = l2_read_pte,
	.cmpxchg_pte = NULL, /* no A/D updates: the hardware did them */
};

static int l2_fetch(struct vcpu *v, const struct gwalk_env *env, bool paging, u64 la, u8 *buf, unsigned len,
		    u32 acc)
{
	while (len) {
		unsigned chunk = MIN(len, (unsigned)(PAGE_SIZE - (la & (PAGE_SIZE - 1))));
		u64 gpa = la;
		if (paging) {
			struct gwalk_result w;
			if (gwalk_walk(&l2_gwalk_ops, v, env, la, acc | GWALK_PEEK, &w) != GWALK_OK)
				return E_FAULT;
			gpa = w.gpa;
		}
		if (nested_l2_read(v, gpa, buf, chunk))
			return E_FAULT;
		buf += chunk;
		la += chunk;
		len -= chunk;
	}
	return E_OK;
}

/* Contract in kernel/nested.h. As emulate_fetch_decode, one level down. */
int nested_l2_insn_length(struct vcpu *v, u8 *len)
{
	struct seg_desc cs;
	struct gwalk_env env;
	u64 cr0 = vcpu_get_cr(v, 0), efer = vcpu_get_efer(v);
	backend->get_seg(v, SEG_CS, &cs);
	bool prot = (cr0 & CR0_PE) && !(v->regs.rflags & RFLAGS_VM);
	bool l64 = prot && (efer & EFER_LMA) && (cs.attr & BIT(9));
	enum x86_dec_mode mode = l64 ? X86_DEC_MODE64 : (prot && (cs.attr & BIT(10))) ? X86_DEC_MODE32 : X86_DEC_MODE16;
	u64 la = cs.base + v->regs.rip;
	if (!l64)
		la &= 0xffffffffULL;
	bool paging = (cr0 & CR0_PG) != 0;
	memset(&env, 0, sizeof(env));
	if (paging) {
		if (gwalk_mode_init(&env.mode, cr0, vcpu_get_cr(v, 4), efer, gva_caps()))
			return E_FAULT;
		env.cr3 = vcpu_get_cr(v, 3);
		if (env.mode.format == GWALK_FMT_PAE &&
		    gwalk_load_pdptes(&l2_gwalk_ops, v, &env.mode, env.cr3, env.pdpte) != E_OK) {
			/* The CPU runs on these PDPTEs; QEMU TCG sets A (bit 5)
			 * in them, which a PDPTE load refuses (as kernel/gva.c) */
			for (int i = 0; i < 4; i++) {
				if (nested_l2_read(v, ((u32)env.cr3 & ~0x1fu) + 8 * i, &env.pdpte[i], 8))
					return E_FAULT;
				env.pdpte[i] &= ~(PTE_A | PTE_D);
			}
		}
	}
	u32 acc = GWALK_FETCH | (backend->get_cpl(v) == 3 ? GWALK_USER : 0);
	u8 bytes[15];
	unsigned n = MIN(15u, (unsigned)(PAGE_SIZE - (la & (PAGE_SIZE - 1))));
	if (l2_fetch(v, &env, paging, la, bytes, n, acc))
		return E_FAULT;
	struct x86_insn insn;
	unsigned flags = gva_caps()->amd ? X86_DEC_AMD : 0;
	int r = x86_dec_decode(&insn, bytes, n, mode, flags);
	if (r == X86_DEC_TRUNCATED && n < 15) {
		if (l2_fetch(v, &env, paging, la + n, bytes + n, 15 - n, acc))
			return E_FAULT;
		r = x86_dec_decode(&insn, bytes, 15, mode, flags);
	}
	if (r != X86_DEC_OK)
		return E_FAULT;
	*len = insn.len;
	return E_OK;
}

/* ---------------------------------------------------------- stats */

static const char *code_name(unsigned i)
{
	switch (i) {
	case 0x60: return "intr";
	case 0x61: return "nmi";
	case 0x64: return "vintr";
	case 0x72: return "cpuid";
	case 0x78: return "hlt";
	case 0x79: return "invlpg";
	case 0x7a: return "invlpga";
	case 0x7b: return "ioio";
	case 0x7c: return "msr";
	case 0x7f: return "shutdown";
	case 0x80: return "vmrun";
	case 0x81: return "vmmcall";
	case 0x82: return "vmload";
	case 0x83: return "vmsave";
	case 0x84: return "stgi";
	case 0x85: return "clgi";
	case NESTED_CODE_NPF: return "npf";
	case NESTED_CODE_OTHER: return "other";
	default: return NULL;
	}
}

/* Contract in kernel/nested.h. */
void nested_print_stats(struct vm *vm)
{
	if (!vm->cfg.nested)
		return;
	struct nested_stats t;
	struct shadow_stats ss, tot;
	memset(&t, 0, sizeof(t));
	memset(&tot, 0, sizeof(tot));
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct nested_vcpu *n = vm->vcpu[i]->nested;
		if (!n)
			continue;
		t.vmruns += n->st.vmruns;
		t.invalid += n->st.invalid;
		t.reflected += n->st.reflected;
		t.l0_exits += n->st.l0_exits;
		t.npt_faults += n->st.npt_faults;
		t.npt_flushes += n->st.npt_flushes;
		t.npt_resyncs += n->st.npt_resyncs;
		t.npt_switches += n->st.npt_switches;
		t.npt_root_reuses += n->st.npt_root_reuses;
		for (unsigned c = 0; c < NESTED_NCODES; c++)
			t.by_code[c] += n->st.by_code[c];
		if (n->npt_svm) {
			shadow_get_stats(n->npt_svm, &ss);
			tot.pages_created += ss.pages_created;
			tot.pages_in_use += ss.pages_in_use;
			tot.private_root_allocs += ss.private_root_allocs;
			tot.pages_synced += ss.pages_synced;
			tot.zap_alls += ss.zap_alls;
		}
	}
	kprintf("NESTED-STATS name=%s vmrun=%lu vmexit-invalid=%lu vmexit=%lu l0-exits=%lu npt-fault=%lu "
		"npt-flush=%lu npt-resync=%lu npt-switch=%lu npt-root-reused=%lu npt02-pages=%lu npt02-in-use=%lu "
		"npt02-synced=%lu npt02-zap-all=%lu private-upper=%lu",
		vm->cfg.name, t.vmruns, t.invalid, t.reflected, t.l0_exits, t.npt_faults, t.npt_flushes, t.npt_resyncs,
		t.npt_switches, t.npt_root_reuses, tot.pages_created, tot.pages_in_use, tot.pages_synced, tot.zap_alls,
		tot.private_root_allocs);
	for (unsigned c = 0; c < NESTED_NCODES; c++) {
		if (!t.by_code[c])
			continue;
		const char *nm = code_name(c);
		if (nm)
			kprintf(" exit-%s=%lu", nm, t.by_code[c]);
		else
			kprintf(" exit-%#x=%lu", c, t.by_code[c]);
	}
	kprintf("\n");
}
