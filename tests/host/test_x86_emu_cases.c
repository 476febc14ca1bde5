/*
 * tests/host/test_x86_emu_cases.c - hand-checked emulator cases on a fake
 * guest (flat 1 MiB of linear memory, a read-only page, a port log, a
 * cmpxchg that can lose races), for what the host cannot run in user
 * mode: real, 16-bit and 32-bit code, segmentation, canonical checks, REP
 * budgets and faults, port and string I/O, CMPXCHG16B alignment, locked
 * updates, unsupported instructions, instruction fetch across pages; and
 * random bytes through x86_emu_step in every mode.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel/x86_emu_priv.h"
#include "tests/host/test_x86_emu.h"

/* ------------------------------------------------------------ fake guest */

#define MEM_SIZE (1u << 20)
static u8 mem[MEM_SIZE];
static u64 ro_page = ~0ULL;      /* a read-only page number */
static int race_pending;         /* cmpxchg calls that lose a race */
static int force_status;         /* make every memory callback return this */

struct io_rec {
	u16 port;
	unsigned int size;
	u32 val;
	bool write;
};
static struct io_rec io_log[16];
static unsigned int io_count;
static u32 io_next = 0x11223344;

/* Flat linear memory [0, 1 MiB); beyond is not present (#PF). */
static int fm_check(struct x86_emu_ctx *ctx, u64 la, unsigned int size, u32 kind)
{
	if (force_status)
		return force_status;
	for (unsigned int i = 0; i < size; i++) {
		u64 a = la + i;
		if (a >= MEM_SIZE)
			return x86_emu_page_fault(ctx, a, kind);
		if ((kind & 2) && (a >> 12) == ro_page)
			return x86_emu_page_fault(ctx, a, kind | 1);
	}
	return X86_EMU_OK;
}

static int fm_read(struct x86_emu_ctx *ctx, enum x86_seg seg, u64 la, void *buf, unsigned int size)
{
	int st = fm_check(ctx, la, size, 0);
	if (!st)
		memcpy(buf, mem + la, size);
	return st;
}

static int fm_write(struct x86_emu_ctx *ctx, enum x86_seg seg, u64 la, const void *buf, unsigned int size)
{
	int st = fm_check(ctx, la, size, 2);
	if (!st)
		memcpy(mem + la, buf, size);
	return st;
}

/* Another CPU adds 0x100 to the location before each of the next
 * race_pending compare-exchanges. */
static int fm_cmpxchg(struct x86_emu_ctx *ctx, enum x86_seg seg, u64 la, void *old, const void *new,
		      unsigned int size)
{
	int st = fm_check(ctx, la, size, 2);
	if (st)
		return st;
	if (race_pending > 0) {
		race_pending--;
		mem[la + 1]++;
	}
	bool eq = !memcmp(mem + la, old, size);
	memcpy(old, mem + la, size);
	if (eq)
		memcpy(mem + la, new, size);
	return X86_EMU_OK;
}

static int fm_fetch(struct x86_emu_ctx *ctx, u64 la, void *buf, unsigned int size)
{
	int st = fm_check(ctx, la, size, 0x10);
	if (!st)
		memcpy(buf, mem + la, size);
	return st;
}

static int io_read(struct x86_emu_ctx *ctx, u16 port, unsigned int size, u32 *val)
{
	*val = io_next++ & (u32)x86_emu_mask(size);
	io_log[io_count++ % 16] = (struct io_rec){ port, size, *val, false };
	return X86_EMU_OK;
}

static int io_write(struct x86_emu_ctx *ctx, u16 port, unsigned int size, u32 val)
{
	io_log[io_count++ % 16] = (struct io_rec){ port, size, val, true };
	return X86_EMU_OK;
}

static const struct x86_emu_ops fm_ops = {
	.read_mem = fm_read,
	.write_mem = fm_write,
	.cmpxchg_mem = fm_cmpxchg,
	.read_io = io_read,
	.write_io = io_write,
	.fetch = fm_fetch,
};

static const struct x86_emu_ops fm_ops_nocmpxchg = {
	.read_mem = fm_read,
	.write_mem = fm_write,
	.read_io = io_read,
	.write_io = io_write,
	.fetch = fm_fetch,
};

enum { REAL, PROT16, PROT32, COMPAT, LONG64 };

static void setup(struct x86_emu_ctx *ctx, int kind)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->ops = &fm_ops;
	ctx->rflags = 0x2;
	for (int i = 0; i < 6; i++) {
		struct x86_seg_desc *s = &ctx->seg[i];
		*s = (struct x86_seg_desc){ .limit = 0xffffffff, .type = 3, .usable = true, .db = true };
	}
	ctx->seg[X86_SEG_CS].type = 0xb;
	switch (kind) {
	case REAL:
		ctx->mode = X86_CPU_REAL;
		for (int i = 0; i < 6; i++) {
			ctx->seg[i].limit = 0xffff;
			ctx->seg[i].db = false;
		}
		break;
	case PROT16:
		ctx->mode = X86_CPU_PROT;
		ctx->seg[X86_SEG_CS].db = false;
		ctx->seg[X86_SEG_SS].db = false;
		break;
	case PROT32:
		ctx->mode = X86_CPU_PROT;
		break;
	case COMPAT:
		ctx->mode = X86_CPU_LONG;
		break;
	case LONG64:
		ctx->mode = X86_CPU_LONG;
		ctx->seg[X86_SEG_CS].l = true;
		ctx->seg[X86_SEG_CS].db = false;
		break;
	}
}

static void set_seg(struct x86_emu_ctx *ctx, int seg, u16 sel_real)
{
	ctx->seg[seg].sel = sel_real;
	ctx->seg[seg].base = (u64)sel_real << 4;
}

/* Place @hex at CS:RIP and step. */
static int run(struct x86_emu_ctx *ctx, const char *hex)
{
	u64 la = (ctx->seg[X86_SEG_CS].l ? 0 : ctx->seg[X86_SEG_CS].base) + ctx->rip;
	while (*hex) {
		char *end;
		unsigned long v = strtoul(hex, &end, 16);
		if (end == hex)
			break;
		if (la < MEM_SIZE)
			mem[la] = (u8)v;
		la++;
		hex = end;
	}
	return x86_emu_step(ctx);
}

#define EXPECT_ST(ctx, hex, want)                                                             \
	do {                                                                                  \
		int st_ = run(ctx, hex);                                                      \
		checks++;                                                                     \
		if (st_ != (want))                                                            \
			FAIL("[%s]: %s (vector %u), want %s", hex, x86_emu_status_name(st_),  \
			     (ctx)->fault.vector, x86_emu_status_name(want));                 \
	} while (0)

#define EXPECT_FAULT(ctx, hex, vec, err)                                                        \
	do {                                                                                    \
		struct x86_emu_ctx before_ = *(ctx);                                            \
		int st_ = run(ctx, hex);                                                        \
		checks++;                                                                       \
		if (st_ != X86_EMU_FAULT || (ctx)->fault.vector != (vec) ||                     \
		    ((ctx)->fault.has_error && (ctx)->fault.error_code != (u32)(err)))          \
			FAIL("[%s]: %s vector %u error %#x, want vector %u error %#x", hex,     \
			     x86_emu_status_name(st_), (ctx)->fault.vector,                     \
			     (ctx)->fault.error_code, vec, (u32)(err));                         \
		if (memcmp(before_.gpr, (ctx)->gpr, sizeof(before_.gpr)) ||                     \
		    before_.rip != (ctx)->rip || before_.rflags != (ctx)->rflags)                \
			FAIL("[%s]: state changed by a faulting instruction", hex);             \
	} while (0)

#define EXPECT_EQ(what, got, want)                                                               \
	do {                                                                                     \
		checks++;                                                                        \
		if ((u64)(got) != (u64)(want))                                                   \
			FAIL("%s: %#llx, want %#llx", what, (unsigned long long)(got),           \
			     (unsigned long long)(want));                                        \
	} while (0)

static u32 rd32(u64 la)
{
	u32 v;
	memcpy(&v, mem + la, 4);
	return v;
}

static u64 rd64(u64 la)
{
	u64 v;
	memcpy(&v, mem + la, 8);
	return v;
}

/* See test_x86_emu.h. */
void test_real_mode(void)
{
	struct x86_emu_ctx c;

	setup(&c, REAL);
	set_seg(&c, X86_SEG_CS, 0x0800);
	set_seg(&c, X86_SEG_DS, 0x1000);
	set_seg(&c, X86_SEG_SS, 0x3000);
	c.rip = 0x100;
	c.gpr[X86_RBX] = 0x10;
	c.gpr[X86_RSI] = 0x20;
	c.gpr[X86_RAX] = 0xffff1234;
	EXPECT_ST(&c, "89 40 04", X86_EMU_OK); /* mov [bx+si+4], ax */
	EXPECT_EQ("real: [bx+si+4]", rd32(0x10034) & 0xffff, 0x1234);
	EXPECT_EQ("real: ip", c.rip, 0x103);
	c.gpr[X86_RBX] = 0xfff0; /* the offset wraps at 64 KiB */
	EXPECT_ST(&c, "89 40 04", X86_EMU_OK);
	EXPECT_EQ("real: wrapped offset", rd32(0x10014) & 0xffff, 0x1234);
	c.gpr[X86_RAX] = 0x55667788;
	EXPECT_ST(&c, "66 a3 34 12", X86_EMU_OK); /* mov [0x1234], eax */
	EXPECT_EQ("real: moffs", rd32(0x11234), 0x55667788);
	c.gpr[X86_RBX] = 0xffff; /* 2 bytes at 0xffff: past the limit */
	EXPECT_FAULT(&c, "8b 07", X86_VEC_GP, 0);
	c.gpr[X86_RBP] = 0xffff;
	EXPECT_FAULT(&c, "8b 46 00", X86_VEC_SS, 0);
	/* push word [0x1234] on a 16-bit stack that wraps */
	c.gpr[X86_RSP] = 0xabcd0000;
	mem[0x11234] = 0x99;
	mem[0x11235] = 0x88;
	EXPECT_ST(&c, "ff 36 34 12", X86_EMU_OK);
	EXPECT_EQ("real: sp", c.gpr[X86_RSP], 0xabcdfffe);
	EXPECT_EQ("real: pushed", rd32(0x3fffe) & 0xffff, 0x8899);
	/* rep stosb in 16-bit: DI wraps, CX counts, upper halves kept */
	set_seg(&c, X86_SEG_ES, 0x2000);
	c.gpr[X86_RDI] = 0xdead0000fffeULL;
	c.gpr[X86_RCX] = 0xbeef00000004ULL;
	c.gpr[X86_RAX] = 0xab;
	EXPECT_ST(&c, "f3 aa", X86_EMU_OK);
	EXPECT_EQ("real: rep stosb ends", mem[0x2fffe] & mem[0x2ffff] & mem[0x20000] & mem[0x20001], 0xab);
	EXPECT_EQ("real: di", c.gpr[X86_RDI], 0xdead00000002ULL);
	EXPECT_EQ("real: cx", c.gpr[X86_RCX], 0xbeef00000000ULL);
}

/* See test_x86_emu.h. */
void test_segmentation(void)
{
	struct x86_emu_ctx c;

	setup(&c, PROT32);
	c.rip = 0x1000;
	c.seg[X86_SEG_SS].base = 0x2000;
	c.gpr[X86_RBP] = 0x100;
	c.gpr[X86_RAX] = 0xcafef00d;
	EXPECT_ST(&c, "89 45 fc", X86_EMU_OK); /* mov [ebp-4], eax: SS */
	EXPECT_EQ("prot32: ss-based", rd32(0x20fc), 0xcafef00d);
	c.seg[X86_SEG_ES].base = 0x3000;
	c.gpr[X86_RBX] = 0x10;
	EXPECT_ST(&c, "26 89 03", X86_EMU_OK);
	EXPECT_EQ("prot32: es override", rd32(0x3010), 0xcafef00d);

	/* read-only data: reads fine, writes #GP(0) */
	c.seg[X86_SEG_DS].type = 1;
	EXPECT_ST(&c, "8b 03", X86_EMU_OK);
	EXPECT_FAULT(&c, "89 03", X86_VEC_GP, 0);
	c.seg[X86_SEG_DS].type = 3;
	/* code segments: never writable; execute-only not readable */
	EXPECT_FAULT(&c, "2e 89 03", X86_VEC_GP, 0);
	EXPECT_ST(&c, "2e 8b 03", X86_EMU_OK);
	c.seg[X86_SEG_CS].type = 0x9;
	EXPECT_FAULT(&c, "2e 8b 03", X86_VEC_GP, 0);
	c.seg[X86_SEG_CS].type = 0xb;
	/* expand-down: valid offsets are (limit, 4G) */
	c.seg[X86_SEG_DS].type = 7;
	c.seg[X86_SEG_DS].limit = 0xfff;
	c.gpr[X86_RBX] = 0x800;
	EXPECT_FAULT(&c, "89 03", X86_VEC_GP, 0);
	c.gpr[X86_RBX] = 0x2000;
	c.gpr[X86_RAX] = 0xcafef00d; /* the read above loaded it */
	EXPECT_ST(&c, "89 03", X86_EMU_OK);
	EXPECT_EQ("expand-down", rd32(0x2000), 0xcafef00d);
	c.seg[X86_SEG_DS].db = false; /* upper bound 0xffff */
	c.gpr[X86_RBX] = 0xfffe;
	EXPECT_FAULT(&c, "89 03", X86_VEC_GP, 0);
	c.seg[X86_SEG_DS] = c.seg[X86_SEG_ES];
	/* limits of expand-up segments */
	c.seg[X86_SEG_DS].limit = 0x2003;
	c.gpr[X86_RBX] = 0x2000;
	EXPECT_ST(&c, "89 03", X86_EMU_OK);
	c.gpr[X86_RBX] = 0x2001;
	EXPECT_FAULT(&c, "89 03", X86_VEC_GP, 0);
	/* unusable segments */
	c.seg[X86_SEG_DS].usable = false;
	EXPECT_FAULT(&c, "89 03", X86_VEC_GP, 0);
	c.seg[X86_SEG_DS] = c.seg[X86_SEG_ES];
	c.seg[X86_SEG_SS].usable = false;
	EXPECT_FAULT(&c, "89 45 fc", X86_VEC_SS, 0);

	/* compatibility mode: the linear address wraps at 4 GiB */
	setup(&c, COMPAT);
	c.rip = 0x1000;
	c.seg[X86_SEG_DS].base = 0xfffff000;
	c.gpr[X86_RBX] = 0x2000;
	c.gpr[X86_RAX] = 0x12345678;
	EXPECT_ST(&c, "89 03", X86_EMU_OK);
	EXPECT_EQ("compat: wrapped linear", rd32(0x1000), 0x12345678);

	/* 64-bit mode: canonical checks, FS/GS bases, ignored overrides */
	setup(&c, LONG64);
	c.rip = 0x1000;
	c.gpr[X86_RBX] = 0x0000800000000000ULL;
	EXPECT_FAULT(&c, "48 8b 03", X86_VEC_GP, 0);
	c.gpr[X86_RBP] = 0xffff7fffffffffffULL;
	EXPECT_FAULT(&c, "48 8b 45 00", X86_VEC_SS, 0);
	c.gpr[X86_RBX] = 0x00ff000000000000ULL; /* canonical with LA57 only */
	EXPECT_FAULT(&c, "48 8b 03", X86_VEC_GP, 0);
	c.la57 = true;
	EXPECT_FAULT(&c, "48 8b 03", X86_VEC_PF, 0);
	c.la57 = false;
	c.seg[X86_SEG_FS].base = 0x4000;
	c.seg[X86_SEG_ES].base = 0x5000;
	memcpy(mem + 0x4010, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	EXPECT_ST(&c, "64 48 8b 04 25 10 00 00 00", X86_EMU_OK);
	EXPECT_EQ("64-bit: fs base", c.gpr[X86_RAX], 0x0807060504030201ULL);
	c.gpr[X86_RBX] = 0x4010;
	c.gpr[X86_RAX] = 0;
	EXPECT_ST(&c, "26 48 8b 03", X86_EMU_OK);
	EXPECT_EQ("64-bit: es base ignored", c.gpr[X86_RAX], 0x0807060504030201ULL);
	/* a 32-bit address in 64-bit mode drops the upper register bits */
	c.gpr[X86_RBX] = 0xffffffff00004010ULL;
	c.gpr[X86_RAX] = 0;
	EXPECT_ST(&c, "67 48 8b 03", X86_EMU_OK);
	EXPECT_EQ("64-bit: addr32", c.gpr[X86_RAX], 0x0807060504030201ULL);
}

/* See test_x86_emu.h. */
void test_rep_and_faults(void)
{
	struct x86_emu_ctx c;

	/* budget: the instruction stays at RIP until the count runs out */
	setup(&c, PROT32);
	c.rip = 0x1000;
	c.rep_budget = 3;
	c.gpr[X86_RCX] = 10;
	c.gpr[X86_RDI] = 0x8000;
	c.gpr[X86_RAX] = 0x5a5a5a5a;
	int calls = 0;
	while (c.rip == 0x1000 && calls < 10) {
		EXPECT_ST(&c, "f3 ab", X86_EMU_OK);
		calls++;
	}
	EXPECT_EQ("rep budget: calls", calls, 4);
	EXPECT_EQ("rep budget: ecx", c.gpr[X86_RCX], 0);
	EXPECT_EQ("rep budget: edi", c.gpr[X86_RDI], 0x8000 + 40);
	EXPECT_EQ("rep budget: last dword", rd32(0x8000 + 36), 0x5a5a5a5a);
	/* count 0: nothing, RIP advances */
	c.gpr[X86_RCX] = 0;
	u64 rip = c.rip;
	EXPECT_ST(&c, "f3 ab", X86_EMU_OK);
	EXPECT_EQ("rep count 0", c.rip, rip + 2);

	/* a fault in the third iteration keeps the first two */
	setup(&c, LONG64);
	c.rip = 0x1000;
	c.gpr[X86_RDI] = MEM_SIZE - 16;
	c.gpr[X86_RCX] = 5;
	int st = run(&c, "f3 48 ab");
	checks++;
	if (st != X86_EMU_FAULT || c.fault.vector != X86_VEC_PF || c.fault.cr2 != MEM_SIZE ||
	    c.fault.error_code != 2 || c.gpr[X86_RCX] != 3 || c.gpr[X86_RDI] != MEM_SIZE || c.rip != 0x1000)
		FAIL("rep stosq fault: st %d cr2 %#llx rcx %llu rdi %#llx", st, (unsigned long long)c.fault.cr2,
		     (unsigned long long)c.gpr[X86_RCX], (unsigned long long)c.gpr[X86_RDI]);
	/* backward with DF */
	c.gpr[X86_RDI] = 0x100;
	c.gpr[X86_RCX] = 3;
	c.gpr[X86_RAX] = 0x7777;
	c.rflags |= X86_FL_DF;
	EXPECT_ST(&c, "f3 66 ab", X86_EMU_OK);
	EXPECT_EQ("std stosw: rdi", c.gpr[X86_RDI], 0xfa);
	EXPECT_EQ("std stosw: memory", rd32(0xfc), 0x77777777);
	c.rflags &= ~X86_FL_DF;
	/* repe cmpsb stops at the first difference */
	memcpy(mem + 0x200, "abcdef", 6);
	memcpy(mem + 0x300, "abcxef", 6);
	c.gpr[X86_RSI] = 0x200;
	c.gpr[X86_RDI] = 0x300;
	c.gpr[X86_RCX] = 6;
	EXPECT_ST(&c, "f3 a6", X86_EMU_OK);
	EXPECT_EQ("repe cmpsb: rcx", c.gpr[X86_RCX], 2);
	EXPECT_EQ("repe cmpsb: zf", c.rflags & X86_FL_ZF, 0);
	/* repne scasb finds a byte */
	c.gpr[X86_RDI] = 0x200;
	c.gpr[X86_RCX] = 100;
	c.gpr[X86_RAX] = 'd';
	EXPECT_ST(&c, "f2 ae", X86_EMU_OK);
	EXPECT_EQ("repne scasb: rdi", c.gpr[X86_RDI], 0x204);
	EXPECT_EQ("repne scasb: rcx", c.gpr[X86_RCX], 96);

	/* faulting writes leave everything as it was */
	ro_page = 0x7;
	c.gpr[X86_RSI] = 0x7010;
	EXPECT_FAULT(&c, "0f c1 06", X86_VEC_PF, 3);    /* xadd [rsi], eax */
	EXPECT_EQ("cr2", c.fault.cr2, 0x7010);
	c.gpr[X86_RSP] = 0x9000;
	EXPECT_FAULT(&c, "8f 06", X86_VEC_PF, 3);       /* pop [rsi] */
	EXPECT_FAULT(&c, "f0 48 0f b1 0e", X86_VEC_PF, 3); /* lock cmpxchg */
	EXPECT_FAULT(&c, "48 87 06", X86_VEC_PF, 3);    /* xchg */
	EXPECT_FAULT(&c, "f0 0f ba 2e 03", X86_VEC_PF, 3); /* lock bts */
	ro_page = ~0ULL;
	/* callbacks that ask for a retry or give up */
	force_status = X86_EMU_RETRY;
	struct x86_emu_ctx before = c;
	st = x86_emu_exec(&c, &c.insn); /* the lock bts again; no fetch */
	checks++;
	if (st != X86_EMU_RETRY || memcmp(before.gpr, c.gpr, sizeof(c.gpr)) || before.rip != c.rip)
		FAIL("retry: %s", x86_emu_status_name(st));
	force_status = X86_EMU_UNHANDLEABLE;
	st = x86_emu_exec(&c, &c.insn);
	checks++;
	if (st != X86_EMU_UNHANDLEABLE || before.rip != c.rip)
		FAIL("unhandleable: %s", x86_emu_status_name(st));
	force_status = 0;

	/* CMPXCHG16B needs 16-byte alignment */
	c.gpr[X86_RSI] = 0x1008;
	EXPECT_FAULT(&c, "f0 48 0f c7 0e", X86_VEC_GP, 0);
	c.gpr[X86_RSI] = 0x1010;
	memset(mem + 0x1010, 0, 16);
	c.gpr[X86_RAX] = c.gpr[X86_RDX] = 0;
	c.gpr[X86_RBX] = 0x1111;
	c.gpr[X86_RCX] = 0x2222;
	EXPECT_ST(&c, "f0 48 0f c7 0e", X86_EMU_OK);
	EXPECT_EQ("cmpxchg16b: low", rd64(0x1010), 0x1111);
	EXPECT_EQ("cmpxchg16b: high", rd64(0x1018), 0x2222);
	EXPECT_FAULT(&c, "0f c7 c8", X86_VEC_UD, 0);    /* register form */
	EXPECT_FAULT(&c, "f0 01 c0", X86_VEC_UD, 0);    /* lock, register */
	EXPECT_FAULT(&c, "0f 04", X86_VEC_UD, 0);
	EXPECT_FAULT(&c, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", X86_VEC_GP, 0);
}

/* See test_x86_emu.h. */
void test_lock_races(void)
{
	struct x86_emu_ctx c;

	setup(&c, LONG64);
	c.rip = 0x1000;
	c.gpr[X86_RSI] = 0x2000;
	memcpy(mem + 0x2000, "\x10\x00\x00\x00", 4);
	race_pending = 2; /* two lost races, then success */
	EXPECT_ST(&c, "f0 83 06 01", X86_EMU_OK);
	EXPECT_EQ("lock add after races", rd32(0x2000), 0x211);
	race_pending = 1000; /* always losing: retry, nothing changed */
	struct x86_emu_ctx before = c;
	EXPECT_ST(&c, "f0 83 06 01", X86_EMU_RETRY);
	checks++;
	if (memcmp(before.gpr, c.gpr, sizeof(c.gpr)) || before.rip != c.rip || before.rflags != c.rflags)
		FAIL("lost races changed the state");
	race_pending = 0;
	/* XCHG with memory is locked even without the prefix */
	race_pending = 1;
	memcpy(mem + 0x2000, "\x10\x00\x00\x00", 4);
	c.gpr[X86_RAX] = 0x55;
	EXPECT_ST(&c, "87 06", X86_EMU_OK);
	EXPECT_EQ("xchg after race: memory", rd32(0x2000), 0x55);
	EXPECT_EQ("xchg after race: eax", c.gpr[X86_RAX], 0x110);
	race_pending = 0;

	/* without a cmpxchg callback: read + write */
	c.ops = &fm_ops_nocmpxchg;
	memcpy(mem + 0x2000, "\x10\x00\x00\x00", 4);
	c.gpr[X86_RAX] = 0x10;
	c.gpr[X86_RCX] = 0x99;
	EXPECT_ST(&c, "f0 0f b1 0e", X86_EMU_OK);
	EXPECT_EQ("cmpxchg fallback: stored", rd32(0x2000), 0x99);
	EXPECT_EQ("cmpxchg fallback: zf", c.rflags & X86_FL_ZF, X86_FL_ZF);
	EXPECT_ST(&c, "f0 0f b1 0e", X86_EMU_OK);
	EXPECT_EQ("cmpxchg fallback: loaded", c.gpr[X86_RAX], 0x99);
	EXPECT_EQ("cmpxchg fallback: zf clear", c.rflags & X86_FL_ZF, 0);
	EXPECT_ST(&c, "f0 83 06 01", X86_EMU_OK);
	EXPECT_EQ("lock add fallback", rd32(0x2000), 0x9a);
}

/* See test_x86_emu.h. */
void test_io(void)
{
	struct x86_emu_ctx c;

	setup(&c, LONG64);
	c.rip = 0x1000;
	io_count = 0;
	io_next = 0x11223344;
	c.gpr[X86_RAX] = 0xffffffffffffffffULL;
	EXPECT_ST(&c, "e4 60", X86_EMU_OK); /* in al, 0x60 */
	EXPECT_EQ("in al", c.gpr[X86_RAX], 0xffffffffffffff44ULL);
	EXPECT_EQ("in al: port", io_log[0].port, 0x60);
	c.gpr[X86_RDX] = 0x12cf8;
	EXPECT_ST(&c, "ed", X86_EMU_OK); /* in eax, dx */
	EXPECT_EQ("in eax: zero-extended", c.gpr[X86_RAX], 0x11223345);
	EXPECT_EQ("in eax: port", io_log[1].port, 0x2cf8);
	EXPECT_EQ("in eax: size", io_log[1].size, 4);
	c.gpr[X86_RAX] = 0xabcd;
	EXPECT_ST(&c, "66 ef", X86_EMU_OK); /* out dx, ax */
	EXPECT_EQ("out ax", io_log[2].val, 0xabcd);
	EXPECT_EQ("out ax: size", io_log[2].size, 2);
	EXPECT_ST(&c, "e6 80", X86_EMU_OK); /* out 0x80, al */
	EXPECT_EQ("out imm port", io_log[3].port, 0x80);
	EXPECT_EQ("out imm val", io_log[3].val, 0xcd);
	/* rep outsb, then rep insw */
	memcpy(mem + 0x3000, "xyz", 3);
	c.gpr[X86_RSI] = 0x3000;
	c.gpr[X86_RCX] = 3;
	c.gpr[X86_RDX] = 0x3f8;
	EXPECT_ST(&c, "f3 6e", X86_EMU_OK);
	EXPECT_EQ("outsb count", io_count, 7);
	EXPECT_EQ("outsb 3rd", io_log[6].val, 'z');
	EXPECT_EQ("outsb rsi", c.gpr[X86_RSI], 0x3003);
	c.gpr[X86_RDI] = 0x3100;
	c.gpr[X86_RCX] = 2;
	EXPECT_ST(&c, "f3 66 6d", X86_EMU_OK);
	EXPECT_EQ("insw 1", rd32(0x3100), 0x33473346);
	EXPECT_EQ("insw rdi", c.gpr[X86_RDI], 0x3104);
}

/* See test_x86_emu.h. */
void test_fetch_and_unsupported(void)
{
	struct x86_emu_ctx c;

	setup(&c, LONG64);
	/* an instruction ending exactly at the end of memory runs; one that
	 * needs the next (absent) page faults there, as a fetch */
	c.rip = MEM_SIZE - 2;
	c.gpr[X86_RBX] = 0x100;
	EXPECT_ST(&c, "89 03", X86_EMU_OK);
	c.rip = MEM_SIZE - 2;
	EXPECT_FAULT(&c, "48 89 03", X86_VEC_PF, 0x10);
	EXPECT_EQ("fetch cr2", c.fault.cr2, MEM_SIZE);

	/* CS limit */
	setup(&c, PROT32);
	c.seg[X86_SEG_CS].limit = 0x1001;
	c.rip = 0x1000;
	c.gpr[X86_RBX] = 0x100;
	EXPECT_ST(&c, "89 03", X86_EMU_OK);
	c.rip = 0x1000;
	EXPECT_FAULT(&c, "8b 43 01", X86_VEC_GP, 0);
	c.rip = 0x1002;
	EXPECT_FAULT(&c, "90", X86_VEC_GP, 0);

	/* unsupported: reported with the bytes, nothing changed */
	static const char *const unsup[] = { "0f a2", "f7 e3", "c5 f9 6f 00", "8c d8", "0f 01 d9", "f4",
					     "0f 32", "ff d0", "c1 20 03" };
	setup(&c, LONG64);
	for (size_t i = 0; i < ARRAY_SIZE(unsup); i++) {
		c.rip = 0x1000;
		struct x86_emu_ctx before = c;
		int st = run(&c, unsup[i]);
		checks++;
		if (st != X86_EMU_UNSUPPORTED || c.rip != 0x1000 || memcmp(before.gpr, c.gpr, sizeof(c.gpr)) ||
		    c.insn.len != (strlen(unsup[i]) + 1) / 3 || c.insn.bytes[0] != mem[0x1000])
			FAIL("[%s]: %s, len %u", unsup[i], x86_emu_status_name(st), c.insn.len);
	}
	setup(&c, PROT32); /* 63 is ARPL outside 64-bit mode */
	c.rip = 0x1000;
	EXPECT_ST(&c, "63 c0", X86_EMU_UNSUPPORTED);
	EXPECT_ST(&c, "40", X86_EMU_OK); /* inc eax outside 64-bit mode */
	EXPECT_EQ("inc eax", c.gpr[X86_RAX], 1);
	/* a decoded instruction for another mode is refused */
	struct x86_insn in;
	x86_dec_decode(&in, (const u8 *)"\x89\x03", 2, X86_DEC_MODE64, 0);
	EXPECT_EQ("mode mismatch", x86_emu_exec(&c, &in), X86_EMU_UNSUPPORTED);
}

/* 32-bit and 16-bit code: CMPXCHG8B, stacks of the other size, address
 * size overrides. */
/* See test_x86_emu.h. */
void test_legacy_modes(void)
{
	struct x86_emu_ctx c;

	setup(&c, PROT32);
	c.rip = 0x1000;
	c.gpr[X86_RSI] = 0x4000;
	memcpy(mem + 0x4000, "\x22\x22\x22\x22\x11\x11\x11\x11", 8);
	c.gpr[X86_RAX] = 0x22222222;
	c.gpr[X86_RDX] = 0x11111111;
	c.gpr[X86_RBX] = 0xbbbbbbbb;
	c.gpr[X86_RCX] = 0xcccccccc;
	EXPECT_ST(&c, "f0 0f c7 0e", X86_EMU_OK);
	EXPECT_EQ("cmpxchg8b: stored", rd64(0x4000), 0xccccccccbbbbbbbbULL);
	EXPECT_EQ("cmpxchg8b: zf", c.rflags & X86_FL_ZF, X86_FL_ZF);
	EXPECT_ST(&c, "66 0f c7 0e", X86_EMU_OK); /* 66 changes nothing */
	EXPECT_EQ("cmpxchg8b: loaded eax", c.gpr[X86_RAX], 0xbbbbbbbb);
	EXPECT_EQ("cmpxchg8b: loaded edx", c.gpr[X86_RDX], 0xcccccccc);
	EXPECT_EQ("cmpxchg8b: zf clear", c.rflags & X86_FL_ZF, 0);

	/* a 16-bit stack under 32-bit code: SP wraps, ESP's top half stays */
	c.seg[X86_SEG_SS].db = false;
	c.seg[X86_SEG_SS].base = 0x50000;
	c.gpr[X86_RSP] = 0x12340002;
	c.gpr[X86_RBX] = 0x4000;
	EXPECT_ST(&c, "ff 33", X86_EMU_OK); /* push dword [ebx] */
	EXPECT_EQ("push16: esp", c.gpr[X86_RSP], 0x1234fffe);
	EXPECT_EQ("push16: value", rd32(0x5fffe), 0xbbbbbbbb);
	c.gpr[X86_RBX] = 0x4100;
	EXPECT_ST(&c, "8f 03", X86_EMU_OK); /* pop dword [ebx] */
	EXPECT_EQ("pop16: esp", c.gpr[X86_RSP], 0x12340002);
	EXPECT_EQ("pop16: value", rd32(0x4100), 0xbbbbbbbb);
	EXPECT_ST(&c, "66 ff 33", X86_EMU_OK); /* push word */
	EXPECT_EQ("push word: esp", c.gpr[X86_RSP], 0x12340000);
	/* pop [esp+4] addresses with the incremented ESP (16-bit SP here) */
	c.gpr[X86_RSP] = 0x1000;
	memcpy(mem + 0x51000, "\x78\x56\x34\x12", 4);
	EXPECT_ST(&c, "8f 44 24 04", X86_EMU_OK);
	EXPECT_EQ("pop [esp+4]", rd32(0x51008), 0x12345678);

	/* 16-bit code: SI wraps, 67 selects ESI */
	setup(&c, PROT16);
	c.rip = 0x1000;
	c.seg[X86_SEG_DS].base = 0x60000;
	c.seg[X86_SEG_ES].base = 0x70000;
	mem[0x6ffff] = 0x5a;
	c.gpr[X86_RSI] = 0xffff;
	c.gpr[X86_RDI] = 0x10;
	EXPECT_ST(&c, "a4", X86_EMU_OK);
	EXPECT_EQ("movsb16: copied", mem[0x70010], 0x5a);
	EXPECT_EQ("movsb16: si wrapped", c.gpr[X86_RSI], 0);
	EXPECT_EQ("movsb16: di", c.gpr[X86_RDI], 0x11);
	memcpy(mem + 0x70000 + 0x10, "\x01\x02\x03\x04", 4);
	c.gpr[X86_RSI] = 0x10010;
	c.seg[X86_SEG_DS].base = 0x60000;
	memcpy(mem + 0x70010, "\x0a\x0b\x0c\x0d", 4);
	EXPECT_ST(&c, "67 66 ad", X86_EMU_OK); /* lodsd with ESI */
	EXPECT_EQ("lodsd a32: eax", c.gpr[X86_RAX], 0x0d0c0b0a);
	EXPECT_EQ("lodsd a32: esi", c.gpr[X86_RSI], 0x10014);
	c.gpr[X86_RBX] = 0x10;
	c.gpr[X86_RSI] = 0x4;
	mem[0x60014] = 0x80;
	EXPECT_ST(&c, "0f b6 00", X86_EMU_OK); /* movzx ax, byte [bx+si] */
	EXPECT_EQ("movzx16", c.gpr[X86_RAX] & 0xffff, 0x80);
	EXPECT_ST(&c, "66 0f be 00", X86_EMU_OK); /* movsx eax */
	EXPECT_EQ("movsx32", c.gpr[X86_RAX], 0xffffff80);
}

/* Random bytes in every mode with random registers: the emulator returns
 * a valid status and changes nothing unless the instruction completed
 * (string instructions may keep completed iterations). */
/* See test_x86_emu.h. */
void test_random_steps(long count)
{
	static const int kinds[] = { REAL, PROT16, PROT32, COMPAT, LONG64 };
	static const u8 interesting[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x64, 0x48, 0x0f, 0xc7,
					  0xa4, 0xab, 0xf7, 0xff, 0x8f, 0x87, 0x0f, 0xba, 0xb1, 0x6d };
	long st_count[5] = { 0 };

	for (long i = 0; i < count; i++) {
		struct x86_emu_ctx c;
		setup(&c, kinds[rnd() % 5]);
		if (rnd() & 1)
			c.amd = true;
		c.rep_budget = 64;
		c.rip = 0x1000 + rnd() % 0x100;
		c.rflags = 0x2 | (rnd() & 0xcd5);
		for (int k = 0; k < 16; k++)
			c.gpr[k] = (rnd() & 1) ? rnd() % MEM_SIZE : rnd_operand();
		if (rnd() % 4 == 0)
			c.seg[rnd() % 6].usable = false;
		ro_page = rnd() % 4 ? ~0ULL : rnd() % 256;
		race_pending = rnd() % 8 == 0 ? (int)(rnd() % 20) : 0;
		u64 la = (c.seg[X86_SEG_CS].l ? 0 : c.seg[X86_SEG_CS].base) + c.rip;
		for (int k = 0; k < 16; k++) {
			u8 b = rnd();
			if ((b & 3) == 0 && k < 6)
				b = interesting[(b >> 2) % sizeof(interesting)];
			if (la + k < MEM_SIZE)
				mem[la + k] = b;
		}
		struct x86_emu_ctx before = c;
		int st = x86_emu_step(&c);
		checks++;
		if (st < X86_EMU_OK || st > X86_EMU_UNSUPPORTED) {
			FAIL("random step: status %d", st);
			continue;
		}
		st_count[st]++;
		bool str = c.insn.map == X86_MAP_1B &&
			   ((c.insn.opcode >= 0x6c && c.insn.opcode <= 0x6f) ||
			    (c.insn.opcode >= 0xa4 && c.insn.opcode <= 0xaf && c.insn.opcode != 0xa8 &&
			     c.insn.opcode != 0xa9));
		if (st != X86_EMU_OK && !str &&
		    (memcmp(before.gpr, c.gpr, sizeof(c.gpr)) || before.rflags != c.rflags))
			FAIL("random step: state changed with status %s", x86_emu_status_name(st));
		if (st != X86_EMU_OK && before.rip != c.rip)
			FAIL("random step: rip moved with status %s", x86_emu_status_name(st));
		if (st == X86_EMU_FAULT && c.fault.vector != X86_VEC_UD && c.fault.vector != X86_VEC_GP &&
		    c.fault.vector != X86_VEC_SS && c.fault.vector != X86_VEC_PF)
			FAIL("random step: vector %u", c.fault.vector);
	}
	ro_page = ~0ULL;
	race_pending = 0;
	printf("random steps: %ld (ok %ld, fault %ld, retry %ld, unhandleable %ld, unsupported %ld)\n", count,
	       st_count[0], st_count[1], st_count[2], st_count[3], st_count[4]);
}
