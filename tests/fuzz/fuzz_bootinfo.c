/*
 * tests/fuzz/fuzz_bootinfo.c - boot-information model and checks shared by
 * the multiboot targets (see fuzz_bootinfo.h).
 */
#include "tests/fuzz/fuzz_bootinfo.h"
#include "tests/fuzz/fuzz_common.h"

void fz_model_init(struct fz_bootmodel *m)
{
	memset(m, 0, sizeof(*m));
	m->pool_used = 1; /* the shared empty string */
	m->cmdline.s = m->loader.s = "";
}

struct fz_str fz_model_pool(struct fz_bootmodel *m, const char *s, size_t len)
{
	u32 room = (u32)sizeof(((struct boot_info *)0)->strpool) - m->pool_used;

	if (len + 1 > room) {
		m->warn |= BOOT_WARN_STR_TRUNC;
		if (room == 0)
			return (struct fz_str){ "", 0 };
		len = room - 1;
	}
	m->pool_used += (u32)len + 1;
	return (struct fz_str){ s, len };
}

void fz_model_str(struct fz_bootmodel *m, int which, const char *s, size_t len)
{
	struct fz_str v = s ? fz_model_pool(m, s, len) : (struct fz_str){ "", 0 };

	if (which == FZ_S_CMDLINE)
		m->cmdline = v;
	else
		m->loader = v;
}

struct fz_str *fz_model_module(struct fz_bootmodel *m, u64 start, u64 end, const char *s, size_t len)
{
	if (m->nmods >= BOOT_MAX_MODULES) {
		m->warn |= BOOT_WARN_MODULES_TRUNC;
		return NULL;
	}
	m->mods[m->nmods].start = start;
	m->mods[m->nmods].end = end;
	m->mods[m->nmods].cmd = s ? fz_model_pool(m, s, len) : (struct fz_str){ "", 0 };
	return &m->mods[m->nmods++].cmd;
}

void fz_model_range(struct fz_bootmodel *m, u64 base, u64 len, u32 type)
{
	if (m->nmmap >= BOOT_MAX_MMAP) {
		m->warn |= BOOT_WARN_MMAP_TRUNC;
		return;
	}
	if (len > ~0ULL - base)
		len = ~0ULL - base; /* keep base + len representable */
	if (type < MEM_USABLE || type > MEM_BAD)
		type = MEM_RESERVED;
	m->mmap[m->nmmap++] = (struct mem_range){ base, len, type };
}

static void check_str(const struct boot_info *bi, const char *s, const char *what)
{
	const char *lo = bi->strpool, *hi = bi->strpool + sizeof(bi->strpool);

	FZ_CHECK(s >= lo && s < hi, "%s pointer outside the pool", what);
	FZ_CHECK(memchr(s, 0, (size_t)(hi - s)), "%s not terminated in the pool", what);
}

void fz_check_strings(const struct boot_info *bi)
{
	FZ_CHECK(bi->strpool_used >= 1 && bi->strpool_used <= sizeof(bi->strpool), "pool used %u",
		 bi->strpool_used);
	FZ_CHECK(bi->strpool[0] == 0, "the shared empty string was overwritten");
	check_str(bi, bi->cmdline, "cmdline");
	check_str(bi, bi->loader_name, "loader name");
	FZ_CHECK(bi->mmap_count <= BOOT_MAX_MMAP, "mmap_count %u", bi->mmap_count);
	FZ_CHECK(bi->module_count <= BOOT_MAX_MODULES, "module_count %u", bi->module_count);
	for (u32 i = 0; i < bi->module_count; i++) {
		check_str(bi, bi->modules[i].cmdline, "module cmdline");
		FZ_CHECK(bi->modules[i].start <= bi->modules[i].end, "module %u start > end", i);
	}
	for (u32 i = 0; i < bi->mmap_count; i++) {
		const struct mem_range *r = &bi->mmap[i];
		FZ_CHECK(r->len <= ~0ULL - r->base, "range %u wraps", i);
		FZ_CHECK(r->type >= MEM_USABLE && r->type <= MEM_BAD, "range %u type %u", i, r->type);
	}
}

static void same_str(const char *got, const struct fz_str *want, const char *what)
{
	FZ_CHECK(strlen(got) == want->len && !memcmp(got, want->s, want->len),
		 "%s is '%s', model has %zu bytes '%.*s'", what, got, want->len, (int)want->len, want->s);
}

void fz_compare_model(const struct boot_info *bi, const struct fz_bootmodel *m)
{
	same_str(bi->cmdline, &m->cmdline, "cmdline");
	same_str(bi->loader_name, &m->loader, "loader name");
	FZ_CHECK(bi->warn == m->warn, "warn %#x, model %#x", bi->warn, m->warn);
	FZ_CHECK(bi->module_count == m->nmods, "%u modules, model %u", bi->module_count, m->nmods);
	for (u32 i = 0; i < m->nmods; i++) {
		FZ_CHECK(bi->modules[i].start == m->mods[i].start && bi->modules[i].end == m->mods[i].end,
			 "module %u span", i);
		same_str(bi->modules[i].cmdline, &m->mods[i].cmd, "module cmdline");
	}
	FZ_CHECK(bi->mmap_count == m->nmmap, "%u ranges, model %u", bi->mmap_count, m->nmmap);
	for (u32 i = 0; i < m->nmmap; i++)
		FZ_CHECK(bi->mmap[i].base == m->mmap[i].base && bi->mmap[i].len == m->mmap[i].len &&
				 bi->mmap[i].type == m->mmap[i].type,
			 "range %u: %#llx+%#llx type %u, model %#llx+%#llx type %u", i,
			 (unsigned long long)bi->mmap[i].base, (unsigned long long)bi->mmap[i].len,
			 bi->mmap[i].type, (unsigned long long)m->mmap[i].base,
			 (unsigned long long)m->mmap[i].len, m->mmap[i].type);
	FZ_CHECK(bi->has_meminfo == m->has_meminfo, "has_meminfo");
	if (m->has_meminfo)
		FZ_CHECK(bi->mem_lower_kb == m->mem_lower && bi->mem_upper_kb == m->mem_upper, "meminfo");
	FZ_CHECK(bi->has_efi32 == m->has_efi32 && bi->has_efi64 == m->has_efi64 &&
			 bi->has_efi_mmap == m->has_efi_mmap && bi->efi_bs_not_terminated == m->efi_bs,
		 "EFI flags");
	FZ_CHECK(bi->efi_system_table == m->efi_table, "EFI system table %#llx, model %#llx",
		 (unsigned long long)bi->efi_system_table, (unsigned long long)m->efi_table);
	FZ_CHECK(bi->has_rsdp == m->has_rsdp, "has_rsdp %d, model %d", bi->has_rsdp, m->has_rsdp);
	if (m->has_rsdp)
		FZ_CHECK(bi->rsdp_rev == m->rsdp_rev && !memcmp(bi->rsdp, m->rsdp, sizeof(m->rsdp)), "RSDP copy");
}

/* ------------------------------------------------------------ sanitize */

static unsigned strength(u32 t)
{
	switch (t) {
	case MEM_USABLE: return 0;
	case MEM_ACPI_RECLAIM: return 1;
	case MEM_ACPI_NVS: return 3;
	case MEM_BAD: return 4;
	default: return 2;
	}
}

/* The type the input gives point @p: the strongest covering range's (ties:
 * the higher type number); 0 when uncovered. */
static u32 input_type(const struct mem_range *in, u32 n, u64 p)
{
	u32 best = 0;

	for (u32 i = 0; i < n; i++) {
		u64 len = in[i].len > ~0ULL - in[i].base ? ~0ULL - in[i].base : in[i].len;
		if (p < in[i].base || p - in[i].base >= len)
			continue;
		if (!best || strength(in[i].type) > strength(best) ||
		    (strength(in[i].type) == strength(best) && in[i].type > best))
			best = in[i].type;
	}
	return best;
}

static u32 output_type(const struct boot_info *o, u64 p)
{
	for (u32 i = 0; i < o->mmap_count; i++)
		if (p >= o->mmap[i].base && p - o->mmap[i].base < o->mmap[i].len)
			return o->mmap[i].type;
	return 0;
}

static struct boot_info san, san2;

void fz_check_sanitize(const struct boot_info *bi)
{
	const struct mem_range *in = bi->mmap;
	u32 n = bi->mmap_count;

	memcpy(&san, bi, sizeof(san));
	bootinfo_sanitize_mmap(&san);
	FZ_CHECK(san.mmap_count <= BOOT_MAX_MMAP, "sanitize: %u ranges", san.mmap_count);
	bool cut = san.mmap_count == BOOT_MAX_MMAP && (san.warn & BOOT_WARN_MMAP_TRUNC);
	for (u32 i = 0; i < san.mmap_count; i++) {
		const struct mem_range *r = &san.mmap[i];
		FZ_CHECK(r->len > 0, "sanitize: empty range %u", i);
		FZ_CHECK(r->len <= ~0ULL - r->base, "sanitize: range %u wraps", i);
		if (i) {
			const struct mem_range *q = &san.mmap[i - 1];
			FZ_CHECK(q->base + q->len <= r->base, "sanitize: ranges %u and %u overlap or are unsorted",
				 i - 1, i);
			FZ_CHECK(q->base + q->len < r->base || q->type != r->type,
				 "sanitize: ranges %u and %u not merged", i - 1, i);
		}
		/* uniform: the input type at both ends is the output type */
		FZ_CHECK(input_type(in, n, r->base) == r->type, "sanitize: range %u type %u, input says %u at base",
			 i, r->type, input_type(in, n, r->base));
		FZ_CHECK(input_type(in, n, r->base + r->len - 1) == r->type, "sanitize: range %u type at end", i);
	}
	/* every input boundary point: same type, or dropped by the cut */
	for (u32 i = 0; i < n; i++) {
		u64 len = in[i].len > ~0ULL - in[i].base ? ~0ULL - in[i].base : in[i].len;
		u64 pts[4] = { in[i].base, in[i].base + len, in[i].base + len - 1, in[i].base - 1 };
		for (int k = 0; k < 4; k++) {
			if (!len && k >= 2)
				continue;
			u32 want = input_type(in, n, pts[k]), got = output_type(&san, pts[k]);
			FZ_CHECK(got == want || (cut && got == 0), "sanitize: point %#llx has type %u, input says %u",
				 (unsigned long long)pts[k], got, want);
		}
	}
	if (!cut) {
		/* idempotent */
		memcpy(&san2, &san, sizeof(san2));
		bootinfo_sanitize_mmap(&san2);
		FZ_CHECK(san2.mmap_count == san.mmap_count &&
				 !memcmp(san2.mmap, san.mmap, san.mmap_count * sizeof(san.mmap[0])),
			 "sanitize is not idempotent");
	}
}
