/*
 * tests/guests/canary.c - the secrecy canary scan (issue "Containment").
 *
 * Umbra keeps a 64-byte canary in its own memory (kernel/canary.c): the
 * tag "UMBRA-CANARY-TAG" followed by 48 random bytes, once in .data and
 * once in a heap object. This guest scans every guest-physical byte it can
 * read for the tag, three times: with paging off (direct physical access),
 * under 32-bit paging identity-mapping all RAM with 4 MiB pages, and under
 * PAE with 2 MiB pages. The scanned ranges are the RAM below 640K, the
 * BIOS area [0xE0000, 0x100000) and every usable multiboot region below
 * 4 GiB. It must never find the tag. Bare QEMU has no canary, so the
 * output is the same bare and under Umbra.
 *
 * The tag is never stored in guest memory (the scan would find itself):
 * its words are rebuilt one at a time from XOR-masked immediates, hidden
 * from constant folding, and compared in registers. A self-test builds the
 * tag in a buffer, checks the detector finds it there, and wipes it.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

GUEST_NAME("canary");

#define BIOS_START 0xE0000u
#define BIOS_END 0x100000u
#define LOW_END 0xA0000u

static inline u32 opaque(u32 v)
{
	asm volatile("" : "+r"(v));
	return v;
}

/* Tag word @i ("UMBR", "A-CA", "NARY", "-TAG"), rebuilt on each call. */
static __attribute__((noinline)) u32 tag_word(int i)
{
	switch (i) {
	case 0: return opaque(0x52424d55u ^ 0x1b2d3c4bu) ^ opaque(0x1b2d3c4bu);
	case 1: return opaque(0x41432d41u ^ 0x6a5b4c3du) ^ opaque(0x6a5b4c3du);
	case 2: return opaque(0x5952414eu ^ 0x0f1e2d3cu) ^ opaque(0x0f1e2d3cu);
	default: return opaque(0x4741542du ^ 0x7c6b5a49u) ^ opaque(0x7c6b5a49u);
	}
}

/* The rest of the tag after a first-word match at @a (a+16 inside range). */
static __attribute__((noinline)) bool tag_rest_at(u32 a)
{
	for (int i = 1; i < 4; i++)
		if (peek32(a + 4 * i) != tag_word(i))
			return false;
	return true;
}

struct scan {
	u32 bytes;	/* bytes scanned */
	u32 found;	/* tag occurrences */
	u32 first_at;	/* address of the first one */
};

/* Scan [@lo, @hi) at 4-byte steps for the tag. */
static void scan_range(struct scan *s, u32 lo, u32 hi)
{
	u32 w0 = tag_word(0);
	lo = ALIGN_UP(lo, 4);
	hi &= ~3u;
	if (hi <= lo)
		return;
	for (u32 a = lo; a < hi; a += 4) {
		if (peek32(a) == w0 && a + 16 <= hi && tag_rest_at(a)) {
			if (!s->found++)
				s->first_at = a;
		}
	}
	s->bytes += hi - lo;
}

/* Usable RAM below 4 GiB, above 1 MiB, per the memory map; each region
 * clipped to [1 MiB, 4 GiB). */
static u64 high_ram_bytes(void)
{
	u64 sum = 0;
	for (int i = 0; i < mb.nregions; i++) {
		const struct mb_region *r = &mb.regions[i];
		if (r->type != MB_MMAP_AVAILABLE)
			continue;
		u64 lo = r->base < BIOS_END ? BIOS_END : r->base;
		u64 hi = r->base + r->len > 0x100000000ull ? 0x100000000ull : r->base + r->len;
		if (hi > lo)
			sum += hi - lo;
	}
	return sum;
}

static u32 ram_top(void)
{
	u64 top = 0;
	for (int i = 0; i < mb.nregions; i++) {
		const struct mb_region *r = &mb.regions[i];
		if (r->type == MB_MMAP_AVAILABLE && r->base + r->len > top)
			top = r->base + r->len;
	}
	if (top > 0xFFC00000ull)
		top = 0xFFC00000ull;
	return (u32)top;
}

static void scan_all(const char *phase)
{
	struct scan s = { 0 };
	scan_range(&s, 0, LOW_END);
	u32 low = s.bytes;
	scan_range(&s, BIOS_START, BIOS_END);
	u32 bios = s.bytes - low;
	u32 high0 = s.bytes;
	for (int i = 0; i < mb.nregions; i++) {
		const struct mb_region *r = &mb.regions[i];
		if (r->type != MB_MMAP_AVAILABLE)
			continue;
		u64 lo = r->base < BIOS_END ? BIOS_END : r->base;
		u64 hi = r->base + r->len > ram_top() ? ram_top() : r->base + r->len;
		if (hi > lo)
			scan_range(&s, (u32)lo, (u32)hi);
	}
	u32 high = s.bytes - high0;
	printf("%s: low 640K scanned: %s, BIOS area scanned: %s, scanned all usable RAM: %s\n", phase,
	       low == LOW_END ? "yes" : "no", bios == BIOS_END - BIOS_START ? "yes" : "no",
	       high == high_ram_bytes() ? "yes" : "no");
	printf("%s: canary found: %s\n", phase, s.found ? "YES" : "no");
	if (s.found)
		printf("%s: %u occurrences, first at guest address %#x\n", phase, s.found, s.first_at);
	report(!s.found, "%s: no secrecy canary in reach", phase);
	report(low == LOW_END && bios == BIOS_END - BIOS_START && high == high_ram_bytes(),
	       "%s: every readable page scanned", phase);
}

static u32 selftest_buf[32] __aligned(64);

static void detector_selftest(void)
{
	struct scan s = { 0 };
	volatile u32 *b = selftest_buf;
	for (int i = 0; i < 4; i++)
		b[8 + i] = tag_word(i);
	scan_range(&s, (u32)selftest_buf, (u32)selftest_buf + sizeof(selftest_buf));
	bool ok = s.found == 1 && s.first_at == (u32)&selftest_buf[8];
	/* one word off: no match */
	b[10] ^= 1;
	struct scan s2 = { 0 };
	scan_range(&s2, (u32)selftest_buf, (u32)selftest_buf + sizeof(selftest_buf));
	ok &= s2.found == 0;
	for (int i = 0; i < 32; i++)
		b[i] = 0;
	report(ok, "detector finds a tag built at run time, and only a whole one");
}

void guest_main(void)
{
	if (!(mb.flags & MB_INFO_MMAP) || high_ram_bytes() < 16 * MiB) {
		report(false, "a memory map with at least 16 MiB above 1 MiB");
		return;
	}
	detector_selftest();
	scan_all("physical");

	u32 top = ALIGN_UP(ram_top(), 4 * (u32)MiB);
	u32 *pd = pt32_new();
	pt32_identity(pd, top, PTE_P | PTE_W);
	paging_enable32(pd, true);
	scan_all("32-bit paging");
	paging_disable();

	u64 *pdpt = pae_new();
	pae_identity(pdpt, top, PTE_P | PTE_W);
	paging_enable_pae(pdpt, true);
	scan_all("PAE paging");
	paging_disable();
}
