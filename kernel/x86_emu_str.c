/*
 * kernel/x86_emu_str.c - the emulator's string instructions (MOVS, STOS,
 * LODS, CMPS, SCAS, INS, OUTS, with REP/REPE/REPNE), port I/O (IN, OUT)
 * and stack operations with a memory operand (PUSH FF /6, POP 8F /0).
 *
 * String instructions address their operands with rSI (DS, or the
 * override) and rDI (ES, never overridden), and count with rCX; all three
 * are used at the address size (CX/ECX/RCX), and step by the operand size,
 * backward when RFLAGS.DF is set (SDM vol. 1 §7.3.9, vol. 2 "REP").
 * Each iteration is committed to the working registers as it completes,
 * so a fault in the middle leaves the completed ones in place, as the
 * architecture specifies.
 */
#include "kernel/x86_emu_priv.h"

/* See x86_emu_priv.h. */
int x86_emu_string(struct emu_run *r)
{
	const struct x86_insn *in = r->in;
	struct x86_emu_ctx *ctx = r->ctx;
	unsigned int op = in->opcode, size = in->opsize, asz = in->addrsize;
	u64 amask = x86_emu_mask(asz);
	u32 budget = ctx->rep_budget ? ctx->rep_budget : X86_EMU_REP_BUDGET;
	bool rep = in->rep != 0;
	bool cmp = op == 0xa6 || op == 0xa7 || op == 0xae || op == 0xaf;
	int st;

	if (op <= 0x6f && size == 8)
		size = 4; /* INS/OUTS: at most 32 bits */
	u64 delta = (r->rflags & X86_FL_DF) ? -(u64)size : size;
	u16 port = (u16)r->gpr[X86_RDX];

	for (;;) {
		u64 count = r->gpr[X86_RCX] & amask;
		u64 si = r->gpr[X86_RSI] & amask, di = r->gpr[X86_RDI] & amask;
		u64 a = 0, b = 0, fl = r->rflags;
		u32 io = 0;
		bool use_si = false, use_di = false;

		if (rep && count == 0)
			break;
		switch (op) {
		case 0x6c: /* INS: port DX -> ES:rDI */
		case 0x6d:
			if ((st = ctx->ops->read_io(ctx, port, size, &io)))
				return st;
			a = io;
			st = x86_emu_mem_write(r, X86_SEG_ES, di, &a, size);
			use_di = true;
			break;
		case 0x6e: /* OUTS: seg:rSI -> port DX */
		case 0x6f:
			if ((st = x86_emu_mem_read(r, in->seg, si, &a, size)))
				return st;
			st = ctx->ops->write_io(ctx, port, size, (u32)a);
			use_si = true;
			break;
		case 0xa4: /* MOVS: seg:rSI -> ES:rDI */
		case 0xa5:
			if ((st = x86_emu_mem_read(r, in->seg, si, &a, size)))
				return st;
			st = x86_emu_mem_write(r, X86_SEG_ES, di, &a, size);
			use_si = use_di = true;
			break;
		case 0xa6: /* CMPS: flags of seg:rSI - ES:rDI */
		case 0xa7:
			if ((st = x86_emu_mem_read(r, in->seg, si, &a, size)) ||
			    (st = x86_emu_mem_read(r, X86_SEG_ES, di, &b, size)))
				return st;
			x86_emu_alu(X86_ALU_CMP, size, a, b, &fl);
			use_si = use_di = true;
			break;
		case 0xaa: /* STOS: rAX -> ES:rDI */
		case 0xab:
			a = r->gpr[X86_RAX];
			st = x86_emu_mem_write(r, X86_SEG_ES, di, &a, size);
			use_di = true;
			break;
		case 0xac: /* LODS: seg:rSI -> rAX */
		case 0xad:
			st = x86_emu_mem_read(r, in->seg, si, &a, size);
			use_si = true;
			break;
		case 0xae: /* SCAS: flags of rAX - ES:rDI */
		case 0xaf:
			if ((st = x86_emu_mem_read(r, X86_SEG_ES, di, &b, size)))
				return st;
			x86_emu_alu(X86_ALU_CMP, size, r->gpr[X86_RAX], b, &fl);
			use_di = true;
			break;
		default:
			return X86_EMU_UNSUPPORTED;
		}
		if (st)
			return st;

		/* the iteration is complete: commit it */
		if (op == 0xac || op == 0xad)
			x86_emu_reg_write(r, X86_RAX, size, false, a);
		if (use_si)
			x86_emu_reg_write(r, X86_RSI, asz, false, si + delta);
		if (use_di)
			x86_emu_reg_write(r, X86_RDI, asz, false, di + delta);
		r->rflags = fl;
		if (!rep)
			break;
		x86_emu_reg_write(r, X86_RCX, asz, false, count - 1);
		r->partial = true;
		if (count == 1)
			break;
		/* REPE/REPZ stops when ZF=0, REPNE/REPNZ when ZF=1 (CMPS and
		 * SCAS only; with the others F2 acts as REP) */
		if (cmp && in->rep == 0xf3 && !(fl & X86_FL_ZF))
			break;
		if (cmp && in->rep == 0xf2 && (fl & X86_FL_ZF))
			break;
		if (--budget == 0) {
			r->rip_stays = true;
			break;
		}
	}
	return X86_EMU_OK;
}

/* See x86_emu_priv.h. IN AL/AX/EAX from an imm8 or DX port, OUT the
 * reverse (SDM vol. 2 "IN", "OUT"); REX.W does not widen them. */
int x86_emu_inout(struct emu_run *r)
{
	const struct x86_insn *in = r->in;
	struct x86_emu_ctx *ctx = r->ctx;
	unsigned int size = in->opsize == 8 ? 4 : in->opsize;
	u16 port = (in->opcode & 8) ? (u16)r->gpr[X86_RDX] : (u8)in->imm;
	u32 v = 0;
	int st;

	if (in->opcode & 2)
		return ctx->ops->write_io(ctx, port, size, (u32)(r->gpr[X86_RAX] & x86_emu_mask(size)));
	if ((st = ctx->ops->read_io(ctx, port, size, &v)))
		return st;
	x86_emu_reg_write(r, X86_RAX, size, false, v);
	return X86_EMU_OK;
}

/*
 * See x86_emu_priv.h. The stack pointer is SP, ESP or RSP by the stack
 * size (SS.B; 64 bits in 64-bit mode), the operand size 16/32/64 (16/64 in
 * 64-bit mode). PUSH reads its operand before decrementing; POP computes
 * a destination address based on rSP after the increment (SDM vol. 2
 * "POP"), and commits rSP only if the store succeeds.
 */
int x86_emu_push_pop(struct emu_run *r)
{
	const struct x86_insn *in = r->in;
	struct x86_emu_ctx *ctx = r->ctx;
	unsigned int size = in->opsize;
	unsigned int ssz = in->mode == X86_DEC_MODE64 ? 8 : (ctx->seg[X86_SEG_SS].db ? 4 : 2);
	u64 smask = x86_emu_mask(ssz), v = 0, sp;
	struct emu_opnd o;
	int st;

	if (in->opcode == 0xff) {
		o = x86_emu_opnd_rm(r, size);
		if ((st = x86_emu_opnd_read(r, &o, &v)))
			return st;
		sp = (r->gpr[X86_RSP] - size) & smask;
		if ((st = x86_emu_mem_write(r, X86_SEG_SS, sp, &v, size)))
			return st;
		x86_emu_reg_write(r, X86_RSP, ssz, false, sp);
		return X86_EMU_OK;
	}
	sp = r->gpr[X86_RSP] & smask;
	if ((st = x86_emu_mem_read(r, X86_SEG_SS, sp, &v, size)))
		return st;
	x86_emu_reg_write(r, X86_RSP, ssz, false, sp + size);
	o = x86_emu_opnd_rm(r, size);
	return x86_emu_opnd_write(r, &o, v);
}
