/*
 * tests/host/test_bootinfo.c - unit tests for kernel/bootinfo.c: synthetic
 * multiboot2 and multiboot1 blocks (valid and malformed, with the exact
 * error messages), memory-map normalization against a brute-force model,
 * and random-mutation fuzzing of both parsers under ASan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/bootinfo.h"

static int failures, checks;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		checks++;                                                  \
		if (!(cond)) {                                             \
			failures++;                                        \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
		}                                                          \
	} while (0)

static struct boot_info bi; /* big: keep it off the stack */
static char err[256];

static unsigned long long rng = 0x853c49e6748fea9bull;

static unsigned long long rnd64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned rnd(unsigned n)
{
	return (unsigned)(rnd64() % n);
}

static void wr32(void *p, u32 v) { memcpy(p, &v, 4); }
static void wr64(void *p, u64 v) { memcpy(p, &v, 8); }

/* String pointers must point into the pool and be terminated there. */
static void check_strings(const struct boot_info *b)
{
	const char *lo = b->strpool, *hi = b->strpool + sizeof(b->strpool);
	CHECK(b->strpool_used <= sizeof(b->strpool), "pool used %u", b->strpool_used);
	CHECK(b->cmdline >= lo && b->cmdline < hi && memchr(b->cmdline, 0, hi - b->cmdline),
	      "cmdline in pool");
	CHECK(b->loader_name >= lo && b->loader_name < hi &&
	      memchr(b->loader_name, 0, hi - b->loader_name), "loader name in pool");
	CHECK(b->mmap_count <= BOOT_MAX_MMAP && b->module_count <= BOOT_MAX_MODULES, "counts");
	for (u32 i = 0; i < b->module_count && i < BOOT_MAX_MODULES; i++) {
		const char *s = b->modules[i].cmdline;
		CHECK(s >= lo && s < hi && memchr(s, 0, hi - s), "module %u cmdline in pool", i);
		CHECK(b->modules[i].start <= b->modules[i].end, "module %u order", i);
	}
}

/* ---------------------------------------------------------- mb2 builder */

struct mb2 {
	_Alignas(8) u8 buf[1 << 16];
	u32 len;
};

static struct mb2 blk;

static void mb2_begin(struct mb2 *b)
{
	memset(b->buf, 0, sizeof(b->buf));
	b->len = 8;
}

/* Append a tag of @type with @plen payload bytes; returns the payload. */
static u8 *mb2_tag(struct mb2 *b, u32 type, const void *payload, u32 plen)
{
	u8 *t = b->buf + b->len;
	wr32(t, type);
	wr32(t + 4, 8 + plen);
	if (payload)
		memcpy(t + 8, payload, plen);
	b->len = (b->len + 8 + plen + 7) & ~7u;
	return t + 8;
}

static void mb2_str(struct mb2 *b, u32 type, const char *s)
{
	mb2_tag(b, type, s, (u32)strlen(s) + 1);
}

static void mb2_module(struct mb2 *b, u32 start, u32 end, const char *s)
{
	u8 *p = mb2_tag(b, 3, NULL, 8 + (u32)strlen(s) + 1);
	wr32(p, start);
	wr32(p + 4, end);
	memcpy(p + 8, s, strlen(s) + 1);
}

struct ent { u64 base, len; u32 type; };

static u32 mb2_mmap(struct mb2 *b, const struct ent *e, u32 n, u32 esz)
{
	u32 off = b->len;
	u8 *p = mb2_tag(b, 6, NULL, 8 + n * esz);
	wr32(p, esz);
	wr32(p + 4, 0);
	for (u32 i = 0; i < n; i++) {
		wr64(p + 8 + i * esz, e[i].base);
		wr64(p + 8 + i * esz + 8, e[i].len);
		wr32(p + 8 + i * esz + 16, e[i].type);
	}
	return off;
}

static void mb2_finish(struct mb2 *b)
{
	mb2_tag(b, 0, NULL, 0);
	wr32(b->buf, b->len);
}

static void rsdp(u8 *r, u8 rev, char tag)
{
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	r[9] = (u8)tag;
	r[15] = rev;
}

static const struct ent std_mmap[] = {
	{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0xf0000, 0x10000, 2 },
	{ 0x100000, 0x7fee0000, 1 }, { 0x7ffe0000, 0x20000, 3 },
	{ 0xfec00000, 0x1000, 7 }, { 0xfffc0000, 0x40000, 4 },
	{ 0x100000000ull, 0x80000000ull, 5 },
};

/* A block with every tag the parser knows plus some it skips. */
static void build_valid(struct mb2 *b)
{
	u8 r[36];
	u32 meminfo[2] = { 639, 2096000 };
	u64 st64 = 0x7fe00018ull;
	u32 st32 = 0x7fe000;

	mb2_begin(b);
	mb2_str(b, 1, "umbra console=com1 lowpool=16M");
	mb2_str(b, 2, "GRUB 2.06");
	mb2_tag(b, 99, "junk!", 5);       /* unknown: skipped */
	mb2_tag(b, 8, NULL, 24);          /* framebuffer: skipped */
	mb2_module(b, 0x200000, 0x300000, "linux mem=512M -- console=ttyS0");
	mb2_module(b, 0x400000, 0x400000, "");
	mb2_tag(b, 4, meminfo, 8);
	mb2_mmap(b, std_mmap, 8, 24);
	rsdp(r, 2, 'n');
	mb2_tag(b, 15, r, 36);
	rsdp(r, 0, 'o');
	mb2_tag(b, 14, r, 20);            /* after 15: must not replace it */
	mb2_tag(b, 11, &st32, 4);
	mb2_tag(b, 12, &st64, 8);
	mb2_tag(b, 17, "\x30\0\0\0\1\0\0\0", 8);
	mb2_tag(b, 18, NULL, 0);
	mb2_tag(b, 21, "\0\0\x20\0", 4);  /* load base: skipped */
	mb2_finish(b);
}

static void test_mb2_valid(void)
{
	build_valid(&blk);
	int r = mb2_parse(blk.buf, 0x10000, &bi, err, sizeof(err));
	CHECK(r == 0, "valid mb2: %d %s", r, err);
	CHECK(err[0] == 0, "no warning expected: %s", err);
	CHECK(bi.proto == 2 && bi.info_pa == 0x10000 && bi.info_len == blk.len, "header fields");
	CHECK(!strcmp(bi.cmdline, "umbra console=com1 lowpool=16M"), "cmdline %s", bi.cmdline);
	CHECK(!strcmp(bi.loader_name, "GRUB 2.06"), "loader %s", bi.loader_name);
	CHECK(bi.module_count == 2, "modules %u", bi.module_count);
	CHECK(bi.modules[0].start == 0x200000 && bi.modules[0].end == 0x300000 &&
	      !strcmp(bi.modules[0].cmdline, "linux mem=512M -- console=ttyS0"), "module 0");
	CHECK(bi.modules[1].start == 0x400000 && bi.modules[1].end == 0x400000 &&
	      !strcmp(bi.modules[1].cmdline, ""), "module 1");
	CHECK(bi.has_meminfo && bi.mem_lower_kb == 639 && bi.mem_upper_kb == 2096000, "meminfo");
	CHECK(bi.mmap_count == 8, "mmap count %u", bi.mmap_count);
	static const u32 types[] = { 1, 2, 2, 1, 3, 2, 4, 5 };
	for (u32 i = 0; i < 8 && i < bi.mmap_count; i++)
		CHECK(bi.mmap[i].base == std_mmap[i].base && bi.mmap[i].len == std_mmap[i].len &&
		      bi.mmap[i].type == types[i], "mmap %u", i);
	CHECK(bi.has_rsdp && bi.rsdp_rev == 2 && bi.rsdp[9] == 'n' &&
	      !memcmp(bi.rsdp, "RSD PTR ", 8), "new RSDP wins");
	CHECK(bi.has_efi64 && bi.has_efi32 && bi.efi_system_table == 0x7fe00018ull, "EFI ST");
	CHECK(bi.has_efi_mmap && bi.efi_bs_not_terminated, "EFI flags");
	CHECK(bi.warn == 0, "warn %x", bi.warn);
	check_strings(&bi);

	/* The same block at an address that is only 4-byte aligned. */
	static u8 odd[sizeof(blk.buf) + 4];
	memcpy(odd + 4, blk.buf, blk.len);
	r = mb2_parse(odd + 4, 0x10004, &bi, err, sizeof(err));
	CHECK(r == 0 && bi.mmap_count == 8 && bi.module_count == 2, "misaligned block");

	/* Minimal block: no tags at all. */
	mb2_begin(&blk);
	mb2_finish(&blk);
	r = mb2_parse(blk.buf, 0, &bi, err, sizeof(err));
	CHECK(r == 0 && blk.len == 16 && !strcmp(bi.cmdline, "") &&
	      !strcmp(bi.loader_name, "") && !bi.mmap_count && !bi.has_rsdp &&
	      !bi.has_meminfo, "minimal block");

	/* Old RSDP only, EFI32 only; mmap with entry_size 32 and version 1. */
	u8 rs[36];
	u32 st32 = 0x1234;
	mb2_begin(&blk);
	rsdp(rs, 0, 'o');
	mb2_tag(&blk, 14, rs, 20);
	mb2_tag(&blk, 11, &st32, 4);
	u32 off = mb2_mmap(&blk, std_mmap, 3, 32);
	wr32(blk.buf + off + 12, 1);
	mb2_finish(&blk);
	r = mb2_parse(blk.buf, 0, &bi, err, sizeof(err));
	CHECK(r == 0 && bi.has_rsdp && bi.rsdp_rev == 0 && bi.rsdp[9] == 'o' &&
	      bi.rsdp[20] == 0, "old RSDP");
	CHECK(bi.has_efi32 && !bi.has_efi64 && bi.efi_system_table == 0x1234, "EFI32");
	CHECK(bi.mmap_count == 3 && bi.mmap[2].base == 0xf0000 && bi.mmap[2].len == 0x10000,
	      "entry_size 32");
	CHECK(bi.warn == BOOT_WARN_MMAP_VERSION &&
	      !strcmp(err, "multiboot2: warning: unknown memory map entry_version;"),
	      "version warning: %x '%s'", bi.warn, err);

	/* RSDP without signature: ignored with a warning. */
	mb2_begin(&blk);
	memset(rs, 'x', sizeof(rs));
	mb2_tag(&blk, 15, rs, 36);
	mb2_finish(&blk);
	r = mb2_parse(blk.buf, 0, &bi, err, sizeof(err));
	CHECK(r == 0 && !bi.has_rsdp && bi.warn == BOOT_WARN_RSDP_BAD, "bad RSDP");

	/* A range that wraps past 2^64 is clipped. */
	struct ent wrap = { 0xfffffffffffff000ull, 0x10000, 2 };
	mb2_begin(&blk);
	mb2_mmap(&blk, &wrap, 1, 24);
	mb2_finish(&blk);
	r = mb2_parse(blk.buf, 0, &bi, err, sizeof(err));
	CHECK(r == 0 && bi.mmap_count == 1 && bi.mmap[0].len == 0xfffull, "wrap clipped");
}

static void test_mb2_limits(void)
{
	/* 200 mmap entries, 40 modules, and strings that overflow the pool. */
	static struct ent many[200];
	for (u32 i = 0; i < 200; i++)
		many[i] = (struct ent){ i * 0x1000ull, 0x1000, 1 + i % 2 };
	mb2_begin(&blk);
	mb2_mmap(&blk, many, 150, 24);
	mb2_mmap(&blk, many + 150, 50, 24);
	for (u32 i = 0; i < 40; i++)
		mb2_module(&blk, i * 0x1000, i * 0x1000 + 0x800, "m");
	static char big[3000];
	memset(big, 'a', sizeof(big) - 1);
	for (int i = 0; i < 4; i++)
		mb2_str(&blk, 1, big);
	mb2_finish(&blk);
	int r = mb2_parse(blk.buf, 0, &bi, err, sizeof(err));
	CHECK(r == 0, "limits: %s", err);
	CHECK(bi.mmap_count == 128 && bi.mmap[127].base == 127 * 0x1000ull, "mmap truncated");
	CHECK(bi.module_count == 32 && bi.modules[31].start == 31 * 0x1000, "modules truncated");
	CHECK(bi.warn == (BOOT_WARN_MMAP_TRUNC | BOOT_WARN_MODULES_TRUNC | BOOT_WARN_STR_TRUNC),
	      "warn %x", bi.warn);
	CHECK(bi.strpool_used == sizeof(bi.strpool), "pool full %u", bi.strpool_used);
	CHECK(strlen(bi.cmdline) < 3000, "last cmdline cut");
	CHECK(!strcmp(err, "multiboot2: warning: memory map truncated to 128 ranges; "
			   "module list truncated to 32 modules; string pool full, strings cut;"),
	      "warning text: %s", err);
	check_strings(&bi);
}

/* Build, corrupt with @mutate, and expect E_INVAL with message @want. */
static void expect_mb2_error(const char *what, void (*build)(struct mb2 *),
			     const char *want)
{
	memset(err, 0, sizeof(err));
	build(&blk);
	int r = mb2_parse(blk.buf, 0, &bi, err, sizeof(err));
	CHECK(r == E_INVAL, "%s: returned %d", what, r);
	CHECK(!strcmp(err, want), "%s: message\n  got  '%s'\n  want '%s'", what, err, want);
	check_strings(&bi);
}

static void b_small_total(struct mb2 *b) { mb2_begin(b); mb2_finish(b); wr32(b->buf, 8); }
static void b_huge_total(struct mb2 *b) { mb2_begin(b); mb2_finish(b); wr32(b->buf, 2u << 20); }
static void b_truncated_total(struct mb2 *b)
{
	mb2_begin(b);
	mb2_str(b, 1, "a long enough command line");
	mb2_finish(b);
	wr32(b->buf, 24);
}
static void b_tag_overrun(struct mb2 *b)
{
	mb2_begin(b);
	mb2_str(b, 2, "loader");
	mb2_finish(b);
	wr32(b->buf + 8 + 4, 200);
}
static void b_tag_tiny(struct mb2 *b)
{
	mb2_begin(b);
	mb2_str(b, 2, "loader");
	mb2_finish(b);
	wr32(b->buf + 8 + 4, 4);
}
static void b_no_end(struct mb2 *b)
{
	mb2_begin(b);
	mb2_str(b, 1, "x");
	mb2_str(b, 2, "y");
	wr32(b->buf, b->len);
}
static void b_end_cut(struct mb2 *b)
{
	mb2_begin(b);
	mb2_str(b, 1, "x");
	mb2_finish(b);
	wr32(b->buf, b->len - 4); /* end tag sticks out */
}
static void b_mmap_small(struct mb2 *b)
{
	mb2_begin(b);
	mb2_str(b, 1, "0123456789abcdefghijklmnopqrstuvwxyz012345678"); /* 8+46 -> 56 */
	mb2_tag(b, 6, "\x18\0\0\0", 4);
	mb2_finish(b);
}
static void b_mmap_esz(struct mb2 *b)
{
	mb2_begin(b);
	mb2_mmap(b, std_mmap, 2, 20);
	mb2_finish(b);
}
static void b_mmap_esz_odd(struct mb2 *b)
{
	mb2_begin(b);
	mb2_mmap(b, std_mmap, 2, 28);
	mb2_finish(b);
}
static void b_mmap_partial(struct mb2 *b)
{
	mb2_begin(b);
	mb2_mmap(b, std_mmap, 2, 24);
	mb2_finish(b);
	wr32(b->buf + 8 + 4, 16 + 24 + 8); /* 1 entry and a bit */
}
static void b_cmd_unterminated(struct mb2 *b)
{
	mb2_begin(b);
	mb2_tag(b, 1, "abcdefgh", 8);
	mb2_finish(b);
}
static void b_cmd_empty(struct mb2 *b)
{
	mb2_begin(b);
	mb2_tag(b, 1, NULL, 0);
	mb2_finish(b);
}
static void b_mod_unterminated(struct mb2 *b)
{
	mb2_begin(b);
	mb2_tag(b, 3, "\0\0\x10\0\0\0\x20\0xyz", 11);
	mb2_finish(b);
}
static void b_mod_order(struct mb2 *b)
{
	mb2_begin(b);
	mb2_module(b, 0x300000, 0x200000, "bad");
	mb2_finish(b);
}
static void b_rsdp_short(struct mb2 *b)
{
	u8 r[36];
	rsdp(r, 2, 'n');
	mb2_begin(b);
	mb2_tag(b, 15, r, 20);
	mb2_finish(b);
}
static void b_efi64_short(struct mb2 *b)
{
	mb2_begin(b);
	mb2_tag(b, 12, "\1\2\3\4", 4);
	mb2_finish(b);
}

static void test_mb2_errors(void)
{
	expect_mb2_error("small total", b_small_total,
			 "multiboot2: total_size 8 < 16 (header and end tag)");
	expect_mb2_error("huge total", b_huge_total,
			 "multiboot2: total_size 2097152 exceeds the 1 MiB limit");
	expect_mb2_error("truncated total", b_truncated_total,
			 "multiboot2: tag 1 (command line) at offset 0x8 has size 35, past total_size 24");
	expect_mb2_error("tag overrun", b_tag_overrun,
			 "multiboot2: tag 2 (boot loader name) at offset 0x8 has size 200, past total_size 32");
	expect_mb2_error("tag tiny", b_tag_tiny,
			 "multiboot2: tag 2 (boot loader name) at offset 0x8 has size 4 < 8");
	expect_mb2_error("no end", b_no_end, "multiboot2: no end tag within total_size 40");
	expect_mb2_error("end cut", b_end_cut, "multiboot2: no end tag within total_size 28");
	expect_mb2_error("mmap small", b_mmap_small,
			 "multiboot2: tag 6 (memory map) at offset 0x40 has size 12 < 16");
	expect_mb2_error("mmap esz", b_mmap_esz,
			 "multiboot2: tag 6 (memory map) at offset 0x8: entry_size 20 is not a multiple of 8 >= 24");
	expect_mb2_error("mmap esz odd", b_mmap_esz_odd,
			 "multiboot2: tag 6 (memory map) at offset 0x8: entry_size 28 is not a multiple of 8 >= 24");
	expect_mb2_error("mmap partial", b_mmap_partial,
			 "multiboot2: tag 6 (memory map) at offset 0x8: size 48 is not 16 + a multiple of entry_size 24");
	expect_mb2_error("cmdline unterminated", b_cmd_unterminated,
			 "multiboot2: tag 1 (command line) at offset 0x8: string not NUL-terminated within the tag");
	expect_mb2_error("cmdline empty", b_cmd_empty,
			 "multiboot2: tag 1 (command line) at offset 0x8 has size 8 < 9");
	expect_mb2_error("module unterminated", b_mod_unterminated,
			 "multiboot2: tag 3 (module) at offset 0x8: string not NUL-terminated within the tag");
	expect_mb2_error("module order", b_mod_order,
			 "multiboot2: tag 3 (module) at offset 0x8: start 0x300000 > end 0x200000");
	expect_mb2_error("rsdp short", b_rsdp_short,
			 "multiboot2: tag 15 (ACPI new RSDP) at offset 0x8 has size 28 < 44");
	expect_mb2_error("efi64 short", b_efi64_short,
			 "multiboot2: tag 12 (EFI64 system table) at offset 0x8 has size 12 < 16");

	/* NULL block, NULL/short err buffers. */
	CHECK(mb2_parse(NULL, 0, &bi, err, sizeof(err)) == E_INVAL &&
	      !strcmp(err, "multiboot2: no information block"), "NULL block");
	b_small_total(&blk);
	CHECK(mb2_parse(blk.buf, 0, &bi, NULL, 0) == E_INVAL, "NULL err");
	char tiny[5] = "XXXX";
	CHECK(mb2_parse(blk.buf, 0, &bi, tiny, sizeof(tiny)) == E_INVAL &&
	      !strcmp(tiny, "mult"), "short err: %s", tiny);
}

/* ---------------------------------------------------------- mb1 */

#define PHYS_SIZE (1u << 20)
static u8 *physmem;              /* simulated physical memory [0, 1 MiB) */
static u64 hole_lo, hole_hi;     /* unreadable window */
static bool strict_phys;         /* hand out exact-size heap copies */
static void *copies[4096];
static int ncopies;

static const void *phys(u64 pa, size_t len)
{
	if (pa >= PHYS_SIZE || len > PHYS_SIZE - pa)
		return NULL;
	if (pa < hole_hi && pa + len > hole_lo)
		return NULL;
	if (!strict_phys || ncopies == (int)(sizeof(copies) / sizeof(copies[0])))
		return physmem + pa;
	void *c = malloc(len ? len : 1);
	memcpy(c, physmem + pa, len);
	copies[ncopies++] = c;
	return c;
}

static void free_copies(void)
{
	while (ncopies)
		free(copies[--ncopies]);
}

#define INFO_PA 0x1000
static u8 *info(void) { return physmem + INFO_PA; }

static void mb1_mmap_entry(u32 at, u32 size, u64 base, u64 len, u32 type)
{
	wr32(physmem + at, size);
	wr64(physmem + at + 4, base);
	wr64(physmem + at + 12, len);
	wr32(physmem + at + 20, type);
}

static void build_mb1(void)
{
	memset(physmem, 0, PHYS_SIZE);
	hole_lo = hole_hi = 0;
	u8 *i = info();
	wr32(i, BIT(0) | BIT(2) | BIT(3) | BIT(6) | BIT(9) | BIT(1) | BIT(11));
	wr32(i + 4, 639);
	wr32(i + 8, 130048);
	wr32(i + 16, 0x2ffa); /* crosses a page boundary */
	strcpy((char *)physmem + 0x2ffa, "umbra serial=com1");
	wr32(i + 20, 2);
	wr32(i + 24, 0x4000);
	wr32(physmem + 0x4000, 0x100000);
	wr32(physmem + 0x4004, 0x180000);
	wr32(physmem + 0x4008, 0x4800);
	wr32(physmem + 0x4010, 0x180000);
	wr32(physmem + 0x4014, 0x181000);
	wr32(physmem + 0x4018, 0); /* no string */
	strcpy((char *)physmem + 0x4800, "guest.elf -- root=/dev/vda");
	wr32(i + 44, 24 * 2 + 28);
	wr32(i + 48, 0x5000);
	mb1_mmap_entry(0x5000, 20, 0, 0x9fc00, 1);
	mb1_mmap_entry(0x5018, 24, 0x9fc00, 0x400, 2); /* larger entry */
	mb1_mmap_entry(0x5034, 20, 0x100000, 0x7f00000, 1);
	wr32(i + 64, 0x6000);
	strcpy((char *)physmem + 0x6000, "QEMU");
}

static void test_mb1_valid(void)
{
	build_mb1();
	int r = mb1_parse(info(), INFO_PA, phys, &bi, err, sizeof(err));
	CHECK(r == 0 && err[0] == 0, "mb1 valid: %d %s", r, err);
	CHECK(bi.proto == 1 && bi.info_pa == INFO_PA && bi.info_len == 116, "mb1 header");
	CHECK(bi.has_meminfo && bi.mem_lower_kb == 639 && bi.mem_upper_kb == 130048, "mb1 mem");
	CHECK(!strcmp(bi.cmdline, "umbra serial=com1"), "mb1 cmdline %s", bi.cmdline);
	CHECK(!strcmp(bi.loader_name, "QEMU"), "mb1 loader");
	CHECK(bi.module_count == 2 && bi.modules[0].start == 0x100000 &&
	      bi.modules[0].end == 0x180000 &&
	      !strcmp(bi.modules[0].cmdline, "guest.elf -- root=/dev/vda") &&
	      bi.modules[1].start == 0x180000 && !strcmp(bi.modules[1].cmdline, ""),
	      "mb1 modules");
	CHECK(bi.mmap_count == 3 && bi.mmap[1].base == 0x9fc00 && bi.mmap[1].type == 2 &&
	      bi.mmap[2].base == 0x100000 && bi.mmap[2].len == 0x7f00000 &&
	      bi.mmap[2].type == 1, "mb1 mmap");
	CHECK(!bi.has_rsdp && !bi.has_efi64 && bi.warn == 0, "mb1 other");
	check_strings(&bi);

	/* Flags clear: nothing is read, even with garbage pointers. */
	build_mb1();
	wr32(info(), 0);
	wr32(info() + 16, 0xffffffff);
	r = mb1_parse(info(), INFO_PA, phys, &bi, err, sizeof(err));
	CHECK(r == 0 && !bi.has_meminfo && !bi.mmap_count && !bi.module_count &&
	      !strcmp(bi.cmdline, ""), "mb1 no flags");

	/* Too many modules: truncated with a warning. */
	build_mb1();
	wr32(info() + 20, 40);
	r = mb1_parse(info(), INFO_PA, phys, &bi, err, sizeof(err));
	CHECK(r == 0 && bi.module_count == 32 && (bi.warn & BOOT_WARN_MODULES_TRUNC) &&
	      !strcmp(err, "multiboot1: warning: module list truncated to 32 modules;"),
	      "mb1 many modules: %d %s", r, err);
}

static void expect_mb1_error(const char *what, const char *want)
{
	memset(err, 0, sizeof(err));
	int r = mb1_parse(info(), INFO_PA, phys, &bi, err, sizeof(err));
	CHECK(r == E_INVAL, "%s: returned %d", what, r);
	CHECK(!strcmp(err, want), "%s: message\n  got  '%s'\n  want '%s'", what, err, want);
	check_strings(&bi);
}

static void test_mb1_errors(void)
{
	build_mb1();
	wr32(info() + 16, 0x200000);
	expect_mb1_error("cmdline out of memory", "multiboot1: command line at 0x200000 is not readable");

	build_mb1();
	hole_lo = 0x3000, hole_hi = 0x3001;
	expect_mb1_error("cmdline second page", "multiboot1: command line at 0x3000 is not readable");

	build_mb1();
	memset(physmem + 0x7000, 'x', 5000);
	wr32(info() + 64, 0x7000);
	expect_mb1_error("loader unterminated",
			 "multiboot1: boot loader name at 0x7000 is not NUL-terminated within 4096 bytes");

	build_mb1();
	wr32(info() + 20, 5000);
	expect_mb1_error("mods count", "multiboot1: mods_count 5000 is implausible (> 1024)");

	build_mb1();
	wr32(info() + 24, PHYS_SIZE - 8);
	expect_mb1_error("mods unreadable",
			 "multiboot1: module list at 0xffff8 (2 entries) is not readable");

	build_mb1();
	wr32(physmem + 0x4010, 0x190000);
	expect_mb1_error("module order", "multiboot1: module 1: start 0x190000 > end 0x181000");

	build_mb1();
	wr32(physmem + 0x4008, 0xfffffff0);
	expect_mb1_error("module string", "multiboot1: module command line at 0xfffffff0 is not readable");

	build_mb1();
	wr32(physmem + 0x5018, 8);
	expect_mb1_error("mmap entry size", "multiboot1: memory map entry at offset 0x18 has size 8 < 20");

	build_mb1();
	wr32(physmem + 0x5034, 100);
	expect_mb1_error("mmap overrun",
			 "multiboot1: memory map entry at offset 0x34 (size 100) overruns mmap_length 76");

	build_mb1();
	wr32(info() + 44, 24 * 2 + 28 + 2);
	expect_mb1_error("mmap tail", "multiboot1: memory map entry at offset 0x4c is truncated");

	build_mb1();
	wr32(info() + 44, 2u << 20);
	expect_mb1_error("mmap length", "multiboot1: mmap_length 2097152 exceeds the 1 MiB limit");

	build_mb1();
	wr32(info() + 48, 0xfffff000);
	expect_mb1_error("mmap unreadable",
			 "multiboot1: memory map at 0xfffff000 (76 bytes) is not readable");

	CHECK(mb1_parse(info(), INFO_PA, NULL, &bi, err, sizeof(err)) == E_INVAL,
	      "NULL phys");

	/* Strings that do not fit the pool are cut, never overflow it. */
	build_mb1();
	memset(physmem + 0x10000, 'c', 4000);
	wr32(physmem + 0x4008, 0x10000);
	wr32(info() + 16, 0x10000);
	wr32(info() + 20, 3);
	wr32(physmem + 0x4020, 0x10000);
	wr32(physmem + 0x4024, 0x10000);
	wr32(physmem + 0x4028, 0x10000);
	int r = mb1_parse(info(), INFO_PA, phys, &bi, err, sizeof(err));
	CHECK(r == 0 && (bi.warn & BOOT_WARN_STR_TRUNC) && bi.strpool_used == sizeof(bi.strpool) &&
	      strlen(bi.modules[0].cmdline) == 4000 && !strcmp(bi.modules[1].cmdline, "") &&
	      strlen(bi.modules[2].cmdline) == 8192 - 4002 - 4001 - 1 &&
	      !strcmp(bi.loader_name, ""), "mb1 pool full: %d %s", r, err);
	check_strings(&bi);
}

/* ---------------------------------------------------------- sanitize */

static u32 strength(u32 t)
{
	return t == 1 ? 0 : t == 3 ? 1 : t == 4 ? 3 : t == 5 ? 4 : 2;
}

/* Check bi.mmap (sanitized) against per-unit types of the input @e. */
static void check_sanitized(const struct ent *e, u32 n, u64 unit, u64 origin, const char *what)
{
	for (u32 i = 0; i < bi.mmap_count; i++) {
		const struct mem_range *r = &bi.mmap[i];
		CHECK(r->len > 0, "%s: empty range %u", what, i);
		if (i) {
			const struct mem_range *p = &bi.mmap[i - 1];
			CHECK(p->base + p->len <= r->base, "%s: unsorted/overlap at %u", what, i);
			CHECK(!(p->base + p->len == r->base && p->type == r->type),
			      "%s: unmerged at %u", what, i);
		}
	}
	for (u64 x = 0; x < 80; x++) {
		u64 a = origin + x * unit;
		u32 want = 0;
		for (u32 i = 0; i < n; i++) {
			u64 end = e[i].len > ~0ull - e[i].base ? ~0ull : e[i].base + e[i].len;
			if (e[i].base <= a && a < end &&
			    (!want || strength(e[i].type) > strength(want) ||
			     (strength(e[i].type) == strength(want) && e[i].type > want)))
				want = e[i].type;
		}
		u32 got = 0;
		for (u32 i = 0; i < bi.mmap_count; i++)
			if (bi.mmap[i].base <= a && a - bi.mmap[i].base < bi.mmap[i].len)
				got = bi.mmap[i].type;
		CHECK(got == want, "%s: unit %llu type %u, want %u", what,
		      (unsigned long long)x, got, want);
	}
}

static void load(const struct ent *e, u32 n)
{
	memset(&bi, 0, sizeof(bi));
	for (u32 i = 0; i < n; i++)
		bi.mmap[i] = (struct mem_range){ e[i].base, e[i].len, e[i].type };
	bi.mmap_count = n;
}

static void test_sanitize(void)
{
	/* Hand-made: unsorted, overlapping, adjacent, empty. */
	static const struct ent e[] = {
		{ 0x100000, 0x700000, 1 }, /* usable 1M..8M */
		{ 0, 0xa0000, 1 },
		{ 0x9f000, 0x2000, 2 },    /* reserved straddles 0xa0000 */
		{ 0x200000, 0x1000, 3 },   /* ACPI reclaim inside usable */
		{ 0x200800, 0x1000, 4 },   /* NVS overlaps the reclaim */
		{ 0x800000, 0x100000, 1 }, /* adjacent usable: merged */
		{ 0x5000, 0, 2 },          /* empty: dropped */
		{ 0x300000, 0x1000, 5 },   /* bad inside usable */
		{ 0x300000, 0x1000, 2 },   /* reserved same place: bad wins */
	};
	load(e, 9);
	bootinfo_sanitize_mmap(&bi);
	static const struct mem_range want[] = {
		{ 0, 0x9f000, 1 }, { 0x9f000, 0x2000, 2 }, { 0x100000, 0x100000, 1 },
		{ 0x200000, 0x800, 3 }, { 0x200800, 0x1000, 4 },
		{ 0x201800, 0xfe800, 1 }, { 0x300000, 0x1000, 5 },
		{ 0x301000, 0x5ff000, 1 },
	};
	CHECK(bi.mmap_count == 8, "sanitize count %u", bi.mmap_count);
	for (u32 i = 0; i < 8 && i < bi.mmap_count; i++)
		CHECK(bi.mmap[i].base == want[i].base && bi.mmap[i].len == want[i].len &&
		      bi.mmap[i].type == want[i].type, "sanitize %u: %llx+%llx %u", i,
		      (unsigned long long)bi.mmap[i].base, (unsigned long long)bi.mmap[i].len,
		      bi.mmap[i].type);
	CHECK(bi.warn == 0, "sanitize warn");

	CHECK(!strcmp(bootinfo_mem_type_name(MEM_USABLE), "usable") &&
	      !strcmp(bootinfo_mem_type_name(MEM_ACPI_NVS), "ACPI NVS") &&
	      !strcmp(bootinfo_mem_type_name(MEM_ACPI_RECLAIM), "ACPI reclaim") &&
	      !strcmp(bootinfo_mem_type_name(MEM_BAD), "bad") &&
	      !strcmp(bootinfo_mem_type_name(77), "reserved"), "type names");

	load(NULL, 0);
	bootinfo_sanitize_mmap(&bi);
	CHECK(bi.mmap_count == 0, "empty map");

	/* Wrapping and top-of-space ranges. */
	static const struct ent top[] = {
		{ ~0ull - 0xfff, 0x10000, 2 }, { ~0ull - 0x1fff, 0x1000, 1 },
	};
	load(top, 2);
	bootinfo_sanitize_mmap(&bi);
	CHECK(bi.mmap_count == 2 && bi.mmap[1].base + bi.mmap[1].len == ~0ull &&
	      bi.mmap[0].base == ~0ull - 0x1fff, "top of space");

	/* 255 pieces out of 128 ranges: smallest usable pieces are dropped. */
	static struct ent holes[128];
	holes[0] = (struct ent){ 0, 0x10000000, 1 };
	for (u32 i = 1; i < 128; i++)
		holes[i] = (struct ent){ i * 0x100000ull + (i == 64 ? 0x80000 : 0), 0x1000, 2 };
	load(holes, 128);
	bootinfo_sanitize_mmap(&bi);
	u32 usable = 0, reserved = 0;
	for (u32 i = 0; i < bi.mmap_count; i++)
		bi.mmap[i].type == 1 ? usable++ : reserved++;
	CHECK(bi.mmap_count == 128 && reserved == 127 && usable == 1 &&
	      (bi.warn & BOOT_WARN_MMAP_TRUNC), "overflow: %u %u %u", bi.mmap_count, usable, reserved);
	CHECK(bi.mmap[bi.mmap_count - 1].type == 1 &&
	      bi.mmap[bi.mmap_count - 1].len == 0x10000000 - 0x7f01000, "largest usable kept");

	/* Random maps against the per-unit model, small and near 2^64. */
	for (int it = 0; it < 20000; it++) {
		struct ent r[24];
		u32 n = rnd(25);
		u64 unit = it & 1 ? 0x1000 : 1;
		u64 origin = it % 4 == 3 ? ~0ull - 79 * unit : rnd64() & 0xffff000;
		for (u32 i = 0; i < n; i++) {
			r[i].base = origin + rnd(80) * unit;
			r[i].len = rnd(6) ? rnd(30) * unit : rnd64();
			r[i].type = 1 + rnd(7);
		}
		load(r, n);
		bootinfo_sanitize_mmap(&bi);
		check_sanitized(r, n, unit, origin, "random");
		if (failures > 20)
			break;
	}
}

/* ---------------------------------------------------------- fuzz */

static void fuzz_mb2(int iters)
{
	static struct mb2 good;
	build_valid(&good);
	u32 good_len = good.len;

	for (int it = 0; it < iters; it++) {
		memcpy(blk.buf, good.buf, good_len);
		u32 len = good_len;
		for (int m = 1 + rnd(6); m > 0; m--) {
			u32 at = rnd(len) & ~3u;
			switch (rnd(6)) {
			case 0: blk.buf[rnd(len)] ^= (u8)(1 << rnd(8)); break;
			case 1: blk.buf[rnd(len)] = (u8)rnd64(); break;
			case 2: wr32(blk.buf + at, (u32)rnd64()); break;
			case 3: wr32(blk.buf + at, rnd(64)); break;
			case 4: wr32(blk.buf + at, (u32)(rnd(3) - 1)); break;
			case 5: len = 8 + rnd(len - 7); break; /* cut the block */
			}
		}
		/* The parser may read exactly total_size bytes: give it that. */
		u32 total;
		memcpy(&total, blk.buf, 4);
		size_t alloc = total > (1u << 20) ? 4 : total < 4 ? 4 : total;
		u8 *heap = malloc(alloc);
		memset(heap, 0, alloc);
		memcpy(heap, blk.buf, MIN(alloc, (size_t)len));
		int r = mb2_parse(heap, 0x8000, &bi, err, sizeof(err));
		CHECK(r == 0 || r == E_INVAL, "fuzz mb2 rc %d", r);
		CHECK(strlen(err) < sizeof(err) && (r == 0 || !strncmp(err, "multiboot2: ", 12)),
		      "fuzz mb2 err '%s'", err);
		check_strings(&bi);
		if (r == 0) {
			bootinfo_sanitize_mmap(&bi);
			CHECK(bi.mmap_count <= BOOT_MAX_MMAP, "fuzz sanitize count");
		}
		free(heap);
		if (failures > 20)
			break;
	}
}

static void fuzz_mb1(int iters)
{
	static const u32 spots[] = { 0x1000, 0x1004, 0x1008, 0x1010, 0x1014, 0x1018,
				     0x102c, 0x1030, 0x1040, 0x4000, 0x4004, 0x4008,
				     0x4010, 0x4014, 0x4018, 0x5000, 0x5018, 0x5034,
				     0x5008, 0x2ffa, 0x3000, 0x4800 };
	strict_phys = true;
	for (int it = 0; it < iters; it++) {
		build_mb1();
		for (int m = 1 + rnd(5); m > 0; m--) {
			u32 at = spots[rnd(sizeof(spots) / sizeof(spots[0]))] + 4 * rnd(2);
			switch (rnd(5)) {
			case 0: wr32(physmem + at, (u32)rnd64()); break;
			case 1: wr32(physmem + at, rnd(128)); break;
			case 2: wr32(physmem + at, (u32)rnd64() % PHYS_SIZE); break;
			case 3: physmem[at + rnd(4)] ^= (u8)(1 << rnd(8)); break;
			case 4: wr32(physmem + at, PHYS_SIZE - rnd(64)); break;
			}
		}
		if (rnd(4) == 0) {
			hole_lo = rnd(0x8000);
			hole_hi = hole_lo + rnd(0x2000);
		}
		int r = mb1_parse(info(), INFO_PA, phys, &bi, err, sizeof(err));
		CHECK(r == 0 || r == E_INVAL, "fuzz mb1 rc %d", r);
		CHECK(r == 0 || !strncmp(err, "multiboot1: ", 12), "fuzz mb1 err '%s'", err);
		check_strings(&bi);
		if (r == 0)
			bootinfo_sanitize_mmap(&bi);
		free_copies();
		if (failures > 20)
			break;
	}
	strict_phys = false;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 50000;

	physmem = malloc(PHYS_SIZE);
	test_mb2_valid();
	test_mb2_limits();
	test_mb2_errors();
	test_mb1_valid();
	test_mb1_errors();
	test_sanitize();
	fuzz_mb2(iters);
	fuzz_mb1(iters / 2);
	free(physmem);
	printf("bootinfo: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
