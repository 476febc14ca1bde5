/*
 * tests/fuzz/fuzz_nested_check.c - libFuzzer target for the vmcb12
 * consistency checker (svm/nested_check.c, AMD APM vol. 2 §15.5.1).
 *
 * Input: a 20-byte caps header, then the VMCB image:
 *   u8 maxphyaddr (raw: values outside 32..52 test the clamping),
 *   u8 vaddrbits (raw), u8 flags (bit 0 long_mode, bit 1 npt),
 *   u8 scramble seed, u64 cr4_allowed, u64 efer_allowed;
 *   then up to 256 bytes: VMCB bytes 000h-0FFh (the control fields),
 *   then up to 768 bytes: VMCB bytes 400h-6FFh (the save fields).
 * The rest of the 4 KiB image is zero; a short input leaves zeros.
 *
 * Checks, on every input:
 *  - the verdict is a rule in [0, NCHK_COUNT) and 'why' is that rule's
 *    static string;
 *  - determinism: the same image checked again, and a copy at another
 *    address, give the same verdict; the image is not written;
 *  - purity: scrambling every bit the header does not list as read
 *    (svm/nested_check.h) never changes the verdict;
 *  - an independent reference for the simplest rules, reading the raw
 *    image at the APM's offsets (Table B-1/B-2) rather than through
 *    struct vmcb: EFER.SVME (4D0h bit 12), CR0.CD/NW (558h bits 30/29),
 *    the VMRUN intercept (010h bit 0) and ASID (058h), with the rule order
 *    of the header (SVME and CD/NW come first, VMRUN before ASID);
 *  - nested_vmcb_canonicalize: only the ES, CS, SS, DS bases change, each
 *    becomes canonical for vaddrbits, a second call changes nothing, and
 *    the verdict is the same before and after.
 *
 * FUZZ_DEBUG=1 prints the caps and the verdict of each input.
 */
#include "svm/nested_check.h"
#include "tests/fuzz/fuzz_common.h"

#define HDR 20
#define CTL_BYTES 256
#define SAVE_OFF 0x400
#define SAVE_BYTES 768

static u8 readmask[sizeof(struct vmcb)];

static void mark(size_t off, unsigned size, u64 bits)
{
	for (unsigned i = 0; i < size; i++)
		readmask[off + i] |= (u8)(bits >> (8 * i));
}

/* The documented read set, by APM offsets (Table B-1, B-2). */
static void build_readmask(void)
{
	mark(0x010, 4, 1);                     /* intercept word 4, bit 0: VMRUN */
	mark(0x040, 8, ~0xfffULL);             /* IOPM_BASE_PA 63:12 */
	mark(0x048, 8, ~0xfffULL);             /* MSRPM_BASE_PA 63:12 */
	mark(0x058, 4, ~0ULL);                 /* ASID */
	mark(0x090, 8, 1);                     /* NP_ENABLE */
	mark(0x0a8, 8, BIT(31) | 0x7ff);       /* EVENTINJ V, TYPE, VECTOR */
	mark(0x0b0, 8, ~0ULL);                 /* N_CR3 */
	mark(0x412, 2, BIT(9) | BIT(10));      /* CS attributes: L, D */
	mark(0x4d0, 8, ~0ULL);                 /* EFER */
	mark(0x548, 8, ~0ULL);                 /* CR4 */
	mark(0x550, 8, ~0ULL);                 /* CR3 */
	mark(0x558, 8, ~0ULL);                 /* CR0 */
	mark(0x560, 8, ~0ULL);                 /* DR7 */
	mark(0x568, 8, ~0ULL);                 /* DR6 */
	mark(0x668, 8, ~0ULL);                 /* G_PAT */
}

static u64 raw(const u8 *img, size_t off, unsigned bytes)
{
	u64 v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (u64)img[off + i] << (8 * i);
	return v;
}

static bool canonical(u64 b, unsigned va)
{
	u64 top = b >> (va - 1);
	u64 ones = ~(u64)0 >> (va - 1);
	return top == 0 || top == ones;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		build_readmask();
		init = true;
	}
	struct fz f = fz_init(data, size);
	struct nested_caps caps;
	caps.maxphyaddr = fz_u8(&f);
	caps.vaddrbits = fz_u8(&f);
	u8 flags = fz_u8(&f);
	caps.long_mode = flags & 1;
	caps.npt = (flags >> 1) & 1;
	u8 seed = fz_u8(&f);
	caps.cr4_allowed = fz_u64(&f);
	caps.efer_allowed = fz_u64(&f);

	/* Exact-size heap copies, so ASan sees any read outside the VMCB. */
	struct vmcb *v = calloc(1, sizeof(*v));
	struct vmcb *w = malloc(sizeof(*v));
	FZ_CHECK(v && w, "out of memory");
	u8 *img = (u8 *)v;
	size_t n = CTL_BYTES;
	const u8 *p = fz_take(&f, &n);
	memcpy(img, p, n);
	n = SAVE_BYTES;
	p = fz_take(&f, &n);
	memcpy(img + SAVE_OFF, p, n);

	/* Verdict and its string. */
	const char *why = NULL;
	int r = nested_vmcb_check(v, &caps, &why);
	FZ_CHECK(r >= 0 && r < NCHK_COUNT, "verdict %d out of range", r);
	FZ_CHECK(why && why == nested_check_rule_name(r), "why string of rule %d", r);
	if (getenv("FUZZ_DEBUG"))
		fprintf(stderr, "nested_check: maxphyaddr %u vaddrbits %u lm %d npt %d: rule %d: %s\n",
			caps.maxphyaddr, caps.vaddrbits, caps.long_mode, caps.npt, r, why);

	/* Determinism; the image is not written. */
	memcpy(w, v, sizeof(*v));
	FZ_CHECK(nested_vmcb_check(v, &caps, NULL) == r, "second check differs");
	FZ_CHECK(nested_vmcb_check(w, &caps, NULL) == r, "copy checks differently");
	FZ_CHECK(memcmp(v, w, sizeof(*v)) == 0, "the checker wrote the image");

	/* Purity: scramble every unread bit. */
	u64 x = 0x9e3779b97f4a7c15ULL ^ ((u64)seed << 32) ^ size;
	u8 *q = (u8 *)w;
	for (size_t i = 0; i < sizeof(*w); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		q[i] = (u8)((q[i] & readmask[i]) | ((u8)x & ~readmask[i]));
	}
	int r2 = nested_vmcb_check(w, &caps, NULL);
	FZ_CHECK(r2 == r, "verdict %d became %d when only unread bits changed", r, r2);

	/* The reference for the simplest rules, from raw APM offsets. */
	u64 efer = raw(img, 0x4d0, 8), cr0 = raw(img, 0x558, 8);
	bool svme_bad = !((efer >> 12) & 1);
	bool cdnw_bad = !((cr0 >> 30) & 1) && ((cr0 >> 29) & 1);
	bool vmrun_bad = !(raw(img, 0x010, 4) & 1);
	bool asid_bad = raw(img, 0x058, 4) == 0;
	FZ_CHECK((r == NCHK_EFER_SVME) == svme_bad, "SVME: rule %d, EFER %#llx", r, (unsigned long long)efer);
	FZ_CHECK((r == NCHK_CR0_CD_NW) == (cdnw_bad && !svme_bad), "CD/NW: rule %d, CR0 %#llx", r,
		 (unsigned long long)cr0);
	if (vmrun_bad)
		FZ_CHECK(r != NCHK_OK && r <= NCHK_VMRUN_INTERCEPT, "VMRUN intercept clear, rule %d", r);
	if (r == NCHK_VMRUN_INTERCEPT)
		FZ_CHECK(vmrun_bad, "VMRUN rule with the intercept set");
	if (asid_bad)
		FZ_CHECK(r != NCHK_OK && r <= NCHK_ASID_ZERO, "ASID 0, rule %d", r);
	if (r == NCHK_ASID_ZERO)
		FZ_CHECK(asid_bad && !vmrun_bad, "ASID rule with ASID %llu", (unsigned long long)raw(img, 0x58, 4));
	if (r == NCHK_OK)
		FZ_CHECK(!svme_bad && !cdnw_bad && !vmrun_bad && !asid_bad, "OK with a reference rule broken");

	/* Canonicalization of the VMRUN-loaded segment bases. */
	memcpy(w, v, sizeof(*v));
	bool changed = nested_vmcb_canonicalize(&w->save, &caps);
	unsigned va = caps.vaddrbits >= 32 && caps.vaddrbits <= 63 ? caps.vaddrbits : 48;
	static const size_t base_off[] = { 0x408, 0x418, 0x428, 0x438 }; /* ES, CS, SS, DS bases */
	const u8 *wi = (const u8 *)w;
	bool any = false;
	for (size_t i = 0; i < sizeof(*w); i++) {
		bool in_base = false;
		for (size_t b = 0; b < ARRAY_SIZE(base_off); b++)
			in_base |= i >= base_off[b] && i < base_off[b] + 8;
		if (!in_base)
			FZ_CHECK(wi[i] == img[i], "canonicalize changed byte %#zx", i);
		else
			any |= wi[i] != img[i];
	}
	FZ_CHECK(any == changed, "canonicalize returned %d, changed %d", changed, any);
	for (size_t b = 0; b < ARRAY_SIZE(base_off); b++) {
		u64 nb = raw(wi, base_off[b], 8), ob = raw(img, base_off[b], 8);
		FZ_CHECK(canonical(nb, va), "base %zu %#llx not canonical for %u bits", b, (unsigned long long)nb, va);
		FZ_CHECK(canonical(ob, va) ? nb == ob : (nb & (~(u64)0 >> (64 - va))) == (ob & (~(u64)0 >> (64 - va))),
			 "base %zu: address bits changed", b);
	}
	FZ_CHECK(!nested_vmcb_canonicalize(&w->save, &caps), "canonicalize not idempotent");
	FZ_CHECK(nested_vmcb_check(w, &caps, NULL) == r, "canonicalize changed the verdict");

	free(v);
	free(w);
	return 0;
}
