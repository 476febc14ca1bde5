/*
 * tests/fuzz/fuzz_mb2.c - libFuzzer target for mb2_parse() and
 * bootinfo_sanitize_mmap() (kernel/bootinfo.c).
 *
 * Input: the multiboot2 information block itself. The block is copied into
 * a buffer of exactly the size its total_size field declares (or of the
 * input, if that is shorter, with total_size lowered to match), so ASan
 * reports any read past total_size.
 *
 * Checks:
 *  - the result against a model written from the contract in
 *    kernel/bootinfo.h (accept/refuse, command line, loader name, modules,
 *    memory map, memory info, EFI and RSDP fields, warning bits);
 *  - the error/warning text: NUL-terminated, "" exactly when a successful
 *    parse has no warning, a "multiboot2:" message on failure;
 *  - every string pointer inside the string pool, even after a failure;
 *  - bootinfo_sanitize_mmap(): sorted, disjoint, non-empty, merged ranges
 *    whose type at every boundary point is the strongest input type there.
 */
#include "kernel/bootinfo.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_bootinfo.h"

static struct boot_info bi;
static char err[256];

/* ------------------------------------------------------------ the model */

static u32 rd32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 rd64(const u8 *p)
{
	return rd32(p) | (u64)rd32(p + 4) << 32;
}

static u32 model_min_size(u32 type)
{
	switch (type) {
	case 1: case 2: return 9;
	case 3: return 17;
	case 4: case 6: case 12: case 17: return 16;
	case 11: return 12;
	case 14: return 28;
	case 15: return 44;
	default: return 8;
	}
}

/* The NUL-terminated string in t[from, size): its length, or -1. */
static long tag_str(const u8 *t, u32 from, u32 size)
{
	for (u32 i = from; i < size; i++)
		if (!t[i])
			return (long)(i - from);
	return -1;
}

static void model_rsdp(struct fz_bootmodel *m, const u8 *p, unsigned n, bool is_new)
{
	if (memcmp(p, "RSD PTR ", 8)) {
		m->warn |= BOOT_WARN_RSDP_BAD;
		return;
	}
	if (m->rsdp_new && !is_new)
		return;
	memset(m->rsdp, 0, sizeof(m->rsdp));
	memcpy(m->rsdp, p, n);
	m->rsdp_rev = p[15];
	m->has_rsdp = true;
	m->rsdp_new = is_new;
}

/* Returns true when the block is valid. */
static bool model_mb2(const u8 *b, struct fz_bootmodel *m)
{
	u32 total = rd32(b);

	fz_model_init(m);
	if (total < 16 || total > (1u << 20))
		return false;
	for (u32 off = 8;;) {
		if (total - off < 8)
			return false;
		const u8 *t = b + off;
		u32 type = rd32(t), size = rd32(t + 4);
		if (size < 8 || size > total - off)
			return false;
		if (type == 0)
			return true;
		if (size < model_min_size(type))
			return false;
		long len;
		switch (type) {
		case 1:
		case 2:
			len = tag_str(t, 8, size);
			if (len < 0)
				return false;
			fz_model_str(m, type == 1 ? FZ_S_CMDLINE : FZ_S_LOADER, (const char *)t + 8, (size_t)len);
			break;
		case 3:
			len = tag_str(t, 16, size);
			if (len < 0 || rd32(t + 8) > rd32(t + 12))
				return false;
			fz_model_module(m, rd32(t + 8), rd32(t + 12), (const char *)t + 16, (size_t)len);
			break;
		case 4:
			m->mem_lower = rd32(t + 8);
			m->mem_upper = rd32(t + 12);
			m->has_meminfo = true;
			break;
		case 6: {
			u32 esz = rd32(t + 8);
			if (esz < 24 || esz % 8 || (size - 16) % esz)
				return false;
			if (rd32(t + 12))
				m->warn |= BOOT_WARN_MMAP_VERSION;
			for (u32 e = 16; e < size; e += esz)
				fz_model_range(m, rd64(t + e), rd64(t + e + 8), rd32(t + e + 16));
			break;
		}
		case 11:
			if (!m->has_efi64)
				m->efi_table = rd32(t + 8);
			m->has_efi32 = true;
			break;
		case 12:
			m->efi_table = rd64(t + 8);
			m->has_efi64 = true;
			break;
		case 14:
			model_rsdp(m, t + 8, 20, false);
			break;
		case 15:
			model_rsdp(m, t + 8, 36, true);
			break;
		case 17:
			m->has_efi_mmap = true;
			break;
		case 18:
			m->efi_bs = true;
			break;
		}
		off += (size + 7) & ~7u;
		if (off >= total)
			return false;
	}
}

/* ------------------------------------------------------------ the target */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_bootmodel m;

	if (size < 4)
		return 0;
	u32 total = rd32(data);
	size_t n = total < size ? total : size;
	if (n < 4)
		n = 4;
	u8 *blk = malloc(n);
	memcpy(blk, data, n);
	if (total > n) {
		/* only the input is readable: say so in the header */
		blk[0] = (u8)n;
		blk[1] = (u8)(n >> 8);
		blk[2] = (u8)(n >> 16);
		blk[3] = (u8)(n >> 24);
	}
	bool valid = model_mb2(blk, &m);

	/* the parser is told a physical address; it only records it */
	int r = mb2_parse(blk, 0x10000, &bi, err, sizeof(err));
	if (getenv("FUZZ_DEBUG"))
		fprintf(stderr, "mb2_parse: %d '%s' (%u ranges, %u modules)\n", r, err, bi.mmap_count, bi.module_count);
	FZ_CHECK(r == 0 || r == E_INVAL, "return %d", r);
	FZ_CHECK(memchr(err, 0, sizeof(err)), "error text not terminated");
	fz_check_strings(&bi);
	FZ_CHECK(bi.proto == 2 && bi.info_pa == 0x10000 && bi.info_len == rd32(blk), "header fields");
	FZ_CHECK((r == 0) == valid, "parser says %s, model says %s: %s", r ? "invalid" : "valid",
		 valid ? "valid" : "invalid", err);
	if (r) {
		FZ_CHECK(!strncmp(err, "multiboot2: ", 12), "failure message '%s'", err);
	} else {
		FZ_CHECK((err[0] == 0) == (bi.warn == 0), "warn %#x with message '%s'", bi.warn, err);
		fz_compare_model(&bi, &m);
		/* a second parse of the same block gives the same result */
		static struct boot_info bi2;
		FZ_CHECK(mb2_parse(blk, 0x10000, &bi2, NULL, 0) == 0, "second parse failed");
		FZ_CHECK(bi2.mmap_count == bi.mmap_count && bi2.warn == bi.warn &&
				 !strcmp(bi2.cmdline, bi.cmdline),
			 "second parse differs");
		fz_check_sanitize(&bi);
	}
	free(blk);
	return 0;
}
