/*
 * mm/gwalk.c - the guest page-table walker (see mm/gwalk.h).
 *
 * One loop serves every format. A format is data, computed once per mode
 * change by gwalk_mode_init(): the number of levels, the entry size, which
 * levels may map a page, and the reserved bits of each level. The loop
 * reads one entry per level, checks P then the reserved bits, folds R/W,
 * U/S and XD into the running permissions, and descends; the access-rights
 * check (SDM §4.6) runs once on the complete translation.
 *
 * Accessed and dirty flags (SDM §4.8, APM §5.4.1). The manuals
 * say the processor sets A in each entry it uses and D in the leaf on a
 * write; neither says whether the entries above a level that faults are
 * marked. We set A in an entry that references a table as soon as the walk
 * has passed that entry's P and reserved-bit checks, before reading the
 * next level: upper A bits are therefore set even when a lower level is
 * not present, sets a reserved bit, or the access is denied. The leaf's A
 * (and D, for writes) is set only when the access is allowed, in one
 * update. This is the order of QEMU's TCG walker, which the differential
 * test guests compare against (one known difference: QEMU sets A in a
 * 1-GiB leaf before checking access rights), and both manuals allow it.
 * Updates are compare-and-exchange: if an entry changed since we read it,
 * the whole walk restarts, like a hardware re-walk.
 *
 * Must not: access guest memory but through gwalk_ops; write anything but
 * A/D bits; loop forever (restarts are bounded: GWALK_RETRY).
 */
#include "mm/gwalk.h"

#include "kernel/string.h"
#include "kernel/x86_regs.h"


/* How often a walk restarts because an entry changed under an A/D update
 * before giving up with GWALK_RETRY (another vCPU rewriting the entry in a
 * loop must not wedge this one). */
#define GWALK_MAX_RESTARTS 16

/* Internal: an entry changed between read and update; walk again. */
#define WALK_RESTART (-1)

/* ------------------------------------------------------------ formats */

/*
 * 32-bit paging (SDM §4.3, Figures 4-2 and 4-3; APM §5.3.1, §5.3.2).
 *
 *    31          22 21          12 11            0
 *   [  directory   ][    table     ][    offset    ]   4 KiB page
 *   [  directory   ][           offset             ]   4 MiB page
 *        (10)            (10)            (12)
 *
 *   4 MiB PDE (CR4.PSE = 1, PS = 1):
 *    31      22 21 20         13 12 11    0
 *   [PA 31:22 ][R][  PA 39:32   ][PAT][flags]
 *
 * CR3 bits 31:12 locate the page directory; entries are 4 bytes. With
 * CR4.PSE = 0 the PDE's PS bit is ignored (§4.3: "If CR4.PSE = 0 or the
 * PDE's PS flag is 0, a 4-KByte naturally aligned page table is located").
 * "With 32-bit paging, there are reserved bits only if CR4.PSE = 1": in a
 * 4 MiB PDE, bits 21:13 if PSE-36 is not supported, otherwise bits
 * 21:(M-19) with M = min(40, MAXPHYADDR). There is no XD bit, so EFER.NXE
 * has no effect in this mode (§4.6.1, "For 32-bit paging or if
 * IA32_EFER.NXE = 0, instructions may be fetched from any ... address").
 */
static void rules_32bit(struct gwalk_mode *m, const struct gwalk_caps *caps)
{
	unsigned mp = MIN(40u, (unsigned)caps->maxphyaddr);

	m->levels = 2;
	m->pte_size = 4;
	m->large[2] = (m->flags & GWALK_M_PSE) != 0;
	m->rsvd[2][1] = caps->pse36 ? GENMASK(21, mp - 19) : GENMASK(21, 13);
}

/* PAE PDPTE reserved bits (SDM Table 4-8): 63:M, 8:5 and 2:1. Bit 63 is
 * reserved even with EFER.NXE = 1: PDPTEs carry no XD bit. */
static u64 pae_pdpte_rsvd(unsigned maxphyaddr)
{
	return GENMASK(63, maxphyaddr) | GENMASK(8, 5) | GENMASK(2, 1);
}

/*
 * PAE paging (SDM §4.4, Figures 4-5 and 4-6; APM §5.3.3).
 *
 *    31 30 29        21 20        12 11            0
 *   [ptr ][ directory  ][   table    ][    offset    ]   4 KiB page
 *   [ptr ][ directory  ][          offset            ]   2 MiB page
 *    (2)      (9)           (9)            (12)
 *
 *   ptr selects one of the four PDPTE registers, loaded from CR3[31:5]
 *   when CR3 is written (§4.4.1), not read during the walk.
 *
 * Entries are 8 bytes. 2 MiB pages exist whatever CR4.PSE. Reserved when
 * P = 1 (§4.4.2, Tables 4-8..4-11): PDPTE 63:M, 8:5, 2:1; PDE and PTE
 * 62:M, and 63 (XD) unless EFER.NXE = 1; a 2 MiB PDE also 20:13. PDPTEs do
 * not control access rights and have no A bit.
 */
static void rules_pae(struct gwalk_mode *m, const struct gwalk_caps *caps)
{
	u64 hi = GENMASK(62, caps->maxphyaddr);
	u64 nx = (m->flags & GWALK_M_NXE) ? 0 : PTE_NX;

	m->levels = 3;
	m->pte_size = 8;
	m->rsvd[3][0] = pae_pdpte_rsvd(caps->maxphyaddr);
	m->large[2] = true;
	m->rsvd[2][0] = hi | nx;
	m->rsvd[2][1] = hi | nx | GENMASK(20, 13);
	m->rsvd[1][1] = hi | nx;
}

/*
 * 4-level and 5-level paging (SDM §4.5, Figures 4-8..4-10; APM §5.3.3).
 *
 *    63    57 56    48 47    39 38    30 29    21 20    12 11       0
 *   [ sign  ][ PML5  ][ PML4  ][ PDPT  ][  PD   ][  PT   ][ offset  ]
 *                (9)      (9)      (9)      (9)      (9)     (12)
 *
 *   5-level: bits 63:57 copy bit 56. 4-level: no PML5, bits 63:48 copy
 *   bit 47. A PDPTE with PS = 1 maps a 1 GiB page (offset 29:0) if the CPU
 *   has 1-GiB pages; a PDE with PS = 1 maps a 2 MiB page (offset 20:0).
 *
 * Reserved when P = 1 (§4.5, the entry-format tables): 51:M everywhere; bit 63
 * (XD) unless EFER.NXE = 1; PS (bit 7) in PML5Es and PML4Es, and in PDPTEs
 * without 1-GiB pages; 29:13 in a 1 GiB PDPTE, 20:13 in a 2 MiB PDE. Bits
 * 62:52 are ignored (62:59 are the protection key of a leaf when
 * CR4.PKE = 1). AMD additionally makes bit 8 of PML5Es and PML4Es MBZ
 * (APM §5.3.3, the long-mode PML4E/PML5E formats; Intel ignores it).
 */
static void rules_long(struct gwalk_mode *m, const struct gwalk_caps *caps, bool la57)
{
	u64 hi = caps->maxphyaddr < 52 ? GENMASK(51, caps->maxphyaddr) : 0;
	u64 nx = (m->flags & GWALK_M_NXE) ? 0 : PTE_NX;
	u64 top = hi | nx | PTE_PS | (caps->amd ? BIT(8) : 0);

	m->levels = la57 ? 5 : 4;
	m->pte_size = 8;
	m->rsvd[5][0] = top;
	m->rsvd[4][0] = top;
	m->large[3] = caps->gbpages;
	m->rsvd[3][0] = hi | nx | (caps->gbpages ? 0 : PTE_PS);
	m->rsvd[3][1] = hi | nx | GENMASK(29, 13);
	m->large[2] = true;
	m->rsvd[2][0] = hi | nx;
	m->rsvd[2][1] = hi | nx | GENMASK(20, 13);
	m->rsvd[1][1] = hi | nx;
}

/* Contract in mm/gwalk.h. The format follows SDM §4.1.1 Table 4-1:
 * CR0.PG = 0: none; CR4.PAE = 0: 32-bit; EFER.LME = 0: PAE; CR4.LA57 = 0:
 * 4-level; else 5-level. (EFER.LMA = EFER.LME once CR0.PG = 1, §2.2.1.) */
int gwalk_mode_init(struct gwalk_mode *m, u64 cr0, u64 cr4, u64 efer, const struct gwalk_caps *caps)
{
	memset(m, 0, sizeof(*m));
	if (caps->maxphyaddr < 32 || caps->maxphyaddr > 52)
		return E_INVAL;
	m->maxphyaddr = caps->maxphyaddr;
	if (!(cr0 & CR0_PG)) {
		m->format = GWALK_FMT_OFF;
		return E_OK;
	}
	if (!(cr0 & CR0_PE))
		return E_INVAL; /* MOV to CR0 raises #GP for PG without PE */

	bool ia32e = (efer & (EFER_LME | EFER_LMA)) != 0;
	if (ia32e && !(cr4 & CR4_PAE))
		return E_INVAL; /* long mode requires PAE (§4.1.2) */
	if (ia32e && (cr4 & CR4_LA57) && !caps->la57)
		return E_NOTSUP;

	/* Flags common to every paging mode (§4.6.1). */
	if (cr0 & CR0_WP)
		m->flags |= GWALK_M_WP;
	if (cr4 & CR4_PGE)
		m->flags |= GWALK_M_PGE;
	if (cr4 & CR4_SMEP)
		m->flags |= GWALK_M_SMEP;
	if (cr4 & CR4_SMAP)
		m->flags |= GWALK_M_SMAP;

	if (!(cr4 & CR4_PAE)) {
		m->format = GWALK_FMT_32;
		if (cr4 & CR4_PSE)
			m->flags |= GWALK_M_PSE;
		rules_32bit(m, caps);
		return E_OK;
	}
	if (efer & EFER_NXE)
		m->flags |= GWALK_M_NXE;
	if (!ia32e) {
		m->format = GWALK_FMT_PAE;
		rules_pae(m, caps);
		return E_OK;
	}
	/* Protection keys exist only with IA32_EFER.LMA = 1 (§4.6.2). */
	if (cr4 & CR4_PKE)
		m->flags |= GWALK_M_PKE;
	m->format = (cr4 & CR4_LA57) ? GWALK_FMT_5LVL : GWALK_FMT_4LVL;
	rules_long(m, caps, (cr4 & CR4_LA57) != 0);
	return E_OK;
}

/* Contract in mm/gwalk.h. */
bool gwalk_canonical(const struct gwalk_mode *m, gva_t gva)
{
	/* SDM §4.5 ("canonical"): the unused upper bits copy the top bit. */
	unsigned width;

	if (m->format == GWALK_FMT_4LVL)
		width = 48;
	else if (m->format == GWALK_FMT_5LVL)
		width = 57;
	else
		return true;
	return (u64)((s64)(gva << (64 - width)) >> (64 - width)) == gva;
}

/* Contract in mm/gwalk.h. */
int gwalk_load_pdptes(const struct gwalk_ops *ops, void *ctx, const struct gwalk_mode *m, u64 cr3,
		      u64 pdpte[4])
{
	/* §4.4.1: "the PDPTEs are loaded from the address in CR3" - bits
	 * 31:5, a 32-byte aligned table of four 8-byte entries - and "if any
	 * of the PDPTEs sets both the P flag (bit 0) and any reserved bit,
	 * the MOV to CR instruction causes a general-protection exception
	 * (#GP(0)) and the PDPTEs are not loaded". */
	gpa_t base = cr3 & GENMASK(31, 5);
	u64 rsvd = pae_pdpte_rsvd(m->maxphyaddr);
	u64 v[4];

	for (unsigned i = 0; i < 4; i++) {
		if (ops->read_pte(ctx, base + 8 * i, 8, &v[i]))
			return E_FAULT;
		if ((v[i] & PTE_P) && (v[i] & rsvd))
			return E_INVAL;
	}
	memcpy(pdpte, v, sizeof(v));
	return E_OK;
}

/* ------------------------------------------------------------ helpers */

static unsigned level_shift(const struct gwalk_mode *m, int level)
{
	unsigned bits = m->format == GWALK_FMT_32 ? 10 : 9;
	return PAGE_SHIFT + bits * (unsigned)(level - 1);
}

/* Byte offset of @gva's entry in the table at @level. For PAE's top level
 * the 32-bit address leaves just bits 31:30, i.e. PDPTE 0..3. */
static u64 entry_offset(const struct gwalk_mode *m, gva_t gva, int level)
{
	u64 mask = m->format == GWALK_FMT_32 ? 1023 : 511;
	return ((gva >> level_shift(m, level)) & mask) * m->pte_size;
}

/* Physical address of the top-level table: CR3 bits 31:12 (32-bit, Table
 * 4-3), 31:5 (PAE, Table 4-7), M-1:12 (4/5-level, §4.5). */
static gpa_t root_gpa(const struct gwalk_env *env)
{
	const struct gwalk_mode *m = &env->mode;

	if (m->format == GWALK_FMT_32)
		return env->cr3 & GENMASK(31, 12);
	if (m->format == GWALK_FMT_PAE)
		return env->cr3 & GENMASK(31, 5);
	return env->cr3 & GENMASK(m->maxphyaddr - 1, 12);
}

/* Table address in an entry that references one. Bits at or above M are
 * reserved and were checked, so a fixed mask suffices. */
static gpa_t table_gpa(const struct gwalk_mode *m, u64 pte)
{
	return pte & (m->format == GWALK_FMT_32 ? GENMASK(31, 12) : GENMASK(51, 12));
}

/* Base of the page a leaf at @level maps. A 4 MiB PDE splits its address:
 * bits 31:22 in place, bits 39:32 in PDE bits 20:13 (§4.3). Large leaves
 * hold PAT at bit 12, below the page base, so masking removes it. */
static gpa_t leaf_base(const struct gwalk_mode *m, int level, u64 pte)
{
	if (m->format == GWALK_FMT_32) {
		if (level == 1)
			return pte & GENMASK(31, 12);
		return (pte & GENMASK(31, 22)) | ((pte & GENMASK(20, 13)) << (32 - 13));
	}
	return pte & GENMASK(51, level_shift(m, level));
}

/* Permission views of a complete translation (SDM §4.6.1). @and_bits holds
 * R/W and U/S ANDed over the entries that control the translation,
 * @or_bits the XD bits ORed (XD is reserved, so never seen, without NXE).
 *  - User accesses: only user-mode addresses (U/S = 1 everywhere); writes
 *    need R/W = 1 everywhere; fetches need XD = 0 everywhere.
 *  - Supervisor reads: any address (SMAP aside).
 *  - Supervisor writes: R/W = 1 everywhere, unless CR0.WP = 0.
 *  - Supervisor fetches: XD = 0 everywhere, and with CR4.SMEP = 1 never
 *    from a user-mode address.
 *  - SMAP: "If EFLAGS.AC = 0 or the access is implicit, data may not be
 *    read from [or written to] any user-mode address" (CR4.SMAP = 1). */
static u8 perm_view(const struct gwalk_mode *m, u64 and_bits, u64 or_bits)
{
	bool user = (and_bits & PTE_US) != 0;
	bool rw = (and_bits & PTE_RW) != 0;
	bool xd = (or_bits & PTE_NX) != 0;
	u8 p = GWALK_P_SR;

	if (user) {
		p |= GWALK_P_UR;
		if (rw)
			p |= GWALK_P_UW;
		if (!xd)
			p |= GWALK_P_UX;
	}
	if (rw || !(m->flags & GWALK_M_WP))
		p |= GWALK_P_SW;
	if (!xd && !(user && (m->flags & GWALK_M_SMEP)))
		p |= GWALK_P_SX;
	if (user && (m->flags & GWALK_M_SMAP))
		p |= GWALK_P_SMAP;
	return p;
}

static bool user_access(u32 access)
{
	/* Implicit accesses are supervisor-mode whatever the CPL (§4.6). */
	return (access & GWALK_USER) && !(access & GWALK_IMPLICIT);
}

static bool access_allowed(u8 perm, u32 access)
{
	bool user = user_access(access);

	if (access & GWALK_FETCH)
		return perm & (user ? GWALK_P_UX : GWALK_P_SX);
	if (user)
		return perm & ((access & GWALK_WRITE) ? GWALK_P_UW : GWALK_P_UR);
	if ((perm & GWALK_P_SMAP) && ((access & GWALK_IMPLICIT) || !(access & GWALK_AC)))
		return false;
	return perm & ((access & GWALK_WRITE) ? GWALK_P_SW : GWALK_P_SR);
}

/* Protection keys (SDM §4.6.2, and the PK bit of §4.7): with CR4.PKE = 1,
 * a data access to a user-mode address - by user or supervisor - is denied
 * if PKRU.AD[key] = 1, and a write if PKRU.WD[key] = 1 and either
 * CR0.WP = 1 or the access is a user access. Fetches are not affected. */
static bool pkey_denies(const struct gwalk_env *env, u8 perm, u8 pkey, u32 access)
{
	const struct gwalk_mode *m = &env->mode;

	if (!(m->flags & GWALK_M_PKE) || !(perm & GWALK_P_UR) || (access & GWALK_FETCH))
		return false;
	if (env->pkru & BIT(2 * pkey))
		return true;
	return (access & GWALK_WRITE) && (env->pkru & BIT(2 * pkey + 1)) &&
	       ((m->flags & GWALK_M_WP) || user_access(access));
}

/* The error-code bits that describe the access itself (SDM §4.7, APM
 * §8.4.2): W/R for a write, U/S for a user-mode access, and I/D for a
 * fetch only if "(a) CR4.SMEP = 1; or (b) both (i) CR4.PAE = 1 ... and
 * (ii) IA32_EFER.NXE = 1" (GWALK_M_NXE is set only in PAE-based modes). */
static u32 access_error_code(const struct gwalk_mode *m, u32 access)
{
	u32 ec = 0;

	if (access & GWALK_WRITE)
		ec |= GWALK_PFEC_W;
	if (user_access(access))
		ec |= GWALK_PFEC_U;
	if ((access & GWALK_FETCH) && (m->flags & (GWALK_M_SMEP | GWALK_M_NXE)))
		ec |= GWALK_PFEC_ID;
	return ec;
}

/* Set @bits in the entry recorded in @lv. 0, WALK_RESTART when the entry
 * no longer holds the value we read, or GWALK_BAD_GPA. */
static int set_bits(const struct gwalk_ops *ops, void *ctx, const struct gwalk_mode *m, struct gwalk_level *lv,
		    u64 bits, struct gwalk_result *res)
{
	u64 new = lv->pte | bits;
	int r;

	if (new == lv->pte)
		return 0;
	r = ops->cmpxchg_pte(ctx, lv->gpa, m->pte_size, lv->pte, new);
	if (r > 0)
		return WALK_RESTART;
	if (r < 0) {
		res->mem_err = r;
		res->bad_gpa = lv->gpa;
		return GWALK_BAD_GPA;
	}
	lv->pte = new;
	return 0;
}

/* ------------------------------------------------------------ the walk */

static int walk_fault(struct gwalk_result *res, int level, u32 ec)
{
	res->fault_level = (u8)level;
	res->error_code = ec;
	return GWALK_PF;
}

/* One pass over the tables; WALK_RESTART if an update lost a race. */
static int walk_once(const struct gwalk_ops *ops, void *ctx, const struct gwalk_env *env, u32 access,
		     struct gwalk_result *res)
{
	const struct gwalk_mode *m = &env->mode;
	bool update = !(access & GWALK_PEEK) && ops->cmpxchg_pte;
	bool pae = m->format == GWALK_FMT_PAE;
	u32 ec = access_error_code(m, access);
	u64 and_bits = PTE_RW | PTE_US, or_bits = 0;
	gpa_t table = root_gpa(env);
	int level, r;

	memset(res->lv, 0, sizeof(res->lv));
	res->fault_level = 0;
	for (level = m->levels;; level--) {
		struct gwalk_level *lv = &res->lv[level];
		/* PAE PDPTEs come from registers, carry no permissions and
		 * no A bit (Table 4-8). */
		bool pdpte_reg = pae && level == 3 && !env->pdpte_in_memory;
		bool controls = !(pae && level == 3);

		lv->gpa = table + entry_offset(m, res->gva, level);
		if (pdpte_reg) {
			lv->pte = env->pdpte[(res->gva >> 30) & 3];
		} else {
			r = ops->read_pte(ctx, lv->gpa, m->pte_size, &lv->pte);
			if (r) {
				res->fault_level = (u8)level;
				res->mem_err = r;
				res->bad_gpa = lv->gpa;
				return GWALK_BAD_GPA;
			}
		}

		/* "If a paging-structure entry's P flag is 0 or if the entry
		 * sets any reserved bit, the entry is used neither to reference
		 * another paging-structure entry nor to map a page" (§4.3,
		 * §4.4.2, §4.5). P = 0 leaves the error code's P clear; a
		 * reserved bit sets RSVD and P (§4.7). */
		if (!(lv->pte & PTE_P))
			return walk_fault(res, level, ec);
		bool leaf = level == 1 || (m->large[level] && (lv->pte & PTE_PS));
		if (lv->pte & m->rsvd[level][leaf])
			return walk_fault(res, level, ec | GWALK_PFEC_RSVD | GWALK_PFEC_P);
		if (controls) {
			and_bits &= lv->pte;
			or_bits |= lv->pte;
		}
		if (leaf)
			break;
		if (update && controls) {
			r = set_bits(ops, ctx, m, lv, PTE_A, res);
			if (r) {
				if (r == GWALK_BAD_GPA)
					res->fault_level = (u8)level;
				return r;
			}
		}
		table = table_gpa(m, lv->pte);
	}

	/* A valid translation: its attributes, then the access rights. */
	u64 pte = res->lv[level].pte;
	unsigned shift = level_shift(m, level);
	u64 pat = level == 1 ? GWALK_PTE_PAT_4K : GWALK_PTE_PAT_LARGE;

	res->have_leaf = true;
	res->leaf_level = (u8)level;
	res->page_size = 1ULL << shift;
	res->gpa = leaf_base(m, level, pte) | (res->gva & (res->page_size - 1));
	res->global = (m->flags & GWALK_M_PGE) && (pte & PTE_G);
	res->pat = (u8)(((pte & pat) ? 4 : 0) | ((pte & PTE_PCD) ? 2 : 0) | ((pte & PTE_PWT) ? 1 : 0));
	if (m->flags & GWALK_M_PKE)
		res->pkey = (u8)((pte >> GWALK_PTE_PKEY_SHIFT) & 15);
	res->perm = perm_view(m, and_bits, or_bits);

	bool pk = pkey_denies(env, res->perm, res->pkey, access);
	if (pk || !access_allowed(res->perm, access))
		return walk_fault(res, 0, ec | GWALK_PFEC_P | (pk ? GWALK_PFEC_PK : 0));

	if (update) {
		r = set_bits(ops, ctx, m, &res->lv[level], PTE_A | ((access & GWALK_WRITE) ? PTE_D : 0), res);
		if (r) {
			if (r == GWALK_BAD_GPA)
				res->fault_level = (u8)level;
			return r;
		}
	}
	return GWALK_OK;
}

/* Contract in mm/gwalk.h. */
int gwalk_walk(const struct gwalk_ops *ops, void *ctx, const struct gwalk_env *env, gva_t gva, u32 access,
	       struct gwalk_result *res)
{
	const struct gwalk_mode *m = &env->mode;
	int st = GWALK_RETRY;

	memset(res, 0, sizeof(*res));
	/* A fetch is neither a read nor a write. */
	if (access & GWALK_FETCH)
		access &= ~GWALK_WRITE;

	if (m->format == GWALK_FMT_4LVL || m->format == GWALK_FMT_5LVL) {
		res->gva = gva;
		if (!gwalk_canonical(m, gva)) {
			res->status = GWALK_NONCANONICAL;
			return res->status;
		}
	} else {
		/* Outside IA-32e mode linear addresses are 32 bits. */
		res->gva = gva & 0xffffffffULL;
	}

	if (m->format == GWALK_FMT_OFF) {
		/* Paging disabled: linear = physical, every access allowed. */
		res->have_leaf = true;
		res->gpa = res->gva;
		res->page_size = PAGE_SIZE;
		res->perm = GWALK_P_UR | GWALK_P_UW | GWALK_P_UX | GWALK_P_SR | GWALK_P_SW | GWALK_P_SX;
		res->status = GWALK_OK;
		return res->status;
	}

	res->top_level = m->levels;
	for (int i = 0; i < GWALK_MAX_RESTARTS; i++) {
		res->have_leaf = false;
		res->error_code = 0;
		st = walk_once(ops, ctx, env, access, res);
		if (st != WALK_RESTART)
			break;
		st = GWALK_RETRY;
	}
	res->status = st;
	return st;
}

/* Contract in mm/gwalk.h. */
const char *gwalk_status_name(int status)
{
	switch (status) {
	case GWALK_OK: return "ok";
	case GWALK_PF: return "page fault";
	case GWALK_NONCANONICAL: return "non-canonical";
	case GWALK_BAD_GPA: return "unreadable table";
	case GWALK_RETRY: return "retry";
	default: return "?";
	}
}
