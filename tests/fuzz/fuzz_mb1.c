/*
 * tests/fuzz/fuzz_mb1.c - libFuzzer target for mb1_parse() (kernel/
 * bootinfo.c).
 *
 * Input: the first 72 bytes are the multiboot1 information structure (the
 * part the contract requires readable, copied into a buffer of exactly
 * that size); the rest is physical memory at FZ_PHYS. The phys callback
 * serves only ranges inside that memory, each as a fresh buffer of exactly
 * the requested length, so ASan catches a read past what was asked for,
 * and a request outside the input returns NULL ("not readable").
 *
 * Checks: the result against a model of the contract in kernel/
 * bootinfo.h (which fields each flag bit brings in, strings read page by
 * page and ending within 4096 bytes, the module and memory-map limits),
 * the error/warning text, string pointers in the pool, and the memory-map
 * normalizer on the result.
 */
#include "kernel/bootinfo.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_bootinfo.h"

#define FZ_PHYS 0x1000ULL
#define INFO_READ 72

static const u8 *mem;
static size_t mem_len;
static void **bufs;
static size_t nbufs, capbufs;
static unsigned long phys_calls;

static bool readable(u64 pa, size_t len)
{
	return pa >= FZ_PHYS && pa - FZ_PHYS <= mem_len && len <= mem_len - (pa - FZ_PHYS);
}

static const void *fz_phys(u64 pa, size_t len)
{
	phys_calls++;
	FZ_CHECK(len > 0, "phys asked for 0 bytes at %#llx", (unsigned long long)pa);
	FZ_CHECK(len <= (1u << 20), "phys asked for %zu bytes (over the 1 MiB limits)", len);
	FZ_CHECK(phys_calls < 100000, "too many phys calls");
	if (!readable(pa, len))
		return NULL;
	if (nbufs == capbufs) {
		capbufs = capbufs ? 2 * capbufs : 64;
		bufs = realloc(bufs, capbufs * sizeof(*bufs));
	}
	void *b = malloc(len);
	memcpy(b, mem + (pa - FZ_PHYS), len);
	bufs[nbufs++] = b;
	return b;
}

static u32 rd32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 rd64(const u8 *p)
{
	return rd32(p) | (u64)rd32(p + 4) << 32;
}

/* ------------------------------------------------------------ the model */

/* The string at @pa, read page by page (at most 4096 bytes): true with
 * *s and *len (s NULL when pa is 0: absent), false when it cannot be read. */
static bool model_string(u64 pa, const char **s, size_t *len)
{
	*s = NULL;
	*len = 0;
	if (!pa)
		return true;
	for (size_t n = 0; n < 4096;) {
		size_t chunk = 4096 - ((pa + n) & 4095);
		if (chunk > 4096 - n)
			chunk = 4096 - n;
		if (!readable(pa + n, chunk))
			return false;
		const u8 *p = mem + (pa + n - FZ_PHYS);
		for (size_t i = 0; i < chunk; i++) {
			if (!p[i]) {
				*s = (const char *)mem + (pa - FZ_PHYS);
				*len = n + i;
				return true;
			}
		}
		n += chunk;
	}
	return false;
}

static bool model_mb1(const u8 *info, struct fz_bootmodel *m)
{
	u32 flags = rd32(info);
	const char *s;
	size_t len;

	fz_model_init(m);
	if (flags & 1) {
		m->has_meminfo = true;
		m->mem_lower = rd32(info + 4);
		m->mem_upper = rd32(info + 8);
	}
	if (flags & (1u << 2)) {
		if (!model_string(rd32(info + 16), &s, &len))
			return false;
		fz_model_str(m, FZ_S_CMDLINE, s, len);
	}
	if (flags & (1u << 3)) {
		u32 count = rd32(info + 20), addr = rd32(info + 24);
		u32 used = count < BOOT_MAX_MODULES ? count : BOOT_MAX_MODULES;
		if (count > 1024)
			return false;
		if (count > used)
			m->warn |= BOOT_WARN_MODULES_TRUNC;
		if (used && !readable(addr, (size_t)used * 16))
			return false;
		for (u32 i = 0; i < used; i++) {
			const u8 *e = mem + (addr - FZ_PHYS) + 16 * i;
			if (rd32(e) > rd32(e + 4) || !model_string(rd32(e + 8), &s, &len))
				return false;
			fz_model_module(m, rd32(e), rd32(e + 4), s, len);
		}
	}
	if (flags & (1u << 6)) {
		u32 length = rd32(info + 44), addr = rd32(info + 48);
		if (length > (1u << 20))
			return false;
		if (length && !readable(addr, length))
			return false;
		for (u32 off = 0; off < length;) {
			const u8 *e = mem + (addr - FZ_PHYS) + off;
			if (length - off < 4)
				return false;
			u32 size = rd32(e);
			if (size < 20 || size > length - off - 4)
				return false;
			fz_model_range(m, rd64(e + 4), rd64(e + 12), rd32(e + 20));
			off += 4 + size;
		}
	}
	if (flags & (1u << 9)) {
		if (!model_string(rd32(info + 64), &s, &len))
			return false;
		fz_model_str(m, FZ_S_LOADER, s, len);
	}
	return true;
}

/* ------------------------------------------------------------ the target */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_info bi;
	static struct fz_bootmodel m;
	static char err[256];
	u8 *info = calloc(1, INFO_READ);

	memcpy(info, data, size < INFO_READ ? size : INFO_READ);
	mem = size > INFO_READ ? data + INFO_READ : data;
	mem_len = size > INFO_READ ? size - INFO_READ : 0;
	nbufs = 0;
	phys_calls = 0;

	bool valid = model_mb1(info, &m);
	int r = mb1_parse(info, 0x9000, fz_phys, &bi, err, sizeof(err));
	if (getenv("FUZZ_DEBUG"))
		fprintf(stderr, "mb1_parse: %d '%s' (%u ranges, %u modules)\n", r, err, bi.mmap_count, bi.module_count);
	FZ_CHECK(r == 0 || r == E_INVAL, "return %d", r);
	FZ_CHECK(memchr(err, 0, sizeof(err)), "error text not terminated");
	fz_check_strings(&bi);
	FZ_CHECK(bi.proto == 1 && bi.info_pa == 0x9000 && bi.info_len == 116, "header fields");
	FZ_CHECK((r == 0) == valid, "parser says %s, model says %s: %s", r ? "invalid" : "valid",
		 valid ? "valid" : "invalid", err);
	if (r) {
		FZ_CHECK(!strncmp(err, "multiboot1: ", 12), "failure message '%s'", err);
	} else {
		FZ_CHECK((err[0] == 0) == (bi.warn == 0), "warn %#x with message '%s'", bi.warn, err);
		fz_compare_model(&bi, &m);
		fz_check_sanitize(&bi);
	}
	/* no callback: refused, not a crash */
	FZ_CHECK(mb1_parse(info, 0, NULL, &bi, NULL, 0) == E_INVAL, "NULL phys accepted");

	for (size_t i = 0; i < nbufs; i++)
		free(bufs[i]);
	free(info);
	return 0;
}
