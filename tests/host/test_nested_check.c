/*
 * tests/host/test_nested_check.c - the vmcb12 consistency checker
 * (svm/nested_check.c) against the rules of AMD APM vol. 2 §15.5.1,
 * §15.20 and §15.25.4.
 *
 *  - four valid starting states (64-bit, 32-bit PAE, 32-bit non-PAE, real
 *    mode; plus paged real mode) pass;
 *  - every rule is broken one at a time from each state where it applies,
 *    and exactly that rule must fire;
 *  - boundaries: CR3/nCR3 bits at and below MAXPHYADDR for several widths,
 *    the permission maps ending at 2^MAXPHYADDR - 1 and one page later,
 *    every CR4, EFER, CR0[63:32], DR6/DR7[63:32] bit alone, every EVENTINJ
 *    type and exception vector, every G_PAT field value;
 *  - the report order when several rules are broken;
 *  - a seeded random test: changing a bit the checker does not document as
 *    read never changes its verdict (over valid and invalid states);
 *  - nested_vmcb_canonicalize().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svm/nested_check.h"

static int failures, checks;

#define CHECK(c, ...)                                                  \
	do {                                                           \
		checks++;                                              \
		if (!(c)) {                                            \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);    \
			printf(__VA_ARGS__);                           \
			printf("\n");                                  \
			failures++;                                    \
		}                                                      \
	} while (0)

static struct nested_caps caps;

static void expect_at(int line, const char *what, const struct vmcb *v, const struct nested_caps *c, int want)
{
	const char *why = NULL;
	int got = nested_vmcb_check(v, c, &why);
	checks++;
	if (got != want) {
		printf("FAIL line %d: %s: got rule %d (%s), want %d (%s)\n", line, what, got, why, want,
		       nested_check_rule_name(want));
		failures++;
	}
	if (!why || strcmp(why, nested_check_rule_name(got)) != 0) {
		printf("FAIL line %d: %s: why string does not match the rule\n", line, what);
		failures++;
	}
}
#define EXPECT(what, v, want) expect_at(__LINE__, what, &(v), &caps, want)
#define EXPECT_C(what, v, c, want) expect_at(__LINE__, what, &(v), &(c), want)

/* ---------------------------------------------------------------- states */

#define ATTR_CODE64 0x29b   /* P, S, type 0xb, L */
#define ATTR_CODE32 0xc9b   /* P, S, type 0xb, D, G */
#define ATTR_CODE16 0x09b
#define ATTR_DATA32 0xc93
#define ATTR_L BIT(9)
#define ATTR_D BIT(10)
#define PAT_POWERON 0x0007040600070406ULL

static void common(struct vmcb *v)
{
	memset(v, 0, sizeof(*v));
	v->ctl.intercept_misc1 = INTERCEPT1_IOIO | INTERCEPT1_MSR;
	v->ctl.intercept_misc2 = INTERCEPT2_VMRUN | INTERCEPT2_VMMCALL;
	v->ctl.iopm_base_pa = 0x100000;
	v->ctl.msrpm_base_pa = 0x104000;
	v->ctl.asid = 1;
	v->save.dr6 = 0xffff0ff0;
	v->save.dr7 = 0x400;
	v->save.g_pat = PAT_POWERON;
	v->save.rflags = 2;
}

static void state_64(struct vmcb *v)
{
	common(v);
	v->save.efer = EFER_SVME | EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
	v->save.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	v->save.cr3 = 0x7f000;
	v->save.cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	v->save.cs = (struct vmcb_seg){0x08, ATTR_CODE64, 0xffffffff, 0};
	v->save.ss = (struct vmcb_seg){0x10, ATTR_DATA32, 0xffffffff, 0};
	v->save.rip = 0xffffffff80001000ULL;
	v->ctl.np_enable = 1;
	v->ctl.n_cr3 = 0x200000;
}

static void state_pae(struct vmcb *v)
{
	common(v);
	v->save.efer = EFER_SVME | EFER_NXE;
	v->save.cr0 = CR0_PE | CR0_ET | CR0_PG;
	v->save.cr3 = 0x12345fe0; /* 32-byte aligned PDPT, above the page base */
	v->save.cr4 = CR4_PAE;
	v->save.cs = (struct vmcb_seg){0x08, ATTR_CODE32, 0xffffffff, 0};
}

static void state_32(struct vmcb *v)
{
	common(v);
	v->save.efer = EFER_SVME;
	v->save.cr0 = CR0_PE | CR0_ET | CR0_PG | CR0_WP;
	v->save.cr3 = 0x00fff000 | 0xfe7; /* reserved (not MBZ) bits 11:5 and 2:0, PWT, PCD */
	v->save.cr4 = CR4_PSE;
	v->save.cs = (struct vmcb_seg){0x08, ATTR_CODE32, 0xffffffff, 0};
}

static void state_real(struct vmcb *v)
{
	common(v);
	v->save.efer = EFER_SVME;
	v->save.cr0 = CR0_CD | CR0_NW | CR0_ET; /* the reset value */
	v->save.cr3 = 0;
	v->save.cr4 = 0;
	v->save.cs = (struct vmcb_seg){0xf000, ATTR_CODE16, 0xffff, 0xffff0000};
	v->save.rip = 0xfff0;
}

typedef void (*state_fn)(struct vmcb *);
static const struct {
	const char *name;
	state_fn fn;
} states[] = {
	{"64-bit", state_64},
	{"32-bit PAE", state_pae},
	{"32-bit", state_32},
	{"real mode", state_real},
};

static void default_caps(void)
{
	nested_caps_init(&caps, 40, true);
	caps.cr4_allowed |= CR4_FSGSBASE | CR4_OSXSAVE | CR4_SMEP | CR4_SMAP | CR4_UMIP;
}

/* ---------------------------------------------------------------- tests */

static void test_valid(void)
{
	struct vmcb v;
	char what[96];
	for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
		states[i].fn(&v);
		snprintf(what, sizeof(what), "valid %s state", states[i].name);
		EXPECT(what, v, NCHK_OK);
	}
	/* Paged real mode: CR0.PG=1 with PE=0 is legal for VMRUN (§15.19). */
	state_real(&v);
	v.save.cr0 = CR0_ET | CR0_PG;
	EXPECT("paged real mode", v, NCHK_OK);
	/* Compatibility mode: long mode, CS.L=0, CS.D=1. */
	state_64(&v);
	v.save.cs.attr = ATTR_CODE32;
	EXPECT("compatibility mode", v, NCHK_OK);
	/* LME set, paging off (long mode not yet active): no LM rule applies. */
	state_real(&v);
	v.save.efer |= EFER_LME;
	v.save.cs.attr |= ATTR_L | ATTR_D;
	v.save.cr3 = ~0ULL;
	EXPECT("EFER.LME with CR0.PG=0", v, NCHK_OK);
	/* Reserved-but-not-MBZ CR3 bits of long mode (PCIDE=0): 11:5, 2:0. */
	state_64(&v);
	v.save.cr3 |= 0xfe7;
	EXPECT("long-mode CR3 low reserved bits", v, NCHK_OK);
	/* Reserved bits of CR0[31:0], DR6/DR7[31:0] are not on the list. */
	state_64(&v);
	v.save.cr0 |= GENMASK(28, 19) | GENMASK(15, 6) | BIT(17);
	v.save.dr6 = 0xffffffff;
	v.save.dr7 = 0xffffffff;
	EXPECT("CR0/DR6/DR7 low reserved bits", v, NCHK_OK);
	/* No nested paging: NP_ENABLE is ignored, nCR3/G_PAT unchecked. */
	state_pae(&v);
	v.ctl.np_enable = 0;
	v.ctl.n_cr3 = ~0ULL;
	v.save.g_pat = ~0ULL;
	EXPECT("NP_ENABLE=0: nCR3 and G_PAT ignored", v, NCHK_OK);
}

static void test_each_rule_per_state(void)
{
	struct vmcb v;
	char what[128];
	for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
		const char *n = states[i].name;
#define CASE(desc, mutate, want)                                           \
	do {                                                               \
		states[i].fn(&v);                                          \
		mutate;                                                    \
		snprintf(what, sizeof(what), "%s: %s", n, desc);           \
		EXPECT(what, v, want);                                     \
	} while (0)
		CASE("EFER.SVME=0", v.save.efer &= ~EFER_SVME, NCHK_EFER_SVME);
		CASE("CR0.CD=0 NW=1", (v.save.cr0 &= ~CR0_CD, v.save.cr0 |= CR0_NW), NCHK_CR0_CD_NW);
		CASE("CR0.CD=1 NW=1", v.save.cr0 |= CR0_CD | CR0_NW, NCHK_OK);
		CASE("CR0.CD=1 NW=0", (v.save.cr0 |= CR0_CD, v.save.cr0 &= ~CR0_NW), NCHK_OK);
		CASE("CR0 bit 32", v.save.cr0 |= BIT(32), NCHK_CR0_HIGH);
		CASE("CR0 bit 63", v.save.cr0 |= BIT(63), NCHK_CR0_HIGH);
		CASE("CR4 bit 15", v.save.cr4 |= BIT(15), NCHK_CR4_MBZ);
		CASE("CR4.VMXE", v.save.cr4 |= CR4_VMXE, NCHK_CR4_MBZ);
		CASE("CR4 bit 63", v.save.cr4 |= BIT(63), NCHK_CR4_MBZ);
		CASE("DR6 bit 32", v.save.dr6 |= BIT(32), NCHK_DR6_HIGH);
		CASE("DR7 bit 63", v.save.dr7 |= BIT(63), NCHK_DR7_HIGH);
		CASE("EFER bit 9", v.save.efer |= BIT(9), NCHK_EFER_MBZ);
		CASE("EFER bit 63", v.save.efer |= BIT(63), NCHK_EFER_MBZ);
		CASE("VMRUN intercept clear", v.ctl.intercept_misc2 &= ~INTERCEPT2_VMRUN, NCHK_VMRUN_INTERCEPT);
		CASE("MSRPM at 2^40", v.ctl.msrpm_base_pa = 1ULL << 40, NCHK_MSRPM_RANGE);
		CASE("IOPM at 2^40", v.ctl.iopm_base_pa = 1ULL << 40, NCHK_IOPM_RANGE);
		CASE("EVENTINJ type 1", v.ctl.event_inj = EVENTINJ_VALID | (1ULL << 8), NCHK_EVENTINJ_TYPE);
		CASE("EVENTINJ #NMI as exception", v.ctl.event_inj = EVENTINJ_VALID | EVENTINJ_TYPE_EXC | 2,
		     NCHK_EVENTINJ_VECTOR);
		CASE("EVENTINJ #GP", v.ctl.event_inj = EVENTINJ_VALID | EVENTINJ_TYPE_EXC | EVENTINJ_EV | 13,
		     NCHK_OK);
		CASE("ASID 0", v.ctl.asid = 0, NCHK_ASID_ZERO);
		CASE("NP: nCR3 bit 40", (v.ctl.np_enable = 1, v.ctl.n_cr3 |= BIT(40)), NCHK_NCR3_MBZ);
		CASE("NP: G_PAT type 2", (v.ctl.np_enable = 1, v.save.g_pat = 0x0007040600070402ULL), NCHK_GPAT);
		CASE("EFER.LMA (long mode exposed)", v.save.efer |= EFER_LMA, NCHK_OK);
		/* Legacy modes have no MBZ bits in CR3 (§3.1.2): only long mode fires. */
		CASE("CR3 bit 63", v.save.cr3 |= BIT(63), i == 0 ? NCHK_CR3_MBZ : NCHK_OK);
		CASE("CR3 bit 52", v.save.cr3 |= BIT(52), i == 0 ? NCHK_CR3_MBZ : NCHK_OK);
		CASE("CR3 bit 40", v.save.cr3 |= BIT(40), i == 0 ? NCHK_CR3_MBZ : NCHK_OK);
		CASE("CR3 bit 39", v.save.cr3 |= BIT(39), NCHK_OK);
#undef CASE
	}
}

static void test_long_mode_rules(void)
{
	struct vmcb v;
	struct nested_caps nolm = caps;
	nolm.long_mode = false;

	state_64(&v);
	EXPECT_C("no long mode: 64-bit state", v, nolm, NCHK_EFER_NO_LM);
	state_64(&v);
	v.save.efer &= ~EFER_LMA;
	EXPECT_C("no long mode: LME only", v, nolm, NCHK_EFER_NO_LM);
	state_pae(&v);
	v.save.efer |= EFER_LMA;
	EXPECT_C("no long mode: LMA only", v, nolm, NCHK_EFER_NO_LM);
	for (size_t i = 1; i < ARRAY_SIZE(states); i++) {
		states[i].fn(&v);
		EXPECT_C("no long mode: legacy states pass", v, nolm, NCHK_OK);
	}
	/* efer_allowed has no say over LME/LMA. */
	struct nested_caps c2 = caps;
	c2.efer_allowed &= ~(EFER_LME | EFER_LMA);
	state_64(&v);
	EXPECT_C("efer_allowed without LME/LMA", v, c2, NCHK_OK);

	state_64(&v);
	v.save.cr4 &= ~CR4_PAE;
	EXPECT("LME PG !PAE", v, NCHK_LM_NO_PAE);
	state_32(&v);
	v.save.efer |= EFER_LME;
	EXPECT("32-bit state + LME", v, NCHK_LM_NO_PAE);
	state_pae(&v);
	v.save.efer |= EFER_LME;
	EXPECT("PAE state + LME (compatibility-mode CS)", v, NCHK_OK);

	state_64(&v);
	v.save.cr0 &= ~CR0_PE;
	EXPECT("LME PG !PE", v, NCHK_LM_NO_PE);
	state_64(&v);
	v.save.cr0 &= ~CR0_PE;
	v.save.cr4 &= ~CR4_PAE;
	EXPECT("LME PG !PE !PAE: PAE rule first", v, NCHK_LM_NO_PAE);

	state_64(&v);
	v.save.cs.attr |= ATTR_D;
	EXPECT("CS.L and CS.D", v, NCHK_LM_CS_L_D);
	state_64(&v);
	v.save.cs.attr = ATTR_L | ATTR_D; /* only L and D matter, not P, S, type */
	EXPECT("CS.L and CS.D, nothing else", v, NCHK_LM_CS_L_D);
	state_pae(&v);
	v.save.cs.attr |= ATTR_L | ATTR_D;
	EXPECT("CS.L and CS.D outside long mode", v, NCHK_OK);
	state_64(&v);
	v.save.cs.attr |= ATTR_D;
	v.save.cr4 &= ~CR4_PAE;
	EXPECT("CS.L/D with !PAE: PAE rule first", v, NCHK_LM_NO_PAE);
	state_64(&v);
	v.save.cs.attr = (u16)~(ATTR_L | ATTR_D);
	EXPECT("CS attr all bits but L and D", v, NCHK_OK);
}

static void test_cr3_boundaries(void)
{
	static const u8 widths[] = {32, 36, 39, 40, 43, 46, 48, 52};
	struct vmcb v;
	char what[96];
	for (size_t w = 0; w < ARRAY_SIZE(widths); w++) {
		struct nested_caps c = caps;
		c.maxphyaddr = widths[w];
		for (unsigned b = 0; b < 64; b++) {
			state_64(&v);
			v.save.cr3 = BIT(b);
			snprintf(what, sizeof(what), "MAXPHYADDR %u: CR3 bit %u", widths[w], b);
			EXPECT_C(what, v, c, b >= widths[w] ? NCHK_CR3_MBZ : NCHK_OK);
			state_64(&v);
			v.ctl.n_cr3 = BIT(b);
			snprintf(what, sizeof(what), "MAXPHYADDR %u: nCR3 bit %u", widths[w], b);
			EXPECT_C(what, v, c, b >= widths[w] ? NCHK_NCR3_MBZ : NCHK_OK);
		}
		state_64(&v);
		v.save.cr3 = (1ULL << widths[w]) - 1; /* every address bit, low bits too */
		EXPECT_C("CR3 all bits below MAXPHYADDR", v, c, NCHK_OK);
		v.ctl.n_cr3 = (1ULL << widths[w]) - 1;
		EXPECT_C("nCR3 all bits below MAXPHYADDR", v, c, NCHK_OK);
	}
	/* Out-of-range MAXPHYADDR values are clamped to 32..52. */
	struct nested_caps c = caps;
	c.maxphyaddr = 0;
	state_64(&v);
	v.save.cr3 = BIT(31);
	EXPECT_C("MAXPHYADDR 0 -> 32: bit 31", v, c, NCHK_OK);
	v.save.cr3 = BIT(32);
	EXPECT_C("MAXPHYADDR 0 -> 32: bit 32", v, c, NCHK_CR3_MBZ);
	c.maxphyaddr = 255;
	v.save.cr3 = BIT(51);
	EXPECT_C("MAXPHYADDR 255 -> 52: bit 51", v, c, NCHK_OK);
	v.save.cr3 = BIT(52);
	EXPECT_C("MAXPHYADDR 255 -> 52: bit 52", v, c, NCHK_CR3_MBZ);
}

static void test_cr4_bits(void)
{
	struct vmcb v;
	char what[96];
	struct nested_caps all = caps;
	all.cr4_allowed = ~0ULL;
	for (unsigned b = 0; b < 64; b++) {
		u64 bit = BIT(b);
		/* Against the default caps, from the 64-bit state. */
		state_64(&v);
		v.save.cr4 |= bit;
		bool ok = (caps.cr4_allowed & NESTED_CR4_KNOWN & bit) != 0;
		snprintf(what, sizeof(what), "CR4 bit %u (default caps)", b);
		EXPECT(what, v, ok ? NCHK_OK : NCHK_CR4_MBZ);
		/* With every bit "allowed": only the AMD-defined ones pass. */
		state_64(&v);
		v.save.cr4 |= bit;
		ok = (NESTED_CR4_KNOWN & bit) != 0;
		snprintf(what, sizeof(what), "CR4 bit %u (all allowed)", b);
		EXPECT_C(what, v, all, ok ? NCHK_OK : NCHK_CR4_MBZ);
		/* With nothing allowed every bit fires, even PAE (32-bit state
		 * without PSE so nothing else is set). */
		struct nested_caps none = caps;
		none.cr4_allowed = 0;
		state_32(&v);
		v.save.cr4 = bit;
		snprintf(what, sizeof(what), "CR4 bit %u (none allowed)", b);
		EXPECT_C(what, v, none, NCHK_CR4_MBZ);
	}
	/* The architectural list: reserved on AMD, and CET (not exposable). */
	static const unsigned reserved[] = {13, 14, 15, 19, 23, 24, 25, 31, 32, 48, 63};
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		CHECK(!(NESTED_CR4_KNOWN & BIT(reserved[i])), "CR4 bit %u must not be KNOWN", reserved[i]);
	static const unsigned defined[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 17, 18, 20, 21, 22};
	for (size_t i = 0; i < ARRAY_SIZE(defined); i++)
		CHECK(NESTED_CR4_KNOWN & BIT(defined[i]), "CR4 bit %u must be KNOWN", defined[i]);
}

static void test_efer_bits(void)
{
	struct vmcb v;
	char what[96];
	struct nested_caps all = caps;
	all.efer_allowed = ~0ULL;
	for (unsigned b = 0; b < 64; b++) {
		u64 bit = BIT(b);
		state_64(&v); /* has LME and LMA already */
		v.save.efer |= bit;
		bool ok = ((caps.efer_allowed & NESTED_EFER_KNOWN) | EFER_SVME | EFER_LME | EFER_LMA) & bit;
		snprintf(what, sizeof(what), "EFER bit %u (default caps)", b);
		EXPECT(what, v, ok ? NCHK_OK : NCHK_EFER_MBZ);
		state_64(&v);
		v.save.efer |= bit;
		ok = (NESTED_EFER_KNOWN & bit) != 0;
		snprintf(what, sizeof(what), "EFER bit %u (all allowed)", b);
		EXPECT_C(what, v, all, ok ? NCHK_OK : NCHK_EFER_MBZ);
	}
	static const unsigned reserved[] = {1, 2, 3, 4, 5, 6, 7, 9, 16, 19, 22, 32, 63};
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		CHECK(!(NESTED_EFER_KNOWN & BIT(reserved[i])), "EFER bit %u must not be KNOWN", reserved[i]);
	/* SVME is allowed even when the caller forgot it. */
	struct nested_caps c = caps;
	c.efer_allowed = 0;
	state_real(&v);
	EXPECT_C("efer_allowed=0: SVME still allowed", v, c, NCHK_OK);
	state_pae(&v);
	EXPECT_C("efer_allowed=0: NXE refused", v, c, NCHK_EFER_MBZ);
	/* The default caps. */
	CHECK(caps.efer_allowed & NESTED_EFER_FFXSR, "FFXSR in the default caps");
	CHECK(caps.long_mode, "long mode in the default caps");
}

static void test_high_halves(void)
{
	struct vmcb v;
	char what[64];
	for (unsigned b = 32; b < 64; b++) {
		state_pae(&v);
		v.save.cr0 |= BIT(b);
		snprintf(what, sizeof(what), "CR0 bit %u", b);
		EXPECT(what, v, NCHK_CR0_HIGH);
		state_pae(&v);
		v.save.dr6 |= BIT(b);
		snprintf(what, sizeof(what), "DR6 bit %u", b);
		EXPECT(what, v, NCHK_DR6_HIGH);
		state_pae(&v);
		v.save.dr7 |= BIT(b);
		snprintf(what, sizeof(what), "DR7 bit %u", b);
		EXPECT(what, v, NCHK_DR7_HIGH);
	}
}

static void test_permission_maps(void)
{
	static const u8 widths[] = {32, 40, 48, 52};
	struct vmcb v;
	for (size_t w = 0; w < ARRAY_SIZE(widths); w++) {
		struct nested_caps c = caps;
		c.maxphyaddr = widths[w];
		u64 top = 1ULL << widths[w];
		state_64(&v);
		v.ctl.msrpm_base_pa = top - 8 * KiB;
		EXPECT_C("MSRPM ending at 2^M - 1", v, c, NCHK_OK);
		v.ctl.msrpm_base_pa = top - 8 * KiB + 0xfff; /* bits 11:0 ignored */
		EXPECT_C("MSRPM ending at 2^M - 1, low bits set", v, c, NCHK_OK);
		v.ctl.msrpm_base_pa = top - 4 * KiB;
		EXPECT_C("MSRPM crossing 2^M", v, c, NCHK_MSRPM_RANGE);
		v.ctl.msrpm_base_pa = top;
		EXPECT_C("MSRPM at 2^M", v, c, NCHK_MSRPM_RANGE);
		state_64(&v);
		v.ctl.iopm_base_pa = top - 12 * KiB;
		EXPECT_C("IOPM ending at 2^M - 1", v, c, NCHK_OK);
		v.ctl.iopm_base_pa = top - 12 * KiB + 0xfff;
		EXPECT_C("IOPM ending at 2^M - 1, low bits set", v, c, NCHK_OK);
		v.ctl.iopm_base_pa = top - 8 * KiB;
		EXPECT_C("IOPM crossing 2^M", v, c, NCHK_IOPM_RANGE);
		v.ctl.iopm_base_pa = top - 4 * KiB;
		EXPECT_C("IOPM crossing 2^M by two pages", v, c, NCHK_IOPM_RANGE);
	}
	state_64(&v);
	v.ctl.msrpm_base_pa = ~0ULL;
	EXPECT("MSRPM at 2^64 - 4K (wraps)", v, NCHK_MSRPM_RANGE);
	v.ctl.msrpm_base_pa = 0;
	v.ctl.iopm_base_pa = ~0ULL - 8 * KiB;
	EXPECT("IOPM wrapping 2^64", v, NCHK_IOPM_RANGE);
	v.ctl.iopm_base_pa = 0;
	EXPECT("both maps at 0", v, NCHK_OK);
	/* Checked even when the MSR and IOIO intercepts are off. */
	state_64(&v);
	v.ctl.intercept_misc1 = 0;
	v.ctl.msrpm_base_pa = BIT(63);
	EXPECT("MSRPM out of range, MSR intercept off", v, NCHK_MSRPM_RANGE);
	v.ctl.msrpm_base_pa = 0;
	v.ctl.iopm_base_pa = BIT(63);
	EXPECT("IOPM out of range, IOIO intercept off", v, NCHK_IOPM_RANGE);
}

static void test_event_injection(void)
{
	static const unsigned exc[] = {0, 1, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 18, 19, 30};
	struct vmcb v;
	char what[96];
	for (unsigned type = 0; type < 8; type++) {
		for (unsigned vec = 0; vec < 256; vec++) {
			bool is_exc = false;
			for (size_t i = 0; i < ARRAY_SIZE(exc); i++)
				is_exc |= exc[i] == vec;
			int want = NCHK_OK;
			if (type == 1 || type >= 5)
				want = NCHK_EVENTINJ_TYPE;
			else if (type == 3 && !is_exc)
				want = NCHK_EVENTINJ_VECTOR;
			state_64(&v);
			v.ctl.event_inj = EVENTINJ_VALID | ((u64)type << 8) | vec;
			snprintf(what, sizeof(what), "EVENTINJ type %u vector %u", type, vec);
			EXPECT(what, v, want);
			/* Without V nothing is checked. */
			v.ctl.event_inj &= ~EVENTINJ_VALID;
			snprintf(what, sizeof(what), "EVENTINJ type %u vector %u, V=0", type, vec);
			EXPECT(what, v, NCHK_OK);
		}
	}
	/* EV, the reserved bits 30:12 and the error code are not checked. */
	state_64(&v);
	v.ctl.event_inj = EVENTINJ_VALID | EVENTINJ_TYPE_EXC | 14 | EVENTINJ_EV | GENMASK(30, 12) |
			  (0xdeadbeefULL << 32);
	EXPECT("EVENTINJ #PF with EV, reserved bits, error code", v, NCHK_OK);
	v.ctl.event_inj = EVENTINJ_VALID | EVENTINJ_TYPE_EXC | 3 | EVENTINJ_EV; /* #BP with EV */
	EXPECT("EVENTINJ #BP with EV", v, NCHK_OK);
	v.ctl.event_inj = EVENTINJ_VALID | EVENTINJ_TYPE_NMI | 0x77;
	EXPECT("EVENTINJ NMI with any vector", v, NCHK_OK);
	v.ctl.event_inj = EVENTINJ_VALID | EVENTINJ_TYPE_EXC | 2;
	EXPECT("EVENTINJ vector 2 as exception", v, NCHK_EVENTINJ_VECTOR);
	v.ctl.event_inj = EVENTINJ_VALID | EVENTINJ_TYPE_EXC | 21;
	EXPECT("EVENTINJ #CP (no CET)", v, NCHK_EVENTINJ_VECTOR);
	v.ctl.event_inj = EVENTINJ_VALID | EVENTINJ_TYPE_EXC | 29;
	EXPECT("EVENTINJ #VC (no SEV-ES)", v, NCHK_EVENTINJ_VECTOR);
}

static void test_asid_and_npt(void)
{
	struct vmcb v;
	state_64(&v);
	v.ctl.asid = 0;
	EXPECT("ASID 0", v, NCHK_ASID_ZERO);
	v.ctl.asid = 0xffffffff;
	EXPECT("ASID 0xffffffff", v, NCHK_OK);

	struct nested_caps nonpt = caps;
	nonpt.npt = false;
	state_64(&v);
	v.ctl.n_cr3 = ~0ULL;
	v.save.g_pat = ~0ULL;
	EXPECT_C("NPT not exposed: nCR3/G_PAT ignored", v, nonpt, NCHK_OK);
	EXPECT("NPT exposed: nCR3 checked first", v, NCHK_NCR3_MBZ);
	v.ctl.n_cr3 = 0x1000;
	EXPECT("NPT exposed: G_PAT checked", v, NCHK_GPAT);
	v.ctl.np_enable = ~1ULL; /* only bit 0 enables nested paging */
	v.ctl.n_cr3 = ~0ULL;
	EXPECT("np_enable bits 63:1 without bit 0", v, NCHK_OK);

	/* Every value of every G_PAT field. */
	char what[64];
	for (unsigned f = 0; f < 8; f++) {
		for (unsigned t = 0; t < 256; t++) {
			state_64(&v);
			v.save.g_pat = (PAT_POWERON & ~(0xffULL << (8 * f))) | ((u64)t << (8 * f));
			bool ok = t == 0 || t == 1 || (t >= 4 && t <= 7);
			snprintf(what, sizeof(what), "G_PAT PA%u = %#x", f, t);
			EXPECT(what, v, ok ? NCHK_OK : NCHK_GPAT);
		}
	}
	state_64(&v);
	v.save.g_pat = 0x0606060606060606ULL;
	EXPECT("G_PAT all WB", v, NCHK_OK);
	v.save.g_pat = 0;
	EXPECT("G_PAT all UC", v, NCHK_OK);
}

/* Everything broken at once: the rules are reported in enum order. */
static void test_order(void)
{
	struct vmcb v;
	memset(&v, 0xff, sizeof(v)); /* SVME=1, CD=NW=1: the first broken rule is CR0[63:32] */
	int rule = nested_vmcb_check(&v, &caps, NULL);
	CHECK(rule == NCHK_CR0_HIGH, "all ones: got %d", rule);
	/* Peel the rules off one by one, each time the next one is reported. */
	state_64(&v);
	v.save.efer = 0;                              /* EFER_SVME, and no long mode */
	v.save.cr0 = CR0_NW | BIT(40);                /* CR0_CD_NW, CR0_HIGH */
	v.save.cr4 = BIT(15);                         /* CR4_MBZ */
	v.save.dr6 = BIT(40);
	v.save.dr7 = BIT(40);
	v.ctl.intercept_misc2 = 0;
	v.ctl.msrpm_base_pa = BIT(63);
	v.ctl.iopm_base_pa = BIT(63);
	v.ctl.event_inj = EVENTINJ_VALID | (1ULL << 8);
	v.ctl.asid = 0;
	v.ctl.n_cr3 = BIT(63);
	v.save.g_pat = ~0ULL;
	EXPECT("order 1", v, NCHK_EFER_SVME);
	v.save.efer = EFER_SVME | BIT(9);
	EXPECT("order 2", v, NCHK_CR0_CD_NW);
	v.save.cr0 = BIT(40);
	EXPECT("order 3", v, NCHK_CR0_HIGH);
	v.save.cr0 = CR0_PE | CR0_PG;
	v.save.efer |= EFER_LME;
	v.save.cr3 = BIT(63);
	EXPECT("order 4", v, NCHK_CR3_MBZ);
	v.save.cr3 = 0;
	EXPECT("order 5", v, NCHK_CR4_MBZ);
	v.save.cr4 = 0;
	EXPECT("order 6", v, NCHK_DR6_HIGH);
	v.save.dr6 = 0;
	EXPECT("order 7", v, NCHK_DR7_HIGH);
	v.save.dr7 = 0;
	EXPECT("order 8", v, NCHK_EFER_MBZ);
	v.save.efer &= ~BIT(9);
	struct nested_caps nolm = caps;
	nolm.long_mode = false;
	EXPECT_C("order 9", v, nolm, NCHK_EFER_NO_LM);
	EXPECT("order 10", v, NCHK_LM_NO_PAE);
	v.save.cr4 = CR4_PAE;
	v.save.cr0 = CR0_PG;
	EXPECT("order 11", v, NCHK_LM_NO_PE);
	v.save.cr0 = CR0_PG | CR0_PE;
	v.save.cs.attr = ATTR_L | ATTR_D;
	EXPECT("order 12", v, NCHK_LM_CS_L_D);
	v.save.cs.attr = ATTR_CODE64;
	EXPECT("order 13", v, NCHK_VMRUN_INTERCEPT);
	v.ctl.intercept_misc2 = INTERCEPT2_VMRUN;
	EXPECT("order 14", v, NCHK_MSRPM_RANGE);
	v.ctl.msrpm_base_pa = 0;
	EXPECT("order 15", v, NCHK_IOPM_RANGE);
	v.ctl.iopm_base_pa = 0;
	EXPECT("order 16", v, NCHK_EVENTINJ_TYPE);
	v.ctl.event_inj = EVENTINJ_VALID | EVENTINJ_TYPE_EXC | 2;
	EXPECT("order 17", v, NCHK_EVENTINJ_VECTOR);
	v.ctl.event_inj = 0;
	EXPECT("order 18", v, NCHK_ASID_ZERO);
	v.ctl.asid = 7;
	EXPECT("order 19", v, NCHK_NCR3_MBZ);
	v.ctl.n_cr3 = 0;
	EXPECT("order 20", v, NCHK_GPAT);
	v.save.g_pat = PAT_POWERON;
	EXPECT("order 21", v, NCHK_OK);
}

static void test_names(void)
{
	for (int r = 0; r < NCHK_COUNT; r++) {
		const char *n = nested_check_rule_name(r);
		CHECK(n && *n, "rule %d has a name", r);
		if (r)
			CHECK(strstr(n, "APM vol. 2 §"), "rule %d names its APM section: %s", r, n);
		for (int q = 0; q < r; q++)
			CHECK(strcmp(n, nested_check_rule_name(q)) != 0, "rules %d and %d share a name", q, r);
	}
	CHECK(strcmp(nested_check_rule_name(-1), "unknown rule") == 0, "name of -1");
	CHECK(strcmp(nested_check_rule_name(NCHK_COUNT), "unknown rule") == 0, "name of NCHK_COUNT");
	struct vmcb v;
	state_64(&v);
	CHECK(nested_vmcb_check(&v, &caps, NULL) == NCHK_OK, "why may be NULL");
}

static void test_canonicalize(void)
{
	struct vmcb v;
	state_64(&v);
	struct vmcb before = v;
	CHECK(!nested_vmcb_canonicalize(&v.save, &caps), "canonical bases: no change");
	CHECK(memcmp(&v, &before, sizeof(v)) == 0, "canonical bases: image unchanged");

	v.save.es.base = 0x0000800000000000ULL;
	v.save.cs.base = 0x00007fffffffffffULL;
	v.save.ss.base = 0x1234ffffff000000ULL;
	v.save.ds.base = 0xffff800000000000ULL;
	v.save.fs.base = 0x0000900000000000ULL; /* VMLOAD's: untouched */
	v.save.gdtr.base = 0x0000900000000000ULL;
	CHECK(nested_vmcb_canonicalize(&v.save, &caps), "non-canonical bases: changed");
	CHECK(v.save.es.base == 0xffff800000000000ULL, "ES base %#llx", (unsigned long long)v.save.es.base);
	CHECK(v.save.cs.base == 0x00007fffffffffffULL, "CS base %#llx", (unsigned long long)v.save.cs.base);
	CHECK(v.save.ss.base == 0xffffffffff000000ULL, "SS base %#llx", (unsigned long long)v.save.ss.base);
	CHECK(v.save.ds.base == 0xffff800000000000ULL, "DS base %#llx", (unsigned long long)v.save.ds.base);
	CHECK(v.save.fs.base == 0x0000900000000000ULL, "FS base untouched");
	CHECK(v.save.gdtr.base == 0x0000900000000000ULL, "GDTR base untouched");

	struct nested_caps c57 = caps;
	c57.vaddrbits = 57;
	v.save.es.base = 0x0000800000000000ULL;
	v.save.cs.base = 0x0100000000000000ULL;
	CHECK(nested_vmcb_canonicalize(&v.save, &c57), "LA57: changed");
	CHECK(v.save.es.base == 0x0000800000000000ULL, "LA57: bit 47 is an address bit");
	CHECK(v.save.cs.base == 0xff00000000000000ULL, "LA57: CS base %#llx", (unsigned long long)v.save.cs.base);
	struct nested_caps bad = caps;
	bad.vaddrbits = 0; /* treated as 48 */
	v.save.ds.base = 0x0000800000000000ULL;
	CHECK(nested_vmcb_canonicalize(&v.save, &bad), "vaddrbits 0 -> 48");
	CHECK(v.save.ds.base == 0xffff800000000000ULL, "vaddrbits 0 -> 48: DS base");
}

/* ------------------------------------------------- purity (seeded random) */

static u64 rng_state = 0x9e3779b97f4a7c15ULL;
static u64 rnd(void)
{
	u64 x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Per byte of the VMCB image, the bits nested_vmcb_check() may read (the
 * list in svm/nested_check.h). */
static u8 readmask[sizeof(struct vmcb)];

static void mark(size_t off, unsigned size, u64 bits)
{
	for (unsigned i = 0; i < size; i++)
		readmask[off + i] |= (u8)(bits >> (8 * i));
}

#define MARK(field, bits) mark(offsetof(struct vmcb, field), sizeof(((struct vmcb *)0)->field), bits)

static void build_readmask(void)
{
	MARK(save.efer, ~0ULL);
	MARK(save.cr0, ~0ULL);
	MARK(save.cr3, ~0ULL);
	MARK(save.cr4, ~0ULL);
	MARK(save.dr6, ~0ULL);
	MARK(save.dr7, ~0ULL);
	MARK(save.cs.attr, ATTR_L | ATTR_D);
	MARK(ctl.intercept_misc2, INTERCEPT2_VMRUN);
	MARK(ctl.msrpm_base_pa, ~0xfffULL);
	MARK(ctl.iopm_base_pa, ~0xfffULL);
	MARK(ctl.event_inj, EVENTINJ_VALID | 0x7ff);
	MARK(ctl.asid, ~0ULL);
	MARK(ctl.np_enable, 1);
	MARK(ctl.n_cr3, ~0ULL);
	MARK(save.g_pat, ~0ULL);
}

/* A random value for a read field: mostly small perturbations of the
 * valid value, so that states near every rule's edge are produced. */
static void perturb_read_fields(struct vmcb *v)
{
	int n = (int)(rnd() % 4);
	for (int k = 0; k < n; k++) {
		size_t off;
		do
			off = rnd() % sizeof(*v);
		while (!readmask[off]);
		u8 *p = (u8 *)v + off;
		*p ^= (u8)(1u << (rnd() % 8)) & readmask[off];
	}
}

static void test_purity(void)
{
	build_readmask();
	unsigned verdicts[NCHK_COUNT] = {0};
	const int rounds = 20000;
	for (int r = 0; r < rounds; r++) {
		struct vmcb v;
		states[rnd() % ARRAY_SIZE(states)].fn(&v);
		struct nested_caps c = caps;
		c.npt = rnd() % 4 != 0;
		c.long_mode = rnd() % 8 != 0;
		c.maxphyaddr = (u8)(32 + rnd() % 21);
		perturb_read_fields(&v);
		int before = nested_vmcb_check(&v, &c, NULL);
		verdicts[before]++;
		/* Scramble every bit that is not read: the whole image at once,
		 * or a few random bytes. */
		struct vmcb w = v;
		u8 *p = (u8 *)&w;
		if (rnd() % 2) {
			for (size_t i = 0; i < sizeof(w); i++)
				p[i] = (u8)((p[i] & readmask[i]) | ((u8)rnd() & ~readmask[i]));
		} else {
			for (int k = 0; k < 8; k++) {
				size_t i = rnd() % sizeof(w);
				p[i] = (u8)((p[i] & readmask[i]) | ((u8)rnd() & ~readmask[i]));
			}
		}
		int after = nested_vmcb_check(&w, &c, NULL);
		CHECK(after == before, "round %d: verdict %d became %d after changing unread bits", r, before, after);
		CHECK(nested_vmcb_check(&v, &c, NULL) == before, "round %d: not deterministic", r);
	}
	/* The random states must reach the rules, not only pass. */
	int reached = 0;
	for (int i = 0; i < NCHK_COUNT; i++)
		reached += verdicts[i] != 0;
	CHECK(verdicts[NCHK_OK] > 0 && reached >= 12, "random states reached only %d verdicts", reached);
	printf("purity: %d random states, %d distinct verdicts\n", rounds, reached);
}

int main(void)
{
	default_caps();
	test_valid();
	test_each_rule_per_state();
	test_long_mode_rules();
	test_cr3_boundaries();
	test_cr4_bits();
	test_efer_bits();
	test_high_halves();
	test_permission_maps();
	test_event_injection();
	test_asid_and_npt();
	test_order();
	test_names();
	test_canonicalize();
	test_purity();
	printf("%s: nested vmcb12 checks, %d checks, %d failures\n", failures ? "FAIL" : "PASS", checks, failures);
	return failures != 0;
}
