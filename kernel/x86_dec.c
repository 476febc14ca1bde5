/*
 * kernel/x86_dec.c - the x86 instruction decoder (see kernel/x86_dec.h).
 *
 * Order of work, as the processor reads an instruction (SDM vol. 2 §2.1,
 * figure 2-1): legacy prefixes and REX, the opcode (with its escapes, or a
 * VEX/EVEX/XOP prefix), ModRM, SIB, displacement, immediate. The opcode
 * tables (kernel/x86_dec_tables.c) give each opcode's shape; ModRM.reg-
 * dependent groups are finished in group_fixup().
 *
 * It owns no state and touches nothing but *insn.
 */
#include "kernel/x86_dec.h"
#include "kernel/x86_dec_tables.h"
#include "kernel/string.h"

struct dec {
	struct x86_insn *in;
	const u8 *bytes;
	size_t avail;
	unsigned int pos;
	unsigned int flags;
	bool pfx66;        /* operand-size prefix seen */
	bool pfx67;        /* address-size prefix seen */
	u8 ext;            /* REX.WRXB, or the same bits from VEX/EVEX/XOP */
	unsigned int imm2; /* bytes of a second immediate (EXTRQ, INSERTQ) */
};

/* Byte @ahead bytes past the cursor. Reading byte 16 means the instruction
 * is longer than 15 bytes (#GP); reading past @avail means the caller has
 * to supply more. */
static int peek(struct dec *d, unsigned int ahead, u8 *b)
{
	unsigned int p = d->pos + ahead;

	if (p >= X86_MAX_INSN_LEN)
		return X86_DEC_TOO_LONG;
	if (p >= d->avail)
		return X86_DEC_TRUNCATED;
	*b = d->bytes[p];
	return X86_DEC_OK;
}

static int next(struct dec *d, u8 *b)
{
	int r = peek(d, 0, b);

	if (r == X86_DEC_OK)
		d->pos++;
	return r;
}

/* A little-endian field of @n bytes, zero-extended. */
static int next_le(struct dec *d, unsigned int n, u64 *v)
{
	*v = 0;
	for (unsigned int i = 0; i < n; i++) {
		u8 b;
		int r = next(d, &b);
		if (r)
			return r;
		*v |= (u64)b << (8 * i);
	}
	return X86_DEC_OK;
}

/*
 * Legacy prefixes (SDM vol. 2 §2.1.1) and REX (§2.2.1). Any number of
 * prefixes may precede the opcode within the 15-byte limit. Within a group
 * the last one wins: F2/F3 (insn->rep), segment overrides. In 64-bit mode
 * the CS/DS/ES/SS overrides are ignored (§3.3.7.1) and leave an earlier
 * FS/GS override in force. A REX prefix counts only when it immediately
 * precedes the opcode (§2.2.1: "other placements are ignored"), so a
 * legacy prefix after REX cancels it; of several REX bytes the last wins.
 */
static int decode_prefixes(struct dec *d)
{
	struct x86_insn *in = d->in;

	for (;;) {
		u8 b;
		int r = peek(d, 0, &b);
		if (r)
			return r;
		switch (b) {
		case 0xf0:
			in->prefixes |= X86_PFX_LOCK;
			break;
		case 0xf2:
		case 0xf3:
			in->prefixes |= b == 0xf2 ? X86_PFX_REPNE : X86_PFX_REP;
			in->rep = b;
			break;
		case 0x66:
			in->prefixes |= X86_PFX_OPSIZE;
			d->pfx66 = true;
			break;
		case 0x67:
			in->prefixes |= X86_PFX_ADDRSIZE;
			d->pfx67 = true;
			break;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			in->prefixes |= X86_PFX_SEG;
			if (in->mode != X86_DEC_MODE64)
				in->seg_override = (b >> 3) & 3; /* ES CS SS DS */
			break;
		case 0x64:
		case 0x65:
			in->prefixes |= X86_PFX_SEG;
			in->seg_override = b == 0x64 ? X86_SEG_FS : X86_SEG_GS;
			break;
		default:
			if (in->mode == X86_DEC_MODE64 && (b & 0xf0) == 0x40) {
				in->rex = b;
				d->pos++;
				continue;
			}
			if (in->rex)
				in->prefixes |= X86_PFX_REX;
			return X86_DEC_OK;
		}
		in->rex = 0;
		d->pos++;
	}
}

/* VEX-map-1 (0F) opcodes that take an imm8 (SDM vol. 2 table A-3: the
 * shuffles, shift groups 12-14, CMPPS, PINSRW, PEXTRW, SHUFPS). */
static bool map0f_simd_imm8(u8 op)
{
	return (op >= 0x70 && op <= 0x73) || op == 0xc2 || op == 0xc4 || op == 0xc5 || op == 0xc6;
}

static void set_simd_pfx_from_pp(struct x86_insn *in, unsigned int pp)
{
	static const u8 pfx[4] = { 0, 0x66, 0xf3, 0xf2 };

	in->simd_pfx = pfx[pp & 3];
}

/*
 * VEX (C4/C5, SDM vol. 2 §2.3.5), EVEX (62, §2.7.1) and XOP (8F, APM
 * vol. 3 §1.8). Their R/X/B/W bits are stored inverted (R/X/B) in the
 * prefix. A LOCK, 66, F2, F3 or REX prefix before them is #UD (SDM §2.3.2,
 * APM §1.8.1). Sets *attr to the shape of what follows the opcode.
 */
static int decode_vex(struct dec *d, u8 op, u16 *attr)
{
	struct x86_insn *in = d->in;
	u8 p0, p1 = 0, p2 = 0, opc;
	unsigned int map, w = 0;
	int r;

	if ((in->prefixes & (X86_PFX_LOCK | X86_PFX_OPSIZE | X86_PFX_REP | X86_PFX_REPNE)) || in->rex)
		return X86_DEC_INVALID;
	in->vex[0] = op;
	if ((r = next(d, &p0)))
		return r;
	in->vex[1] = p0;
	if (op == 0xc5) {
		/* C5: R vvvv L pp, map 0F */
		in->enc = X86_ENC_VEX;
		in->vex_len = 2;
		map = 1;
		d->ext = (p0 & 0x80) ? 0 : X86_REX_R;
		set_simd_pfx_from_pp(in, p0);
	} else {
		if ((r = next(d, &p1)))
			return r;
		in->vex[2] = p1;
		d->ext = (~p0 >> 5) & 7; /* R X B */
		w = p1 >> 7;
		set_simd_pfx_from_pp(in, p1);
		if (op == 0x62) {
			/* EVEX P0 = R X B R' B4 mmm, P1 = W vvvv U pp,
			 * P2 = z L'L b V' aaa */
			if ((r = next(d, &p2)))
				return r;
			in->vex[3] = p2;
			in->enc = X86_ENC_EVEX;
			in->vex_len = 4;
			map = p0 & 7;
		} else {
			in->enc = op == 0xc4 ? X86_ENC_VEX : X86_ENC_XOP;
			in->vex_len = 3;
			map = p0 & 0x1f;
		}
	}
	if (in->mode != X86_DEC_MODE64)
		d->ext &= ~(X86_REX_R | X86_REX_X | X86_REX_B);
	if (w && in->mode == X86_DEC_MODE64)
		d->ext |= X86_REX_W;
	if ((r = next(d, &opc)))
		return r;
	in->opcode = opc;
	*attr = DT_MODRM;

	switch (in->enc) {
	case X86_ENC_VEX:
		if (map < 1 || map > 3)
			return X86_DEC_INVALID;
		in->map = map; /* X86_MAP_0F .. X86_MAP_0F3A */
		if (map == 1 && opc == 0x77)
			*attr = 0; /* VZEROUPPER/VZEROALL: no ModRM */
		else if (map == 3 || (map == 1 && map0f_simd_imm8(opc)))
			*attr |= DT_I_B;
		break;
	case X86_ENC_EVEX:
		if (map == 4 || map == 7)
			return X86_DEC_UNDECODABLE; /* APX promoted maps */
		if (map == 0)
			return X86_DEC_INVALID;
		in->map = map <= 3 ? map : (map == 5 ? X86_MAP_EVEX5 : X86_MAP_EVEX6);
		if (map == 3 || (map == 1 && map0f_simd_imm8(opc)))
			*attr |= DT_I_B;
		break;
	default: /* XOP: map 8 has imm8, map 9 none, map 0Ah imm32 */
		if (map == 8) {
			in->map = X86_MAP_XOP8;
			*attr |= DT_I_B;
		} else if (map == 9) {
			in->map = X86_MAP_XOP9;
		} else if (map == 10) {
			in->map = X86_MAP_XOPA;
			*attr |= DT_I_Z; /* always 4 bytes: see decode_imm */
		} else {
			return X86_DEC_INVALID;
		}
		break;
	}
	return X86_DEC_OK;
}

/* Operand and address size (SDM vol. 2 §2.2.1.2 table 2-4 and §3.6,
 * APM vol. 3 §1.2.2-1.2.3). Near branches in 64-bit mode: Intel forces
 * 64-bit operands, AMD honors 66 (APM vol. 3 §1.2.7, "near branches"). */
static void set_sizes(struct dec *d, u16 attr)
{
	struct x86_insn *in = d->in;

	bool m64 = in->mode == X86_DEC_MODE64;
	bool big = (in->mode == X86_DEC_MODE32) != d->pfx66;

	if (m64)
		in->addrsize = d->pfx67 ? 4 : 8;
	else
		in->addrsize = ((in->mode == X86_DEC_MODE32) != d->pfx67) ? 4 : 2;

	if (attr & DT_BYTE)
		in->opsize = 1;
	else if (attr & DT_CRDR) /* MOV CR/DR: prefixes ignored */
		in->opsize = m64 ? 8 : 4;
	else if (!m64)
		in->opsize = big ? 4 : 2;
	else if (d->ext & X86_REX_W)
		in->opsize = 8;
	else if ((attr & DT_F64) && !(d->flags & X86_DEC_AMD))
		in->opsize = 8;
	else if (attr & (DT_D64 | DT_F64))
		in->opsize = d->pfx66 ? 2 : 8;
	else
		in->opsize = d->pfx66 ? 2 : 4;
}

/*
 * Finish ModRM.reg-dependent groups (SDM vol. 2 table A-6) and opcodes
 * whose shape depends on a mandatory prefix. Returns X86_DEC_INVALID for
 * encodings that are #UD.
 */
static int group_fixup(struct dec *d, u16 *attr)
{
	struct x86_insn *in = d->in;
	unsigned int reg = (in->modrm >> 3) & 7;
	u8 op = in->opcode;

	if (in->map == X86_MAP_1B) {
		switch (op) {
		case 0x80: case 0x81: case 0x82: case 0x83:
			if (reg != 7) /* not CMP */
				*attr |= DT_LOCK;
			break;
		case 0x8f: /* group 1A: only POP Ev */
			if (reg != 0)
				return X86_DEC_INVALID;
			break;
		case 0xc6: case 0xc7: /* group 11: MOV; XABORT Ib / XBEGIN Jz */
			if (reg != 0 && in->modrm != 0xf8)
				return X86_DEC_INVALID;
			break;
		case 0xf6: case 0xf7: /* group 3: TEST (/0, /1) takes an imm */
			if (reg < 2)
				*attr |= op == 0xf6 ? DT_I_B : DT_I_Z;
			else if (reg < 4) /* NOT, NEG */
				*attr |= DT_LOCK;
			break;
		case 0xfe: /* group 4: INC/DEC Eb only */
			if (reg >= 2)
				return X86_DEC_INVALID;
			*attr |= DT_LOCK;
			break;
		case 0xff: /* group 5 */
			if (reg < 2)
				*attr |= DT_LOCK;
			else if (reg == 2 || reg == 4)
				*attr |= DT_F64; /* CALL/JMP near Ev */
			else if ((reg == 3 || reg == 5) && in->mod == 3)
				return X86_DEC_INVALID; /* far needs memory */
			else if (reg == 6)
				*attr |= DT_D64; /* PUSH Ev */
			else if (reg == 7)
				return X86_DEC_INVALID;
			break;
		}
		return X86_DEC_OK;
	}
	if (in->map != X86_MAP_0F)
		return X86_DEC_OK;
	switch (op) {
	case 0x78: /* 66: EXTRQ xmm,Ib,Ib; F2: INSERTQ xmm,xmm,Ib,Ib (AMD
		    * SSE4a, APM vol. 4); none: VMREAD */
		if (in->simd_pfx == 0x66 || in->simd_pfx == 0xf2) {
			*attr |= DT_I_B;
			d->imm2 = 1;
		}
		break;
	case 0xb8: /* F3: POPCNT; otherwise JMPE (IA-64 only): #UD */
		if (in->simd_pfx != 0xf3)
			return X86_DEC_INVALID;
		break;
	case 0xba: /* group 8: BT, BTS, BTR, BTC Ev,Ib */
		if (reg < 4)
			return X86_DEC_INVALID;
		if (reg > 4)
			*attr |= DT_LOCK;
		break;
	case 0xc7: /* group 9: CMPXCHG8B/16B, memory only, lockable */
		if (reg == 1)
			*attr |= DT_LOCK | DT_MEM;
		break;
	}
	return X86_DEC_OK;
}

/*
 * The memory operand of a ModRM byte with mod != 3: 16-bit forms (SDM
 * vol. 2 table 2-1), 32/64-bit forms with SIB (tables 2-2, 2-3), and
 * RIP-relative addressing in 64-bit mode (§2.2.1.6). REX.B and REX.X do
 * not change which forms are special: rm=100 always means SIB, mod=00
 * rm=101 always means disp32 (RIP-relative in 64-bit mode), and a SIB
 * base of 101 with mod=00 always means "no base, disp32"; but index 100
 * means "no index" only without REX.X (R12 is a valid index).
 * The default segment is SS when the base is BP/EBP/RBP or SP/ESP/RSP
 * (§3.7.5: not R12/R13), else DS.
 */
static int decode_mem(struct dec *d)
{
	static const u8 base16[8] = { X86_RBX, X86_RBX, X86_RBP, X86_RBP,
				      X86_REG_NONE, X86_REG_NONE, X86_RBP, X86_RBX };
	static const u8 index16[8] = { X86_RSI, X86_RDI, X86_RSI, X86_RDI,
				       X86_RSI, X86_RDI, X86_REG_NONE, X86_REG_NONE };
	struct x86_insn *in = d->in;
	struct x86_ea *ea = &in->ea;
	unsigned int rm = in->modrm & 7;
	unsigned int disp = 0;
	bool ss = false;
	u64 v;
	int r;

	in->has_mem = true;
	ea->scale = 1;
	if (in->addrsize == 2) {
		if (in->mod == 0 && rm == 6) {
			disp = 2;
		} else {
			ea->base = base16[rm];
			ea->index = index16[rm];
			ss = ea->base == X86_RBP;
		}
		if (in->mod == 1)
			disp = 1;
		else if (in->mod == 2)
			disp = 2;
	} else {
		if (rm == 4) {
			u8 sib;
			if ((r = next(d, &sib)))
				return r;
			in->has_sib = true;
			in->sib = sib;
			unsigned int idx = ((sib >> 3) & 7) | ((d->ext & X86_REX_X) ? 8 : 0);
			unsigned int base = sib & 7;
			ea->scale = 1 << (sib >> 6);
			ea->index = idx == 4 ? X86_REG_NONE : idx;
			if (base == 5 && in->mod == 0) {
				disp = 4;
			} else {
				ea->base = base | ((d->ext & X86_REX_B) ? 8 : 0);
				ss = ea->base == X86_RSP || ea->base == X86_RBP;
			}
		} else if (rm == 5 && in->mod == 0) {
			disp = 4;
			if (in->mode == X86_DEC_MODE64)
				ea->base = X86_REG_RIP;
		} else {
			ea->base = rm | ((d->ext & X86_REX_B) ? 8 : 0);
			ss = ea->base == X86_RBP;
		}
		if (in->mod == 1)
			disp = 1;
		else if (in->mod == 2)
			disp = 4;
	}
	if ((r = next_le(d, disp, &v)))
		return r;
	in->disp_size = disp;
	ea->disp = disp == 1 ? (s8)v : disp == 2 ? (s16)v : (s32)v;
	if (ss)
		in->seg = X86_SEG_SS;
	return X86_DEC_OK;
}

/* Immediates (SDM vol. 2 appendix A.2.2). */
static int decode_imm(struct dec *d, u16 attr)
{
	struct x86_insn *in = d->in;
	unsigned int n = 0, n2 = d->imm2;
	int r;

	switch (attr & DT_IMM_MASK) {
	case DT_I_B: n = 1; break;
	case DT_I_W: n = 2; break;
	case DT_I_Z:
	case DT_I_JZ:
		n = in->opsize == 2 && in->enc != X86_ENC_XOP ? 2 : 4;
		break;
	case DT_I_V: n = in->opsize; break;
	case DT_I_AP:
		n = in->opsize == 2 ? 2 : 4;
		n2 = 2;
		break;
	case DT_I_WB:
		n = 2;
		n2 = 1;
		break;
	case DT_I_MOFFS: {
		u64 v;
		if ((r = next_le(d, in->addrsize, &v)))
			return r;
		in->has_mem = true;
		in->disp_size = in->addrsize;
		in->ea.scale = 1;
		in->ea.disp = (s64)v;
		return X86_DEC_OK;
	}
	}
	if ((r = next_le(d, n, &in->imm)))
		return r;
	in->imm_size = n;
	if ((r = next_le(d, n2, &in->imm2)))
		return r;
	in->imm2_size = n2;
	return X86_DEC_OK;
}

/* Whether a LOCK prefix is allowed (SDM vol. 2 "LOCK": only the listed
 * read-modify-write instructions, only with a memory destination; APM
 * vol. 3 §1.2.5; AMD's LOCK MOV CR0 is the CR8 alias, APM vol. 2 §3.1.5). */
static bool lock_ok(struct dec *d, u16 attr)
{
	struct x86_insn *in = d->in;

	if ((d->flags & X86_DEC_AMD) && in->map == X86_MAP_0F &&
	    (in->opcode == 0x20 || in->opcode == 0x22))
		return true;
	return (attr & DT_LOCK) && in->has_modrm && in->mod != 3;
}

static int decode(struct dec *d)
{
	struct x86_insn *in = d->in;
	u16 attr;
	u8 op;
	int r;

	if ((r = decode_prefixes(d)))
		return r;
	d->ext = in->rex & 0xf;
	in->simd_pfx = in->rep ? in->rep : (d->pfx66 ? 0x66 : 0);
	if ((r = next(d, &op)))
		return r;

	if (op == 0x0f) {
		u8 op2;
		if ((r = next(d, &op2)))
			return r;
		if (op2 == 0x38 || op2 == 0x3a) {
			in->map = op2 == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
			if ((r = next(d, &in->opcode)))
				return r;
			attr = op2 == 0x38 ? DT_MODRM : DT_MODRM | DT_I_B;
		} else if (op2 == 0x0f) {
			/* 3DNow!: 0F 0F ModRM ... imm8-opcode (APM vol. 3
			 * §1.6) */
			in->map = X86_MAP_0F;
			in->opcode = 0x0f;
			attr = DT_MODRM | DT_I_B;
		} else {
			in->map = X86_MAP_0F;
			in->opcode = op2;
			attr = x86_dec_table_0f[op2];
		}
	} else {
		bool vex = false;
		u8 nb;
		if (op == 0xc4 || op == 0xc5 || op == 0x62) {
			/* Outside 64-bit mode these are LES/LDS/BOUND unless
			 * the next byte looks like a register ModRM, which
			 * those do not allow (SDM vol. 2 §2.3.5, §2.7.1). */
			if (in->mode == X86_DEC_MODE64) {
				vex = true;
			} else {
				if ((r = peek(d, 0, &nb)))
					return r;
				vex = (nb & 0xc0) == 0xc0;
			}
		} else if (op == 0x8f) {
			/* XOP: map_select >= 8 cannot be POP's ModRM.reg = 0
			 * (APM vol. 3 §1.8) */
			if ((r = peek(d, 0, &nb)))
				return r;
			if ((nb & 0x1f) >= 8) {
				if (!(d->flags & X86_DEC_AMD))
					return X86_DEC_INVALID;
				vex = true;
			}
		}
		if (vex) {
			if ((r = decode_vex(d, op, &attr)))
				return r;
		} else {
			in->map = X86_MAP_1B;
			in->opcode = op;
			attr = x86_dec_table_1b[op];
		}
	}
	in->prefix_len = d->pos - 1;

	if (attr & DT_INV)
		return X86_DEC_INVALID;
	if ((attr & DT_I64) && in->mode == X86_DEC_MODE64)
		return X86_DEC_INVALID;

	if (attr & DT_MODRM) {
		if ((r = next(d, &in->modrm)))
			return r;
		in->has_modrm = true;
		in->mod = in->modrm >> 6;
		in->reg = ((in->modrm >> 3) & 7) | ((d->ext & X86_REX_R) ? 8 : 0);
		in->rm = (in->modrm & 7) | ((d->ext & X86_REX_B) ? 8 : 0);
		if (attr & DT_CRDR)
			in->mod = 3; /* SDM vol. 2 "MOV—Move to/from Control
				      * Registers": mod bits are ignored */
		if (in->enc == X86_ENC_LEGACY && (r = group_fixup(d, &attr)))
			return r;
		if ((attr & DT_MEM) && in->mod == 3)
			return X86_DEC_INVALID;
	}
	if ((in->prefixes & X86_PFX_LOCK) && !lock_ok(d, attr))
		return X86_DEC_INVALID;

	set_sizes(d, attr);
	in->seg = X86_SEG_DS;
	if (in->has_modrm && in->mod != 3 && (r = decode_mem(d)))
		return r;
	if (in->seg_override != X86_SEG_NONE)
		in->seg = in->seg_override;
	return decode_imm(d, attr);
}

/* See x86_dec.h. */
int x86_dec_decode(struct x86_insn *insn, const u8 *bytes, size_t avail, enum x86_dec_mode mode,
		   unsigned int flags)
{
	struct dec d = { .in = insn, .bytes = bytes, .avail = avail, .flags = flags };
	int r;

	memset(insn, 0, sizeof(*insn));
	insn->mode = mode;
	insn->seg_override = X86_SEG_NONE;
	insn->seg = X86_SEG_NONE;
	insn->ea.base = X86_REG_NONE;
	insn->ea.index = X86_REG_NONE;
	if (mode != X86_DEC_MODE16 && mode != X86_DEC_MODE32 && mode != X86_DEC_MODE64)
		return X86_DEC_INVALID;
	r = decode(&d);
	insn->len = d.pos;
	if (d.pos)
		memcpy(insn->bytes, bytes, d.pos);
	return r;
}

/* See x86_dec.h. */
const char *x86_dec_status_name(int status)
{
	switch (status) {
	case X86_DEC_OK: return "ok";
	case X86_DEC_INVALID: return "invalid opcode";
	case X86_DEC_TOO_LONG: return "longer than 15 bytes";
	case X86_DEC_TRUNCATED: return "truncated";
	case X86_DEC_UNDECODABLE: return "undecodable";
	default: return "?";
	}
}
