/*
 * kernel/x86_emu_mem.c - the emulator's access to guest state: registers
 * (with the 8/16/32-bit write rules), segmentation (linear addresses with
 * the limit, type and canonical checks), memory through the callbacks, and
 * instruction operands (effective addresses, locked updates).
 *
 * Everything the instructions read or write goes through here, on the
 * working copy of the registers (struct emu_run); nothing here commits.
 */
#include "kernel/x86_emu_priv.h"
#include "kernel/string.h"

/* ------------------------------------------------------------ registers */

/* See x86_emu_priv.h. Byte registers 4-7 are AH CH DH BH when @high8. */
u64 x86_emu_reg_read(const struct emu_run *r, unsigned int reg, unsigned int size, bool high8)
{
	if (size == 1 && high8)
		return (r->gpr[reg - 4] >> 8) & 0xff;
	return r->gpr[reg & 15] & x86_emu_mask(size);
}

/* See x86_emu_priv.h. A 32-bit write zero-extends into the 64-bit
 * register; 8- and 16-bit writes keep the other bits (SDM vol. 1
 * §3.4.1.1). */
void x86_emu_reg_write(struct emu_run *r, unsigned int reg, unsigned int size, bool high8, u64 v)
{
	u64 *g = &r->gpr[reg & 15];

	switch (size) {
	case 1:
		if (high8) {
			g = &r->gpr[reg - 4];
			*g = (*g & ~0xff00ULL) | ((v & 0xff) << 8);
		} else {
			*g = (*g & ~0xffULL) | (v & 0xff);
		}
		break;
	case 2:
		*g = (*g & ~0xffffULL) | (v & 0xffff);
		break;
	case 4:
		*g = (u32)v;
		break;
	default:
		*g = v;
		break;
	}
}

/* ------------------------------------------------------------ segmentation */

/* See x86_emu_priv.h. */
bool x86_emu_is_64bit(const struct x86_emu_ctx *ctx)
{
	return ctx->mode == X86_CPU_LONG && ctx->seg[X86_SEG_CS].l;
}

/* See x86_emu.h. */
enum x86_dec_mode x86_emu_code_size(const struct x86_emu_ctx *ctx)
{
	if (x86_emu_is_64bit(ctx))
		return X86_DEC_MODE64;
	if (ctx->mode == X86_CPU_PROT || ctx->mode == X86_CPU_LONG)
		return ctx->seg[X86_SEG_CS].db ? X86_DEC_MODE32 : X86_DEC_MODE16;
	return X86_DEC_MODE16;
}

/* See x86_emu_priv.h. */
bool x86_emu_canonical(const struct x86_emu_ctx *ctx, u64 la)
{
	unsigned int shift = ctx->la57 ? 7 : 16;

	return (u64)((s64)(la << shift) >> shift) == la;
}

/* See x86_emu.h. */
int x86_emu_fault(struct x86_emu_ctx *ctx, u8 vector, bool has_error, u32 error_code)
{
	ctx->fault = (struct x86_fault){ .vector = vector, .has_error = has_error, .error_code = error_code };
	return X86_EMU_FAULT;
}

/* See x86_emu.h. */
int x86_emu_page_fault(struct x86_emu_ctx *ctx, u64 la, u32 error_code)
{
	x86_emu_fault(ctx, X86_VEC_PF, true, error_code);
	ctx->fault.cr2 = la;
	return X86_EMU_FAULT;
}

/* A segment fault: #SS(0) for stack references, else #GP(0) (SDM vol. 3A
 * §6.15, interrupts 12 and 13). */
static int seg_fault(struct x86_emu_ctx *ctx, unsigned int seg)
{
	return x86_emu_fault(ctx, seg == X86_SEG_SS ? X86_VEC_SS : X86_VEC_GP, true, 0);
}

/*
 * Linear address of @size bytes at @seg:@off (SDM vol. 3A §3.4, §5.3,
 * §5.4). 64-bit mode: only FS and GS have a base, no limits, and every
 * byte must be canonical (§3.3.7.1). Otherwise: the segment must be
 * usable, writable for writes and readable for reads (protected mode),
 * and the access within the limit: [0, limit] for expand-up segments,
 * (limit, 0xFFFF or 0xFFFFFFFF by the B bit] for expand-down data
 * segments (§5.3); the linear address wraps at 4 GiB.
 */
int x86_emu_linear(struct x86_emu_ctx *ctx, unsigned int seg, u64 off, unsigned int size, int acc, u64 *la)
{
	const struct x86_seg_desc *s = &ctx->seg[seg];

	if (x86_emu_is_64bit(ctx)) {
		u64 a = off + ((seg == X86_SEG_FS || seg == X86_SEG_GS) ? s->base : 0);
		if (!x86_emu_canonical(ctx, a) || !x86_emu_canonical(ctx, a + size - 1) || a + size - 1 < a)
			return seg_fault(ctx, seg);
		*la = a;
		return X86_EMU_OK;
	}
	u64 last = off + size - 1;
	if (ctx->mode == X86_CPU_PROT || ctx->mode == X86_CPU_LONG) {
		if (!s->usable)
			return seg_fault(ctx, seg);
		bool code = s->type & X86_SEG_TYPE_CODE;
		if (acc == X86_ACC_WRITE && (code || !(s->type & X86_SEG_TYPE_W)))
			return seg_fault(ctx, seg);
		if (acc == X86_ACC_READ && code && !(s->type & X86_SEG_TYPE_W))
			return seg_fault(ctx, seg);
		if (!code && (s->type & X86_SEG_TYPE_EXPDOWN)) {
			u64 upper = s->db ? 0xffffffffULL : 0xffffULL;
			if (off <= s->limit || last > upper)
				return seg_fault(ctx, seg);
			*la = (s->base + off) & 0xffffffffULL;
			return X86_EMU_OK;
		}
	}
	if (last > s->limit)
		return seg_fault(ctx, seg);
	*la = (s->base + off) & 0xffffffffULL;
	return X86_EMU_OK;
}

/* See x86_emu_priv.h. */
int x86_emu_mem_read(struct emu_run *r, unsigned int seg, u64 off, void *buf, unsigned int size)
{
	u64 la;
	int st = x86_emu_linear(r->ctx, seg, off, size, X86_ACC_READ, &la);

	if (st)
		return st;
	return r->ctx->ops->read_mem(r->ctx, seg, la, buf, size);
}

/* See x86_emu_priv.h. */
int x86_emu_mem_write(struct emu_run *r, unsigned int seg, u64 off, const void *buf, unsigned int size)
{
	u64 la;
	int st = x86_emu_linear(r->ctx, seg, off, size, X86_ACC_WRITE, &la);

	if (st)
		return st;
	return r->ctx->ops->write_mem(r->ctx, seg, la, buf, size);
}

/*
 * Atomic compare-exchange of @size bytes at @seg:@off: *@old in, previous
 * memory contents out. Without a cmpxchg_mem callback it is done with
 * read_mem and write_mem (not atomic: enough for a single vCPU), writing
 * the old value back on a mismatch as the processor does.
 */
int x86_emu_mem_cmpxchg(struct emu_run *r, unsigned int seg, u64 off, void *old, const void *new,
			unsigned int size)
{
	struct x86_emu_ctx *ctx = r->ctx;
	u8 cur[16];
	u64 la;
	int st = x86_emu_linear(ctx, seg, off, size, X86_ACC_WRITE, &la);

	if (st)
		return st;
	if (ctx->ops->cmpxchg_mem)
		return ctx->ops->cmpxchg_mem(ctx, seg, la, old, new, size);
	if ((st = ctx->ops->read_mem(ctx, seg, la, cur, size)))
		return st;
	bool eq = !memcmp(cur, old, size);
	if ((st = ctx->ops->write_mem(ctx, seg, la, eq ? new : cur, size)))
		return st;
	memcpy(old, cur, size);
	return X86_EMU_OK;
}

/* ------------------------------------------------------------ operands */

static u64 ea_offset(const struct emu_run *r)
{
	const struct x86_insn *in = r->in;
	const struct x86_ea *ea = &in->ea;
	u64 off = (u64)ea->disp;

	if (ea->base == X86_REG_RIP)
		off += r->ctx->rip + in->len;
	else if (ea->base != X86_REG_NONE)
		off += r->gpr[ea->base & 15];
	if (ea->index != X86_REG_NONE)
		off += r->gpr[ea->index & 15] * ea->scale;
	return off & x86_emu_mask(in->addrsize);
}

/* See x86_emu_priv.h. */
struct emu_opnd x86_emu_opnd_rm(const struct emu_run *r, unsigned int size)
{
	const struct x86_insn *in = r->in;
	struct emu_opnd o = { .size = size };

	if (in->has_mem) {
		o.mem = true;
		o.seg = in->seg;
		o.off = ea_offset(r);
	} else {
		o.reg = in->rm;
		o.high8 = size == 1 && x86_dec_byte_reg_high(in, in->rm);
	}
	return o;
}

/* See x86_emu_priv.h. */
struct emu_opnd x86_emu_opnd_reg(const struct emu_run *r, unsigned int size)
{
	const struct x86_insn *in = r->in;
	struct emu_opnd o = { .size = size, .reg = in->reg };

	o.high8 = size == 1 && x86_dec_byte_reg_high(in, in->reg);
	return o;
}

/* See x86_emu_priv.h. */
int x86_emu_opnd_read(struct emu_run *r, const struct emu_opnd *o, u64 *v)
{
	if (!o->mem) {
		*v = x86_emu_reg_read(r, o->reg, o->size, o->high8);
		return X86_EMU_OK;
	}
	*v = 0;
	return x86_emu_mem_read(r, o->seg, o->off, v, o->size);
}

/* See x86_emu_priv.h. */
int x86_emu_opnd_write(struct emu_run *r, const struct emu_opnd *o, u64 v)
{
	if (!o->mem) {
		x86_emu_reg_write(r, o->reg, o->size, o->high8, v);
		return X86_EMU_OK;
	}
	return x86_emu_mem_write(r, o->seg, o->off, &v, o->size);
}

/* Store @v to a read-modify-write destination whose value was *@old.
 * Locked (LOCK prefix, or @force for XCHG) memory updates go through
 * compare-exchange: EMU_MISMATCH with *@old refreshed when memory changed
 * since it was read. */
int x86_emu_opnd_update(struct emu_run *r, const struct emu_opnd *o, u64 *old, u64 v, bool force)
{
	if (!o->mem || !(force || (r->in->prefixes & X86_PFX_LOCK)))
		return x86_emu_opnd_write(r, o, v);
	u64 cur = *old;
	int st = x86_emu_mem_cmpxchg(r, o->seg, o->off, &cur, &v, o->size);
	if (st)
		return st;
	if ((cur & x86_emu_mask(o->size)) != (*old & x86_emu_mask(o->size))) {
		*old = cur;
		return EMU_MISMATCH;
	}
	return X86_EMU_OK;
}
