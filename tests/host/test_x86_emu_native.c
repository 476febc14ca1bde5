/*
 * tests/host/test_x86_emu_native.c - the emulator against the host CPU.
 *
 * Random instances of every supported instruction form (64-bit mode):
 * random registers, prefixes (66, 67, REX, LOCK, ignored segment
 * overrides, REP), addressing forms (base, disp8/32, SIB, no base, no
 * index, RIP-relative, 32-bit addresses with garbage in the upper register
 * halves), operands and memory. Each one is executed twice: by the
 * emulator, on a copy of the memory window, and natively on the host from
 * an executable page, entered with all sixteen registers and RFLAGS loaded
 * from the same state. Registers, RIP, RFLAGS (the flags the instruction
 * defines) and the memory window must come out identical.
 *
 * Memory operands always resolve into the window: the generator fixes the
 * base register's value after choosing the target address.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/host/test_x86_emu.h"

#define WIN 8192
#define FL_ARITH 0x8d5ULL /* CF PF AF ZF SF OF */
#define FL_DF 0x400ULL
#define FL_AF 0x10ULL

struct native_state {
	u64 gpr[16];
	u64 rflags;
};

void native_run(struct native_state *st, void *code);
extern char native_return[];

/* Load every register and RFLAGS from *st, jump to code, which jumps back
 * to native_return; store every register and RFLAGS into *st. */
__asm__(".text\n"
	".globl native_run\n"
	"native_run:\n"
	"	push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"	mov %rsp, native_saved_rsp(%rip)\n"
	"	mov %rdi, native_state_ptr(%rip)\n"
	"	mov %rsi, native_code_ptr(%rip)\n"
	"	pushq 128(%rdi)\n"
	"	popfq\n"
	"	mov 0(%rdi), %rax\n mov 8(%rdi), %rcx\n mov 16(%rdi), %rdx\n mov 24(%rdi), %rbx\n"
	"	mov 32(%rdi), %rsp\n mov 40(%rdi), %rbp\n mov 48(%rdi), %rsi\n"
	"	mov 64(%rdi), %r8\n mov 72(%rdi), %r9\n mov 80(%rdi), %r10\n mov 88(%rdi), %r11\n"
	"	mov 96(%rdi), %r12\n mov 104(%rdi), %r13\n mov 112(%rdi), %r14\n mov 120(%rdi), %r15\n"
	"	mov 56(%rdi), %rdi\n"
	"	jmp *native_code_ptr(%rip)\n"
	".globl native_return\n"
	"native_return:\n"
	"	mov %rax, native_scratch(%rip)\n"
	"	mov native_state_ptr(%rip), %rax\n"
	"	mov %rcx, 8(%rax)\n mov %rdx, 16(%rax)\n mov %rbx, 24(%rax)\n mov %rsp, 32(%rax)\n"
	"	mov %rbp, 40(%rax)\n mov %rsi, 48(%rax)\n mov %rdi, 56(%rax)\n"
	"	mov %r8, 64(%rax)\n mov %r9, 72(%rax)\n mov %r10, 80(%rax)\n mov %r11, 88(%rax)\n"
	"	mov %r12, 96(%rax)\n mov %r13, 104(%rax)\n mov %r14, 112(%rax)\n mov %r15, 120(%rax)\n"
	"	mov native_scratch(%rip), %rcx\n mov %rcx, 0(%rax)\n"
	"	mov native_saved_rsp(%rip), %rsp\n"
	"	pushfq\n"
	"	pop %rcx\n"
	"	mov %rcx, 128(%rax)\n"
	"	cld\n"
	"	pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
	"	ret\n"
	".pushsection .data\n"
	".balign 8\n"
	"native_saved_rsp: .quad 0\n"
	"native_state_ptr: .quad 0\n"
	"native_code_ptr: .quad 0\n"
	"native_scratch: .quad 0\n"
	".popsection\n");

static u8 *region; /* code page, then the window; below 2 GiB */
static u8 *code;
static u8 *win;
static u8 emu_mem[WIN];
static u8 init_mem[WIN];

/* ------------------------------------------------------------ callbacks */

static int win_check(struct x86_emu_ctx *ctx, u64 la, unsigned int size, bool write)
{
	if (la < (u64)win || la + size > (u64)win + WIN)
		return x86_emu_page_fault(ctx, la, write ? 2 : 0);
	return X86_EMU_OK;
}

static int cb_read(struct x86_emu_ctx *ctx, enum x86_seg seg, u64 la, void *buf, unsigned int size)
{
	int st = win_check(ctx, la, size, false);
	if (!st)
		memcpy(buf, emu_mem + (la - (u64)win), size);
	return st;
}

static int cb_write(struct x86_emu_ctx *ctx, enum x86_seg seg, u64 la, const void *buf, unsigned int size)
{
	int st = win_check(ctx, la, size, true);
	if (!st)
		memcpy(emu_mem + (la - (u64)win), buf, size);
	return st;
}

static int cb_cmpxchg(struct x86_emu_ctx *ctx, enum x86_seg seg, u64 la, void *old, const void *new,
		      unsigned int size)
{
	int st = win_check(ctx, la, size, true);
	if (st)
		return st;
	u8 *p = emu_mem + (la - (u64)win);
	u8 cur[16];
	memcpy(cur, p, size);
	if (!memcmp(cur, old, size))
		memcpy(p, new, size);
	memcpy(old, cur, size);
	return X86_EMU_OK;
}

static const struct x86_emu_ops ops = {
	.read_mem = cb_read,
	.write_mem = cb_write,
	.cmpxchg_mem = cb_cmpxchg,
};

/* ------------------------------------------------------------ encoding */

enum { FORM_REG, FORM_BASE, FORM_D8, FORM_D32, FORM_SIB, FORM_SIB_NOBASE, FORM_RIP, FORM_ABS, NFORMS };

struct mem {
	int form;
	int rm;      /* FORM_REG */
	int base, index, scale;
	s32 disp;
	bool a32;
};

struct spec {
	bool lock, p66, p67;
	u8 rep;            /* 0, F2, F3 */
	u8 seg;            /* 0 or an ignored override (26 2E 36 3E) */
	bool rexw, rex;    /* REX.W; force a REX byte */
	bool rexb;         /* REX.B for an opcode+register (B0-BF) */
	u8 op[3];
	unsigned int oplen;
	bool modrm;
	int reg;           /* ModRM.reg: register or /digit */
	struct mem m;
	u64 imm;
	unsigned int imm_size;
};

struct tcase {
	const char *name;
	u8 bytes[32];
	unsigned int len;
	struct native_state st;
	u64 flags_mask;    /* flags compared: the defined ones */
};

/* Encode @s; returns the length, *@disp_at the offset of a RIP-relative
 * displacement (or -1). */
static unsigned int encode(const struct spec *s, u8 *b, int *disp_at)
{
	unsigned int n = 0;
	u8 rex = 0x40 | (s->rexw ? 8 : 0) | (s->rexb ? 1 : 0);
	const struct mem *m = &s->m;
	u8 modrm = 0, sib = 0;
	bool has_sib = false;
	unsigned int dsize = 0;

	*disp_at = -1;
	if (s->seg)
		b[n++] = s->seg;
	if (s->lock)
		b[n++] = 0xf0;
	if (s->rep)
		b[n++] = s->rep;
	if (s->p66)
		b[n++] = 0x66;
	if (s->p67 || (s->modrm && m->form != FORM_REG && m->a32))
		b[n++] = 0x67;
	if (s->modrm) {
		modrm = (s->reg & 7) << 3;
		if (s->reg >= 8)
			rex |= 4;
		switch (m->form) {
		case FORM_REG:
			modrm |= 0xc0 | (m->rm & 7);
			if (m->rm >= 8)
				rex |= 1;
			break;
		case FORM_BASE:
		case FORM_D8:
		case FORM_D32:
			dsize = m->form == FORM_D8 ? 1 : m->form == FORM_D32 ? 4 : 0;
			if (m->form == FORM_BASE && (m->base & 7) == 5)
				dsize = 1; /* [rbp]/[r13] need a disp8 of 0 */
			modrm |= (dsize == 1 ? 0x40 : dsize == 4 ? 0x80 : 0) | (m->base & 7);
			if ((m->base & 7) == 4) {
				has_sib = true;
				sib = 0x20 | 4; /* no index, base rsp/r12 */
			}
			if (m->base >= 8)
				rex |= 1;
			break;
		case FORM_SIB:
			dsize = m->disp == 0 && (m->base & 7) != 5 ? 0 : (m->disp == (s8)m->disp ? 1 : 4);
			modrm |= (dsize == 1 ? 0x40 : dsize == 4 ? 0x80 : 0) | 4;
			has_sib = true;
			sib = (__builtin_ctz(m->scale) << 6) | ((m->index & 7) << 3) | (m->base & 7);
			rex |= (m->index >= 8 ? 2 : 0) | (m->base >= 8 ? 1 : 0);
			break;
		case FORM_SIB_NOBASE:
			dsize = 4;
			modrm |= 4;
			has_sib = true;
			sib = (__builtin_ctz(m->scale) << 6) | ((m->index < 0 ? 4 : m->index & 7) << 3) | 5;
			rex |= (m->index >= 8 ? 2 : 0) | (rnd() & 1); /* REX.B ignored */
			if (m->index < 0 && (rnd() & 1))
				sib |= 0x40 * (rnd() % 4); /* scale of no index */
			break;
		case FORM_RIP:
			dsize = 4;
			modrm |= 5;
			rex |= rnd() & 1; /* REX.B: still RIP-relative */
			break;
		case FORM_ABS:
			dsize = 4;
			modrm |= 4;
			has_sib = true;
			sib = 0x25;
			break;
		}
	}
	if (rex != 0x40 || s->rex)
		b[n++] = rex;
	for (unsigned int i = 0; i < s->oplen; i++)
		b[n++] = s->op[i];
	if (s->modrm) {
		b[n++] = modrm;
		if (has_sib)
			b[n++] = sib;
		if (m->form == FORM_RIP)
			*disp_at = n;
		for (unsigned int i = 0; i < dsize; i++)
			b[n++] = (u8)((u32)m->disp >> (8 * i));
	}
	for (unsigned int i = 0; i < s->imm_size; i++)
		b[n++] = (u8)(s->imm >> (8 * i));
	return n;
}

static int pick_reg(u32 avoid)
{
	for (;;) {
		int r = rnd() % 16;
		if (!(avoid & (1u << r)))
			return r;
	}
}

/*
 * Choose an addressing form for a memory operand at @target and set the
 * registers it uses so that it resolves there. @avoid: registers whose
 * values the instruction needs (not usable as base or index). @rsp_adj:
 * what rSP will have changed by when the address is computed (POP).
 */
static void choose_mem(struct tcase *t, struct mem *m, u64 target, u32 avoid, s64 rsp_adj)
{
	u64 *g = t->st.gpr;

	m->a32 = rnd() % 4 == 0;
	m->scale = 1 << (rnd() % 4);
	m->index = -1;
	m->form = FORM_BASE + rnd() % (NFORMS - FORM_BASE);
	switch (m->form) {
	case FORM_BASE:
	case FORM_D8:
	case FORM_D32:
	case FORM_SIB:
		m->base = pick_reg(avoid);
		if (m->base == X86_RSP) {
			/* its value is fixed: reach the target by disp32 */
			m->form = FORM_D32;
			m->disp = (s32)(target - g[X86_RSP] - rsp_adj);
			return;
		}
		m->disp = m->form == FORM_BASE ? 0 : m->form == FORM_D8 ? (s8)rnd() : (s32)rnd();
		if (m->form == FORM_SIB) {
			m->disp = (rnd() & 1) ? (s8)rnd() : (s32)rnd();
			if (rnd() % 4 == 0)
				m->disp = 0;
			m->index = pick_reg(avoid | (1u << X86_RSP) | (1u << m->base));
			g[m->index] = rnd_operand();
		}
		u64 base = target - (u64)(s64)m->disp - (m->index >= 0 ? g[m->index] * m->scale : 0);
		if (m->a32)
			base = (base & 0xffffffffULL) | (rnd() << 32);
		g[m->base] = base;
		return;
	case FORM_SIB_NOBASE:
		if (rnd() & 1) {
			m->index = pick_reg(avoid | (1u << X86_RSP));
			g[m->index] = (rnd() % 4096);
			if (m->a32)
				g[m->index] |= rnd() << 32; /* ignored with 32-bit addresses */
		}
		m->disp = (s32)(target - (m->index >= 0 ? (g[m->index] & (m->a32 ? 0xffffffffULL : ~0ULL)) *
								      m->scale
							    : 0));
		return;
	case FORM_RIP:
		return; /* disp patched after encoding */
	case FORM_ABS:
		m->disp = (s32)target;
		return;
	}
}

/* ------------------------------------------------------------ generator */

static u64 window_target(unsigned int align)
{
	u64 off = 1024 + rnd() % (WIN - 2048);
	return ((u64)win + off) & ~(u64)(align - 1);
}

/* Operand size prefixes for a "v" instruction: 66, none or REX.W. */
static unsigned int pick_vsize(struct spec *s)
{
	switch (rnd() % 3) {
	case 0:
		s->p66 = true;
		return 2;
	case 1:
		return 4;
	default:
		s->rexw = true;
		return 8;
	}
}

/* A ModRM operand: a register (if @allow_reg) or memory at a random
 * target. */
static void pick_rm(struct tcase *t, struct spec *s, bool allow_reg, u32 avoid, unsigned int align)
{
	s->modrm = true;
	if (allow_reg && rnd() % 3 == 0) {
		s->m.form = FORM_REG;
		s->m.rm = rnd() % 16;
		return;
	}
	choose_mem(t, &s->m, window_target(align), avoid, 0);
}

static bool is_mem(const struct spec *s)
{
	return s->modrm && s->m.form != FORM_REG;
}

static u64 imm_for(unsigned int size)
{
	u64 v = rnd_operand();
	return size == 8 ? (u64)(s64)(s32)v : v; /* Iz: imm32 sign-extended */
}

static void gen(struct tcase *t)
{
	struct spec s = { 0 };
	u64 *g = t->st.gpr;
	unsigned int size = 4;

	for (int i = 0; i < 16; i++)
		g[i] = rnd_operand();
	g[X86_RSP] = (u64)win + WIN / 2 + (rnd() % 64) * 8;
	t->st.rflags = 0x202 | (rnd() & FL_ARITH) | ((rnd() % 4 == 0) ? FL_DF : 0);
	t->flags_mask = FL_ARITH | FL_DF;
	for (int i = 0; i < WIN; i += 8) {
		u64 v = rnd();
		memcpy(init_mem + i, &v, 8);
	}
	if (rnd() % 8 == 0)
		s.seg = (u8[]){ 0x26, 0x2e, 0x36, 0x3e }[rnd() % 4];
	if (rnd() % 8 == 0)
		s.rex = true;
	s.reg = rnd() % 16;

	switch (rnd() % 19) {
	case 0: { /* 00-3F arithmetic rows */
		unsigned int op = rnd() % 8, form = rnd() % 6;
		t->name = "alu";
		s.op[0] = op * 8 + form;
		s.oplen = 1;
		if (!(form & 1))
			size = 1;
		else
			size = pick_vsize(&s);
		if (form < 4) {
			pick_rm(t, &s, true, 0, 1);
			s.lock = form < 2 && is_mem(&s) && op != 7 && rnd() % 3 == 0;
		} else {
			s.imm_size = size == 1 ? 1 : size == 2 ? 2 : 4;
			s.imm = rnd_operand();
		}
		if (op == 1 || op == 4 || op == 6)
			t->flags_mask &= ~FL_AF;
		break;
	}
	case 1: { /* group 1 */
		static const u8 ops[] = { 0x80, 0x81, 0x83 };
		t->name = "grp1";
		s.op[0] = ops[rnd() % 3];
		s.oplen = 1;
		size = s.op[0] == 0x80 ? 1 : pick_vsize(&s);
		s.reg = rnd() % 8;
		pick_rm(t, &s, true, 0, 1);
		s.lock = is_mem(&s) && s.reg != 7 && rnd() % 3 == 0;
		s.imm_size = s.op[0] == 0x81 ? (size == 2 ? 2 : 4) : 1;
		s.imm = rnd_operand();
		if (s.reg == 1 || s.reg == 4 || s.reg == 6)
			t->flags_mask &= ~FL_AF;
		break;
	}
	case 2: { /* TEST */
		unsigned int k = rnd() % 3;
		t->name = "test";
		t->flags_mask &= ~FL_AF;
		bool byte = rnd() & 1;
		size = byte ? 1 : pick_vsize(&s);
		if (k == 0) {
			s.op[0] = byte ? 0x84 : 0x85;
			pick_rm(t, &s, true, 0, 1);
		} else if (k == 1) {
			s.op[0] = byte ? 0xa8 : 0xa9;
			s.imm_size = size == 1 ? 1 : size == 2 ? 2 : 4;
			s.imm = rnd_operand();
		} else {
			s.op[0] = byte ? 0xf6 : 0xf7;
			s.reg = 0;
			pick_rm(t, &s, true, 0, 1);
			s.imm_size = size == 1 ? 1 : size == 2 ? 2 : 4;
			s.imm = rnd_operand();
		}
		s.oplen = 1;
		break;
	}
	case 3: { /* NOT NEG INC DEC */
		bool byte = rnd() & 1;
		t->name = "unary";
		size = byte ? 1 : pick_vsize(&s);
		if (rnd() & 1) {
			s.op[0] = byte ? 0xf6 : 0xf7;
			s.reg = 2 + rnd() % 2;
		} else {
			s.op[0] = byte ? 0xfe : 0xff;
			s.reg = rnd() % 2;
		}
		s.oplen = 1;
		pick_rm(t, &s, true, 0, 1);
		s.lock = is_mem(&s) && rnd() % 3 == 0;
		break;
	}
	case 4: { /* MOV 88-8B, C6/C7 */
		unsigned int k = rnd() % 6;
		t->name = "mov";
		s.oplen = 1;
		if (k < 4) {
			s.op[0] = 0x88 + k;
			size = (k & 1) ? pick_vsize(&s) : 1;
			pick_rm(t, &s, true, 0, 1);
		} else {
			s.op[0] = k == 4 ? 0xc6 : 0xc7;
			size = k == 4 ? 1 : pick_vsize(&s);
			s.reg = 0;
			pick_rm(t, &s, true, 0, 1);
			s.imm_size = size == 1 ? 1 : size == 2 ? 2 : 4;
			s.imm = imm_for(size);
		}
		break;
	}
	case 5: { /* MOV moffs, MOV r, imm */
		t->name = "mov-moffs";
		s.oplen = 1;
		if (rnd() & 1) {
			unsigned int k = rnd() % 4;
			s.op[0] = 0xa0 + k;
			size = (k & 1) ? pick_vsize(&s) : 1;
			u64 target = window_target(1);
			s.p67 = rnd() & 1;
			s.imm = target;
			s.imm_size = s.p67 ? 4 : 8;
		} else {
			t->name = "mov-imm";
			bool byte = rnd() & 1;
			s.op[0] = (byte ? 0xb0 : 0xb8) + (rnd() % 8);
			size = byte ? 1 : pick_vsize(&s);
			if (rnd() & 1)
				s.rex = true;
			s.imm_size = size;
			s.imm = rnd_operand();
			s.rexb = rnd() & 1; /* r8-r15 */
		}
		break;
	}
	case 6: { /* MOVZX, MOVSX, MOVSXD */
		t->name = "movx";
		if (rnd() % 4 == 0) {
			s.op[0] = 0x63;
			s.oplen = 1;
			size = pick_vsize(&s);
		} else {
			s.op[0] = 0x0f;
			s.op[1] = (u8[]){ 0xb6, 0xb7, 0xbe, 0xbf }[rnd() % 4];
			s.oplen = 2;
			size = pick_vsize(&s);
		}
		pick_rm(t, &s, true, 0, 1);
		break;
	}
	case 7: /* XCHG */
		t->name = "xchg";
		s.op[0] = 0x86 + rnd() % 2;
		s.oplen = 1;
		size = s.op[0] == 0x86 ? 1 : pick_vsize(&s);
		pick_rm(t, &s, true, 0, 1);
		s.lock = is_mem(&s) && rnd() % 3 == 0;
		break;
	case 8: { /* CMPXCHG */
		t->name = "cmpxchg";
		s.op[0] = 0x0f;
		s.op[1] = 0xb0 + rnd() % 2;
		s.oplen = 2;
		size = s.op[1] == 0xb0 ? 1 : pick_vsize(&s);
		if (s.reg == X86_RAX && rnd() % 4)
			s.reg = 1 + rnd() % 15;
		pick_rm(t, &s, true, 1u << X86_RAX, 1);
		s.lock = is_mem(&s) && rnd() & 1;
		if (rnd() & 1) { /* make the comparison succeed */
			if (is_mem(&s))
				t->st.gpr[X86_RAX] = rnd_operand(); /* fixed below */
			else if (s.m.rm != X86_RAX)
				g[X86_RAX] = g[s.m.rm];
		}
		break;
	}
	case 9: { /* CMPXCHG8B/16B */
		t->name = "cmpxchg8b";
		s.op[0] = 0x0f;
		s.op[1] = 0xc7;
		s.oplen = 2;
		s.reg = 1;
		s.rexw = rnd() & 1;
		size = s.rexw ? 16 : 8;
		pick_rm(t, &s, false, 0xf, s.rexw ? 16 : 1);
		s.lock = rnd() & 1;
		t->flags_mask = 0x40 | FL_DF; /* ZF only */
		break;
	}
	case 10: /* XADD */
		t->name = "xadd";
		s.op[0] = 0x0f;
		s.op[1] = 0xc0 + rnd() % 2;
		s.oplen = 2;
		size = s.op[1] == 0xc0 ? 1 : pick_vsize(&s);
		pick_rm(t, &s, true, 0, 1);
		s.lock = is_mem(&s) && rnd() & 1;
		break;
	case 11: { /* BT BTS BTR BTC reg */
		static const u8 ops[] = { 0xa3, 0xab, 0xb3, 0xbb };
		t->name = "bt";
		s.op[0] = 0x0f;
		s.op[1] = ops[rnd() % 4];
		s.oplen = 2;
		size = pick_vsize(&s);
		if (s.reg == X86_RSP)
			s.reg = X86_RBX;
		pick_rm(t, &s, true, 1u << s.reg, 1);
		if (is_mem(&s)) {
			s64 bit = (s64)(rnd() % 2048) - 1024;
			u64 v = (u64)bit & (size == 2 ? 0xffff : size == 4 ? 0xffffffffULL : ~0ULL);
			g[s.reg] = v | (size < 8 ? rnd() << (size * 8) : 0);
			s.lock = s.op[1] != 0xa3 && rnd() & 1;
		}
		t->flags_mask = 0x41 | FL_DF; /* CF, ZF; OF SF AF PF undefined */
		break;
	}
	case 12: /* BT group 8 imm */
		t->name = "bt-imm";
		s.op[0] = 0x0f;
		s.op[1] = 0xba;
		s.oplen = 2;
		size = pick_vsize(&s);
		s.reg = 4 + rnd() % 4;
		pick_rm(t, &s, true, 0, 1);
		s.imm = rnd();
		s.imm_size = 1;
		s.lock = is_mem(&s) && s.reg != 4 && rnd() & 1;
		t->flags_mask = 0x41 | FL_DF;
		break;
	case 13: /* SETcc */
		t->name = "setcc";
		s.op[0] = 0x0f;
		s.op[1] = 0x90 + rnd() % 16;
		s.oplen = 2;
		size = 1;
		pick_rm(t, &s, true, 0, 1);
		break;
	case 14: /* CMOVcc */
		t->name = "cmovcc";
		s.op[0] = 0x0f;
		s.op[1] = 0x40 + rnd() % 16;
		s.oplen = 2;
		size = pick_vsize(&s);
		pick_rm(t, &s, true, 0, 1);
		break;
	case 15: /* MOVNTI */
		t->name = "movnti";
		s.op[0] = 0x0f;
		s.op[1] = 0xc3;
		s.oplen = 2;
		s.rexw = rnd() & 1;
		pick_rm(t, &s, false, 0, 1);
		break;
	case 16: { /* PUSH Ev, POP Ev */
		bool push = rnd() & 1;
		t->name = push ? "push" : "pop";
		s.op[0] = push ? 0xff : 0x8f;
		s.oplen = 1;
		s.reg = push ? 6 : 0;
		s.p66 = rnd() % 4 == 0;
		size = s.p66 ? 2 : 8;
		s.modrm = true;
		if (rnd() % 4 == 0) {
			s.m.form = FORM_REG;
			s.m.rm = rnd() % 16;
		} else {
			choose_mem(t, &s.m, window_target(1), 0, push ? 0 : size);
		}
		break;
	}
	default: { /* string instructions */
		static const u8 ops[] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };
		t->name = "string";
		s.op[0] = ops[rnd() % 5] + rnd() % 2;
		s.oplen = 1;
		size = (s.op[0] & 1) ? pick_vsize(&s) : 1;
		s.rep = (u8[]){ 0, 0xf2, 0xf3, 0xf3 }[rnd() % 4];
		s.p67 = rnd() % 4 == 0;
		g[X86_RSI] = window_target(1);
		g[X86_RDI] = window_target(1);
		g[X86_RCX] = rnd() % 7;
		if (s.p67) {
			g[X86_RSI] |= rnd() << 32;
			g[X86_RDI] |= rnd() << 32;
			g[X86_RCX] |= rnd() << 32;
		}
		if (s.op[0] == 0xa6 || s.op[0] == 0xa7 || s.op[0] == 0xae || s.op[0] == 0xaf) {
			for (int i = 0; i < WIN; i++)
				init_mem[i] &= 1; /* equal runs for REPE/REPNE */
			g[X86_RAX] &= 0x0101010101010101ULL;
		}
		break;
	}
	}

	int disp_at;
	t->len = encode(&s, t->bytes, &disp_at);
	if (s.modrm && s.m.form == FORM_RIP) {
		u64 target = window_target(size == 16 ? 16 : 1);
		s32 d = (s32)(target - ((u64)code + t->len));
		if (s.m.a32)
			d = (s32)((u32)target - (u32)((u64)code + t->len));
		memcpy(t->bytes + disp_at, &d, 4);
	}
	/* CMPXCHG that should succeed: load the accumulator from memory */
	if ((!strcmp(t->name, "cmpxchg") || !strcmp(t->name, "cmpxchg8b")) && (rnd() & 1) && is_mem(&s)) {
		struct x86_insn in;
		if (x86_dec_decode(&in, t->bytes, t->len, X86_DEC_MODE64, 0) == X86_DEC_OK) {
			u64 off = (u64)in.ea.disp;
			if (in.ea.base == X86_REG_RIP)
				off += (u64)code + t->len;
			else if (in.ea.base != X86_REG_NONE)
				off += g[in.ea.base];
			if (in.ea.index != X86_REG_NONE)
				off += g[in.ea.index] * in.ea.scale;
			if (in.addrsize == 4)
				off &= 0xffffffffULL;
			if (off >= (u64)win && off + 16 <= (u64)win + WIN) {
				memcpy(&g[X86_RAX], init_mem + (off - (u64)win), 8);
				if (!strcmp(t->name, "cmpxchg8b")) {
					unsigned int h = size / 2;
					g[X86_RAX] = 0;
					g[X86_RDX] = 0;
					memcpy(&g[X86_RAX], init_mem + (off - (u64)win), h);
					memcpy(&g[X86_RDX], init_mem + (off - (u64)win) + h, h);
					if (rnd() & 1) { /* garbage in the upper halves */
						g[X86_RAX] |= h == 4 ? rnd() << 32 : 0;
						g[X86_RDX] |= h == 4 ? rnd() << 32 : 0;
					}
				}
			}
		}
	}
}

/* ------------------------------------------------------------ the run */

static void hexdump(char *buf, const u8 *b, unsigned int n)
{
	buf[0] = 0;
	for (unsigned int i = 0; i < n; i++)
		sprintf(buf + 3 * i, "%02x ", b[i]);
}

static void setup_ctx(struct x86_emu_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->mode = X86_CPU_LONG;
	for (int i = 0; i < 6; i++)
		ctx->seg[i] = (struct x86_seg_desc){ .limit = 0xffffffff, .type = 3, .usable = true, .db = true };
	ctx->seg[X86_SEG_CS] = (struct x86_seg_desc){ .limit = 0xffffffff, .type = 0xb, .usable = true, .l = true };
	ctx->ops = &ops;
	ctx->amd = host_is_amd();
}

static const char *const gpr_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
					   "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };

/* See test_x86_emu.h. */
long native_tests(long count)
{
	long undefined_diff = 0, zf_set = 0, rep_iters = 0;
	const char *names[32] = { 0 };
	long per_name[32] = { 0 };

	region = mmap(NULL, 4096 + WIN, PROT_READ | PROT_WRITE | PROT_EXEC,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (region == MAP_FAILED) {
		printf("native: no executable memory below 2 GiB, skipped\n");
		return 0;
	}
	code = region;
	win = region + 4096;

	for (long i = 0; i < count; i++) {
		struct tcase t;
		struct x86_emu_ctx ctx;
		struct x86_insn in;
		char hex[100];

		gen(&t);
		hexdump(hex, t.bytes, t.len);
		checks++;

		memcpy(emu_mem, init_mem, WIN);
		setup_ctx(&ctx);
		memcpy(ctx.gpr, t.st.gpr, sizeof(ctx.gpr));
		ctx.rip = (u64)code;
		ctx.rflags = t.st.rflags;
		int r = x86_dec_decode(&in, t.bytes, t.len, X86_DEC_MODE64, ctx.amd ? X86_DEC_AMD : 0);
		if (r != X86_DEC_OK || in.len != t.len) {
			FAIL("%s [%s]: decode %s, len %u of %u", t.name, hex, x86_dec_status_name(r), in.len, t.len);
			continue;
		}
		int st = x86_emu_exec(&ctx, &in);
		if (st != X86_EMU_OK) {
			FAIL("%s [%s]: %s (vector %u)", t.name, hex, x86_emu_status_name(st), ctx.fault.vector);
			continue;
		}

		struct native_state ns = t.st;
		u64 back = (u64)native_return;
		memcpy(win, init_mem, WIN);
		memcpy(code, t.bytes, t.len);
		memcpy(code + t.len, "\xff\x25\x00\x00\x00\x00", 6); /* jmp *0(%rip) */
		memcpy(code + t.len + 6, &back, 8);
		native_run(&ns, code);

		bool bad = false;
		for (int k = 0; k < 16; k++) {
			if (ns.gpr[k] != ctx.gpr[k]) {
				FAIL("%s [%s]: %s = %#llx, host %#llx (was %#llx)", t.name, hex, gpr_names[k],
				     (unsigned long long)ctx.gpr[k], (unsigned long long)ns.gpr[k],
				     (unsigned long long)t.st.gpr[k]);
				bad = true;
			}
		}
		if ((ns.rflags ^ ctx.rflags) & t.flags_mask) {
			FAIL("%s [%s]: rflags %#llx, host %#llx (in %#llx)", t.name, hex,
			     (unsigned long long)(ctx.rflags & t.flags_mask),
			     (unsigned long long)(ns.rflags & t.flags_mask), (unsigned long long)t.st.rflags);
			bad = true;
		} else if ((ns.rflags ^ ctx.rflags) & (FL_ARITH | FL_DF)) {
			undefined_diff++;
		}
		if (memcmp(win, emu_mem, WIN)) {
			for (int k = 0; k < WIN; k++) {
				if (win[k] != emu_mem[k]) {
					FAIL("%s [%s]: memory +%#x = %02x, host %02x (was %02x)", t.name, hex, k,
					     emu_mem[k], win[k], init_mem[k]);
					break;
				}
			}
			bad = true;
		}
		for (int k = 0; k < 32; k++) {
			if (!names[k] || !strcmp(names[k], t.name)) {
				names[k] = t.name;
				per_name[k]++;
				break;
			}
		}
		zf_set += !strncmp(t.name, "cmpxchg", 7) && (ctx.rflags & 0x40);
		if (!strcmp(t.name, "string") && in.rep)
			rep_iters += (t.st.gpr[X86_RCX] - ctx.gpr[X86_RCX]) & (in.addrsize == 4 ? 0xffffffffULL : ~0ULL);
		if (ctx.rip != (u64)code + t.len)
			FAIL("%s [%s]: rip +%llu", t.name, hex, (unsigned long long)(ctx.rip - (u64)code));
		if (bad && failures > 60)
			break;
	}
	printf("native: %ld random instructions vs the host CPU, %ld with undefined flags differing\n", count,
	       undefined_diff);
	printf("native: by family:");
	for (int k = 0; k < 32 && names[k]; k++)
		printf(" %s %ld", names[k], per_name[k]);
	printf("; cmpxchg with ZF=1: %ld; REP iterations: %ld\n", zf_set, rep_iters);
	munmap(region, 4096 + WIN);
	return count;
}
