/*
 * kernel/x86_emu.c - the instruction emulator (see kernel/x86_emu.h):
 * fetch and dispatch, and the data-movement, arithmetic, bit and
 * compare-exchange instructions. String instructions, port I/O and
 * PUSH/POP are in kernel/x86_emu_str.c, flags in kernel/x86_emu_alu.c,
 * registers, segmentation, memory and operands in kernel/x86_emu_mem.c.
 *
 * Every instruction runs on a copy of the registers (struct emu_run);
 * memory writes come last, so the copy is committed only when the
 * instruction has completed and a fault leaves the guest state as it was.
 * Nothing here trusts the instruction: anything not understood is
 * X86_EMU_UNSUPPORTED.
 */
#include "kernel/x86_emu_priv.h"
#include "kernel/string.h"

/* Locked read-modify-write gives up after this many lost races and lets
 * the guest re-execute the instruction. */
#define EMU_LOCK_TRIES 16

/* ------------------------------------------------------------ instructions */

/* dst = dst OP src, writing dst (not for CMP/TEST) and the flags. */
static int do_alu(struct emu_run *r, unsigned int op, const struct emu_opnd *dst, u64 src)
{
	u64 old, res, fl;
	int st = x86_emu_opnd_read(r, dst, &old);

	for (int tries = 0; st == X86_EMU_OK; tries++) {
		fl = r->rflags;
		res = x86_emu_alu(op, dst->size, old, src, &fl);
		if (op == X86_ALU_CMP || op == X86_ALU_TEST)
			break;
		st = x86_emu_opnd_update(r, dst, &old, res, false);
		if (st == EMU_MISMATCH)
			st = tries < EMU_LOCK_TRIES ? X86_EMU_OK : X86_EMU_RETRY;
		else
			break;
	}
	if (st == X86_EMU_OK)
		r->rflags = fl;
	return st;
}

/* The 00-3F arithmetic rows: Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib /
 * rAX,Iz (SDM vol. 2 table A-2). */
static int exec_alu_row(struct emu_run *r)
{
	const struct x86_insn *in = r->in;
	unsigned int op = in->opcode >> 3, size = in->opsize;
	struct emu_opnd dst, src;
	u64 v;
	int st;

	switch (in->opcode & 7) {
	case 0:
	case 1:
		dst = x86_emu_opnd_rm(r, size);
		src = x86_emu_opnd_reg(r, size);
		break;
	case 2:
	case 3:
		dst = x86_emu_opnd_reg(r, size);
		src = x86_emu_opnd_rm(r, size);
		break;
	default:
		return do_alu(r, op, &(struct emu_opnd){ .size = size, .reg = X86_RAX },
			      (u64)x86_dec_simm(in));
	}
	if ((st = x86_emu_opnd_read(r, &src, &v)))
		return st;
	return do_alu(r, op, &dst, v);
}

static int exec_mov(struct emu_run *r, const struct emu_opnd *dst, const struct emu_opnd *src)
{
	u64 v;
	int st = x86_emu_opnd_read(r, src, &v);

	return st ? st : x86_emu_opnd_write(r, dst, v);
}

/* XCHG r/m, reg: a memory operand makes it locked (SDM vol. 2 "XCHG"). */
static int exec_xchg(struct emu_run *r)
{
	unsigned int size = r->in->opsize;
	struct emu_opnd m = x86_emu_opnd_rm(r, size), g = x86_emu_opnd_reg(r, size);
	u64 a, b;
	int st;

	if ((st = x86_emu_opnd_read(r, &g, &b)) || (st = x86_emu_opnd_read(r, &m, &a)))
		return st;
	if (!m.mem) {
		x86_emu_reg_write(r, m.reg, size, m.high8, b);
		x86_emu_reg_write(r, g.reg, size, g.high8, a);
		return X86_EMU_OK;
	}
	for (int tries = 0;; tries++) {
		st = x86_emu_opnd_update(r, &m, &a, b, true);
		if (st != EMU_MISMATCH)
			break;
		if (tries >= EMU_LOCK_TRIES)
			return X86_EMU_RETRY;
	}
	if (st == X86_EMU_OK)
		x86_emu_opnd_write(r, &g, a);
	return st;
}

/* CMPXCHG r/m, reg (SDM vol. 2 "CMPXCHG"): compare the accumulator with
 * the destination; equal: destination = source; else accumulator =
 * destination. Flags as CMP accumulator, destination. Memory destinations
 * are always updated atomically. */
static int exec_cmpxchg(struct emu_run *r)
{
	unsigned int size = r->in->opsize;
	struct emu_opnd dst = x86_emu_opnd_rm(r, size), src = x86_emu_opnd_reg(r, size);
	u64 acc = x86_emu_reg_read(r, X86_RAX, size, false), s, cur;
	int st;

	if ((st = x86_emu_opnd_read(r, &src, &s)))
		return st;
	if (dst.mem) {
		cur = acc;
		if ((st = x86_emu_mem_cmpxchg(r, dst.seg, dst.off, &cur, &s, size)))
			return st;
		cur &= x86_emu_mask(size);
	} else {
		cur = x86_emu_reg_read(r, dst.reg, size, dst.high8);
		/* Intel writes the destination back on a mismatch (SDM:
		 * "DEST := TEMP"), which zero-extends a 32-bit register; AMD
		 * leaves it alone */
		if (cur == acc || !r->ctx->amd)
			x86_emu_reg_write(r, dst.reg, size, dst.high8, cur == acc ? s : cur);
	}
	x86_emu_alu(X86_ALU_CMP, size, acc, cur, &r->rflags);
	if (cur != acc)
		x86_emu_reg_write(r, X86_RAX, size, false, cur);
	return X86_EMU_OK;
}

/* CMPXCHG8B/16B m64/m128 (SDM vol. 2 "CMPXCHG8B/CMPXCHG16B"): compare
 * EDX:EAX (RDX:RAX) with memory; equal: store ECX:EBX (RCX:RBX), ZF=1;
 * else load it into EDX:EAX, ZF=0. Other flags unchanged. CMPXCHG16B
 * (REX.W) needs a 16-byte aligned operand, else #GP(0). */
static int exec_cmpxchg8b(struct emu_run *r)
{
	const struct x86_insn *in = r->in;
	bool b16 = in->opsize == 8;
	unsigned int half = b16 ? 8 : 4, size = 2 * half;
	struct emu_opnd m = x86_emu_opnd_rm(r, size);
	u64 expect[2], new[2], la;
	int st;

	if (!m.mem)
		return x86_emu_fault(r->ctx, X86_VEC_UD, false, 0);
	if ((st = x86_emu_linear(r->ctx, m.seg, m.off, size, X86_ACC_WRITE, &la)))
		return st;
	if (b16 && (la & 15))
		return x86_emu_fault(r->ctx, X86_VEC_GP, true, 0);
	u64 mask = x86_emu_mask(half);
	expect[0] = r->gpr[X86_RAX] & mask;
	expect[1] = r->gpr[X86_RDX] & mask;
	new[0] = r->gpr[X86_RBX] & mask;
	new[1] = r->gpr[X86_RCX] & mask;
	if (!b16) {
		expect[0] |= expect[1] << 32;
		new[0] |= new[1] << 32;
	}
	u64 cur[2] = { expect[0], expect[1] };
	if ((st = x86_emu_mem_cmpxchg(r, m.seg, m.off, cur, new, size)))
		return st;
	if (!memcmp(cur, expect, size)) {
		r->rflags |= X86_FL_ZF;
		return X86_EMU_OK;
	}
	r->rflags &= ~X86_FL_ZF;
	if (!b16)
		cur[1] = cur[0] >> 32;
	x86_emu_reg_write(r, X86_RAX, half, false, cur[0]);
	x86_emu_reg_write(r, X86_RDX, half, false, cur[1]);
	return X86_EMU_OK;
}

/* XADD r/m, reg: temp = dst + src; src = dst; dst = temp. */
static int exec_xadd(struct emu_run *r)
{
	unsigned int size = r->in->opsize;
	struct emu_opnd dst = x86_emu_opnd_rm(r, size), src = x86_emu_opnd_reg(r, size);
	u64 s, old, res, fl;
	int st;

	if ((st = x86_emu_opnd_read(r, &src, &s)) || (st = x86_emu_opnd_read(r, &dst, &old)))
		return st;
	for (int tries = 0;; tries++) {
		fl = r->rflags;
		res = x86_emu_alu(X86_ALU_ADD, size, old, s, &fl);
		if (!dst.mem) {
			x86_emu_reg_write(r, src.reg, size, src.high8, old);
			x86_emu_reg_write(r, dst.reg, size, dst.high8, res);
			st = X86_EMU_OK;
			break;
		}
		st = x86_emu_opnd_update(r, &dst, &old, res, false);
		if (st != EMU_MISMATCH)
			break;
		if (tries >= EMU_LOCK_TRIES)
			return X86_EMU_RETRY;
	}
	if (st == X86_EMU_OK) {
		if (dst.mem)
			x86_emu_reg_write(r, src.reg, size, src.high8, old);
		r->rflags = fl;
	}
	return st;
}

/*
 * BT, BTS, BTR, BTC (@op 0-3) with a register or immediate bit offset
 * (SDM vol. 2 "BT"). A register offset into memory is signed and selects
 * any bit relative to the operand: the operand-sized unit at
 * EA + size * floor(offset / bits) (arithmetic shift) holds bit
 * offset mod bits. An immediate offset, or a register destination, takes
 * the offset modulo the operand size. CF = the bit; the other flags are
 * left unchanged (OF SF AF PF are undefined; ZF is unaffected).
 */
static int exec_bt(struct emu_run *r, unsigned int op, bool imm)
{
	const struct x86_insn *in = r->in;
	unsigned int size = in->opsize, bits = size * 8;
	unsigned int shift = size == 2 ? 4 : size == 4 ? 5 : 6;
	struct emu_opnd dst = x86_emu_opnd_rm(r, size);
	u64 off, old, res;
	int st;

	if (imm) {
		off = in->imm & (bits - 1);
	} else {
		off = x86_emu_reg_read(r, in->reg, size, false);
		if (dst.mem) {
			s64 so = (s64)x86_emu_sext(off, size);
			dst.off = (dst.off + (u64)((so >> shift) * (s64)size)) & x86_emu_mask(in->addrsize);
		}
		off &= bits - 1;
	}
	if ((st = x86_emu_opnd_read(r, &dst, &old)))
		return st;
	for (int tries = 0;; tries++) {
		u64 bit = 1ULL << off;
		res = op == 1 ? old | bit : op == 2 ? old & ~bit : old ^ bit;
		if (op == 0) {
			st = X86_EMU_OK;
			break;
		}
		st = x86_emu_opnd_update(r, &dst, &old, res, false);
		if (st != EMU_MISMATCH)
			break;
		if (tries >= EMU_LOCK_TRIES)
			return X86_EMU_RETRY;
	}
	if (st == X86_EMU_OK)
		r->rflags = (r->rflags & ~X86_FL_CF) | ((old >> off) & 1);
	return st;
}

/* Group 3 (F6/F7): TEST Ib/Iz, NOT, NEG; MUL/IMUL/DIV/IDIV unsupported;
 * group 4/5 (FE/FF): INC, DEC, PUSH Ev. */
static int exec_group(struct emu_run *r)
{
	const struct x86_insn *in = r->in;
	unsigned int reg = (in->modrm >> 3) & 7;
	struct emu_opnd dst = x86_emu_opnd_rm(r, in->opsize);

	if (in->opcode == 0xf6 || in->opcode == 0xf7) {
		switch (reg) {
		case 0:
		case 1:
			return do_alu(r, X86_ALU_TEST, &dst, (u64)x86_dec_simm(in));
		case 2:
			return do_alu(r, X86_ALU_NOT, &dst, 0);
		case 3:
			return do_alu(r, X86_ALU_NEG, &dst, 0);
		}
		return X86_EMU_UNSUPPORTED;
	}
	switch (reg) {
	case 0:
		return do_alu(r, X86_ALU_INC, &dst, 0);
	case 1:
		return do_alu(r, X86_ALU_DEC, &dst, 0);
	case 6:
		if (in->opcode == 0xff)
			return x86_emu_push_pop(r);
	}
	return X86_EMU_UNSUPPORTED;
}

static int exec_1b(struct emu_run *r)
{
	const struct x86_insn *in = r->in;
	unsigned int op = in->opcode, size = in->opsize;
	struct emu_opnd dst, src;
	u64 v;
	int st;

	if (op < 0x40 && (op & 7) < 6)
		return exec_alu_row(r);
	switch (op) {
	case 0x40 ... 0x4f: /* INC/DEC r (REX in 64-bit mode) */
		dst = x86_emu_opnd_gpr(op & 7, size);
		return do_alu(r, op < 0x48 ? X86_ALU_INC : X86_ALU_DEC, &dst, 0);
	case 0x63: /* MOVSXD Gv, Ed (64-bit mode; ARPL otherwise) */
		if (in->mode != X86_DEC_MODE64)
			return X86_EMU_UNSUPPORTED;
		dst = x86_emu_opnd_reg(r, size);
		src = x86_emu_opnd_rm(r, size == 8 ? 4 : size);
		st = x86_emu_opnd_read(r, &src, &v);
		return st ? st : x86_emu_opnd_write(r, &dst, x86_emu_sext(v, src.size));
	case 0x6c ... 0x6f:
	case 0xa4 ... 0xa7:
	case 0xaa ... 0xaf:
		return x86_emu_string(r);
	case 0x80 ... 0x83:
		dst = x86_emu_opnd_rm(r, size);
		return do_alu(r, (in->modrm >> 3) & 7, &dst, (u64)x86_dec_simm(in));
	case 0x84:
	case 0x85:
		dst = x86_emu_opnd_rm(r, size);
		src = x86_emu_opnd_reg(r, size);
		if ((st = x86_emu_opnd_read(r, &src, &v)))
			return st;
		return do_alu(r, X86_ALU_TEST, &dst, v);
	case 0x86:
	case 0x87:
		return exec_xchg(r);
	case 0x88:
	case 0x89:
		dst = x86_emu_opnd_rm(r, size);
		src = x86_emu_opnd_reg(r, size);
		return exec_mov(r, &dst, &src);
	case 0x8a:
	case 0x8b:
		dst = x86_emu_opnd_reg(r, size);
		src = x86_emu_opnd_rm(r, size);
		return exec_mov(r, &dst, &src);
	case 0x8f:
		return x86_emu_push_pop(r);
	case 0xa0 ... 0xa3: { /* MOV with moffs */
		struct emu_opnd m = { .mem = true, .size = size, .seg = in->seg,
				      .off = (u64)in->ea.disp & x86_emu_mask(in->addrsize) };
		struct emu_opnd a = x86_emu_opnd_gpr(X86_RAX, size);
		return op < 0xa2 ? exec_mov(r, &a, &m) : exec_mov(r, &m, &a);
	}
	case 0xa8:
	case 0xa9:
		dst = x86_emu_opnd_gpr(X86_RAX, size);
		return do_alu(r, X86_ALU_TEST, &dst, (u64)x86_dec_simm(in));
	case 0xb0 ... 0xbf: { /* MOV r, imm */
		unsigned int reg = (op & 7) | ((in->rex & X86_REX_B) ? 8 : 0);
		x86_emu_reg_write(r, reg, size, size == 1 && x86_dec_byte_reg_high(in, reg), in->imm);
		return X86_EMU_OK;
	}
	case 0xc6:
	case 0xc7:
		if (((in->modrm >> 3) & 7) != 0)
			return X86_EMU_UNSUPPORTED; /* XABORT, XBEGIN */
		dst = x86_emu_opnd_rm(r, size);
		return x86_emu_opnd_write(r, &dst, (u64)x86_dec_simm(in));
	case 0xe4 ... 0xe7:
	case 0xec ... 0xef:
		return x86_emu_inout(r);
	case 0xf6:
	case 0xf7:
	case 0xfe:
	case 0xff:
		return exec_group(r);
	}
	return X86_EMU_UNSUPPORTED;
}

static int exec_0f(struct emu_run *r)
{
	const struct x86_insn *in = r->in;
	unsigned int op = in->opcode, size = in->opsize;
	struct emu_opnd dst, src;
	u64 v;
	int st;

	switch (op) {
	case 0x40 ... 0x4f: /* CMOVcc: the source is always read; a 32-bit
			     * destination is zero-extended even when the
			     * condition is false (SDM vol. 2 "CMOVcc") */
		dst = x86_emu_opnd_reg(r, size);
		src = x86_emu_opnd_rm(r, size);
		if ((st = x86_emu_opnd_read(r, &src, &v)))
			return st;
		if (!x86_emu_cond(op, r->rflags))
			v = x86_emu_reg_read(r, dst.reg, size, false);
		return x86_emu_opnd_write(r, &dst, v);
	case 0x90 ... 0x9f: /* SETcc Eb */
		dst = x86_emu_opnd_rm(r, 1);
		return x86_emu_opnd_write(r, &dst, x86_emu_cond(op, r->rflags));
	case 0xa3:
		return exec_bt(r, 0, false);
	case 0xab:
		return exec_bt(r, 1, false);
	case 0xb3:
		return exec_bt(r, 2, false);
	case 0xbb:
		return exec_bt(r, 3, false);
	case 0xba: /* group 8: /4 BT .. /7 BTC */
		return exec_bt(r, ((in->modrm >> 3) & 7) - 4, true);
	case 0xb0:
	case 0xb1:
		return exec_cmpxchg(r);
	case 0xb6:
	case 0xb7:
	case 0xbe:
	case 0xbf: /* MOVZX, MOVSX */
		dst = x86_emu_opnd_reg(r, size);
		src = x86_emu_opnd_rm(r, (op & 1) ? 2 : 1);
		if ((st = x86_emu_opnd_read(r, &src, &v)))
			return st;
		return x86_emu_opnd_write(r, &dst, op >= 0xbe ? x86_emu_sext(v, src.size) : v);
	case 0xc0:
	case 0xc1:
		return exec_xadd(r);
	case 0xc3: /* MOVNTI m32/m64, r */
		dst = x86_emu_opnd_rm(r, size);
		src = x86_emu_opnd_reg(r, size);
		return exec_mov(r, &dst, &src);
	case 0xc7:
		if (((in->modrm >> 3) & 7) == 1)
			return exec_cmpxchg8b(r);
		break;
	}
	return X86_EMU_UNSUPPORTED;
}

/* See x86_emu.h. */
int x86_emu_exec(struct x86_emu_ctx *ctx, const struct x86_insn *insn)
{
	struct emu_run r = { .ctx = ctx, .in = &ctx->insn };
	int st;

	if (&ctx->insn != insn)
		ctx->insn = *insn;
	if (insn->mode != x86_emu_code_size(ctx) || insn->enc != X86_ENC_LEGACY || !insn->len ||
	    insn->len > X86_MAX_INSN_LEN)
		return X86_EMU_UNSUPPORTED;
	memcpy(r.gpr, ctx->gpr, sizeof(r.gpr));
	r.rflags = ctx->rflags;
	r.next_rip = (ctx->rip + insn->len) & x86_emu_mask(insn->mode);

	if (insn->map == X86_MAP_1B)
		st = exec_1b(&r);
	else if (insn->map == X86_MAP_0F)
		st = exec_0f(&r);
	else
		st = X86_EMU_UNSUPPORTED;

	if (st == X86_EMU_OK || r.partial) {
		memcpy(ctx->gpr, r.gpr, sizeof(r.gpr));
		ctx->rflags = r.rflags;
	}
	if (st == X86_EMU_OK && !r.rip_stays)
		ctx->rip = r.next_rip;
	return st == EMU_MISMATCH ? X86_EMU_RETRY : st;
}

/* See x86_emu.h. */
int x86_emu_step(struct x86_emu_ctx *ctx)
{
	enum x86_dec_mode mode = x86_emu_code_size(ctx);
	unsigned int dflags = ctx->amd ? X86_DEC_AMD : 0;
	u8 buf[X86_MAX_INSN_LEN];
	unsigned int have, want;
	u64 la, ip = ctx->rip & x86_emu_mask(mode);
	int st, r;

	ctx->insn.len = 0;
	/* First the bytes up to the end of the page (and of CS), then, only
	 * if the decoder needs them, the rest: an instruction that ends on
	 * this page must not fault on the next one. */
	if ((st = x86_emu_linear(ctx, X86_SEG_CS, ip, 1, X86_ACC_EXEC, &la)))
		return st;
	have = MIN(X86_MAX_INSN_LEN, PAGE_SIZE - (la & (PAGE_SIZE - 1)));
	if (!x86_emu_is_64bit(ctx))
		have = MIN(have, (u64)ctx->seg[X86_SEG_CS].limit - ip + 1);
	if (!ctx->ops->fetch || (st = ctx->ops->fetch(ctx, la, buf, have)))
		return ctx->ops->fetch ? st : X86_EMU_UNHANDLEABLE;
	r = x86_dec_decode(&ctx->insn, buf, have, mode, dflags);
	if (r == X86_DEC_TRUNCATED && have < X86_MAX_INSN_LEN) {
		want = X86_MAX_INSN_LEN - have;
		if (!x86_emu_is_64bit(ctx) && ip + have > ctx->seg[X86_SEG_CS].limit)
			return x86_emu_fault(ctx, X86_VEC_GP, true, 0); /* past CS limit */
		if (!x86_emu_is_64bit(ctx))
			want = MIN(want, (u64)ctx->seg[X86_SEG_CS].limit - (ip + have) + 1);
		u64 la2 = la + have;
		if (x86_emu_is_64bit(ctx) && !x86_emu_canonical(ctx, la2))
			return x86_emu_fault(ctx, X86_VEC_GP, true, 0);
		if (!x86_emu_is_64bit(ctx))
			la2 &= 0xffffffffULL;
		if ((st = ctx->ops->fetch(ctx, la2, buf + have, want)))
			return st;
		have += want;
		r = x86_dec_decode(&ctx->insn, buf, have, mode, dflags);
		if (r == X86_DEC_TRUNCATED) /* ran into the CS limit */
			return x86_emu_fault(ctx, X86_VEC_GP, true, 0);
	}
	switch (r) {
	case X86_DEC_OK:
		return x86_emu_exec(ctx, &ctx->insn);
	case X86_DEC_INVALID:
		return x86_emu_fault(ctx, X86_VEC_UD, false, 0);
	case X86_DEC_TOO_LONG:
		return x86_emu_fault(ctx, X86_VEC_GP, true, 0);
	default:
		return X86_EMU_UNSUPPORTED;
	}
}

/* See x86_emu.h. */
const char *x86_emu_status_name(int status)
{
	switch (status) {
	case X86_EMU_OK: return "ok";
	case X86_EMU_FAULT: return "fault";
	case X86_EMU_RETRY: return "retry";
	case X86_EMU_UNHANDLEABLE: return "unhandleable";
	case X86_EMU_UNSUPPORTED: return "unsupported";
	default: return "?";
	}
}
