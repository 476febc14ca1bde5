/*
 * kernel/x86_emu_alu.c - the emulator's integer arithmetic and status
 * flags: the six arithmetic flags (CF PF AF ZF SF OF) of ADD, ADC, SUB,
 * SBB, CMP, NEG, INC, DEC and the logical operations, computed in C (no
 * host flags: the code is pure and builds with -mgeneral-regs-only), and
 * the condition codes of Jcc/SETcc/CMOVcc.
 *
 * Definitions from SDM vol. 1 §3.4.3.1 and appendix A (EFLAGS cross-
 * reference), vol. 2 per instruction; the unit test checks every
 * operation and size against the host CPU.
 */
#include "kernel/x86_emu_priv.h"

/* PF: set when the low byte of the result has an even number of 1 bits. */
static u64 parity_flag(u64 res)
{
	unsigned int x = res & 0xff;

	x ^= x >> 4;
	x &= 0xf;
	return ((0x6996 >> x) & 1) ? 0 : X86_FL_PF;
}

/* ZF, SF, PF of a result of @size bytes. */
static u64 szp_flags(u64 res, unsigned int size)
{
	u64 f = parity_flag(res);
	u64 m = x86_emu_mask(size);

	if ((res & m) == 0)
		f |= X86_FL_ZF;
	if (res & (1ULL << (size * 8 - 1)))
		f |= X86_FL_SF;
	return f;
}

/* a + b + c: CF is the carry out of the top bit, OF a signed overflow (the
 * operands agree in sign and the result does not), AF the carry out of
 * bit 3. */
static u64 add_flags(u64 a, u64 b, u64 c, u64 res, unsigned int size)
{
	u64 m = x86_emu_mask(size), sign = 1ULL << (size * 8 - 1);
	u64 f = szp_flags(res, size);
	bool carry;

	a &= m;
	b &= m;
	if (size < 8)
		carry = ((a + b + c) >> (size * 8)) & 1;
	else
		carry = res < a || (c && res == a);
	if (carry)
		f |= X86_FL_CF;
	if ((a ^ res) & (b ^ res) & sign)
		f |= X86_FL_OF;
	if ((a ^ b ^ res) & 0x10)
		f |= X86_FL_AF;
	return f;
}

/* a - b - c: CF is the borrow (a < b + c unsigned), OF a signed overflow
 * (the operands differ in sign and the result's sign differs from a's),
 * AF the borrow out of bit 3. */
static u64 sub_flags(u64 a, u64 b, u64 c, u64 res, unsigned int size)
{
	u64 m = x86_emu_mask(size), sign = 1ULL << (size * 8 - 1);
	u64 f = szp_flags(res, size);

	a &= m;
	b &= m;
	if (a < b || (c && a == b))
		f |= X86_FL_CF;
	if ((a ^ b) & (a ^ res) & sign)
		f |= X86_FL_OF;
	if ((a ^ b ^ res) & 0x10)
		f |= X86_FL_AF;
	return f;
}

/* See x86_emu_priv.h. */
u64 x86_emu_alu(unsigned int op, unsigned int size, u64 dst, u64 src, u64 *rflags)
{
	u64 m = x86_emu_mask(size);
	u64 cf = *rflags & X86_FL_CF;
	u64 res, f;

	dst &= m;
	src &= m;
	switch (op) {
	case X86_ALU_ADD:
	case X86_ALU_ADC: {
		u64 c = op == X86_ALU_ADC ? cf : 0;
		res = (dst + src + c) & m;
		f = add_flags(dst, src, c, res, size);
		break;
	}
	case X86_ALU_SUB:
	case X86_ALU_SBB:
	case X86_ALU_CMP: {
		u64 c = op == X86_ALU_SBB ? cf : 0;
		res = (dst - src - c) & m;
		f = sub_flags(dst, src, c, res, size);
		break;
	}
	case X86_ALU_OR:
		res = dst | src;
		f = szp_flags(res, size);
		break;
	case X86_ALU_AND:
	case X86_ALU_TEST:
		res = dst & src;
		f = szp_flags(res, size);
		break;
	case X86_ALU_XOR:
		res = dst ^ src;
		f = szp_flags(res, size);
		break;
	case X86_ALU_INC: /* CF unaffected */
		res = (dst + 1) & m;
		f = (add_flags(dst, 1, 0, res, size) & ~X86_FL_CF) | cf;
		break;
	case X86_ALU_DEC:
		res = (dst - 1) & m;
		f = (sub_flags(dst, 1, 0, res, size) & ~X86_FL_CF) | cf;
		break;
	case X86_ALU_NEG: /* 0 - dst; CF = (dst != 0) */
		res = (0 - dst) & m;
		f = sub_flags(0, dst, 0, res, size);
		break;
	case X86_ALU_NOT: /* no flags */
	default:
		return ~dst & m;
	}
	*rflags = (*rflags & ~X86_FL_ARITH) | f;
	return res;
}

/* See x86_emu_priv.h. */
bool x86_emu_cond(unsigned int cc, u64 rflags)
{
	bool cf = rflags & X86_FL_CF, zf = rflags & X86_FL_ZF;
	bool sf = rflags & X86_FL_SF, of = rflags & X86_FL_OF;
	bool pf = rflags & X86_FL_PF;
	bool r;

	switch ((cc >> 1) & 7) {
	case 0: r = of; break;                   /* O */
	case 1: r = cf; break;                   /* B, C, NAE */
	case 2: r = zf; break;                   /* E, Z */
	case 3: r = cf || zf; break;             /* BE, NA */
	case 4: r = sf; break;                   /* S */
	case 5: r = pf; break;                   /* P, PE */
	case 6: r = sf != of; break;             /* L, NGE */
	default: r = zf || sf != of; break;      /* LE, NG */
	}
	return (cc & 1) ? !r : r;
}
