/*
 * tests/fuzz/fuzz_x86_emu.c - libFuzzer target for the instruction
 * emulator (kernel/x86_emu*.c) through x86_emu_step() on a fake guest.
 *
 * Input: a header that sets the CPU mode, the six segments (base, limit,
 * type, usable, D/B, L), the registers (small offsets into the fake memory
 * or any 64-bit value), RFLAGS, vendor, LA57, the REP budget and the fake
 * guest's page attributes; then up to 15 instruction bytes placed at
 * CS:RIP; then bytes for the data area. The fake guest memory is 64 KiB
 * of linear address space from 0 with per-page not-present, read-only and
 * "MMIO" (cmpxchg unhandleable) attributes; the callbacks raise #PF
 * outside it, and can lose cmpxchg races on request.
 *
 * Checks (the contract of kernel/x86_emu.h):
 *  - the status is one of the five; a #UD/#GP/#SS/#PF fault, #PF only as
 *    a callback raised it;
 *  - every memory callback: size 1..16, a segment number; in 64-bit mode
 *    both ends canonical; otherwise the linear address is within 4 GiB and
 *    the access passes the segment's usability, type and limit checks
 *    (expand-up and expand-down); port I/O of 1, 2 or 4 bytes;
 *  - a status other than OK leaves RIP as it was, and, except for string
 *    instructions (whose completed iterations stay), the registers, RFLAGS
 *    and guest memory too; UNSUPPORTED touches no data or port at all;
 *  - OK moves RIP past the instruction (wrapped to the code size), or
 *    leaves it for a REP instruction with iterations left; RFLAGS changes
 *    only in the status flags; segments never change;
 *  - ctx->insn is what x86_dec_decode makes of the bytes at CS:RIP;
 *  - a step is deterministic: run twice from the same state, the same
 *    callbacks in the same order with the same data, the same result;
 *  - x86_emu_exec refuses (UNSUPPORTED, nothing changed) an instruction
 *    decoded for another code size.
 */
#include "kernel/x86_emu.h"
#include "tests/fuzz/fuzz_common.h"

#define MEM_SIZE 0x10000ULL
#define NPAGES (MEM_SIZE / 4096)
#define FL_STATUS 0x8d5ULL /* CF PF AF ZF SF OF */

static u8 mem[MEM_SIZE];
static u16 pg_absent, pg_ro, pg_mmio;
static int races; /* cmpxchg calls left that lose a race */
static bool no_cmpxchg;

enum { L_READ, L_WRITE, L_CMPXCHG, L_IN, L_OUT, L_FETCH };

struct logent {
	u8 kind, seg, size;
	int status;
	u64 la;
	u8 data[16];
};

#define LOG_MAX 1024
static struct logent log_[LOG_MAX];
static int nlog;
static struct {
	u64 la;
	u8 old[16];
	u8 size;
} undo[LOG_MAX];
static int nundo, nwrites, nrace_writes;
static u64 last_pf_la;
static bool pf_raised;

static struct x86_emu_ctx before;

static struct logent *log_add(u8 kind, int seg, u64 la, unsigned size)
{
	FZ_CHECK(nlog < LOG_MAX, "too many callbacks in one step");
	struct logent *e = &log_[nlog++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->seg = (u8)seg;
	e->la = la;
	e->size = (u8)size;
	return e;
}

/* The segment checks the contract promises, on an access that reached a
 * callback. */
static void check_access(const struct x86_emu_ctx *c, int seg, u64 la, unsigned size, bool write)
{
	FZ_CHECK(size >= 1 && size <= 16, "access of %u bytes", size);
	FZ_CHECK(seg >= 0 && seg <= X86_SEG_GS, "segment %d", seg);
	bool m64 = c->mode == X86_CPU_LONG && c->seg[X86_SEG_CS].l;
	if (m64) {
		unsigned s = c->la57 ? 7 : 16;
		u64 last = la + size - 1;
		FZ_CHECK((u64)((s64)(la << s) >> s) == la && (u64)((s64)(last << s) >> s) == last && last >= la,
			 "non-canonical access %#llx+%u reached a callback", (unsigned long long)la, size);
		return;
	}
	const struct x86_seg_desc *d = &c->seg[seg];
	FZ_CHECK(la <= 0xffffffffULL, "linear address %#llx above 4 GiB", (unsigned long long)la);
	u64 off = (la - d->base) & 0xffffffffULL, last = off + size - 1;
	bool prot = c->mode == X86_CPU_PROT || c->mode == X86_CPU_LONG;
	bool code = d->type & X86_SEG_TYPE_CODE;
	if (prot) {
		FZ_CHECK(d->usable, "access through unusable segment %d", seg);
		if (write)
			FZ_CHECK(!code && (d->type & X86_SEG_TYPE_W), "write through read-only segment %d (type %#x)", seg,
				 d->type);
		else
			FZ_CHECK(!code || (d->type & X86_SEG_TYPE_W), "read through execute-only segment %d", seg);
	}
	if (prot && !code && (d->type & X86_SEG_TYPE_EXPDOWN)) {
		u64 upper = d->db ? 0xffffffffULL : 0xffffULL;
		FZ_CHECK(off > d->limit && last <= upper, "expand-down segment %d: offset %#llx+%u, limit %#x", seg,
			 (unsigned long long)off, size, d->limit);
	} else {
		FZ_CHECK(last <= d->limit, "segment %d: offset %#llx+%u past limit %#x", seg, (unsigned long long)off,
			 size, d->limit);
	}
}

/* Whether [la, la+size) is accessible; if not, *bad is its first byte
 * that is not. */
static bool accessible(u64 la, unsigned size, bool write, u64 *bad)
{
	for (unsigned i = 0; i < size; i++) {
		u64 a = la + i;
		if (a >= MEM_SIZE || (pg_absent >> (a / 4096) & 1) || (write && (pg_ro >> (a / 4096) & 1))) {
			*bad = a;
			return false;
		}
	}
	return true;
}

static int pf(struct x86_emu_ctx *c, u64 a, bool write)
{
	u32 ec = (a < MEM_SIZE && !(pg_absent >> (a / 4096) & 1)) ? 1 : 0;
	last_pf_la = a;
	pf_raised = true;
	return x86_emu_page_fault(c, a, ec | (write ? 2 : 0) | (c->cpl == 3 ? 4 : 0));
}

static int cb_read(struct x86_emu_ctx *c, enum x86_seg seg, u64 la, void *buf, unsigned size)
{
	struct logent *e = log_add(L_READ, seg, la, size);
	check_access(c, seg, la, size, false);
	u64 b;
	if (!accessible(la, size, false, &b))
		return e->status = pf(c, b, false);
	memcpy(buf, mem + la, size);
	memcpy(e->data, buf, size);
	return X86_EMU_OK;
}

static void do_write(u64 la, const void *buf, unsigned size)
{
	undo[nundo].la = la;
	undo[nundo].size = (u8)size;
	memcpy(undo[nundo].old, mem + la, size);
	nundo++;
	nwrites++;
	memcpy(mem + la, buf, size);
}

static int cb_write(struct x86_emu_ctx *c, enum x86_seg seg, u64 la, const void *buf, unsigned size)
{
	struct logent *e = log_add(L_WRITE, seg, la, size);
	check_access(c, seg, la, size, true);
	memcpy(e->data, buf, size);
	u64 b;
	if (!accessible(la, size, true, &b))
		return e->status = pf(c, b, true);
	do_write(la, buf, size);
	return X86_EMU_OK;
}

static int cb_cmpxchg(struct x86_emu_ctx *c, enum x86_seg seg, u64 la, void *old, const void *new, unsigned size)
{
	struct logent *e = log_add(L_CMPXCHG, seg, la, size);
	check_access(c, seg, la, size, true);
	memcpy(e->data, new, size);
	u64 b;
	if (!accessible(la, size, true, &b))
		return e->status = pf(c, b, true);
	if (pg_mmio >> (la / 4096) & 1)
		return e->status = X86_EMU_UNHANDLEABLE;
	if (races > 0) {
		/* another CPU changes the location first */
		races--;
		u8 x[16];
		memcpy(x, mem + la, size);
		x[0] ^= 0x5a;
		do_write(la, x, size);
		nrace_writes++;
	}
	u8 cur[16];
	memcpy(cur, mem + la, size);
	if (!memcmp(cur, old, size))
		do_write(la, new, size);
	memcpy(old, cur, size);
	return X86_EMU_OK;
}

static int cb_in(struct x86_emu_ctx *c, u16 port, unsigned size, u32 *val)
{
	struct logent *e = log_add(L_IN, 0, port, size);
	FZ_CHECK(size == 1 || size == 2 || size == 4, "IN of %u bytes", size);
	*val = (u32)(port * 0x9e3779b1u) & (u32)((1ULL << (8 * size)) - 1);
	if (port == 0xdead)
		return e->status = X86_EMU_RETRY;
	return X86_EMU_OK;
}

static int cb_out(struct x86_emu_ctx *c, u16 port, unsigned size, u32 val)
{
	struct logent *e = log_add(L_OUT, 0, port, size);
	FZ_CHECK(size == 1 || size == 2 || size == 4, "OUT of %u bytes", size);
	FZ_CHECK(size == 4 || val < (1u << (8 * size)), "OUT value %#x wider than %u bytes", val, size);
	memcpy(e->data, &val, 4);
	if (port == 0xdead)
		return e->status = X86_EMU_UNHANDLEABLE;
	return X86_EMU_OK;
}

static int cb_fetch(struct x86_emu_ctx *c, u64 la, void *buf, unsigned size)
{
	struct logent *e = log_add(L_FETCH, X86_SEG_CS, la, size);
	FZ_CHECK(size >= 1 && size <= 15, "fetch of %u bytes", size);
	if (c->mode == X86_CPU_LONG && c->seg[X86_SEG_CS].l) {
		unsigned s = c->la57 ? 7 : 16;
		u64 last = la + size - 1;
		FZ_CHECK((u64)((s64)(la << s) >> s) == la && (u64)((s64)(last << s) >> s) == last,
			 "non-canonical fetch %#llx+%u", (unsigned long long)la, size);
	} else {
		u64 off = (la - c->seg[X86_SEG_CS].base) & 0xffffffffULL;
		FZ_CHECK(la <= 0xffffffffULL && off + size - 1 <= c->seg[X86_SEG_CS].limit,
			 "fetch at CS offset %#llx+%u past limit %#x", (unsigned long long)off, size,
			 c->seg[X86_SEG_CS].limit);
	}
	u64 b;
	if (!accessible(la, size, false, &b))
		return e->status = pf(c, b, false);
	memcpy(buf, mem + la, size);
	return X86_EMU_OK;
}

static const struct x86_emu_ops ops = { cb_read, cb_write, cb_cmpxchg, cb_in, cb_out, cb_fetch };
static const struct x86_emu_ops ops_nocx = { cb_read, cb_write, NULL, cb_in, cb_out, cb_fetch };

static bool is_string(const struct x86_insn *in)
{
	u8 op = in->opcode;
	return in->map == X86_MAP_1B && ((op >= 0x6c && op <= 0x6f) || (op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf));
}

static u64 mask_of(int mode)
{
	return mode == X86_DEC_MODE16 ? 0xffff : mode == X86_DEC_MODE32 ? 0xffffffffULL : ~0ULL;
}

static void reset_step(int nraces)
{
	nlog = nundo = nwrites = nrace_writes = 0;
	pf_raised = false;
	races = nraces;
}

static void undo_writes(void)
{
	while (nundo > 0) {
		nundo--;
		memcpy(mem + undo[nundo].la, undo[nundo].old, undo[nundo].size);
	}
}

static bool same_ctx(const struct x86_emu_ctx *a, const struct x86_emu_ctx *b)
{
	return !memcmp(a->gpr, b->gpr, sizeof(a->gpr)) && a->rip == b->rip && a->rflags == b->rflags &&
	       !memcmp(a->seg, b->seg, sizeof(a->seg));
}

static void setup(struct fz *f, struct x86_emu_ctx *c)
{
	memset(c, 0, sizeof(*c));
	u8 m = fz_u8(f);
	c->mode = m & 3;
	c->amd = m & 4;
	c->la57 = m & 8;
	c->cpl = (m >> 4) & 3;
	no_cmpxchg = m & 0x40;
	c->ops = no_cmpxchg ? &ops_nocx : &ops;
	c->rep_budget = 1 + fz_u8(f) % 32;
	for (int i = 0; i < 6; i++) {
		struct x86_seg_desc *s = &c->seg[i];
		u8 k = fz_u8(f);
		s->type = (i == X86_SEG_CS ? 0xb : 0x3) ^ (k & 0xf ? (k & 0xe) : 0);
		if (i == X86_SEG_CS)
			s->type |= X86_SEG_TYPE_CODE; /* a loaded CS is always code */
		s->usable = !(k & 0x10) || i == X86_SEG_CS;
		s->db = k & 0x20;
		s->l = i == X86_SEG_CS && (k & 0x40);
		switch (fz_u8(f) % 4) {
		case 0: s->limit = 0xffff; break;
		case 1: s->limit = 0xffffffff; break;
		case 2: s->limit = fz_u16(f); break;
		default: s->limit = fz_u32(f); break;
		}
		u8 b = fz_u8(f);
		s->base = (k & 0x80) ? fz_u64(f) : (u64)b << 8;
		if (c->mode == X86_CPU_REAL || c->mode == X86_CPU_VM86) {
			s->sel = (u16)(s->base >> 4);
			s->base = (u64)s->sel << 4;
		} else if (!(c->mode == X86_CPU_LONG && s->l)) {
			s->base &= 0xffffffffULL;
		}
	}
	for (int i = 0; i < 16; i++) {
		u8 k = fz_u8(f);
		c->gpr[i] = (k & 0x80) ? fz_u64(f) : (u64)(k & 0x7f) << 8 | fz_u8(f);
	}
	c->rip = fz_u16(f) & 0x7fff;
	c->rflags = 0x2 | (fz_u16(f) & 0xcd5);
	pg_absent = fz_u16(f) & ~(u16)1;
	pg_ro = fz_u16(f);
	pg_mmio = fz_u16(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct x86_emu_ctx c, first;

	setup(&f, &c);
	int nraces = fz_u8(&f) % 20;
	/* memory: a pattern, the instruction at CS:RIP, then the data area */
	static u8 pattern[MEM_SIZE];
	static bool have_pattern;
	if (!have_pattern) {
		for (u64 i = 0; i < MEM_SIZE; i++)
			pattern[i] = (u8)(i * 13 + (i >> 8));
		have_pattern = true;
	}
	memcpy(mem, pattern, MEM_SIZE);
	bool m64 = c.mode == X86_CPU_LONG && c.seg[X86_SEG_CS].l;
	int cmode = x86_emu_code_size(&c);
	u64 ip = c.rip & mask_of(cmode);
	u64 code_la = m64 ? ip : (c.seg[X86_SEG_CS].base + ip) & 0xffffffffULL;
	size_t n = 15;
	const u8 *code = fz_take(&f, &n);
	for (size_t i = 0; i < n; i++)
		if (code_la + i < MEM_SIZE)
			mem[code_la + i] = code[i];
	n = f.n;
	const u8 *rest = fz_take(&f, &n);
	for (size_t i = 0; i < n && i < 0x1000; i++)
		mem[0x100 + i] = rest[i];

	/* the step */
	before = c;
	reset_step(nraces);
	int st = x86_emu_step(&c);
	if (getenv("FUZZ_DEBUG"))
		fprintf(stderr, "step: %s (len %u opcode %#x, vector %u), %d callbacks, rip %#llx -> %#llx\n",
			x86_emu_status_name(st), c.insn.len, c.insn.opcode, c.fault.vector, nlog,
			(unsigned long long)before.rip, (unsigned long long)c.rip);
	FZ_CHECK(st >= X86_EMU_OK && st <= X86_EMU_UNSUPPORTED, "status %d", st);
	bool str = is_string(&c.insn);
	int data_calls = 0;
	for (int i = 0; i < nlog; i++)
		data_calls += log_[i].kind != L_FETCH;

	FZ_CHECK(!memcmp(c.seg, before.seg, sizeof(c.seg)) && c.mode == before.mode, "segments changed");
	if (st != X86_EMU_OK) {
		FZ_CHECK(c.rip == before.rip, "RIP moved with status %s", x86_emu_status_name(st));
		if (!str) {
			FZ_CHECK(!memcmp(c.gpr, before.gpr, sizeof(c.gpr)) && c.rflags == before.rflags,
				 "registers changed with status %s (opcode %#x)", x86_emu_status_name(st), c.insn.opcode);
			FZ_CHECK(nwrites == nrace_writes, "memory written with status %s (opcode %#x)", x86_emu_status_name(st), c.insn.opcode);
		}
	}
	if (st == X86_EMU_UNSUPPORTED)
		FZ_CHECK(data_calls == 0, "UNSUPPORTED after %d data/port accesses (opcode %#x)", data_calls,
			 c.insn.opcode);
	if (st == X86_EMU_FAULT) {
		u8 v = c.fault.vector;
		FZ_CHECK(v == X86_VEC_UD || v == X86_VEC_GP || v == X86_VEC_SS || v == X86_VEC_PF, "vector %u", v);
		if (v == X86_VEC_PF)
			FZ_CHECK(pf_raised && c.fault.cr2 == last_pf_la, "#PF not from a callback");
		if (v == X86_VEC_UD)
			FZ_CHECK(!c.fault.has_error, "#UD with an error code");
		if (v == X86_VEC_GP || v == X86_VEC_SS)
			FZ_CHECK(c.fault.has_error && c.fault.error_code == 0, "#GP/#SS error code");
	}
	if (st == X86_EMU_OK) {
		u64 next = (before.rip + c.insn.len) & mask_of(cmode);
		FZ_CHECK(c.rip == next || (str && c.insn.rep && c.rip == before.rip),
			 "RIP %#llx after a %u-byte instruction at %#llx (opcode %#x)", (unsigned long long)c.rip,
			 c.insn.len, (unsigned long long)before.rip, c.insn.opcode);
		FZ_CHECK(((c.rflags ^ before.rflags) & ~FL_STATUS) == 0, "RFLAGS %#llx -> %#llx (opcode %#x)",
			 (unsigned long long)before.rflags, (unsigned long long)c.rflags, c.insn.opcode);
		FZ_CHECK(c.insn.len >= 1 && c.insn.len <= 15 && c.insn.mode == cmode, "insn len %u mode %u", c.insn.len,
			 c.insn.mode);
	}
	/* ctx->insn is the decoder's view of the bytes at CS:RIP */
	if (st == X86_EMU_OK || (st == X86_EMU_UNSUPPORTED && c.insn.len)) {
		struct x86_insn d;
		u8 buf[15];
		size_t avail = 0;
		while (avail < 15 && code_la + avail < MEM_SIZE && !((pg_absent >> ((code_la + avail) / 4096)) & 1)) {
			buf[avail] = mem[code_la + avail];
			avail++;
		}
		/* memory the instruction wrote may hold its own bytes: undo */
		for (int i = nundo - 1; i >= 0; i--)
			for (unsigned k = 0; k < undo[i].size; k++)
				if (undo[i].la + k >= code_la && undo[i].la + k < code_la + avail)
					buf[undo[i].la + k - code_la] = undo[i].old[k];
		int dr = x86_dec_decode(&d, buf, avail, cmode, c.amd ? X86_DEC_AMD : 0);
		if (dr == X86_DEC_OK)
			FZ_CHECK(d.len == c.insn.len && d.opcode == c.insn.opcode && d.map == c.insn.map &&
					 !memcmp(d.bytes, c.insn.bytes, d.len),
				 "ctx->insn is not the decoded instruction");
	}

	/* deterministic: again from the same state */
	first = c;
	int n1 = nlog, st1 = st;
	static struct logent log1[LOG_MAX];
	memcpy(log1, log_, sizeof(log_[0]) * (size_t)nlog);
	/* (the same writes from the same memory: the same memory after) */
	undo_writes();
	c = before;
	reset_step(nraces);
	st = x86_emu_step(&c);
	FZ_CHECK(st == st1 && same_ctx(&c, &first) && nlog == n1, "second run differs");
	for (int i = 0; i < nlog; i++)
		FZ_CHECK(log_[i].kind == log1[i].kind && log_[i].la == log1[i].la && log_[i].size == log1[i].size &&
				 log_[i].status == log1[i].status && !memcmp(log_[i].data, log1[i].data, 16),
			 "callback %d differs in the second run", i);
	if (st == X86_EMU_FAULT)
		FZ_CHECK(c.fault.vector == first.fault.vector && c.fault.error_code == first.fault.error_code,
			 "fault differs in the second run");

	/* an instruction decoded for another code size is refused */
	if (st == X86_EMU_OK || st == X86_EMU_UNSUPPORTED) {
		struct x86_insn other = c.insn;
		other.mode = cmode == X86_DEC_MODE64 ? X86_DEC_MODE32 : X86_DEC_MODE64;
		struct x86_emu_ctx c2 = before;
		reset_step(0);
		FZ_CHECK(x86_emu_exec(&c2, &other) == X86_EMU_UNSUPPORTED && same_ctx(&c2, &before) && nlog == 0,
			 "instruction for another code size executed");
	}
	return 0;
}
