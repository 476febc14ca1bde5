/*
 * kernel/x86_dec_tables.c - attribute tables of the one-byte and two-byte
 * (0F) opcode maps, transcribed from Intel SDM vol. 2 appendix A,
 * tables, and checked against AMD APM vol. 3 appendix A,
 * tables. Attribute bits are described in x86_dec_tables.h.
 *
 * Prefix bytes (26 2E 36 3E 64-67 F0 F2 F3), REX (40-4F in 64-bit mode),
 * the escapes (0F, 0F 38, 0F 3A, 0F 0F) and VEX/EVEX/XOP (C4 C5 62 8F) are
 * consumed by the decoder before these tables are consulted; their entries
 * describe the opcode's meaning when it is reached as an opcode (e.g. C4
 * as LES in 32-bit code).
 */
#include "kernel/x86_dec_tables.h"

#define M DT_MODRM
#define B DT_BYTE
#define IB DT_I_B
#define IW DT_I_W
#define IZ DT_I_Z
#define IV DT_I_V
#define AP DT_I_AP
#define MO DT_I_MOFFS
#define WB DT_I_WB
#define JZ DT_I_JZ
#define INV DT_INV
#define I64 DT_I64
#define D64 DT_D64
#define F64 DT_F64
#define GRP DT_GROUP
#define LK DT_LOCK
#define MEM DT_MEM

/* The arithmetic rows 00-3F: Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / rAX,Iz;
 * LOCK is valid on the two forms with a memory destination. */
#define ALU_ROW(op)                                                  \
	[(op) + 0] = M | B | LK, [(op) + 1] = M | LK, [(op) + 2] = M | B, \
	[(op) + 3] = M, [(op) + 4] = IB | B, [(op) + 5] = IZ

const u16 x86_dec_table_1b[256] = {
	ALU_ROW(0x00),                    /* ADD */
	[0x06] = I64, [0x07] = I64,       /* PUSH/POP ES */
	ALU_ROW(0x08),                    /* OR */
	[0x0e] = I64,                     /* PUSH CS; 0F is the escape */
	ALU_ROW(0x10),                    /* ADC */
	[0x16] = I64, [0x17] = I64,       /* PUSH/POP SS */
	ALU_ROW(0x18),                    /* SBB */
	[0x1e] = I64, [0x1f] = I64,       /* PUSH/POP DS */
	ALU_ROW(0x20),                    /* AND; 26 = ES: */
	[0x27] = I64,                     /* DAA */
	ALU_ROW(0x28),                    /* SUB; 2E = CS: */
	[0x2f] = I64,                     /* DAS */
	ALU_ROW(0x30),                    /* XOR; 36 = SS: */
	[0x37] = I64,                     /* AAA */
	[0x38] = M | B, [0x39] = M, [0x3a] = M | B, [0x3b] = M,
	[0x3c] = IB | B, [0x3d] = IZ,     /* CMP: never locked; 3E = DS: */
	[0x3f] = I64,                     /* AAS */
	/* 40-4F INC/DEC r (REX in 64-bit mode): no operands bytes */
	[0x50 ... 0x5f] = D64,            /* PUSH/POP r */
	[0x60] = I64, [0x61] = I64,       /* PUSHA/POPA */
	[0x62] = M | I64,                 /* BOUND (EVEX in 64-bit mode) */
	[0x63] = M,                       /* ARPL / MOVSXD (64-bit) */
	/* 64-67 prefixes */
	[0x68] = IZ | D64,                /* PUSH Iz */
	[0x69] = M | IZ,                  /* IMUL Gv,Ev,Iz */
	[0x6a] = IB | D64,                /* PUSH Ib */
	[0x6b] = M | IB,                  /* IMUL Gv,Ev,Ib */
	[0x6c] = B, [0x6d] = 0,           /* INS */
	[0x6e] = B, [0x6f] = 0,           /* OUTS */
	[0x70 ... 0x7f] = IB | F64,       /* Jcc Jb */
	[0x80] = M | IB | B | GRP,        /* group 1 */
	[0x81] = M | IZ | GRP,
	[0x82] = M | IB | B | I64 | GRP,
	[0x83] = M | IB | GRP,
	[0x84] = M | B, [0x85] = M,       /* TEST */
	[0x86] = M | B | LK, [0x87] = M | LK, /* XCHG */
	[0x88] = M | B, [0x89] = M, [0x8a] = M | B, [0x8b] = M, /* MOV */
	[0x8c] = M, [0x8d] = M | MEM, [0x8e] = M, /* MOV Sreg, LEA */
	[0x8f] = M | D64 | GRP,           /* group 1A: POP Ev (XOP) */
	/* 90-99 XCHG/NOP, CBW, CWD: no operand bytes */
	[0x9a] = AP | I64,                /* CALLF Ap */
	[0x9c] = D64, [0x9d] = D64,       /* PUSHF/POPF */
	[0xa0] = MO | B, [0xa1] = MO,     /* MOV AL/rAX, moffs */
	[0xa2] = MO | B, [0xa3] = MO,     /* MOV moffs, AL/rAX */
	[0xa4] = B, [0xa6] = B,           /* MOVS, CMPS */
	[0xa8] = IB | B, [0xa9] = IZ,     /* TEST AL/rAX, imm */
	[0xaa] = B, [0xac] = B, [0xae] = B, /* STOS, LODS, SCAS */
	[0xb0 ... 0xb7] = IB | B,         /* MOV r8, Ib */
	[0xb8 ... 0xbf] = IV,             /* MOV r, Iv */
	[0xc0] = M | IB | B, [0xc1] = M | IB, /* group 2 */
	[0xc2] = IW | F64, [0xc3] = F64,  /* RET near */
	[0xc4] = M | I64, [0xc5] = M | I64, /* LES/LDS (VEX) */
	[0xc6] = M | IB | B | GRP,        /* group 11: MOV Eb,Ib; XABORT */
	[0xc7] = M | IZ | GRP,            /* group 11: MOV Ev,Iz; XBEGIN */
	[0xc8] = WB | D64,                /* ENTER Iw,Ib */
	[0xc9] = D64,                     /* LEAVE */
	[0xca] = IW,                      /* RET far Iw */
	[0xcd] = IB,                      /* INT Ib */
	[0xce] = I64,                     /* INTO */
	[0xd0] = M | B, [0xd1] = M, [0xd2] = M | B, [0xd3] = M, /* group 2 */
	[0xd4] = IB | I64, [0xd5] = IB | I64, /* AAM, AAD */
	[0xd6] = INV,                     /* reserved (undocumented SALC) */
	[0xd8 ... 0xdf] = M,              /* x87 escapes */
	[0xe0 ... 0xe3] = IB | F64,       /* LOOPcc, JrCXZ */
	[0xe4] = IB | B, [0xe5] = IB,     /* IN imm */
	[0xe6] = IB | B, [0xe7] = IB,     /* OUT imm */
	[0xe8] = JZ | F64, [0xe9] = JZ | F64, /* CALL/JMP rel */
	[0xea] = AP | I64,                /* JMPF Ap */
	[0xeb] = IB | F64,                /* JMP rel8 */
	[0xec] = B, [0xee] = B,           /* IN/OUT DX */
	/* F0 F2 F3 prefixes; F1 INT1, F4 HLT, F5 CMC: no operands */
	[0xf6] = M | B | GRP, [0xf7] = M | GRP, /* group 3 */
	[0xfe] = M | B | GRP, [0xff] = M | GRP, /* groups 4, 5 */
};

const u16 x86_dec_table_0f[256] = {
	[0x00] = M, [0x01] = M,           /* groups 6, 7 */
	[0x02] = M, [0x03] = M,           /* LAR, LSL */
	[0x04] = INV,
	/* 05 SYSCALL, 06 CLTS, 07 SYSRET, 08 INVD, 09 WBINVD */
	[0x0a] = INV,
	/* 0B UD2 */
	[0x0c] = INV,
	[0x0d] = M,                       /* PREFETCHW / NOP Ev */
	/* 0E FEMMS; 0F is the 3DNow! escape */
	[0x10 ... 0x1f] = M,              /* SSE moves, prefetch, hint NOPs */
	[0x20 ... 0x23] = M | DT_CRDR,    /* MOV CR/DR */
	[0x24 ... 0x27] = INV,            /* MOV TR (386/486 only) */
	[0x28 ... 0x2f] = M,
	/* 30 WRMSR .. 35 SYSEXIT */
	[0x36] = INV,
	/* 37 GETSEC; 38 escape */
	[0x39] = INV,
	/* 3A escape */
	[0x3b ... 0x3f] = INV,
	[0x40 ... 0x4f] = M,              /* CMOVcc */
	[0x50 ... 0x6f] = M,              /* SSE/MMX */
	[0x70 ... 0x73] = M | IB,         /* PSHUF*, groups 12-14 */
	[0x74 ... 0x76] = M,
	/* 77 EMMS */
	[0x78] = M | GRP,                 /* VMREAD / EXTRQ, INSERTQ (Ib Ib) */
	[0x79] = M,                       /* VMWRITE / EXTRQ, INSERTQ */
	[0x7a] = INV, [0x7b] = INV,
	[0x7c ... 0x7f] = M,
	[0x80 ... 0x8f] = JZ | F64,       /* Jcc Jz */
	[0x90 ... 0x9f] = M | B,          /* SETcc */
	[0xa0] = D64, [0xa1] = D64,       /* PUSH/POP FS; A2 CPUID */
	[0xa3] = M,                       /* BT */
	[0xa4] = M | IB, [0xa5] = M,      /* SHLD */
	[0xa6] = INV, [0xa7] = INV,
	[0xa8] = D64, [0xa9] = D64,       /* PUSH/POP GS; AA RSM */
	[0xab] = M | LK,                  /* BTS */
	[0xac] = M | IB, [0xad] = M,      /* SHRD */
	[0xae] = M,                       /* group 15 */
	[0xaf] = M,                       /* IMUL */
	[0xb0] = M | B | LK, [0xb1] = M | LK, /* CMPXCHG */
	[0xb2] = M | MEM,                 /* LSS */
	[0xb3] = M | LK,                  /* BTR */
	[0xb4] = M | MEM, [0xb5] = M | MEM, /* LFS, LGS */
	[0xb6] = M, [0xb7] = M,           /* MOVZX */
	[0xb8] = M | GRP,                 /* POPCNT (F3 only; JMPE #UD) */
	[0xb9] = M,                       /* UD1 */
	[0xba] = M | IB | GRP,            /* group 8: BT* Ev,Ib */
	[0xbb] = M | LK,                  /* BTC */
	[0xbc ... 0xbf] = M,              /* BSF, BSR, MOVSX */
	[0xc0] = M | B | LK, [0xc1] = M | LK, /* XADD */
	[0xc2] = M | IB,                  /* CMPPS */
	[0xc3] = M | MEM,                 /* MOVNTI */
	[0xc4 ... 0xc6] = M | IB,         /* PINSRW, PEXTRW, SHUFPS */
	[0xc7] = M | GRP,                 /* group 9 */
	/* C8-CF BSWAP */
	[0xd0 ... 0xff] = M,              /* SSE/MMX; FF UD0 */
};
