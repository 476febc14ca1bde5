/*
 * kernel/x86_emu.h - x86 instruction emulator for the instructions a
 * hypervisor meets when it must carry out a guest access itself: MMIO
 * (virtual LAPIC and other devices) and writes to write-tracked guest page
 * tables (shadow paging), plus port I/O.
 *
 * Pure code. Guest memory and ports are reached only through the callbacks
 * of struct x86_emu_ops, which take linear addresses (segmentation is done
 * here, paging is the caller's). The emulator computes the architectural
 * result, RFLAGS included, and either commits it to the context or leaves
 * the context as it was and reports a fault to inject: a faulting
 * instruction has no effect (except completed iterations of a REP string
 * instruction, which the architecture keeps).
 *
 * Supported: MOV 88-8B, C6/C7, A0-A3, B0-BF; MOVZX/MOVSX 0F B6/B7/BE/BF;
 * MOVSXD 63 (64-bit mode); MOVNTI 0F C3; ADD OR ADC SBB AND SUB XOR CMP
 * (00-3D, 80-83); TEST 84/85, A8/A9, F6/F7 /0 /1; NOT, NEG F6/F7 /2 /3;
 * INC/DEC FE/FF /0 /1 (and 40-4F outside 64-bit mode); XCHG 86/87;
 * CMPXCHG 0F B0/B1; CMPXCHG8B/16B 0F C7 /1; XADD 0F C0/C1; BT BTS BTR BTC
 * 0F A3/AB/B3/BB and 0F BA /4-/7; CMOVcc 0F 40-4F; SETcc 0F 90-9F;
 * PUSH FF /6, POP 8F /0; MOVS STOS LODS CMPS SCAS INS OUTS with REP/REPE/
 * REPNE; IN/OUT E4-E7, EC-EF. Everything else is X86_EMU_UNSUPPORTED.
 *
 * Checked here: LOCK legality and the register-only forms (#UD),
 * CMPXCHG16B alignment (#GP), segment usability, type (read-only data,
 * execute-only code) and limit (expand-up and expand-down) outside 64-bit
 * mode, canonical addresses in 64-bit mode (#GP, or #SS for stack
 * references). Not checked: segment privilege (the loaded segments are
 * assumed valid), alignment checking (CR0.AM/RFLAGS.AC), I/O permission
 * (IOPL and the TSS bitmap: the CPU checks them before an I/O intercept),
 * paging (the callbacks' job). Real-mode faults carry no error code: the
 * caller drops it when injecting. The caller also owns what happens after
 * a completed instruction: the single-step #DB when RFLAGS.TF was set,
 * interrupt shadows.
 *
 * References: Intel SDM vol. 1 (253665) and vol. 2 (325383) per
 * instruction, vol. 3A (253668) ch. 3, 5 and 6; AMD APM vol. 3 (24594).
 */
#ifndef UMBRA_KERNEL_X86_EMU_H
#define UMBRA_KERNEL_X86_EMU_H

#include "kernel/types.h"
#include "kernel/x86_dec.h"

/* Results of the emulator and of the callbacks. */
enum x86_emu_status {
	X86_EMU_OK = 0,       /* done; for the emulator: state committed */
	X86_EMU_FAULT,        /* inject ctx->fault; the instruction had no effect */
	X86_EMU_RETRY,        /* resume the guest at the same RIP, inject nothing */
	X86_EMU_UNHANDLEABLE, /* a callback cannot do it (e.g. cmpxchg on MMIO) */
	X86_EMU_UNSUPPORTED,  /* instruction not emulated: ctx->insn has it */
};

/* Processor mode, for segmentation and the code size. */
enum x86_cpu_mode {
	X86_CPU_REAL,  /* real-address mode */
	X86_CPU_VM86,  /* virtual-8086 mode */
	X86_CPU_PROT,  /* protected mode, IA-32e off */
	X86_CPU_LONG,  /* IA-32e mode: 64-bit if CS.L, else compatibility */
};

/* A segment register's hidden part, byte-granular. */
struct x86_seg_desc {
	u64 base;
	u32 limit;    /* byte limit (the caller applies the G bit) */
	u16 sel;
	u8 type;      /* descriptor type field (bit 3 code, 2 E/C, 1 W/R) */
	bool usable;  /* false: null or unusable segment */
	bool db;      /* D/B: 32-bit CS/SS, 4 GiB upper bound of expand-down */
	bool l;       /* CS.L */
};

#define X86_SEG_TYPE_CODE BIT(3)
#define X86_SEG_TYPE_EXPDOWN BIT(2) /* data segments */
#define X86_SEG_TYPE_W BIT(1)       /* data: writable; code: readable */

/* Exception vectors the emulator raises (SDM vol. 3A §6.15). */
#define X86_VEC_UD 6
#define X86_VEC_SS 12
#define X86_VEC_GP 13
#define X86_VEC_PF 14

/* An exception to inject. */
struct x86_fault {
	u8 vector;
	bool has_error;
	u32 error_code;
	u64 cr2; /* #PF: the faulting linear address */
};

struct x86_emu_ctx;

/*
 * Callbacks. @seg is the segment the access went through (for messages
 * and SS-relative faults); @la is the linear address; @size is 1..16; an
 * access may cross a page boundary. Return X86_EMU_OK, or X86_EMU_FAULT
 * with ctx->fault set (#PF with error code and cr2, #GP...), or
 * X86_EMU_RETRY, or X86_EMU_UNHANDLEABLE.
 */
struct x86_emu_ops {
	int (*read_mem)(struct x86_emu_ctx *ctx, enum x86_seg seg, u64 la, void *buf, unsigned int size);
	int (*write_mem)(struct x86_emu_ctx *ctx, enum x86_seg seg, u64 la, const void *buf,
			 unsigned int size);
	/* Atomically: if memory at @la equals *@old, store *@new. Either way
	 * *@old receives the previous contents. It must check write access
	 * (and fault) even when the comparison fails, as the processor
	 * always writes (SDM vol. 2 "CMPXCHG"). */
	int (*cmpxchg_mem)(struct x86_emu_ctx *ctx, enum x86_seg seg, u64 la, void *old, const void *new,
			   unsigned int size);
	/* Port I/O of 1, 2 or 4 bytes; reads fill the low @size bytes. */
	int (*read_io)(struct x86_emu_ctx *ctx, u16 port, unsigned int size, u32 *val);
	int (*write_io)(struct x86_emu_ctx *ctx, u16 port, unsigned int size, u32 val);
	/* Instruction fetch for x86_emu_step (may be NULL otherwise). */
	int (*fetch)(struct x86_emu_ctx *ctx, u64 la, void *buf, unsigned int size);
};

/* REP string instructions run at most this many iterations per call by
 * default; RIP then stays put and the guest re-executes the instruction
 * (as after an interrupt between iterations, SDM vol. 2 "REP"). */
#define X86_EMU_REP_BUDGET 4096

/* The guest state the emulator reads and updates. */
struct x86_emu_ctx {
	u64 gpr[16];                 /* enum x86_reg order */
	u64 rip;
	u64 rflags;
	struct x86_seg_desc seg[6];  /* enum x86_seg order */
	u8 mode;                     /* enum x86_cpu_mode */
	u8 cpl;                      /* for the callbacks' permission checks */
	bool amd;                    /* decode with AMD rules (X86_DEC_AMD) */
	bool la57;                   /* 57-bit canonical addresses (CR4.LA57) */
	u32 rep_budget;              /* 0: X86_EMU_REP_BUDGET */
	const struct x86_emu_ops *ops;
	void *opaque;                /* for the callbacks */
	/* outputs */
	struct x86_fault fault;      /* valid after X86_EMU_FAULT */
	struct x86_insn insn;        /* the instruction of the last step */
};

/* Code size of the context's current mode (real/VM86: 16; protected or
 * compatibility: CS.D; 64-bit: CS.L in IA-32e mode). */
enum x86_dec_mode x86_emu_code_size(const struct x86_emu_ctx *ctx);

/*
 * Emulate @insn (decoded for x86_emu_code_size(ctx) with the same vendor
 * rules) at ctx->rip. Copies it to ctx->insn. On X86_EMU_OK the registers,
 * RFLAGS and RIP (advanced past the instruction, or unchanged while a REP
 * instruction has iterations left) are updated. On X86_EMU_FAULT, RETRY or
 * UNHANDLEABLE the context is unchanged, except RCX/RSI/RDI of completed
 * REP iterations. X86_EMU_UNSUPPORTED leaves it unchanged.
 */
int x86_emu_exec(struct x86_emu_ctx *ctx, const struct x86_insn *insn);

/*
 * Fetch (ops->fetch, CS:RIP, never across a page boundary unless the
 * instruction needs it), decode and emulate one instruction. Decoder
 * errors become faults: invalid opcode #UD, more than 15 bytes #GP(0).
 */
int x86_emu_step(struct x86_emu_ctx *ctx);

/* Short name of an emulator status, for messages. */
const char *x86_emu_status_name(int status);

/* Helpers for callbacks and callers: set ctx->fault and return
 * X86_EMU_FAULT. */
int x86_emu_fault(struct x86_emu_ctx *ctx, u8 vector, bool has_error, u32 error_code);
int x86_emu_page_fault(struct x86_emu_ctx *ctx, u64 la, u32 error_code);

#endif
