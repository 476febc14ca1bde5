/*
 * svm/nested_check.c - the consistency checks of an emulated VMRUN on the
 * L1 hypervisor's VMCB (vmcb12), as the processor makes them (AMD APM vol.
 * 2, revision in docs/references.md). See svm/nested_check.h for the
 * contract: which fields are read, the rule order, what the caps mean.
 *
 * Every rule below quotes or paraphrases one row of the list in §15.5.1
 * "Canonicalization and Consistency Checks" (or §15.20 / §15.25.4, which
 * that list refers to or extends); its 'why' string carries the section.
 */
#include "svm/nested_check.h"

#define CS_ATTR_L BIT(9)  /* VMCB attribute bits 11:8 = descriptor bits 55:52 (APM Table B-2) */
#define CS_ATTR_D BIT(10)
#define NP_ENABLE BIT(0)  /* VMCB offset 090h bit 0 (APM Table B-1) */
#define PM_BASE_MASK (~(u64)0xfff) /* IOPM/MSRPM_BASE_PA: bits 11:0 ignored (APM Table B-1) */

static const char *const rule_names[NCHK_COUNT] = {
	[NCHK_OK] = "ok",
	[NCHK_EFER_SVME] = "EFER.SVME is zero (APM vol. 2 §15.5.1)",
	[NCHK_CR0_CD_NW] = "CR0.CD is zero and CR0.NW is set (APM vol. 2 §15.5.1)",
	[NCHK_CR0_HIGH] = "CR0[63:32] are not zero (APM vol. 2 §15.5.1)",
	[NCHK_CR3_MBZ] = "an MBZ bit of CR3 is set: long mode, bits 63:52 or at/above MAXPHYADDR "
			 "(APM vol. 2 §15.5.1, §3.1.2)",
	[NCHK_CR4_MBZ] = "an MBZ bit of CR4 is set: reserved or not exposed (APM vol. 2 §15.5.1, §3.1.3)",
	[NCHK_DR6_HIGH] = "DR6[63:32] are not zero (APM vol. 2 §15.5.1)",
	[NCHK_DR7_HIGH] = "DR7[63:32] are not zero (APM vol. 2 §15.5.1)",
	[NCHK_EFER_MBZ] = "an MBZ bit of EFER is set: reserved or not exposed (APM vol. 2 §15.5.1, §3.1.7)",
	[NCHK_EFER_NO_LM] = "EFER.LMA or EFER.LME is set and long mode is not supported (APM vol. 2 §15.5.1)",
	[NCHK_LM_NO_PAE] = "EFER.LME and CR0.PG are set and CR4.PAE is zero (APM vol. 2 §15.5.1)",
	[NCHK_LM_NO_PE] = "EFER.LME and CR0.PG are set and CR0.PE is zero (APM vol. 2 §15.5.1)",
	[NCHK_LM_CS_L_D] = "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D are all set (APM vol. 2 §15.5.1)",
	[NCHK_VMRUN_INTERCEPT] = "the VMRUN intercept bit is clear (APM vol. 2 §15.5.1)",
	[NCHK_MSRPM_RANGE] = "the MSR permission map extends to or beyond 2^MAXPHYADDR "
			     "(APM vol. 2 §15.5.1, §15.11)",
	[NCHK_IOPM_RANGE] = "the IO permission map extends to or beyond 2^MAXPHYADDR "
			    "(APM vol. 2 §15.5.1, §15.10.1)",
	[NCHK_EVENTINJ_TYPE] = "illegal event injection: reserved TYPE (APM vol. 2 §15.20)",
	[NCHK_EVENTINJ_VECTOR] = "illegal event injection: TYPE=3 with a vector that is not an exception "
				 "(APM vol. 2 §15.20)",
	[NCHK_ASID_ZERO] = "ASID is zero (APM vol. 2 §15.5.1)",
	[NCHK_NCR3_MBZ] = "nested paging: an MBZ bit of nCR3 is set, bits 63:52 or at/above MAXPHYADDR "
			  "(APM vol. 2 §15.25.4)",
	[NCHK_GPAT] = "nested paging: G_PAT has an unsupported type or a reserved bit set "
		      "(APM vol. 2 §15.25.4, §7.8.1)",
};

const char *nested_check_rule_name(int rule)
{
	if (rule < 0 || rule >= NCHK_COUNT)
		return "unknown rule";
	return rule_names[rule];
}

void nested_caps_init(struct nested_caps *caps, u8 maxphyaddr, bool npt)
{
	caps->maxphyaddr = maxphyaddr;
	caps->vaddrbits = 48;
	caps->long_mode = true;
	caps->npt = npt;
	caps->cr4_allowed = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE |
			    CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	caps->efer_allowed = EFER_SCE | EFER_NXE | EFER_SVME | NESTED_EFER_FFXSR;
}

static unsigned phys_bits(const struct nested_caps *caps)
{
	unsigned m = caps->maxphyaddr;
	return m < 32 ? 32 : m > 52 ? 52 : m;
}

/* Bits 63:MAXPHYADDR: an address with any of them set is not a physical
 * address of the L1 (and covers the architectural MBZ bits 63:52). */
static u64 above_phys(const struct nested_caps *caps)
{
	return ~(u64)0 << phys_bits(caps);
}

/* A table of @size bytes at @base_pa (bits 11:0 ignored) "extends to a
 * physical address that is greater than or equal to the maximum supported
 * physical address" (§15.5.1). The maximum supported physical address is
 * read as 2^MAXPHYADDR, the first address the processor cannot reach: a
 * table whose last byte is at 2^MAXPHYADDR - 1 is legal (the highest
 * reachable byte is usable; reading it as that last byte itself would make
 * a map in the top page illegal while a single byte above it is fine). */
static bool table_out_of_range(u64 base_pa, u64 size, const struct nested_caps *caps)
{
	u64 base = base_pa & PM_BASE_MASK;
	if (base > ~(u64)0 - (size - 1))
		return true; /* wraps past 2^64 */
	return ((base + size - 1) & above_phys(caps)) != 0;
}

/* Vectors that are exceptions on the processor the L1 sees (APM vol. 2
 * §8.2, the vector table): #DE 0, #DB 1, #BP 3, #OF 4, #BR 5, #UD 6, #NM 7, #DF 8,
 * #TS 10, #NP 11, #SS 12, #GP 13, #PF 14, #MF 16, #AC 17, #MC 18, #XF 19,
 * #SX 30. Not exceptions: 2 (NMI, named by §15.20), 9 (reserved; formerly
 * coprocessor segment overrun), 15, 20, 22-27, 31 (reserved), 21 (#CP: CET
 * is not exposed), 28 (#HV) and 29 (#VC) (SEV-SNP / SEV-ES guests only,
 * not exposed), and 32-255 (interrupts). */
#define EXCEPTION_VECTORS                                                                         \
	(BIT(0) | BIT(1) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(10) | BIT(11) | \
	 BIT(12) | BIT(13) | BIT(14) | BIT(16) | BIT(17) | BIT(18) | BIT(19) | BIT(30))

static bool is_exception_vector(unsigned v)
{
	return v < 32 && (EXCEPTION_VECTORS & BIT(v)) != 0;
}

/* A PAT (G_PAT) value that WRMSR would accept: each of the eight PA fields
 * holds a supported type, UC 0, WC 1, WT 4, WP 5, WB 6 or UC- 7; encodings
 * 2 and 3 are reserved and bits 7:3 of every field are reserved (APM vol. 2
 * §7.8.1). */
static bool pat_valid(u64 pat)
{
	for (int i = 0; i < 8; i++) {
		u8 t = (u8)(pat >> (8 * i));
		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

static int check(const struct vmcb *v12, const struct nested_caps *caps)
{
	const struct vmcb_save *s = &v12->save;
	const struct vmcb_control *c = &v12->ctl;
	bool lm_paging = (s->efer & EFER_LME) && (s->cr0 & CR0_PG);

	/* §15.5.1: "EFER.SVME is zero." */
	if (!(s->efer & EFER_SVME))
		return NCHK_EFER_SVME;

	/* §15.5.1: "CR0.CD is zero and CR0.NW is set." */
	if (!(s->cr0 & CR0_CD) && (s->cr0 & CR0_NW))
		return NCHK_CR0_CD_NW;

	/* §15.5.1: "CR0[63:32] are not zero." (Reserved bits of CR0[31:0]
	 * are not on the list: the processor does not refuse them.) */
	if (s->cr0 >> 32)
		return NCHK_CR0_HIGH;

	/* §15.5.1: "Any MBZ bit of CR3 is set." The only MBZ bits of CR3 are
	 * those of the long-mode format (§3.1.2: bits 63:52 "Reserved, MBZ";
	 * the base-address field 51:12 holds only as many bits as the
	 * implementation's physical addresses, so bits at or above MAXPHYADDR
	 * are not a physical address of the L1). The legacy formats (§3.1.2,
	 * non-PAE: bits 11:5 and 2:0; PAE: bits 2:0) have reserved bits that
	 * are ignored, not MBZ, and so has long mode with CR4.PCIDE=0 (bits
	 * 11:5 and 2:0): a VMRUN with any of them set proceeds. Long mode here
	 * is the mode VMRUN enters: EFER.LME and CR0.PG both set. Outside long
	 * mode only CR3[31:0] is used. */
	if (lm_paging && (s->cr3 & above_phys(caps)))
		return NCHK_CR3_MBZ;

	/* §15.5.1: "Any MBZ bit of CR4 is set." The MBZ bits are the reserved
	 * bits of §3.1.3 and, for the L1, the defined bits of features its
	 * CPUID does not report (as MOV CR4 would #GP on them). */
	if (s->cr4 & ~(caps->cr4_allowed & NESTED_CR4_KNOWN))
		return NCHK_CR4_MBZ;

	/* §15.5.1: "DR6[63:32] are not zero." and "DR7[63:32] are not
	 * zero." (Only the upper halves: DR6/DR7 bits 31:0 are not checked.) */
	if (s->dr6 >> 32)
		return NCHK_DR6_HIGH;
	if (s->dr7 >> 32)
		return NCHK_DR7_HIGH;

	/* §15.5.1: "Any MBZ bit of EFER is set." The reserved bits of §3.1.7
	 * and the defined bits whose feature the L1 does not see. LME and LMA
	 * belong to the next rule. */
	u64 efer_ok = (caps->efer_allowed & NESTED_EFER_KNOWN) | EFER_SVME | EFER_LME | EFER_LMA;
	if (s->efer & ~efer_ok)
		return NCHK_EFER_MBZ;

	/* §15.5.1: "EFER.LMA or EFER.LME is non-zero and this processor does
	 * not support long mode." */
	if ((s->efer & (EFER_LME | EFER_LMA)) && !caps->long_mode)
		return NCHK_EFER_NO_LM;

	/* §15.5.1: "EFER.LME and CR0.PG are both set and CR4.PAE is zero."
	 * "EFER.LME and CR0.PG are both non-zero and CR0.PE is zero."
	 * "EFER.LME, CR0.PG, CR4.PAE, CS.L, and CS.D are all non-zero."
	 * (CR0.PG=1 with CR0.PE=0 is otherwise legal: paged real mode, §15.19.) */
	if (lm_paging) {
		if (!(s->cr4 & CR4_PAE))
			return NCHK_LM_NO_PAE;
		if (!(s->cr0 & CR0_PE))
			return NCHK_LM_NO_PE;
		if ((s->cs.attr & CS_ATTR_L) && (s->cs.attr & CS_ATTR_D))
			return NCHK_LM_CS_L_D;
	}

	/* §15.5.1: "The VMRUN intercept bit is clear." */
	if (!(c->intercept_misc2 & INTERCEPT2_VMRUN))
		return NCHK_VMRUN_INTERCEPT;

	/* §15.5.1: "The MSR or IOIO intercept tables extend to a physical
	 * address that is greater than or equal to the maximum supported
	 * physical address." Checked whether or not the MSR/IOIO intercepts
	 * are enabled: the list does not make it depend on them. Sizes:
	 * MSRPM 8 KiB (§15.11), IOPM 12 KiB (§15.10.1). */
	if (table_out_of_range(c->msrpm_base_pa, NESTED_MSRPM_SIZE, caps))
		return NCHK_MSRPM_RANGE;
	if (table_out_of_range(c->iopm_base_pa, NESTED_IOPM_SIZE, caps))
		return NCHK_IOPM_RANGE;

	/* §15.5.1: "Illegal event injection (see Section 15.20)". §15.20:
	 * VMRUN exits with VMEXIT_INVALID when EVENTINJ.V is set and a
	 * reserved TYPE is given (defined: 0 INTR, 2 NMI, 3 exception, 4
	 * software interrupt), or TYPE=3 with a vector that does not
	 * correspond to an exception, including vector 2 (NMI). EV, the
	 * reserved bits 30:12 and the error code are not checked. */
	if (c->event_inj & EVENTINJ_VALID) {
		u64 type = c->event_inj & NESTED_EVENTINJ_TYPE_MASK;
		if (type != EVENTINJ_TYPE_INTR && type != EVENTINJ_TYPE_NMI && type != EVENTINJ_TYPE_EXC &&
		    type != NESTED_EVENTINJ_TYPE_SOFT_INT)
			return NCHK_EVENTINJ_TYPE;
		if (type == EVENTINJ_TYPE_EXC &&
		    !is_exception_vector((unsigned)(c->event_inj & NESTED_EVENTINJ_VECTOR_MASK)))
			return NCHK_EVENTINJ_VECTOR;
	}

	/* §15.5.1: "ASID is equal to zero." (ASID 0 is the host's, §15.16.) */
	if (c->asid == 0)
		return NCHK_ASID_ZERO;

	/* §15.25.4: with nested paging enabled (NP_ENABLE=1) these are
	 * illegal as well: "Any MBZ bit of nCR3 is set." and "Any G_PAT.PA
	 * field has an unsupported type encoding or any reserved field in
	 * G_PAT has a nonzero value." nCR3 is checked in the long-mode CR3
	 * format (bits 63:52 MBZ, and it must be an L1 physical address):
	 * nested paging is exposed to an L1 that runs VMRUN in long mode.
	 * Without nested paging exposed, NP_ENABLE is ignored (header). */
	if (caps->npt && (c->np_enable & NP_ENABLE)) {
		if (c->n_cr3 & above_phys(caps))
			return NCHK_NCR3_MBZ;
		if (!pat_valid(s->g_pat))
			return NCHK_GPAT;
	}

	/* Not checked, because not exposed to the L1 (a processor without
	 * the feature ignores its VMCB bits, and so does the nested code):
	 * the AVIC, vGIF, virtual VMSAVE/VMLOAD, SEV and CET rows. */
	return NCHK_OK;
}

int nested_vmcb_check(const struct vmcb *v12, const struct nested_caps *caps, const char **why)
{
	int r = check(v12, caps);
	if (why)
		*why = rule_names[r];
	return r;
}

bool nested_vmcb_canonicalize(struct vmcb_save *save, const struct nested_caps *caps)
{
	unsigned va = caps->vaddrbits;
	if (va < 32 || va > 63)
		va = 48;
	unsigned sh = 64 - va;
	struct vmcb_seg *segs[] = {&save->es, &save->cs, &save->ss, &save->ds};
	bool changed = false;
	for (size_t i = 0; i < ARRAY_SIZE(segs); i++) {
		u64 b = segs[i]->base;
		u64 canon = (u64)((s64)(b << sh) >> sh);
		if (canon != b) {
			segs[i]->base = canon;
			changed = true;
		}
	}
	return changed;
}
