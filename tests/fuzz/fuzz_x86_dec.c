/*
 * tests/fuzz/fuzz_x86_dec.c - libFuzzer target for the instruction decoder
 * (kernel/x86_dec.c).
 *
 * Input: byte 0 selects the mode (16/32/64-bit) and vendor rules; the rest
 * are instruction bytes, copied into an exact-size heap block so ASan
 * catches a read past @avail.
 *
 * Checks, for each mode the byte selects:
 *  - the status is one of the five; on success 1 <= len <= 15 and len <=
 *    avail; on error len <= min(avail, 15); 15 or more bytes are never
 *    "truncated";
 *  - decoding is deterministic and depends only on the bytes examined:
 *    the same result from a second call into a differently pre-filled
 *    struct, from exactly len bytes, and "truncated" from any shorter
 *    prefix of a valid instruction;
 *  - the instruction's parts add up: prefixes + opcode + ModRM + SIB +
 *    displacement + immediates = len, and each part is where it says in
 *    bytes[] (ModRM, SIB, displacement sign-extended, immediates);
 *  - the fields are coherent: REX only in 64-bit mode; operand size 1, 2,
 *    4 or 8 (8 only in 64-bit mode); address size per mode; effective
 *    address registers, scale, RIP-relative only with mod 00 r/m 101 in
 *    64-bit mode; segments in range;
 *  - Intel and AMD rules give the same result except where the header
 *    says they differ (66 on near branches in 64-bit mode, XOP, LOCK MOV
 *    CRn).
 */
#include "kernel/x86_dec.h"
#include "tests/fuzz/fuzz_common.h"

static u64 le(const u8 *p, unsigned n)
{
	u64 v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

static bool legacy_prefix(u8 b)
{
	switch (b) {
	case 0xf0: case 0xf2: case 0xf3: case 0x66: case 0x67:
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
		return true;
	}
	return false;
}

static bool reg_ok(u8 r, bool rip)
{
	return r < 16 || r == X86_REG_NONE || (rip && r == X86_REG_RIP);
}

/* Field-by-field equality (the struct has padding). */
static bool same_insn(const struct x86_insn *a, const struct x86_insn *b)
{
	return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len) && a->mode == b->mode && a->enc == b->enc &&
	       a->map == b->map && a->opcode == b->opcode && a->opsize == b->opsize && a->addrsize == b->addrsize &&
	       a->prefixes == b->prefixes && a->rex == b->rex && a->rep == b->rep && a->simd_pfx == b->simd_pfx &&
	       a->seg_override == b->seg_override && a->seg == b->seg && a->prefix_len == b->prefix_len &&
	       a->has_modrm == b->has_modrm && a->has_sib == b->has_sib && a->has_mem == b->has_mem &&
	       a->modrm == b->modrm && a->mod == b->mod && a->reg == b->reg && a->rm == b->rm && a->sib == b->sib &&
	       a->disp_size == b->disp_size && a->imm_size == b->imm_size && a->imm2_size == b->imm2_size &&
	       a->imm == b->imm && a->imm2 == b->imm2 && a->ea.base == b->ea.base && a->ea.index == b->ea.index &&
	       a->ea.scale == b->ea.scale && a->ea.disp == b->ea.disp && a->vex_len == b->vex_len &&
	       !memcmp(a->vex, b->vex, sizeof(a->vex));
}

static void check_ok(const struct x86_insn *in, const u8 *code, size_t avail, int mode)
{
	bool m64 = mode == X86_DEC_MODE64;

	FZ_CHECK(in->len >= 1 && in->len <= 15 && in->len <= avail, "len %u (avail %zu)", in->len, avail);
	FZ_CHECK(!memcmp(in->bytes, code, in->len), "bytes[] is not the instruction");
	FZ_CHECK(in->mode == mode, "mode %u", in->mode);
	unsigned parts = in->prefix_len + 1u + in->has_modrm + in->has_sib + in->disp_size + in->imm_size +
			 in->imm2_size;
	FZ_CHECK(parts == in->len, "parts add up to %u, len %u (prefix_len %u modrm %d sib %d disp %u imm %u+%u)",
		 parts, in->len, in->prefix_len, in->has_modrm, in->has_sib, in->disp_size, in->imm_size,
		 in->imm2_size);
	FZ_CHECK(in->enc <= X86_ENC_XOP && in->map <= X86_MAP_XOPA, "enc %u map %u", in->enc, in->map);

	/* sizes */
	FZ_CHECK(in->opsize == 1 || in->opsize == 2 || in->opsize == 4 || (in->opsize == 8 && m64), "opsize %u",
		 in->opsize);
	if (m64)
		FZ_CHECK(in->addrsize == 8 || in->addrsize == 4, "addrsize %u in 64-bit mode", in->addrsize);
	else
		FZ_CHECK(in->addrsize == 2 || in->addrsize == 4, "addrsize %u", in->addrsize);
	FZ_CHECK(in->addrsize == (m64 ? 8 : mode) || (in->prefixes & X86_PFX_ADDRSIZE),
		 "address size %u without 67", in->addrsize);

	/* prefixes and REX */
	FZ_CHECK(m64 || (!in->rex && !(in->prefixes & X86_PFX_REX)), "REX outside 64-bit mode");
	FZ_CHECK(!(in->prefixes & X86_PFX_REX) == !in->rex, "REX flag %d rex %#x", !!(in->prefixes & X86_PFX_REX),
		 in->rex);
	FZ_CHECK(!in->rex || (in->rex & 0xf0) == 0x40, "rex %#x", in->rex);
	FZ_CHECK(in->rep == 0 || in->rep == 0xf2 || in->rep == 0xf3, "rep %#x", in->rep);
	FZ_CHECK(in->seg_override == X86_SEG_NONE || in->seg_override <= X86_SEG_GS, "seg override %u",
		 in->seg_override);
	FZ_CHECK(in->seg_override == X86_SEG_NONE || (in->prefixes & X86_PFX_SEG), "override without a prefix");
	if (in->has_mem)
		FZ_CHECK(in->seg <= X86_SEG_GS, "memory operand segment %u", in->seg);
	if (in->enc == X86_ENC_LEGACY) {
		/* legacy prefixes (and REX) then the escapes and the opcode */
		unsigned k = 0;
		while (k < in->prefix_len && (legacy_prefix(code[k]) || (m64 && (code[k] & 0xf0) == 0x40)))
			k++;
		FZ_CHECK(in->rex == 0 || (k > 0 && code[k - 1] == in->rex), "REX %#x does not precede the opcode",
			 in->rex);
		if (in->map == X86_MAP_1B) {
			FZ_CHECK(k == in->prefix_len && code[k] == in->opcode, "one-byte opcode not after prefixes");
		} else {
			FZ_CHECK(code[k] == 0x0f, "escape");
			if (in->map == X86_MAP_0F38 || in->map == X86_MAP_0F3A)
				FZ_CHECK(k + 2 == in->prefix_len && code[k + 1] == (in->map == X86_MAP_0F38 ? 0x38 : 0x3a),
					 "three-byte escape");
			else
				FZ_CHECK(k + 1 == in->prefix_len && in->map == X86_MAP_0F, "two-byte escape");
			FZ_CHECK(code[in->prefix_len] == in->opcode, "opcode byte");
		}
		FZ_CHECK(in->vex_len == 0, "vex_len %u with legacy encoding", in->vex_len);
	} else {
		FZ_CHECK(in->vex_len >= 2 && in->vex_len <= 4 && in->vex_len <= in->prefix_len, "vex_len %u",
			 in->vex_len);
		const u8 *v = code + in->prefix_len - in->vex_len;
		FZ_CHECK(!memcmp(v, in->vex, in->vex_len), "vex bytes");
		FZ_CHECK(code[in->prefix_len] == in->opcode, "VEX opcode byte");
		FZ_CHECK(!(in->prefixes & (X86_PFX_LOCK | X86_PFX_OPSIZE | X86_PFX_REP | X86_PFX_REPNE)) && !in->rex,
			 "prefix before VEX accepted");
	}

	/* ModRM, SIB, displacement, immediates in place */
	unsigned pos = in->prefix_len + 1u;
	if (in->has_modrm) {
		FZ_CHECK(code[pos] == in->modrm, "modrm byte");
		FZ_CHECK((in->reg & 7) == ((in->modrm >> 3) & 7) && in->reg < 16, "reg %u", in->reg);
		FZ_CHECK((in->rm & 7) == (in->modrm & 7) && in->rm < 16, "rm %u", in->rm);
		FZ_CHECK(in->mod == (in->modrm >> 6) || in->mod == 3, "mod %u", in->mod);
		pos++;
	} else {
		FZ_CHECK(!in->has_sib && !in->mod && !in->reg && !in->rm, "ModRM fields without ModRM");
	}
	if (in->has_sib) {
		FZ_CHECK(in->has_modrm && in->mod != 3 && (in->modrm & 7) == 4 && in->addrsize != 2, "SIB without rm 100");
		FZ_CHECK(code[pos] == in->sib, "sib byte");
		pos++;
	} else if (in->has_modrm && in->mod != 3 && in->addrsize != 2) {
		FZ_CHECK((in->modrm & 7) != 4, "rm 100 without SIB");
	}
	if (in->has_mem) {
		const struct x86_ea *ea = &in->ea;
		FZ_CHECK(reg_ok(ea->base, true) && reg_ok(ea->index, false), "ea regs %u %u", ea->base, ea->index);
		FZ_CHECK(ea->scale == 1 || ea->scale == 2 || ea->scale == 4 || ea->scale == 8, "scale %u", ea->scale);
		FZ_CHECK(ea->index != X86_RSP, "RSP as index");
		if (ea->base == X86_REG_RIP)
			FZ_CHECK(m64 && in->mod == 0 && (in->modrm & 7) == 5 && !in->has_sib, "RIP-relative");
		if (in->has_modrm && in->mod != 3) {
			unsigned want = in->mod == 1 ? 1 : in->mod == 2 ? (in->addrsize == 2 ? 2 : 4) : 0;
			if (in->mod == 0 && in->addrsize == 2 && (in->modrm & 7) == 6)
				want = 2;
			if (in->mod == 0 && in->addrsize != 2 &&
			    ((in->modrm & 7) == 5 || (in->has_sib && (in->sib & 7) == 5)))
				want = 4;
			FZ_CHECK(in->disp_size == want, "disp size %u, want %u", in->disp_size, want);
			u64 d = le(code + pos, in->disp_size);
			s64 sd = in->disp_size == 1 ? (s8)d : in->disp_size == 2 ? (s16)d : in->disp_size == 4 ? (s32)d : 0;
			FZ_CHECK(ea->disp == sd, "disp %lld, bytes say %lld", (long long)ea->disp, (long long)sd);
		} else {
			/* moffs */
			FZ_CHECK(!in->has_modrm && in->disp_size == in->addrsize, "moffs size");
			FZ_CHECK((u64)ea->disp == le(code + pos, in->disp_size), "moffs value");
		}
	} else {
		FZ_CHECK(in->disp_size == 0 && !(in->has_modrm && in->mod != 3), "displacement without memory");
	}
	pos += in->disp_size;
	FZ_CHECK(in->imm_size <= 8 && in->imm2_size <= 2, "imm sizes %u %u", in->imm_size, in->imm2_size);
	FZ_CHECK(in->imm == le(code + pos, in->imm_size), "imm value");
	pos += in->imm_size;
	FZ_CHECK(in->imm2 == le(code + pos, in->imm2_size), "imm2 value");
	pos += in->imm2_size;
	FZ_CHECK(pos == in->len, "parts end at %u, len %u", pos, in->len);
	FZ_CHECK(in->imm_size != 8 || (in->opsize == 8 && in->map == X86_MAP_1B && (in->opcode & 0xf8) == 0xb8),
		 "8-byte immediate outside MOV r64, imm64");
}

/* Where the header allows Intel and AMD rules to differ. */
static bool vendor_may_differ(const u8 *code, size_t n, int mode)
{
	for (size_t i = 0; i < n && i < 15; i++) {
		if (code[i] == 0x8f || code[i] == 0x0f)
			return true; /* XOP, LOCK MOV CRn (and anything after an escape) */
		if (code[i] == 0x66 && mode == X86_DEC_MODE64)
			return true;
	}
	return false;
}

#ifdef FUZZ_LLVM_ORACLE
/*
 * An independent oracle: LLVM's X86 disassembler (libLLVM, through its
 * stable C API, declared here so no LLVM headers are needed). Where both
 * decode an instruction, the lengths must agree, except for the known
 * differences listed in llvm_may_differ().
 */
typedef void *LLVMDisasmContextRef;
LLVMDisasmContextRef LLVMCreateDisasm(const char *triple, void *info, int tag, void *opinfo, void *symlookup);
size_t LLVMDisasmInstruction(LLVMDisasmContextRef dc, uint8_t *bytes, uint64_t size, uint64_t pc, char *out,
			     size_t outsize);
void LLVMInitializeX86TargetInfo(void);
void LLVMInitializeX86TargetMC(void);
void LLVMInitializeX86Disassembler(void);

static LLVMDisasmContextRef llvm_dc[3];

static size_t llvm_len(const u8 *code, size_t n, int mode, char *text, size_t tsize)
{
	static const char *const triple[3] = { "i386-unknown-unknown-code16", "i386-unknown-linux-gnu",
					       "x86_64-unknown-linux-gnu" };
	int i = mode == X86_DEC_MODE16 ? 0 : mode == X86_DEC_MODE32 ? 1 : 2;
	u8 buf[16];

	if (!llvm_dc[i]) {
		LLVMInitializeX86TargetInfo();
		LLVMInitializeX86TargetMC();
		LLVMInitializeX86Disassembler();
		llvm_dc[i] = LLVMCreateDisasm(triple[i], NULL, 0, NULL, NULL);
		FZ_CHECK(llvm_dc[i], "no LLVM disassembler for %s", triple[i]);
	}
	memcpy(buf, code, n < 15 ? n : 15);
	text[0] = 0;
	return LLVMDisasmInstruction(llvm_dc[i], buf, n < 15 ? n : 15, 0x1000, text, tsize);
}

/* Encodings where LLVM 14 and the header's rules legitimately size an
 * instruction differently (see tests/fuzz/README.md). */
static bool llvm_may_differ(const struct x86_insn *in, unsigned flags)
{
	bool m64 = in->mode == X86_DEC_MODE64;

	/* 66 on a near branch in 64-bit mode: LLVM follows AMD (rel16) */
	if (m64 && !(flags & X86_DEC_AMD) && (in->prefixes & X86_PFX_OPSIZE) &&
	    ((in->map == X86_MAP_1B && (in->opcode == 0xe8 || in->opcode == 0xe9)) ||
	     (in->map == X86_MAP_0F && (in->opcode & 0xf0) == 0x80)))
		return true;
	/* 0F 78/79 with 66 or F2: AMD's EXTRQ/INSERTQ (the decoder), Intel's
	 * VMREAD/VMWRITE with a prefix (LLVM); #UD on one vendor or the other */
	if (in->map == X86_MAP_0F && (in->opcode == 0x78 || in->opcode == 0x79) &&
	    (in->simd_pfx == 0x66 || in->simd_pfx == 0xf2))
		return true;
	/* XBEGIN with a 16-bit operand size: rel16 (SDM vol. 2 "XBEGIN");
	 * LLVM 14 always takes rel32 */
	if (in->map == X86_MAP_1B && in->opcode == 0xc7 && in->modrm == 0xf8 && in->opsize == 2)
		return true;
	/* XOP map 0Ah (LWPINS, LWPVAL, BEXTR imm): the decoder always reads
	 * imm32 (APM vol. 3 "id"); LLVM 14 reads imm16 in 16-bit code */
	if (in->enc == X86_ENC_XOP && in->map == X86_MAP_XOPA && in->mode == X86_DEC_MODE16)
		return true;
	/* 66 together with F2/F3 on a non-SIMD opcode: LLVM 14 takes the 66
	 * for part of a mandatory prefix and ignores it (e.g. F3 66 0F 80 is
	 * JO rel16) */
	if ((in->prefixes & X86_PFX_OPSIZE) && (in->prefixes & (X86_PFX_REP | X86_PFX_REPNE)))
		return true;
	/* 67 before F2/F3: LLVM 14 loses the 67 (prints xacquire/xrelease) */
	for (unsigned i = 0; i + 1 < in->prefix_len; i++)
		if (in->bytes[i] == 0x67 && memchr(in->bytes + i + 1, 0xf2, in->prefix_len - i - 1))
			return true;
		else if (in->bytes[i] == 0x67 && memchr(in->bytes + i + 1, 0xf3, in->prefix_len - i - 1))
			return true;
	/* an ignored REX byte (followed by another prefix; SDM vol. 2
	 * §2.2.1): LLVM applies it, or drops the 66 of a near branch */
	if (m64 && in->enc == X86_ENC_LEGACY) {
		for (unsigned i = 0; i + 1 < in->prefix_len; i++) {
			u8 b = in->bytes[i], c = in->bytes[i + 1];
			if ((b & 0xf0) == 0x40 && (legacy_prefix(c) || (c & 0xf0) == 0x40))
				return true;
		}
	}
	return false;
}

/* LLVM prints a prefix it cannot attach ("lock", "rep", "data16"...) as an
 * instruction of its own: count it and go on. */
static bool llvm_prefix_only(const char *text)
{
	static const char *const names[] = { "lock", "rep", "repne", "repe", "repz", "repnz", "data16", "data32",
					     "addr16", "addr32", "cs", "ds", "es", "ss", "fs", "gs", "notrack",
					     "xacquire", "xrelease", "bnd", NULL };
	char word[32];
	int words = 0;

	for (const char *p = text;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return words > 0;
		size_t n = strcspn(p, " \t");
		if (n >= sizeof(word))
			return false;
		memcpy(word, p, n);
		word[n] = 0;
		p += n;
		bool known = !strncmp(word, "rex", 3); /* rex, rex64, rex.WB... */
		for (int i = 0; names[i] && !known; i++)
			known = !strcmp(word, names[i]);
		if (!known)
			return false;
		words++;
	}
}

static void check_llvm(const struct x86_insn *in, const u8 *code, size_t n, int mode, unsigned flags)
{
	char text[128];
	size_t l = 0, k;
	while ((k = llvm_len(code + l, n - l, mode, text, sizeof(text))) && llvm_prefix_only(text) && l + k < n)
		l += k;
	l = k ? l + k : 0;
	if (l && l != in->len && !llvm_may_differ(in, flags)) {
		char hex[64] = "";
		for (unsigned i = 0; i < 15 && i < n; i++)
			snprintf(hex + 3 * i, 4, "%02x ", code[i]);
		FZ_CHECK(0, "mode %d%s: decoder says %u bytes, LLVM %zu (%s) for %s", mode * 8,
			 (flags & X86_DEC_AMD) ? " AMD" : "", in->len, l, text, hex);
	}
}
#endif

static int decode_one(const u8 *code, size_t n, int mode, unsigned flags, struct x86_insn *out)
{
	struct x86_insn a, b;

	memset(&a, 0x00, sizeof(a));
	memset(&b, 0xff, sizeof(b));
	int r = x86_dec_decode(&a, code, n, mode, flags);
	int r2 = x86_dec_decode(&b, code, n, mode, flags);
	FZ_CHECK(r == X86_DEC_OK || r == X86_DEC_INVALID || r == X86_DEC_TOO_LONG || r == X86_DEC_TRUNCATED ||
			 r == X86_DEC_UNDECODABLE,
		 "status %d", r);
	FZ_CHECK(r == r2 && (r != X86_DEC_OK || same_insn(&a, &b)), "not deterministic");
	if (r != X86_DEC_OK) {
		FZ_CHECK(a.len <= n && a.len <= 15, "error %d with len %u (avail %zu)", r, a.len, n);
		FZ_CHECK(r != X86_DEC_TRUNCATED || n < 15, "truncated with %zu bytes", n);
		FZ_CHECK(r != X86_DEC_TOO_LONG || n >= 15, "too long with only %zu bytes", n);
	}
	*out = a;
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int modes[3] = { X86_DEC_MODE16, X86_DEC_MODE32, X86_DEC_MODE64 };
	struct x86_insn in, in2, amd;

	if (size < 1)
		return 0;
	u8 sel = data[0];
	size_t n = size - 1;
	u8 *code = malloc(n ? n : 1);
	memcpy(code, data + 1, n);

	for (int mi = 0; mi < 3; mi++) {
		int mode = modes[mi];
		if (!(sel & 0x80) && mi != sel % 3)
			continue; /* one mode, or all three */
		unsigned flags = (sel & 0x40) ? X86_DEC_AMD : 0;
		int r = decode_one(code, n, mode, flags, &in);
		if (r == X86_DEC_OK)
			check_ok(&in, code, n, mode);
#ifdef FUZZ_LLVM_ORACLE
		if (r == X86_DEC_OK)
			check_llvm(&in, code, n, mode, flags);
#endif

		/* only the examined bytes matter */
		if (r != X86_DEC_TRUNCATED) {
			int r2 = decode_one(code, in.len, mode, flags, &in2);
			if (r == X86_DEC_OK)
				FZ_CHECK(r2 == X86_DEC_OK && same_insn(&in, &in2), "exactly len bytes: %d", r2);
			else
				FZ_CHECK(r2 == r || r2 == X86_DEC_TRUNCATED, "error %d, with len bytes %d", r, r2);
		}
		if (r == X86_DEC_OK) {
			size_t cut = in.len > 1 ? (sel >> 3) % in.len : 0;
			if (cut) {
				FZ_CHECK(decode_one(code, cut, mode, flags, &in2) == X86_DEC_TRUNCATED,
					 "prefix of %zu of a %u-byte instruction not truncated", cut, in.len);
			}
		}

		/* vendors */
		int ra = decode_one(code, n, mode, flags ^ X86_DEC_AMD, &amd);
		if (!vendor_may_differ(code, n, mode)) {
			FZ_CHECK(ra == r, "Intel %d, AMD %d", flags ? ra : r, flags ? r : ra);
			if (r == X86_DEC_OK)
				FZ_CHECK(same_insn(&in, &amd), "Intel and AMD decode differently");
		}
	}
	/* an invalid mode is refused */
	FZ_CHECK(x86_dec_decode(&in, code, n, 3, 0) == X86_DEC_INVALID, "mode 3 accepted");
	free(code);
	return 0;
}
