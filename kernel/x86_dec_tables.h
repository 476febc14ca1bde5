/*
 * kernel/x86_dec_tables.h - private to the decoder: per-opcode attributes
 * of the one-byte and 0F opcode maps (kernel/x86_dec_tables.c).
 *
 * An attribute word says whether the opcode has a ModRM byte, what
 * immediate follows, its operand-size rule and where it is invalid: all
 * that is needed to size any instruction. Group opcodes whose size or
 * validity depends on ModRM.reg are marked DT_GROUP and finished by code.
 */
#ifndef UMBRA_KERNEL_X86_DEC_TABLES_H
#define UMBRA_KERNEL_X86_DEC_TABLES_H

#include "kernel/types.h"

/* Immediate kinds (SDM vol. 2 appendix A.2.2 operand-type codes). */
enum {
	DT_I_NONE = 0,
	DT_I_B,     /* Ib, Jb: 1 byte */
	DT_I_W,     /* Iw: 2 bytes */
	DT_I_Z,     /* Iz: 2 bytes with 16-bit operands, else 4 */
	DT_I_V,     /* Iv: operand size (MOV r, imm64 with REX.W) */
	DT_I_AP,    /* Ap: far pointer, 2 + 2 or 4 + 2 bytes */
	DT_I_MOFFS, /* Ob/Ov: address size */
	DT_I_WB,    /* ENTER: Iw then Ib */
	DT_I_JZ,    /* Jz of near CALL/JMP/Jcc: vendor rule in 64-bit mode */
};

#define DT_IMM_MASK 0x000f
#define DT_MODRM BIT(4)   /* ModRM follows the opcode */
#define DT_BYTE BIT(5)    /* byte operands: operand size 1 */
#define DT_INV BIT(6)     /* undefined opcode: #UD in every mode */
#define DT_I64 BIT(7)     /* invalid in 64-bit mode */
#define DT_D64 BIT(8)     /* 64-bit default operand size in 64-bit mode */
#define DT_F64 BIT(9)     /* near branch: 64-bit operand size forced (Intel) */
#define DT_GROUP BIT(10)  /* ModRM.reg-dependent: finished by decoder code */
#define DT_LOCK BIT(11)   /* LOCK allowed (with a memory operand) */
#define DT_CRDR BIT(12)   /* MOV CR/DR: ModRM.mod is ignored (always reg) */
#define DT_MEM BIT(13)    /* ModRM must name memory: mod == 3 is #UD */

extern const u16 x86_dec_table_1b[256];
extern const u16 x86_dec_table_0f[256];

#endif
