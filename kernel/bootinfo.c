/*
 * kernel/bootinfo.c - multiboot2 and multiboot1 information parsers and the
 * memory-map normalizer.
 *
 * Owns the translation from loader formats to struct boot_info. Must not
 * trust any byte of the loader's data (every size, count and pointer is
 * checked before use), must not write loader memory, must not keep
 * pointers into it.
 */
#include "kernel/bootinfo.h"
#include "kernel/fmt.h"
#include "kernel/string.h"

#define MB2_MAX_SIZE (1U << 20)
#define MB1_STR_MAX 4096
#define MB1_MAX_MODS 1024
#define MB1_MAX_MMAP (1U << 20)
#define MB1_INFO_SIZE 116

struct parse_ctx {
	struct boot_info *bi;
	char *err;
	size_t errlen;
	bool rsdp_from_new; /* tag 15 seen: tag 14 must not replace it */
};

static u32 rd32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return v;
}

static u64 rd64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return v;
}

static int fail(struct parse_ctx *c, const char *fmt, ...) __printf(2, 3);
static int fail(struct parse_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err && c->errlen) {
		va_start(ap, fmt);
		fmt_vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return E_INVAL;
}

static void init(struct parse_ctx *c, struct boot_info *bi, u32 proto,
		 char *err, size_t errlen)
{
	memset(bi, 0, sizeof(*bi));
	bi->proto = proto;
	bi->strpool_used = 1; /* strpool[0] is the shared empty string */
	bi->cmdline = bi->strpool;
	bi->loader_name = bi->strpool;
	c->bi = bi;
	c->err = err;
	c->errlen = errlen;
	c->rsdp_from_new = false;
	if (err && errlen)
		err[0] = '\0';
}

/* Copy @len bytes of @s into the string pool (cut if it is full). */
static const char *pool_add(struct boot_info *bi, const char *s, size_t len)
{
	size_t room = sizeof(bi->strpool) - bi->strpool_used;
	char *d = bi->strpool + bi->strpool_used;

	if (len + 1 > room) {
		bi->warn |= BOOT_WARN_STR_TRUNC;
		if (room == 0)
			return bi->strpool;
		len = room - 1;
	}
	memcpy(d, s, len);
	d[len] = '\0';
	bi->strpool_used += (u32)len + 1;
	return d;
}

static u32 mem_type(u32 mb_type)
{
	return mb_type >= MEM_USABLE && mb_type <= MEM_BAD ? mb_type : MEM_RESERVED;
}

static void add_range(struct boot_info *bi, u64 base, u64 len, u32 mb_type)
{
	if (bi->mmap_count >= BOOT_MAX_MMAP) {
		bi->warn |= BOOT_WARN_MMAP_TRUNC;
		return;
	}
	if (len > ~0ULL - base)
		len = ~0ULL - base; /* keep base + len representable */
	bi->mmap[bi->mmap_count++] = (struct mem_range){ base, len, mem_type(mb_type) };
}

static bool add_module(struct boot_info *bi, u64 start, u64 end)
{
	if (bi->module_count >= BOOT_MAX_MODULES) {
		bi->warn |= BOOT_WARN_MODULES_TRUNC;
		return false;
	}
	bi->modules[bi->module_count].start = start;
	bi->modules[bi->module_count].end = end;
	bi->modules[bi->module_count].cmdline = bi->strpool;
	bi->module_count++;
	return true;
}

/* On success, describe the warnings (if any) in err. */
static int finish(struct parse_ctx *c, const char *proto)
{
	static const char *const what[] = {
		"memory map truncated to 128 ranges",
		"module list truncated to 32 modules",
		"string pool full, strings cut",
		"unknown memory map entry_version",
		"ACPI RSDP tag without signature ignored",
	};
	u32 w = c->bi->warn;
	size_t pos;

	if (!w || !c->err || !c->errlen)
		return 0;
	pos = (size_t)fmt_snprintf(c->err, c->errlen, "%s: warning:", proto);
	for (size_t i = 0; i < ARRAY_SIZE(what); i++)
		if ((w & BIT(i)) && pos < c->errlen)
			pos += (size_t)fmt_snprintf(c->err + pos, c->errlen - pos,
						    " %s;", what[i]);
	return 0;
}

/* ------------------------------------------------------------ multiboot2 */

static const char *mb2_tag_name(u32 type)
{
	static const char *const names[] = {
		"end", "command line", "boot loader name", "module",
		"basic memory info", "BIOS boot device", "memory map",
		"VBE info", "framebuffer info", "ELF sections", "APM table",
		"EFI32 system table", "EFI64 system table", "SMBIOS tables",
		"ACPI old RSDP", "ACPI new RSDP", "network info",
		"EFI memory map", "EFI boot services not terminated",
		"EFI32 image handle", "EFI64 image handle", "load base address",
	};
	return type < ARRAY_SIZE(names) ? names[type] : "unknown";
}

/* Minimum size of the tags this parser reads (0: not read, no minimum). */
static u32 mb2_min_size(u32 type)
{
	switch (type) {
	case 1: case 2: return 9;  /* at least the NUL */
	case 3: return 17;
	case 4: case 6: case 12: case 17: return 16;
	case 11: return 12;
	case 14: return 8 + 20;
	case 15: return 8 + 36;
	default: return 8;
	}
}

/* The NUL-terminated string at t[from..size), or NULL if unterminated. */
static const char *tag_string(const u8 *t, u32 from, u32 size, size_t *len)
{
	const char *s = (const char *)t + from;

	*len = strnlen(s, size - from);
	return *len < size - from ? s : NULL;
}

static void set_rsdp(struct parse_ctx *c, const u8 *p, size_t n, bool is_new)
{
	struct boot_info *bi = c->bi;

	if (memcmp(p, "RSD PTR ", 8)) {
		bi->warn |= BOOT_WARN_RSDP_BAD;
		return;
	}
	if (c->rsdp_from_new && !is_new)
		return;
	memset(bi->rsdp, 0, sizeof(bi->rsdp));
	memcpy(bi->rsdp, p, n);
	bi->rsdp_rev = p[15];
	bi->has_rsdp = true;
	c->rsdp_from_new = is_new;
}

static int mb2_mmap(struct parse_ctx *c, const u8 *t, u32 size, u32 off)
{
	u32 esz = rd32(t + 8), ever = rd32(t + 12);

	if (esz < 24 || esz % 8)
		return fail(c, "multiboot2: tag 6 (memory map) at offset 0x%x: entry_size %u is not a multiple of 8 >= 24",
			    off, esz);
	if ((size - 16) % esz)
		return fail(c, "multiboot2: tag 6 (memory map) at offset 0x%x: size %u is not 16 + a multiple of entry_size %u",
			    off, size, esz);
	if (ever != 0)
		c->bi->warn |= BOOT_WARN_MMAP_VERSION;
	for (u32 e = 16; e < size; e += esz)
		add_range(c->bi, rd64(t + e), rd64(t + e + 8), rd32(t + e + 16));
	return 0;
}

static int mb2_tag(struct parse_ctx *c, const u8 *t, u32 type, u32 size, u32 off)
{
	struct boot_info *bi = c->bi;
	const char *s;
	size_t len;

	if (size < mb2_min_size(type))
		return fail(c, "multiboot2: tag %u (%s) at offset 0x%x has size %u < %u",
			    type, mb2_tag_name(type), off, size, mb2_min_size(type));
	switch (type) {
	case 1:
	case 2:
	case 3: {
		u32 from = type == 3 ? 16 : 8;
		s = tag_string(t, from, size, &len);
		if (!s)
			return fail(c, "multiboot2: tag %u (%s) at offset 0x%x: string not NUL-terminated within the tag",
				    type, mb2_tag_name(type), off);
		if (type == 1) {
			bi->cmdline = pool_add(bi, s, len);
		} else if (type == 2) {
			bi->loader_name = pool_add(bi, s, len);
		} else {
			u32 start = rd32(t + 8), end = rd32(t + 12);
			if (start > end)
				return fail(c, "multiboot2: tag 3 (module) at offset 0x%x: start 0x%x > end 0x%x",
					    off, start, end);
			if (add_module(bi, start, end))
				bi->modules[bi->module_count - 1].cmdline = pool_add(bi, s, len);
		}
		return 0;
	}
	case 4:
		bi->mem_lower_kb = rd32(t + 8);
		bi->mem_upper_kb = rd32(t + 12);
		bi->has_meminfo = true;
		return 0;
	case 6:
		return mb2_mmap(c, t, size, off);
	case 11:
		if (!bi->has_efi64)
			bi->efi_system_table = rd32(t + 8);
		bi->has_efi32 = true;
		return 0;
	case 12:
		bi->efi_system_table = rd64(t + 8);
		bi->has_efi64 = true;
		return 0;
	case 14:
		set_rsdp(c, t + 8, 20, false);
		return 0;
	case 15:
		set_rsdp(c, t + 8, 36, true);
		return 0;
	case 17:
		bi->has_efi_mmap = true;
		return 0;
	case 18:
		bi->efi_bs_not_terminated = true;
		return 0;
	default:
		return 0; /* not needed, or unknown: skipped */
	}
}

int mb2_parse(const void *info, u64 info_pa, struct boot_info *bi, char *err,
	      size_t errlen)
{
	struct parse_ctx c;
	const u8 *base = info;
	u32 total, off, next;
	int r;

	init(&c, bi, 2, err, errlen);
	if (!info)
		return fail(&c, "multiboot2: no information block");
	total = rd32(base);
	bi->info_pa = info_pa;
	bi->info_len = total;
	if (total < 16)
		return fail(&c, "multiboot2: total_size %u < 16 (header and end tag)", total);
	if (total > MB2_MAX_SIZE)
		return fail(&c, "multiboot2: total_size %u exceeds the 1 MiB limit", total);
	for (off = 8;; off = next) {
		if (total - off < 8)
			return fail(&c, "multiboot2: no end tag within total_size %u", total);
		u32 type = rd32(base + off), size = rd32(base + off + 4);
		if (size < 8)
			return fail(&c, "multiboot2: tag %u (%s) at offset 0x%x has size %u < 8",
				    type, mb2_tag_name(type), off, size);
		if (size > total - off)
			return fail(&c, "multiboot2: tag %u (%s) at offset 0x%x has size %u, past total_size %u",
				    type, mb2_tag_name(type), off, size, total);
		if (type == 0)
			break;
		r = mb2_tag(&c, base + off, type, size, off);
		if (r)
			return r;
		next = off + ALIGN_UP(size, 8U); /* < 2^21: no overflow */
		if (next >= total)
			return fail(&c, "multiboot2: no end tag within total_size %u", total);
	}
	return finish(&c, "multiboot2");
}

/* ------------------------------------------------------------ multiboot1 */

/* Copy the NUL-terminated string at physical @pa into the pool, reading it
 * page by page through @phys. */
static int mb1_string(struct parse_ctx *c, bootinfo_phys_fn phys, u64 pa,
		      const char *what, const char **out)
{
	struct boot_info *bi = c->bi;
	size_t room = sizeof(bi->strpool) - bi->strpool_used;
	char *dst = bi->strpool + bi->strpool_used;
	size_t n = 0;

	*out = bi->strpool;
	if (pa == 0)
		return 0; /* absent */
	for (;;) {
		if (n >= MB1_STR_MAX)
			return fail(c, "multiboot1: %s at 0x%llx is not NUL-terminated within %u bytes",
				    what, (unsigned long long)pa, MB1_STR_MAX);
		size_t chunk = PAGE_SIZE - ((pa + n) & (PAGE_SIZE - 1));
		chunk = MIN(chunk, MB1_STR_MAX - n);
		const char *src = phys(pa + n, chunk);
		if (!src)
			return fail(c, "multiboot1: %s at 0x%llx is not readable",
				    what, (unsigned long long)(pa + n));
		for (size_t i = 0; i < chunk; i++, n++) {
			if (!src[i])
				goto done;
			if (n + 1 < room)
				dst[n] = src[i];
		}
	}
done:
	if (room == 0) {
		bi->warn |= BOOT_WARN_STR_TRUNC;
		return 0;
	}
	if (n + 1 > room) {
		bi->warn |= BOOT_WARN_STR_TRUNC;
		n = room - 1;
	}
	dst[n] = '\0';
	bi->strpool_used += (u32)n + 1;
	*out = dst;
	return 0;
}

static int mb1_modules(struct parse_ctx *c, bootinfo_phys_fn phys, u32 count,
		       u32 addr)
{
	struct boot_info *bi = c->bi;
	u32 used = MIN(count, (u32)BOOT_MAX_MODULES);
	const u8 *m;
	int r;

	if (count > MB1_MAX_MODS)
		return fail(c, "multiboot1: mods_count %u is implausible (> %u)",
			    count, MB1_MAX_MODS);
	if (count > used)
		bi->warn |= BOOT_WARN_MODULES_TRUNC;
	if (!used)
		return 0;
	m = phys(addr, (size_t)used * 16);
	if (!m)
		return fail(c, "multiboot1: module list at 0x%x (%u entries) is not readable",
			    addr, count);
	for (u32 i = 0; i < used; i++, m += 16) {
		u32 start = rd32(m), end = rd32(m + 4), str = rd32(m + 8);
		if (start > end)
			return fail(c, "multiboot1: module %u: start 0x%x > end 0x%x",
				    i, start, end);
		add_module(bi, start, end);
		r = mb1_string(c, phys, str, "module command line",
			       &bi->modules[bi->module_count - 1].cmdline);
		if (r)
			return r;
	}
	return 0;
}

static int mb1_mmap(struct parse_ctx *c, bootinfo_phys_fn phys, u32 length,
		    u32 addr)
{
	const u8 *m;

	if (length > MB1_MAX_MMAP)
		return fail(c, "multiboot1: mmap_length %u exceeds the 1 MiB limit", length);
	if (!length)
		return 0;
	m = phys(addr, length);
	if (!m)
		return fail(c, "multiboot1: memory map at 0x%x (%u bytes) is not readable",
			    addr, length);
	for (u32 off = 0; off < length;) {
		if (length - off < 4)
			return fail(c, "multiboot1: memory map entry at offset 0x%x is truncated", off);
		u32 size = rd32(m + off);
		if (size < 20)
			return fail(c, "multiboot1: memory map entry at offset 0x%x has size %u < 20",
				    off, size);
		if (size > length - off - 4)
			return fail(c, "multiboot1: memory map entry at offset 0x%x (size %u) overruns mmap_length %u",
				    off, size, length);
		add_range(c->bi, rd64(m + off + 4), rd64(m + off + 12), rd32(m + off + 20));
		off += 4 + size;
	}
	return 0;
}

int mb1_parse(const void *info, u64 info_pa, bootinfo_phys_fn phys,
	      struct boot_info *bi, char *err, size_t errlen)
{
	struct parse_ctx c;
	const u8 *p = info;
	u32 flags;
	int r = 0;

	init(&c, bi, 1, err, errlen);
	if (!info || !phys)
		return fail(&c, "multiboot1: no information structure");
	flags = rd32(p);
	bi->info_pa = info_pa;
	bi->info_len = MB1_INFO_SIZE;
	if (flags & BIT(0)) {
		bi->mem_lower_kb = rd32(p + 4);
		bi->mem_upper_kb = rd32(p + 8);
		bi->has_meminfo = true;
	}
	if (flags & BIT(2))
		r = mb1_string(&c, phys, rd32(p + 16), "command line", &bi->cmdline);
	if (!r && (flags & BIT(3)))
		r = mb1_modules(&c, phys, rd32(p + 20), rd32(p + 24));
	if (!r && (flags & BIT(6)))
		r = mb1_mmap(&c, phys, rd32(p + 44), rd32(p + 48));
	if (!r && (flags & BIT(9)))
		r = mb1_string(&c, phys, rd32(p + 64), "boot loader name",
			       &bi->loader_name);
	return r ? r : finish(&c, "multiboot1");
}

/* ------------------------------------------------------------ memory map */

const char *bootinfo_mem_type_name(u32 type)
{
	switch (type) {
	case MEM_USABLE: return "usable";
	case MEM_ACPI_RECLAIM: return "ACPI reclaim";
	case MEM_ACPI_NVS: return "ACPI NVS";
	case MEM_BAD: return "bad";
	default: return "reserved";
	}
}

/* Strength of a type where ranges overlap: the higher one wins. */
static u32 mem_strength(u32 type)
{
	switch (type) {
	case MEM_USABLE: return 0;
	case MEM_ACPI_RECLAIM: return 1;
	case MEM_ACPI_NVS: return 3;
	case MEM_BAD: return 4;
	default: return 2;
	}
}

static bool stronger(u32 a, u32 b)
{
	u32 sa = mem_strength(a), sb = mem_strength(b);

	return sa != sb ? sa > sb : a > b;
}

void bootinfo_sanitize_mmap(struct boot_info *bi)
{
	static struct mem_range out[2 * BOOT_MAX_MMAP];
	struct mem_range *in = bi->mmap;
	u32 n = 0, m = 0;
	u64 p = ~0ULL;

	/* Clip wrapping ranges, drop empty ones, find the lowest base. */
	for (u32 i = 0; i < MIN(bi->mmap_count, (u32)BOOT_MAX_MMAP); i++) {
		struct mem_range r = in[i];
		if (r.len > ~0ULL - r.base)
			r.len = ~0ULL - r.base;
		if (!r.len)
			continue;
		in[n++] = r;
		p = MIN(p, r.base);
	}
	/* Sweep the boundaries upwards; each elementary piece takes the
	 * strongest type covering it; pieces of one type are merged. */
	while (n) {
		bool covered = false, have_next = false;
		u32 type = 0;
		u64 next = 0;

		for (u32 i = 0; i < n; i++) {
			u64 end = in[i].base + in[i].len;
			if (in[i].base <= p && p < end &&
			    (!covered || stronger(in[i].type, type))) {
				type = in[i].type;
				covered = true;
			}
			if (in[i].base > p && (!have_next || in[i].base < next))
				next = in[i].base, have_next = true;
			if (end > p && (!have_next || end < next))
				next = end, have_next = true;
		}
		if (!have_next)
			break;
		if (covered) {
			if (m && out[m - 1].type == type &&
			    out[m - 1].base + out[m - 1].len == p)
				out[m - 1].len += next - p;
			else
				out[m++] = (struct mem_range){ p, next - p, type };
		}
		p = next;
	}
	/* Too many pieces: give up the smallest usable ones first. */
	while (m > BOOT_MAX_MMAP) {
		u32 victim = 0;
		bool usable = false;
		for (u32 i = 0; i < m; i++) {
			bool u = out[i].type == MEM_USABLE;
			if ((u && !usable) || (u == usable && out[i].len < out[victim].len))
				victim = i, usable = u;
		}
		memmove(&out[victim], &out[victim + 1], (m - victim - 1) * sizeof(out[0]));
		m--;
		bi->warn |= BOOT_WARN_MMAP_TRUNC;
	}
	memcpy(bi->mmap, out, m * sizeof(out[0]));
	bi->mmap_count = m;
}
