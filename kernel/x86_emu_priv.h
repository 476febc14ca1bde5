/*
 * kernel/x86_emu_priv.h - private to the emulator (kernel/x86_emu*.c):
 * the per-instruction working state, operands, and the helpers shared by
 * the main dispatcher, the flag arithmetic and the string instructions.
 *
 * The emulator works on a copy of the registers (struct emu_run) and
 * commits it to the context only when the instruction completes, so a
 * fault leaves the guest state untouched.
 */
#ifndef UMBRA_KERNEL_X86_EMU_PRIV_H
#define UMBRA_KERNEL_X86_EMU_PRIV_H

#include "kernel/x86_emu.h"

/* RFLAGS bits (SDM vol. 1 §3.4.3). */
#define X86_FL_CF BIT(0)
#define X86_FL_PF BIT(2)
#define X86_FL_AF BIT(4)
#define X86_FL_ZF BIT(6)
#define X86_FL_SF BIT(7)
#define X86_FL_DF BIT(10)
#define X86_FL_OF BIT(11)
#define X86_FL_ARITH (X86_FL_CF | X86_FL_PF | X86_FL_AF | X86_FL_ZF | X86_FL_SF | X86_FL_OF)

/* ALU operations; the first eight are in the order of the 00-3F rows and
 * of group 1's ModRM.reg (SDM vol. 2 table A-6). */
enum x86_alu_op {
	X86_ALU_ADD, X86_ALU_OR, X86_ALU_ADC, X86_ALU_SBB,
	X86_ALU_AND, X86_ALU_SUB, X86_ALU_XOR, X86_ALU_CMP,
	X86_ALU_TEST, X86_ALU_INC, X86_ALU_DEC, X86_ALU_NEG, X86_ALU_NOT,
};

/* Internal status: a locked update lost a race, recompute and retry. */
#define EMU_MISMATCH 100

struct emu_run {
	struct x86_emu_ctx *ctx;
	const struct x86_insn *in;
	u64 gpr[16];
	u64 rflags;
	u64 next_rip;     /* RIP after the instruction, wrapped to code size */
	bool rip_stays;   /* REP instruction with iterations left */
	bool partial;     /* REP iterations completed: keep them on a fault */
};

/* An operand: a register (part) or a memory location seg:off. */
struct emu_opnd {
	bool mem;
	u8 size;   /* 1, 2, 4, 8 */
	u8 reg;    /* register operand */
	bool high8; /* AH, CH, DH, BH */
	u8 seg;    /* memory operand */
	u64 off;   /* offset, already truncated to the address size */
};

static inline u64 x86_emu_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static inline u64 x86_emu_sext(u64 v, unsigned int size)
{
	switch (size) {
	case 1: return (u64)(s64)(s8)v;
	case 2: return (u64)(s64)(s16)v;
	case 4: return (u64)(s64)(s32)v;
	default: return v;
	}
}

/* x86_emu_alu.c */

/* Compute @op on @dst and @src of @size bytes; returns the result (masked
 * to @size) and updates the status flags in *@rflags exactly as the
 * instruction defines them (SDM vol. 1 appendix A, vol. 2 per
 * instruction). NOT changes no flag; INC/DEC keep CF; logical operations
 * clear OF, CF and AF (AF is undefined; hardware clears it). */
u64 x86_emu_alu(unsigned int op, unsigned int size, u64 dst, u64 src, u64 *rflags);

/* Whether condition code @cc (the low nibble of Jcc/SETcc/CMOVcc) holds
 * for @rflags (SDM vol. 1 appendix B). */
bool x86_emu_cond(unsigned int cc, u64 rflags);

/* x86_emu_mem.c */

/* Access kinds for segment checks. */
enum { X86_ACC_READ, X86_ACC_WRITE, X86_ACC_EXEC };

/* 64-bit mode: IA-32e mode with CS.L. */
bool x86_emu_is_64bit(const struct x86_emu_ctx *ctx);

/* @la is canonical: 48 bits, or 57 with ctx->la57 (SDM vol. 1 §3.3.7.1). */
bool x86_emu_canonical(const struct x86_emu_ctx *ctx, u64 la);

/* Linear address of @size bytes at @seg:@off for an access of kind @acc
 * (X86_ACC_*), with the segment checks described in x86_emu.h; a failed
 * check sets ctx->fault and returns X86_EMU_FAULT. */
int x86_emu_linear(struct x86_emu_ctx *ctx, unsigned int seg, u64 off, unsigned int size, int acc, u64 *la);

u64 x86_emu_reg_read(const struct emu_run *r, unsigned int reg, unsigned int size, bool high8);
void x86_emu_reg_write(struct emu_run *r, unsigned int reg, unsigned int size, bool high8, u64 v);

/* Segment-checked read/write of @size bytes at @seg:@off (@off already
 * truncated to the address size); faults are reported in ctx->fault. */
int x86_emu_mem_read(struct emu_run *r, unsigned int seg, u64 off, void *buf, unsigned int size);
int x86_emu_mem_write(struct emu_run *r, unsigned int seg, u64 off, const void *buf, unsigned int size);

/* Atomic compare-exchange at @seg:@off: *@old in (expected), previous
 * memory contents out. Uses ops->cmpxchg_mem, or read_mem + write_mem
 * when there is none (not atomic: enough for a single vCPU). */
int x86_emu_mem_cmpxchg(struct emu_run *r, unsigned int seg, u64 off, void *old, const void *new,
			unsigned int size);

/* The ModRM r/m operand of @size bytes (memory: segment and offset from
 * the current registers) and the ModRM reg operand. */
struct emu_opnd x86_emu_opnd_rm(const struct emu_run *r, unsigned int size);
struct emu_opnd x86_emu_opnd_reg(const struct emu_run *r, unsigned int size);

/* Register @reg as an operand (no high-byte form), e.g. the accumulator. */
static inline struct emu_opnd x86_emu_opnd_gpr(unsigned int reg, unsigned int size)
{
	return (struct emu_opnd){ .size = size, .reg = reg };
}

int x86_emu_opnd_read(struct emu_run *r, const struct emu_opnd *o, u64 *v);
int x86_emu_opnd_write(struct emu_run *r, const struct emu_opnd *o, u64 v);

/* Store @v to a read-modify-write destination whose value was *@old.
 * Locked updates (LOCK prefix, or @force for XCHG) of memory go through
 * compare-exchange and return EMU_MISMATCH, with *@old refreshed, when
 * memory changed since it was read. */
int x86_emu_opnd_update(struct emu_run *r, const struct emu_opnd *o, u64 *old, u64 v, bool force);

/* x86_emu_str.c */

/* MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS with or without REP. */
int x86_emu_string(struct emu_run *r);

/* IN/OUT with an immediate or DX port. */
int x86_emu_inout(struct emu_run *r);

/* PUSH Ev (FF /6) and POP Ev (8F /0). */
int x86_emu_push_pop(struct emu_run *r);

#endif
