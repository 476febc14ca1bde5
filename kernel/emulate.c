/*
 * kernel/emulate.c - the emulator adapter (see emulate.h).
 */
#include "kernel/emulate.h"
#include "kernel/exit.h"
#include "kernel/gva.h"
#include "kernel/mmu.h"
#include "kernel/string.h"
#include "kernel/vm.h"
#include "kernel/x86.h"
#include "kernel/x86_emu.h"

struct emu_priv {
	struct x86_emu_ctx ctx; /* first: callbacks cast the ctx back */
	struct vcpu *v;
};

static struct vcpu *vcpu_of(struct x86_emu_ctx *ctx)
{
	return ((struct emu_priv *)ctx)->v;
}

static u32 access_flags(struct x86_emu_ctx *ctx)
{
	u32 a = ctx->cpl == 3 ? GWALK_USER : 0;
	if (ctx->rflags & BIT(18))
		a |= GWALK_AC;
	return a;
}

static int mem_result(struct x86_emu_ctx *ctx, int r, struct gva_fault *f)
{
	if (r == GVA_OK)
		return X86_EMU_OK;
	if (r == GVA_FAULT) {
		if (f->vector == 14)
			return x86_emu_page_fault(ctx, f->cr2, f->error);
		return x86_emu_fault(ctx, f->vector, true, f->error);
	}
	return X86_EMU_UNHANDLEABLE; /* not RAM and no device claims it */
}

static int emu_read(struct x86_emu_ctx *ctx, enum x86_seg seg, u64 la, void *buf, unsigned size)
{
	struct gva_fault f;
	return mem_result(ctx, gva_read(vcpu_of(ctx), la, buf, size, access_flags(ctx), &f), &f);
}

static int emu_write(struct x86_emu_ctx *ctx, enum x86_seg seg, u64 la, const void *buf, unsigned size)
{
	struct gva_fault f;
	return mem_result(ctx, gva_write(vcpu_of(ctx), la, buf, size, access_flags(ctx), &f), &f);
}

static int emu_fetch(struct x86_emu_ctx *ctx, u64 la, void *buf, unsigned size)
{
	struct gva_fault f;
	return mem_result(ctx, gva_read(vcpu_of(ctx), la, buf, size, access_flags(ctx) | GWALK_FETCH, &f), &f);
}

static int emu_read_io(struct x86_emu_ctx *ctx, u16 port, unsigned size, u32 *val)
{
	struct vcpu *v = vcpu_of(ctx);
	*val = 0;
	exit_port_io(v, port, (u8)size, true, val);
	return vm_running(v->vm) ? X86_EMU_OK : X86_EMU_UNHANDLEABLE;
}

static int emu_write_io(struct x86_emu_ctx *ctx, u16 port, unsigned size, u32 val)
{
	struct vcpu *v = vcpu_of(ctx);
	exit_port_io(v, port, (u8)size, false, &val);
	return vm_running(v->vm) ? X86_EMU_OK : X86_EMU_UNHANDLEABLE;
}

static const struct x86_emu_ops emu_ops = {
	.read_mem = emu_read,
	.write_mem = emu_write,
	.cmpxchg_mem = NULL, /* read + write: single-vCPU VMs only for now */
	.read_io = emu_read_io,
	.write_io = emu_write_io,
	.fetch = emu_fetch,
};

/* Segment attributes come in the VMCB layout (kernel/backend.h). */
static void seg_desc(struct vcpu *v, enum seg_reg r, struct x86_seg_desc *d)
{
	struct seg_desc s;
	backend->get_seg(v, r, &s);
	d->base = s.base;
	d->limit = s.limit;
	d->sel = s.sel;
	d->type = s.attr & 0xf;
	d->usable = (s.attr & BIT(7)) != 0; /* P */
	d->l = (s.attr & BIT(9)) != 0;
	d->db = (s.attr & BIT(10)) != 0;
}

static void setup(struct vcpu *v, struct emu_priv *p)
{
	struct x86_emu_ctx *c = &p->ctx;
	memset(p, 0, sizeof(*p));
	p->v = v;
	memcpy(c->gpr, v->regs.gpr, sizeof(c->gpr));
	c->rip = v->regs.rip;
	c->rflags = v->regs.rflags;
	for (int s = SEG_ES; s <= SEG_GS; s++)
		seg_desc(v, s, &c->seg[s]);
	u64 cr0 = vcpu_get_cr(v, 0);
	if (!(cr0 & CR0_PE))
		c->mode = X86_CPU_REAL;
	else if (v->regs.rflags & RFLAGS_VM)
		c->mode = X86_CPU_VM86;
	else if (vcpu_get_efer(v) & EFER_LMA)
		c->mode = X86_CPU_LONG;
	else
		c->mode = X86_CPU_PROT;
	c->cpl = (u8)backend->get_cpl(v);
	c->amd = gva_caps()->amd;
	c->la57 = (vcpu_get_cr(v, 4) & CR4_LA57) != 0;
	c->ops = &emu_ops;
}

int emulate_insn(struct vcpu *v)
{
	struct emu_priv p;
	setup(v, &p);
	int st = x86_emu_step(&p.ctx);
	if (!vm_running(v->vm))
		return E_OK; /* e.g. a debug-exit write inside OUTS */
	switch (st) {
	case X86_EMU_OK:
		memcpy(v->regs.gpr, p.ctx.gpr, sizeof(v->regs.gpr));
		v->regs.rip = p.ctx.rip;
		v->regs.rflags = p.ctx.rflags;
		return E_OK;
	case X86_EMU_FAULT:
		if (p.ctx.fault.vector == 14)
			backend->set_cr2(v, p.ctx.fault.cr2);
		vcpu_inject_exception(v, p.ctx.fault.vector, p.ctx.fault.has_error, p.ctx.fault.error_code);
		return E_OK;
	case X86_EMU_RETRY:
		return E_OK;
	default: {
		const struct x86_insn *in = &p.ctx.insn;
		vm_end(v->vm, VMR_KILLED, 0,
		       "cannot emulate the instruction at rip %#lx (%s; bytes %02x %02x %02x %02x %02x %02x)",
		       v->regs.rip, x86_emu_status_name(st), in->bytes[0], in->bytes[1], in->bytes[2],
		       in->bytes[3], in->bytes[4], in->bytes[5]);
		return E_FAULT;
	}
	}
}

int emulate_fetch_decode(struct vcpu *v, struct x86_insn *insn)
{
	/* Only what decoding needs: CS, the code size and CPL. (Building a
	 * whole emulator context here cost ~1000 instructions per exit.) */
	struct seg_desc cs;
	backend->get_seg(v, SEG_CS, &cs);
	bool prot = (vcpu_get_cr(v, 0) & CR0_PE) && !(v->regs.rflags & RFLAGS_VM);
	bool l64 = prot && (vcpu_get_efer(v) & EFER_LMA) && (cs.attr & BIT(9));
	enum x86_dec_mode mode = l64 ? X86_DEC_MODE64 : (prot && (cs.attr & BIT(10))) ? X86_DEC_MODE32 : X86_DEC_MODE16;
	u64 la = cs.base + v->regs.rip;
	if (!l64)
		la &= 0xffffffffULL;
	u32 acc = GWALK_FETCH | (backend->get_cpl(v) == 3 ? GWALK_USER : 0);
	bool paging = (vcpu_get_cr(v, 0) & CR0_PG) != 0;
	u8 bytes[15];
	/* fetch up to the end of the page first, then more if needed; with
	 * paging off the linear address is the guest-physical one */
	unsigned n = MIN(15u, (unsigned)(PAGE_SIZE - (la & (PAGE_SIZE - 1))));
	struct gva_fault f;
	if (gva_fetch(v, la, bytes, n, acc, &f))
		return E_FAULT;
	unsigned flags = gva_caps()->amd ? X86_DEC_AMD : 0;
	int r = x86_dec_decode(insn, bytes, n, mode, flags);
	if (r == X86_DEC_TRUNCATED && n < 15) {
		if (paging ? gva_read(v, la + n, bytes + n, 15 - n, acc, &f)
			   : gmem_read(&v->vm->mem, la + n, bytes + n, 15 - n))
			return E_FAULT;
		r = x86_dec_decode(insn, bytes, 15, mode, flags);
	}
	return r == X86_DEC_OK ? E_OK : E_FAULT;
}

int emulate_insn_length(struct vcpu *v, u8 *len)
{
	struct x86_insn insn;
	int r = emulate_fetch_decode(v, &insn);
	if (r == E_OK)
		*len = insn.len;
	return r;
}

unsigned emulate_known_length(struct vcpu *v, const u8 *op, unsigned n)
{
	struct seg_desc cs;
	backend->get_seg(v, SEG_CS, &cs);
	/* CS.L counts only in IA-32e mode (which implies CR0.PE = 1) */
	bool l64 = (vcpu_get_efer(v) & EFER_LMA) && (cs.attr & BIT(9));
	u64 la = cs.base + v->regs.rip;
	if (!l64)
		la &= 0xffffffffULL;
	u32 acc = GWALK_FETCH | (backend->get_cpl(v) == 3 ? GWALK_USER : 0);
	u8 b[4];
	struct gva_fault f;
	if (n > sizeof(b) || PAGE_SIZE - (la & (PAGE_SIZE - 1)) < n || gva_fetch(v, la, b, n, acc, &f))
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (b[i] != op[i])
			return 0;
	return n;
}
