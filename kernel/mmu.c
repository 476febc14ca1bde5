/*
 * kernel/mmu.c - paging=shadow glue (see mmu.h).
 *
 * Hardware paging while a shadow-paging guest runs (mm/shadow.h):
 *   guest paging off, 32-bit or PAE -> hardware PAE paging, CR3 = the
 *       vCPU's private PAE root below 4 GiB; CR0.PG forced on
 *   guest IA-32e (4/5-level)        -> hardware long mode on a shared root
 * EFER.NXE is always on in hardware (shadow entries carry NX where the
 * guest forbids execution), CR4.PGE is off (no global shadow entries:
 * the TLB is flushed by tag on root changes), CR4.PSE is irrelevant under
 * PAE. CR0.WP, CR4.SMEP/SMAP/PKE are the guest's, so the CPU applies them
 * to shadow entries that copy the guest's permissions.
 *
 * Architectural checks of MOV to CR0/CR3/CR4: SDM vol. 2 "MOV—Move
 * to/from Control Registers", vol. 3A §2.5 and §4.1.1; APM vol. 2 §3.1.
 */
#include "kernel/mmu.h"
#include "kernel/console.h"
#include "kernel/emulate.h"
#include "kernel/exit.h"
#include "kernel/gva.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "kernel/cpu.h"
#include "kernel/vcpu_kick.h"
#include "kernel/vm.h"
#include "kernel/x86.h"
#include "kernel/x86_dec.h"
#include "mm/hostpt.h"
#include "mm/kmem.h"
#include "mm/pmm.h"

#define EXC_GP 13
#define EXC_UD 6
#define EXC_PF 14

/* ---------------------------------------------------------- the env */

static int env_read(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	return vm_gwalk_ops.read_pte(ctx, gpa, size, val);
}

static int env_cmpxchg(void *ctx, gpa_t gpa, unsigned size, u64 old, u64 new_val)
{
	return vm_gwalk_ops.cmpxchg_pte(ctx, gpa, size, old, new_val);
}

static hpa_t env_gfn_to_hpa(void *ctx, gfn_t gfn)
{
	struct vm *vm = ctx;
	return gmem_hpa(&vm->mem, gfn << PAGE_SHIFT);
}

static int env_alloc(void *ctx, hpa_t *out)
{
	return pmm_alloc_zeroed(0, PMM_NORMAL, out);
}

static void env_free(void *ctx, hpa_t pa)
{
	pmm_free(pa, 0);
}

static int env_alloc_low(void *ctx, hpa_t *out)
{
	return pmm_alloc_zeroed(0, PMM_LOW, out);
}

/* The shadow MMU removed or narrowed translations (its lock held): the
 * calling CPU's own vCPU flushes now; every other vCPU gets a request and,
 * if it is in guest mode on another CPU, is kicked out and waited for, so
 * no CPU can still use the old entries once this returns (mm/shadow.h).
 * It flushes its tagged TLB before it enters again (sched.c). */
static void env_flush(void *ctx, u32 vcpu_id)
{
	struct vm *vm = ctx;
	struct vcpu *self = this_cpu()->vcpu;
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = vm->vcpu[i];
		if ((vcpu_id != SHADOW_ALL_VCPUS && vcpu_id != i) || !t->arch)
			continue;
		if (t == self)
			backend->flush_tlb(t);
		else
			vcpu_post_wait(t, VREQ_TLB_FLUSH);
	}
}

int mmu_vm_init(struct vm *vm)
{
	struct shadow_env *env = kzalloc(sizeof(*env));
	if (!env)
		return E_NOMEM;
	env->ctx = vm;
	env->read_gpa = env_read;
	env->cmpxchg_gpa = env_cmpxchg;
	env->gfn_to_hpa = env_gfn_to_hpa;
	env->p2v = phys_to_virt;
	env->alloc_page = env_alloc;
	env->free_page = env_free;
	env->alloc_low_page = env_alloc_low;
	env->free_low_page = env_free;
	env->flush_tlb = env_flush;
	vm->shadow_env = env;
	vm->shadow = shadow_vm_create(env, (u32)vm->cfg.shadow_pages);
	return vm->shadow ? E_OK : E_NOMEM;
}

void mmu_vm_destroy(struct vm *vm)
{
	if (vm->shadow)
		shadow_vm_destroy(vm->shadow);
	kfree(vm->shadow_env);
	vm->shadow = NULL;
	vm->shadow_env = NULL;
}

/* ---------------------------------------------------------- modes */

static bool long_mode(const struct vcpu_mmu *m)
{
	return (m->efer & EFER_LMA) != 0;
}

/* Load the hardware registers for the current guest state and root. The
 * shadow MMU decides the paging-related bits (mm/shadow.h: CR0.WP=1 with
 * the guest's WP=0 emulated in the entries, NXE=1, no PGE); the others
 * (caching, FPU, OSXSAVE...) are the guest's. */
static void load_hw(struct vcpu *v)
{
	struct vcpu_mmu *m = v->mmu;
	const struct shadow_hw *hw = &m->hw;
	/* Real mode (CR0.PE=0) runs as SVM's paged real mode where the
	 * backend has it; elsewhere the vCPU can only be in protected mode
	 * (mmu_vcpu_reset and the CR0 path refuse PE=0 there). */
	u64 cr0 = m->cr0 | CR0_PG | CR0_WP | (backend->paged_real_mode ? 0 : CR0_PE);
	u64 cr4 = m->cr4 & ~(CR4_PGE | CR4_PSE | CR4_PAE | CR4_LA57 | CR4_SMEP | CR4_SMAP | CR4_PKE);
	cr4 |= CR4_PAE;
	if (hw->la57)
		cr4 |= CR4_LA57;
	if (hw->smep)
		cr4 |= CR4_SMEP;
	if (hw->smap)
		cr4 |= CR4_SMAP;
	if (hw->pke)
		cr4 |= CR4_PKE;
	u64 efer = (m->efer & EFER_SCE) | EFER_NXE;
	if (!hw->pae)
		efer |= EFER_LME | EFER_LMA;
	backend->set_hw_paging(v, cr0, hw->cr3, cr4, efer);
}

/* The guest's paging mode changed or CR3 was loaded: choose the root.
 * @mode: the mode of m->cr0/cr4/efer when the caller has it, else NULL. */
static int update_root_mode(struct vcpu *v, const struct gwalk_mode *mode)
{
	struct vcpu_mmu *m = v->mmu;
	int r = E_OK;
	if (mode)
		m->mode = *mode;
	else
		r = gwalk_mode_init(&m->mode, m->cr0, m->cr4, m->efer, gva_caps());
	if (r)
		return r;
	r = shadow_set_mode(m->sv, &m->mode, m->cr3, m->pdpte, &m->hw);
	if (r)
		return r;
	TRACE_MMU_EV(v, "root-load", "hpa=%#lx pae=%d guest-cr3=%#lx format=%u", m->hw.cr3, m->hw.pae, m->cr3,
		     m->mode.format);
	load_hw(v);
	backend->flush_tlb(v);
	return E_OK;
}

static int update_root(struct vcpu *v)
{
	return update_root_mode(v, NULL);
}

static void kill_nomem(struct vcpu *v)
{
	vm_end(v->vm, VMR_KILLED, 0, "out of memory for shadow page tables");
}

int mmu_vcpu_init(struct vcpu *v, const struct vcpu_boot_state *bs)
{
	struct vcpu_mmu *m = kzalloc(sizeof(*m));
	if (!m)
		return E_NOMEM;
	m->sv = shadow_vcpu_create(v->vm->shadow, v->id);
	if (!m->sv) {
		kfree(m);
		return E_NOMEM;
	}
	m->cr0 = bs->cr0;
	m->cr3 = bs->cr3;
	m->cr4 = bs->cr4;
	m->efer = bs->efer;
	v->mmu = m;
	int r = update_root(v);
	if (r)
		return r == E_NOMEM ? r : E_INVAL;
	return E_OK;
}

int mmu_vcpu_reset(struct vcpu *v, const struct vcpu_boot_state *bs)
{
	struct vcpu_mmu *m = v->mmu;
	if (!(bs->cr0 & CR0_PE) && !backend->paged_real_mode)
		return E_NOTSUP;
	m->cr0 = bs->cr0;
	m->cr3 = bs->cr3;
	m->cr4 = bs->cr4;
	m->efer = bs->efer;
	memset(m->pdpte, 0, sizeof(m->pdpte));
	int r = update_root(v);
	return r == E_OK || r == E_NOMEM ? r : E_INVAL;
}

void mmu_vcpu_destroy(struct vcpu *v)
{
	if (!v->mmu)
		return;
	if (v->mmu->sv)
		shadow_vcpu_destroy(v->mmu->sv);
	kfree(v->mmu);
	v->mmu = NULL;
}

void mmu_before_entry(struct vcpu *v)
{
	if (!v->mmu || !shadow_reload(v->mmu->sv, &v->mmu->hw))
		return;
	if (!v->mmu->hw.cr3) {
		kill_nomem(v);
		return;
	}
	load_hw(v);
	backend->flush_tlb(v);
}

/* ---------------------------------------------------------- CR writes */

static u64 cr4_allowed(void)
{
	/* no PCIDE: the shadow MMU does not tag by PCID */
	return CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE |
	       CR4_OSFXSR | CR4_OSXMMEXCPT | (vcpu_cr4_feature_bits() & ~CR4_PCIDE);
}

static bool cs_long(struct vcpu *v)
{
	struct seg_desc cs;
	backend->get_seg(v, SEG_CS, &cs);
	return long_mode(v->mmu) && (cs.attr & BIT(9));
}

/* PAE outside IA-32e mode: the PDPTE registers are loaded when CR3 is
 * written, and when CR0/CR4 writes enable or change PAE paging. */
static bool pae_legacy(const struct vcpu_mmu *m)
{
	return (m->cr0 & CR0_PG) && (m->cr4 & CR4_PAE) && !long_mode(m);
}

static int load_pdptes(struct vcpu *v)
{
	struct vcpu_mmu *m = v->mmu;
	struct gwalk_mode mode;
	if (gwalk_mode_init(&mode, m->cr0, m->cr4, m->efer, gva_caps()))
		return E_INVAL;
	return gwalk_load_pdptes(&vm_gwalk_ops, v->vm, &mode, m->cr3, m->pdpte) ? E_INVAL : E_OK;
}

/* MOV to CR0 (also LMSW/CLTS results). Returns E_INVAL for #GP. */
static int guest_write_cr0(struct vcpu *v, u64 val)
{
	struct vcpu_mmu *m = v->mmu;
	u64 old = m->cr0;
	if (val >> 32)
		return E_INVAL;
	val |= CR0_ET;
	if ((val & CR0_PG) && !(val & CR0_PE))
		return E_INVAL;
	if ((val & CR0_NW) && !(val & CR0_CD))
		return E_INVAL;
	if (!(val & CR0_PE) && !backend->paged_real_mode) {
		vm_end(v->vm, VMR_KILLED, 0,
		       "real mode under paging=shadow needs paged real mode (SVM), which %s lacks (CR0.PE cleared)",
		       backend->name);
		return E_OK;
	}
	bool pg_on = (val & CR0_PG) && !(old & CR0_PG);
	bool pg_off = !(val & CR0_PG) && (old & CR0_PG);
	if (pg_on && (m->efer & EFER_LME)) {
		if (!(m->cr4 & CR4_PAE))
			return E_INVAL;
		struct seg_desc cs;
		backend->get_seg(v, SEG_CS, &cs);
		if (cs.attr & BIT(9)) /* CS.L must be 0 when activating */
			return E_INVAL;
		m->efer |= EFER_LMA;
	}
	if (pg_off && long_mode(m)) {
		if (cs_long(v))
			return E_INVAL;
		m->efer &= ~EFER_LMA;
	}
	u64 saved[4];
	memcpy(saved, m->pdpte, sizeof(saved));
	m->cr0 = val;
	if (((val ^ old) & (CR0_PG | CR0_WP | CR0_CD | CR0_NW)) && pae_legacy(m) && load_pdptes(v)) {
		m->cr0 = old;
		m->efer = (m->efer & ~EFER_LMA) | (old & CR0_PG && long_mode(m) ? EFER_LMA : 0);
		memcpy(m->pdpte, saved, sizeof(saved));
		return E_INVAL;
	}
	if ((val ^ old) & (CR0_PG | CR0_WP | CR0_PE)) {
		if (update_root(v))
			kill_nomem(v);
	} else {
		load_hw(v);
	}
	return E_OK;
}

static int guest_write_cr4(struct vcpu *v, u64 val)
{
	struct vcpu_mmu *m = v->mmu;
	u64 old = m->cr4;
	if (val & ~cr4_allowed())
		return E_INVAL;
	if (long_mode(m) && !(val & CR4_PAE))
		return E_INVAL;
	if (long_mode(m) && ((val ^ old) & CR4_LA57))
		return E_INVAL;
	u64 saved[4];
	memcpy(saved, m->pdpte, sizeof(saved));
	m->cr4 = val;
	u64 paging_bits = CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_LA57;
	if (((val ^ old) & paging_bits) && pae_legacy(m) && load_pdptes(v)) {
		m->cr4 = old;
		memcpy(m->pdpte, saved, sizeof(saved));
		return E_INVAL;
	}
	if ((val ^ old) & (paging_bits & ~CR4_PGE)) {
		if (update_root(v))
			kill_nomem(v);
	} else {
		if ((val ^ old) & CR4_PGE)
			shadow_flush(m->sv); /* toggling PGE flushes the TLB */
		load_hw(v);
	}
	return E_OK;
}

static int guest_write_cr3(struct vcpu *v, u64 val)
{
	struct vcpu_mmu *m = v->mmu;
	u64 maxpa = gva_caps()->maxphyaddr;
	if (long_mode(m)) {
		/* bit 63 with PCIDE means "no flush"; we always flush */
		val &= ~BIT(63);
		if (val >> maxpa)
			return E_INVAL;
	} else {
		val &= 0xffffffffULL;
	}
	u64 old = m->cr3;
	struct gwalk_mode mode; /* CR0/CR4/EFER unchanged: one mode for both */
	if (gwalk_mode_init(&mode, m->cr0, m->cr4, m->efer, gva_caps()))
		return E_INVAL;
	m->cr3 = val;
	if (pae_legacy(m) && gwalk_load_pdptes(&vm_gwalk_ops, v->vm, &mode, m->cr3, m->pdpte)) {
		m->cr3 = old;
		return E_INVAL;
	}
	if (update_root_mode(v, &mode))
		kill_nomem(v);
	return E_OK;
}

/* ---------------------------------------------------------- decoding */

static u64 gpr_read(struct vcpu *v, int reg, bool l64)
{
	u64 val = v->regs.gpr[reg];
	return l64 ? val : (u32)val;
}

static void finish(struct vcpu *v, const struct x86_insn *insn, int r)
{
	if (!vm_running(v->vm))
		return;
	if (r == E_INVAL) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	v->regs.rip += insn->len;
	if (!long_mode(v->mmu))
		v->regs.rip &= 0xffffffffULL;
}

void mmu_handle_cr(struct vcpu *v, struct vm_exit *e)
{
	struct x86_insn insn;
	if (emulate_fetch_decode(v, &insn)) {
		vm_end(v->vm, VMR_KILLED, 0, "cannot fetch the control-register instruction at rip %#lx",
		       v->regs.rip);
		return;
	}
	bool l64 = insn.mode == X86_DEC_MODE64;
	struct vcpu_mmu *m = v->mmu;
	int cpl = backend->get_cpl(v);
	/* MOV from/to CRn: 0F 20 /r, 0F 22 /r (mod ignored; reg = CR, rm = GPR) */
	if (insn.map == 1 && (insn.opcode == 0x20 || insn.opcode == 0x22)) {
		if (cpl != 0) {
			vcpu_inject_exception(v, EXC_GP, true, 0);
			return;
		}
		int cr = insn.reg, gpr = insn.rm;
		if (insn.opcode == 0x20) {
			u64 val = vcpu_get_cr(v, cr);
			v->regs.gpr[gpr] = l64 ? val : (u32)val;
			finish(v, &insn, E_OK);
			return;
		}
		u64 val = gpr_read(v, gpr, l64);
		int r = cr == 0 ? guest_write_cr0(v, val) : cr == 3 ? guest_write_cr3(v, val) : cr == 4 ? guest_write_cr4(v, val)
										    : E_INVAL;
		finish(v, &insn, r);
		return;
	}
	/* CLTS: 0F 06 */
	if (insn.map == 1 && insn.opcode == 0x06) {
		if (cpl != 0) {
			vcpu_inject_exception(v, EXC_GP, true, 0);
			return;
		}
		finish(v, &insn, guest_write_cr0(v, m->cr0 & ~CR0_TS));
		return;
	}
	/* LMSW (0F 01 /6) and SMSW (0F 01 /4) */
	if (insn.map == 1 && insn.opcode == 0x01 && (insn.reg & 7) == 6 && !insn.has_mem) {
		if (cpl != 0) {
			vcpu_inject_exception(v, EXC_GP, true, 0);
			return;
		}
		u16 src = (u16)v->regs.gpr[insn.rm];
		/* LMSW loads PE, MP, EM, TS; it cannot clear PE (SDM "LMSW") */
		u64 val = (m->cr0 & ~0xeULL) | (src & 0xf) | (m->cr0 & CR0_PE);
		finish(v, &insn, guest_write_cr0(v, val));
		return;
	}
	if (insn.map == 1 && insn.opcode == 0x01 && (insn.reg & 7) == 4 && !insn.has_mem) {
		u64 val = m->cr0 & 0xffff;
		u64 *dst = &v->regs.gpr[insn.rm];
		if (insn.opsize == 2)
			*dst = (*dst & ~0xffffULL) | val;
		else
			*dst = val | (insn.opsize == 8 ? m->cr0 & ~0xffffULL : (m->cr0 & 0xffff0000ULL));
		finish(v, &insn, E_OK);
		return;
	}
	vm_end(v->vm, VMR_KILLED, 0, "unexpected control-register access at rip %#lx (opcode %#x)", v->regs.rip,
	       insn.opcode);
}

static u64 effective_address(struct vcpu *v, const struct x86_insn *insn)
{
	u64 ea = (u64)insn->ea.disp;
	if (insn->ea.base == X86_REG_RIP)
		ea += v->regs.rip + insn->len;
	else if (insn->ea.base != X86_REG_NONE)
		ea += v->regs.gpr[insn->ea.base];
	if (insn->ea.index != X86_REG_NONE)
		ea += v->regs.gpr[insn->ea.index] * insn->ea.scale;
	if (insn->addrsize == 4)
		ea = (u32)ea;
	else if (insn->addrsize == 2)
		ea = (u16)ea;
	struct seg_desc s;
	backend->get_seg(v, insn->seg, &s);
	bool l64 = insn->mode == X86_DEC_MODE64;
	if (!l64 || insn->seg == X86_SEG_FS || insn->seg == X86_SEG_GS)
		ea += s.base;
	return l64 ? ea : (u32)ea;
}

void mmu_handle_invlpg(struct vcpu *v, struct vm_exit *e)
{
	struct x86_insn insn;
	if (emulate_fetch_decode(v, &insn) || !(insn.map == 1 && insn.opcode == 0x01 && (insn.reg & 7) == 7 && insn.has_mem)) {
		vm_end(v->vm, VMR_KILLED, 0, "cannot decode INVLPG at rip %#lx", v->regs.rip);
		return;
	}
	if (backend->get_cpl(v) != 0) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	gva_t gva = e->invlpg.valid ? e->invlpg.gva : effective_address(v, &insn);
	shadow_invlpg(v->mmu->sv, gva);
	backend->flush_tlb(v);
	finish(v, &insn, E_OK);
}

void mmu_handle_pf(struct vcpu *v, struct vm_exit *e)
{
	struct shadow_pf_result res;
	u32 err = e->exc.error;
	u32 acc = 0;
	if (err & GWALK_PFEC_W)
		acc |= GWALK_WRITE;
	if (err & GWALK_PFEC_ID)
		acc |= GWALK_FETCH;
	if (err & GWALK_PFEC_U)
		acc |= GWALK_USER;
	else if (backend->get_cpl(v) == 3)
		acc |= GWALK_IMPLICIT; /* a supervisor access at CPL 3: GDT/IDT/TSS (SDM §4.6) */
	if (v->regs.rflags & BIT(18))
		acc |= GWALK_AC;
	shadow_page_fault(v->mmu->sv, e->exc.cr2, err, acc, &res);
	TRACE_MMU_EV(v, "fault", "gva=%#lx error=%#x status=%d gpa=%#lx", e->exc.cr2, err, res.status, res.gpa);
	switch (res.status) {
	case SPF_FIXED:
		return;
	case SPF_GUEST_FAULT:
		backend->set_cr2(v, e->exc.cr2);
		vcpu_inject_exception(v, EXC_PF, true, res.error);
		return;
	case SPF_EMULATE:
		/* a write to a guest page table, or an access to no RAM:
		 * emulate it when a device claims the address (kernel/mmio.h) */
		if (!gmem_is_ram(&v->vm->mem, res.gpa) && !mmio_find(v->vm, res.gpa, 1)) {
			vm_end(v->vm, VMR_KILLED, 0, "%s of guest-physical %#lx outside RAM (rip %#lx)",
			       (err & GWALK_PFEC_ID) ? "fetch" : (err & GWALK_PFEC_W) ? "write" : "read", res.gpa,
			       v->regs.rip);
			return;
		}
		/* the emulator's writes go through kernel/gva.c, which tells
		 * the shadow MMU about every write to a tracked frame */
		emulate_insn(v);
		return;
	default:
		vm_end(v->vm, VMR_KILLED, 0, "guest page tables at %#lx are not in RAM (rip %#lx)", res.gpa,
		       v->regs.rip);
		return;
	}
}

int mmu_set_efer(struct vcpu *v, u64 efer)
{
	struct vcpu_mmu *m = v->mmu;
	u64 old = m->efer;
	m->efer = efer;
	if ((old ^ efer) & EFER_NXE) {
		if (update_root(v))
			kill_nomem(v);
	} else {
		load_hw(v);
	}
	return E_OK;
}

void mmu_print_stats(struct vm *vm)
{
	if (!vm->shadow)
		return;
	struct shadow_stats st;
	shadow_get_stats(vm->shadow, &st);
	kprintf("MMU-STATS name=%s created=%lu zapped=%lu synced=%lu unsync=%lu write-faults=%lu "
		"emulated-writes=%lu root-hits=%lu root-misses=%lu private-roots=%lu page-faults=%lu "
		"guest-faults=%lu invlpg=%lu in-use=%lu max=%lu reclaims=%lu\n",
		vm->cfg.name, st.pages_created, st.pages_zapped, st.pages_synced, st.unsync_events,
		st.write_faults, st.emulated_writes, st.root_hits, st.root_misses, st.private_root_allocs,
		st.page_faults, st.guest_faults, st.invlpgs, st.pages_in_use, st.max_pages, st.reclaims);
}
