/*
 * kernel/x86_dec.h - x86 instruction decoder: length, prefixes, opcode,
 * ModRM/SIB, effective-address components and immediates of one
 * instruction, for 16-, 32- and 64-bit code.
 *
 * Used where a guest instruction must be understood by Umbra: the emulator
 * (kernel/x86_emu.h) and instruction-length computation where the CPU gives
 * no next RIP (AMD without NRIPS). It must give the exact length of every
 * valid instruction, and say "invalid" rather than guess.
 *
 * Pure code: no memory access, no side effects. It never reads more than
 * the bytes it is given, and never more than 15.
 *
 * References (revisions to be pinned in docs/references.md): Intel SDM
 * vol. 2 (order no. 325383), ch. 2 "Instruction Format" and appendix A
 * "Opcode Map"; AMD APM vol. 3 (pub. 24594) ch. 1 "Instruction Encoding"
 * and appendix A.
 */
#ifndef UMBRA_KERNEL_X86_DEC_H
#define UMBRA_KERNEL_X86_DEC_H

#include "kernel/types.h"

/* SDM vol. 2 §2.3.11 / APM vol. 3 §1.1: at most 15 bytes; a longer
 * instruction raises #GP(0). */
#define X86_MAX_INSN_LEN 15

/* General registers in encoding order (ModRM.reg/rm, SIB, opcode+r). */
enum x86_reg {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
	X86_REG_RIP = 16,     /* only as an effective-address base */
	X86_REG_NONE = 0xff,
};

/* Segment registers in Sreg encoding order (SDM vol. 2 §3.1.1.3). */
enum x86_seg {
	X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS,
	X86_SEG_NONE = 0xff,
};

/* Code size: the default operand/address size of the code segment.
 * 16: real mode, virtual-8086 mode, or CS.D=0; 32: CS.D=1; 64: CS.L=1 in
 * IA-32e mode. */
enum x86_dec_mode {
	X86_DEC_MODE16 = 2,
	X86_DEC_MODE32 = 4,
	X86_DEC_MODE64 = 8,
};

/* Decoder flags. */
#define X86_DEC_AMD BIT(0) /* decode as an AMD CPU (see x86_dec_decode) */

/* Results of x86_dec_decode. */
enum x86_dec_status {
	X86_DEC_OK = 0,
	X86_DEC_INVALID = -1,     /* raises #UD in this mode */
	X86_DEC_TOO_LONG = -2,    /* more than 15 bytes: #GP(0) */
	X86_DEC_TRUNCATED = -3,   /* needs more bytes than were given */
	X86_DEC_UNDECODABLE = -4, /* an encoding this decoder cannot size */
};

/* Opcode maps. */
enum x86_map {
	X86_MAP_1B,     /* one-byte opcodes */
	X86_MAP_0F,     /* 0F xx (and 3DNow! 0F 0F, opcode 0x0F, suffix in imm) */
	X86_MAP_0F38,   /* 0F 38 xx, VEX/EVEX mmm=2 */
	X86_MAP_0F3A,   /* 0F 3A xx, VEX/EVEX mmm=3 */
	X86_MAP_EVEX5,  /* EVEX map 5 (AVX512-FP16) */
	X86_MAP_EVEX6,  /* EVEX map 6 (AVX512-FP16) */
	X86_MAP_XOP8,   /* AMD XOP maps 8, 9, 0Ah */
	X86_MAP_XOP9,
	X86_MAP_XOPA,
};

/* How the opcode was encoded. */
enum x86_enc {
	X86_ENC_LEGACY, /* legacy prefixes, optional REX */
	X86_ENC_VEX,    /* C4/C5 */
	X86_ENC_EVEX,   /* 62 */
	X86_ENC_XOP,    /* 8F with map >= 8 (AMD) */
};

/* Prefix bytes seen (x86_insn.prefixes). The _SEG bit is set for any
 * segment-override byte, even one ignored in 64-bit mode. */
#define X86_PFX_LOCK BIT(0)     /* F0 */
#define X86_PFX_REPNE BIT(1)    /* F2 */
#define X86_PFX_REP BIT(2)      /* F3 */
#define X86_PFX_OPSIZE BIT(3)   /* 66 */
#define X86_PFX_ADDRSIZE BIT(4) /* 67 */
#define X86_PFX_SEG BIT(5)      /* 26 2E 36 3E 64 65 */
#define X86_PFX_REX BIT(6)      /* a REX prefix is in effect (x86_insn.rex) */

/* REX bits (SDM vol. 2 §2.2.1). */
#define X86_REX_B BIT(0)
#define X86_REX_X BIT(1)
#define X86_REX_R BIT(2)
#define X86_REX_W BIT(3)

/* Effective-address components of a memory operand:
 * offset = base + index * scale + disp, truncated to the address size.
 * With base X86_REG_RIP the base is the address of the next instruction.
 * 16-bit forms are expressed the same way ([BP+SI] is base BP, index SI). */
struct x86_ea {
	u8 base;  /* enum x86_reg, X86_REG_RIP or X86_REG_NONE */
	u8 index; /* enum x86_reg or X86_REG_NONE */
	u8 scale; /* 1, 2, 4 or 8 */
	s64 disp; /* sign-extended displacement; moffs zero-extended */
};

/* One decoded instruction. */
struct x86_insn {
	u8 bytes[X86_MAX_INSN_LEN]; /* the instruction's bytes */
	u8 len;          /* total length, 1..15 */
	u8 mode;         /* enum x86_dec_mode it was decoded for */
	u8 enc;          /* enum x86_enc */
	u8 map;          /* enum x86_map */
	u8 opcode;       /* opcode byte within the map */
	u8 opsize;       /* operand size in bytes: 1 (byte forms), 2, 4, 8 */
	u8 addrsize;     /* address size in bytes: 2, 4, 8 */
	u8 prefixes;     /* X86_PFX_* */
	u8 rex;          /* REX byte in effect, 0 if none */
	u8 rep;          /* 0, 0xF2 or 0xF3: the last of F2/F3 */
	u8 simd_pfx;     /* mandatory prefix: 0, 0x66, 0xF2, 0xF3 (VEX: pp) */
	u8 seg_override; /* enum x86_seg in effect, or X86_SEG_NONE */
	u8 seg;          /* segment of the memory operand (default or override);
			    without one: the override or DS, which is the
			    source segment of string instructions */
	u8 prefix_len;   /* bytes before the opcode (prefixes, escapes, VEX) */
	bool has_modrm;
	bool has_sib;
	bool has_mem;    /* a ModRM memory operand or a moffs operand */
	u8 modrm;
	u8 mod;          /* ModRM.mod */
	u8 reg;          /* ModRM.reg extended by REX.R (0..15) */
	u8 rm;           /* ModRM.rm extended by REX.B (0..15), when mod == 3 */
	u8 sib;
	u8 disp_size;    /* 0, 1, 2, 4 or 8 (moffs) */
	u8 imm_size;     /* bytes of imm: 0, 1, 2, 4 or 8 */
	u8 imm2_size;    /* bytes of imm2: 0, 1 or 2 */
	u64 imm;         /* first immediate, zero-extended (see x86_dec_simm) */
	u64 imm2;        /* second immediate: ENTER's Ib, far pointer's selector,
			    EXTRQ/INSERTQ's second Ib */
	struct x86_ea ea; /* valid when has_mem */
	u8 vex[4];       /* VEX/EVEX/XOP prefix bytes, vex[0] = C4/C5/62/8F */
	u8 vex_len;
};

/*
 * Decode one instruction from @bytes (@avail bytes readable, only the
 * first 15 are ever read) as code of size @mode. @flags: X86_DEC_AMD
 * selects the AMD rules where vendors differ: in 64-bit mode a 66 prefix
 * shortens the displacement of near CALL/JMP/Jcc to 16 bits (Intel ignores
 * it, SDM vol. 2 §2.2.1.3 vs APM vol. 3 §1.2.7), XOP is decoded, and LOCK
 * MOV CRn (the CR8 alias) is valid.
 *
 * Returns X86_DEC_OK with *@insn filled; X86_DEC_INVALID for an opcode
 * that raises #UD in @mode (undefined opcodes, opcodes invalid in 64-bit
 * mode, misplaced LOCK, prefixes before VEX); X86_DEC_TOO_LONG when the
 * instruction would exceed 15 bytes; X86_DEC_TRUNCATED when @avail bytes
 * were not enough (fetch more and call again); X86_DEC_UNDECODABLE for an
 * encoding the decoder cannot size (EVEX maps 4 and 7, APX). On error
 * insn->len is the number of bytes examined.
 *
 * Limitations: VEX/EVEX/XOP instructions are sized but their operands are
 * not described beyond ModRM (EVEX R'/X/V' register extensions are not
 * applied); D5 in 64-bit mode is AAD (#UD), not APX REX2; opcode validity
 * that depends on CPU features (SSE levels, 3DNow!, VMX) is not checked.
 */
int x86_dec_decode(struct x86_insn *insn, const u8 *bytes, size_t avail, enum x86_dec_mode mode,
		   unsigned int flags);

/* The first immediate sign-extended from its size to 64 bits. */
static inline s64 x86_dec_simm(const struct x86_insn *insn)
{
	switch (insn->imm_size) {
	case 1: return (s8)insn->imm;
	case 2: return (s16)insn->imm;
	case 4: return (s32)insn->imm;
	default: return (s64)insn->imm;
	}
}

/* Whether byte-register number @reg of @insn names AH/CH/DH/BH (registers
 * 4..7 without any REX prefix, SDM vol. 2 §3.7.2.1). */
static inline bool x86_dec_byte_reg_high(const struct x86_insn *insn, unsigned int reg)
{
	return !(insn->prefixes & X86_PFX_REX) && reg >= 4 && reg < 8;
}

/* Short name of a decoder status, for messages. */
const char *x86_dec_status_name(int status);

#endif
