/*
 * mm/gwalk.h - the guest page-table walker: the one implementation of x86
 * linear-address translation for every guest paging mode (paging off,
 * 32-bit, PAE, 4-level, 5-level), used by the shadow MMU, by instruction
 * fetch and emulation, and for nested page-table walks.
 *
 * It owns: which mode CR0/CR4/EFER select, which bits are reserved at each
 * level, the access-rights rules (U/S, R/W, XD, CR0.WP, SMEP, SMAP,
 * protection keys), the #PF error code, and the accessed/dirty updates.
 *
 * It must not: touch guest memory except through the gwalk_ops callbacks,
 * inject anything (the caller turns a result into #PF/#GP or a VM kill),
 * keep state between calls, or know about VMX/SVM.
 *
 * Manual references: Intel SDM vol. 3A ch. 4 "Paging" (sections cited as
 * SDM §4.x), AMD APM vol. 2 ch. 5 "Page Translation and Protection"
 * (APM §5.x); revisions as pinned in docs/references.md.
 *
 * Levels are numbered from the leaf as in mm/pt.h: 1 = PT, 2 = PD,
 * 3 = PDPT, 4 = PML4, 5 = PML5.
 */
#ifndef UMBRA_MM_GWALK_H
#define UMBRA_MM_GWALK_H

#include "kernel/types.h"
#include "mm/pt.h"

#define GWALK_MAX_LEVELS 5

/* Entry bits not in mm/pt.h (SDM Tables 4-4..4-20). */
#define GWALK_PTE_PAT_4K BIT(7)     /* PAT in an entry that maps a 4 KiB page */
#define GWALK_PTE_PAT_LARGE BIT(12) /* PAT in an entry that maps a large page */
#define GWALK_PTE_PKEY_SHIFT 59     /* protection key, bits 62:59 of a leaf */

/* ------------------------------------------------------------ the mode */

enum gwalk_format {
	GWALK_FMT_OFF = 0, /* CR0.PG = 0: linear = physical (32 bits) */
	GWALK_FMT_32,      /* 32-bit paging, 2 levels of 4-byte entries */
	GWALK_FMT_PAE,     /* PAE paging: PDPTE registers + 2 levels */
	GWALK_FMT_4LVL,    /* 4-level paging (IA-32e, CR4.LA57 = 0) */
	GWALK_FMT_5LVL,    /* 5-level paging (IA-32e, CR4.LA57 = 1) */
};

/* What the (virtual) CPU implements; from the CPUID the guest sees. */
struct gwalk_caps {
	u8 maxphyaddr; /* CPUID 0x80000008 EAX[7:0]; 32..52 */
	bool gbpages;  /* 1-GiB pages: CPUID 0x80000001 EDX[26] */
	bool la57;     /* 5-level paging: CPUID 7.0 ECX[16] */
	bool pse36;    /* PSE-36: CPUID 1 EDX[17] */
	bool amd;      /* AMD reserved-bit rules: bit 8 of PML5E/PML4E is MBZ
			* (APM §5.3.3; Intel ignores it) */
};

/* Mode flags: only those that have an effect in the selected format are
 * set (e.g. NXE never with 32-bit paging, PKE only with 4/5-level), so
 * two modes that translate identically compare equal. */
#define GWALK_M_WP BIT(0)   /* CR0.WP */
#define GWALK_M_NXE BIT(1)  /* EFER.NXE, PAE/4-level/5-level only */
#define GWALK_M_PSE BIT(2)  /* CR4.PSE, 32-bit paging only */
#define GWALK_M_PGE BIT(3)  /* CR4.PGE */
#define GWALK_M_SMEP BIT(4) /* CR4.SMEP */
#define GWALK_M_SMAP BIT(5) /* CR4.SMAP */
#define GWALK_M_PKE BIT(6)  /* CR4.PKE, 4/5-level only */

/* A paging mode with its reserved-bit masks precomputed. Build it with
 * gwalk_mode_init(); treat the fields as read-only. */
struct gwalk_mode {
	u8 format;     /* enum gwalk_format */
	u8 levels;     /* 0, 2, 3, 4 or 5 */
	u8 pte_size;   /* 4 (32-bit paging) or 8 */
	u8 maxphyaddr;
	u32 flags;     /* GWALK_M_* */
	/* large[l]: an entry at level l with PS = 1 maps a page */
	bool large[GWALK_MAX_LEVELS + 1];
	/* rsvd[l][leaf]: bits that must be 0 in a present entry at level l
	 * that references a table (leaf = 0) or maps a page (leaf = 1). */
	u64 rsvd[GWALK_MAX_LEVELS + 1][2];
};

/* Compute the paging mode from the guest's CR0, CR4 and EFER (SDM §4.1.1
 * Table 4-1) and @caps. E_OK; E_INVAL for a combination the architecture
 * never lets software establish (CR0.PG without CR0.PE, EFER.LMA without
 * CR4.PAE, MAXPHYADDR out of 32..52); E_NOTSUP for 5-level paging on a CPU
 * without LA57. This does not replace the MOV-to-CR checks. */
int gwalk_mode_init(struct gwalk_mode *m, u64 cr0, u64 cr4, u64 efer, const struct gwalk_caps *caps);

/* True when @gva is canonical in mode @m (SDM vol. 1 §3.3.7.1, vol. 3A
 * §4.5: bits 63:47 equal with 4-level paging, 63:56 with 5-level). Always
 * true outside IA-32e paging, where linear addresses are 32 bits. A non-canonical access raises #GP
 * (#SS for stack accesses), never #PF. */
bool gwalk_canonical(const struct gwalk_mode *m, gva_t gva);

/* ------------------------------------------------------------ memory */

/* Guest memory as the walker sees it. Entries are naturally aligned and
 * @size is 4 (32-bit paging) or 8. */
struct gwalk_ops {
	/* Read the entry at @gpa into @val (zero-extended). 0 on success;
	 * nonzero when @gpa cannot be read (not RAM, or a nested translation
	 * failed): the walk stops with GWALK_BAD_GPA and the value is passed
	 * back in gwalk_result.mem_err. */
	int (*read_pte)(void *ctx, gpa_t gpa, unsigned size, u64 *val);
	/* Atomically store @new at @gpa if it still holds @old. 0 = stored;
	 * > 0 = it held another value (the walk restarts); < 0 = cannot be
	 * written (GWALK_BAD_GPA). NULL: no walk ever sets A/D bits. */
	int (*cmpxchg_pte)(void *ctx, gpa_t gpa, unsigned size, u64 old, u64 new);
};

/* Load the four PAE PDPTE registers from the PDPT that @cr3 (bits 31:5)
 * locates, as MOV to CR3, and MOV to CR0/CR4 that enable PAE paging or
 * change CR0.CD/NW/PG or CR4.PAE/PGE/PSE/SMEP while it is on, do (SDM
 * §4.4.1). E_OK: @pdpte holds them. E_INVAL: a present PDPTE sets a
 * reserved bit (Table 4-8) - the instruction raises #GP(0) and @pdpte is
 * left unchanged. E_FAULT: the PDPT could not be read (the caller decides).
 * @m only supplies MAXPHYADDR; its format need not be PAE yet. */
int gwalk_load_pdptes(const struct gwalk_ops *ops, void *ctx, const struct gwalk_mode *m, u64 cr3,
		      u64 pdpte[4]);

/* ------------------------------------------------------------ a walk */

/* Everything about the guest's paging state a walk needs. */
struct gwalk_env {
	struct gwalk_mode mode;
	u64 cr3;
	u64 pdpte[4];         /* PAE: the PDPTE registers (gwalk_load_pdptes) */
	bool pdpte_in_memory; /* PAE without PDPTE registers (AMD nested
			       * tables): read PDPTEs from memory on every
			       * walk; a reserved bit there is a RSVD #PF */
	u32 pkru;             /* PKRU, used when GWALK_M_PKE */
};

/* The access (flags for gwalk_walk). Neither WRITE nor FETCH: a read. */
#define GWALK_WRITE BIT(0)    /* data write (or the write of a read-modify-write) */
#define GWALK_FETCH BIT(1)    /* instruction fetch */
#define GWALK_USER BIT(2)     /* made at CPL 3 */
#define GWALK_IMPLICIT BIT(3) /* implicit supervisor access (GDT/LDT/IDT/TSS,
			       * SDM §4.6): supervisor whatever the CPL, and
			       * SMAP applies whatever EFLAGS.AC */
#define GWALK_AC BIT(4)       /* EFLAGS.AC = 1 */
#define GWALK_PEEK BIT(5)     /* change nothing: no A/D updates (diagnostics) */

/* #PF error code bits (SDM §4.7, APM §8.4.2). */
#define GWALK_PFEC_P BIT(0)
#define GWALK_PFEC_W BIT(1)
#define GWALK_PFEC_U BIT(2)
#define GWALK_PFEC_RSVD BIT(3)
#define GWALK_PFEC_ID BIT(4)
#define GWALK_PFEC_PK BIT(5)

enum gwalk_status {
	GWALK_OK = 0,       /* translated and the access is allowed */
	GWALK_PF,           /* guest page fault: inject #PF(error_code), CR2 = gva */
	GWALK_NONCANONICAL, /* not a #PF: #GP(0), or #SS(0) for stack accesses */
	GWALK_BAD_GPA,      /* an entry's GPA could not be read or written */
	GWALK_RETRY,        /* entries kept changing under the A/D updates;
			     * resume the guest and let the access repeat */
};

/* Permissions accumulated over the levels that control the translation
 * (for PAE the PDE and PTE; PDPTEs carry none). The S views are those of an
 * explicit supervisor access with EFLAGS.AC = 1; GWALK_P_SMAP says SMAP
 * withdraws SR and SW from other supervisor data accesses. Protection keys
 * are not folded in (PKRU changes without an exit): see pkey. */
#define GWALK_P_UR BIT(0) /* user read */
#define GWALK_P_UW BIT(1) /* user write */
#define GWALK_P_UX BIT(2) /* user fetch */
#define GWALK_P_SR BIT(3) /* supervisor read */
#define GWALK_P_SW BIT(4) /* supervisor write (CR0.WP applied) */
#define GWALK_P_SX BIT(5) /* supervisor fetch (SMEP applied) */
#define GWALK_P_SMAP BIT(6)

struct gwalk_level {
	gpa_t gpa; /* where the entry was read; for PDPTE registers, where
		    * they were loaded from (CR3[31:5] + 8 * index) */
	u64 pte;   /* its value, including A/D bits this walk set */
};

struct gwalk_result {
	int status;      /* enum gwalk_status, also the return value */
	u32 error_code;  /* GWALK_PF: the #PF error code */
	gva_t gva;       /* the linear address walked (32 bits outside IA-32e) */
	/* The following hold when have_leaf: a valid leaf was reached
	 * (status OK, or a #PF for access rights). */
	bool have_leaf;
	bool global;     /* G set in the leaf and CR4.PGE = 1 */
	u8 leaf_level;   /* 1..5; 0 with paging off */
	u8 pat;          /* PAT index of the leaf: PAT << 2 | PCD << 1 | PWT */
	u8 pkey;         /* the leaf's protection key (0 unless GWALK_M_PKE) */
	u8 perm;         /* GWALK_P_* */
	gpa_t gpa;       /* final guest-physical address */
	u64 page_size;   /* 4 KiB, 2 MiB, 4 MiB, 1 GiB */
	/* The walk itself. */
	u8 top_level;    /* first level read (mode levels); 0 with paging off */
	u8 fault_level;  /* level of the entry that stopped the walk (not
			  * present, reserved bit, unreadable or unwritable);
			  * 0 otherwise (also for access-rights faults) */
	int mem_err;     /* GWALK_BAD_GPA: the callback's return value */
	gpa_t bad_gpa;   /* GWALK_BAD_GPA: the GPA it failed on */
	/* lv[l] for l = top_level down to the last level read. */
	struct gwalk_level lv[GWALK_MAX_LEVELS + 1];
};

/* Translate @gva for the access @access (GWALK_* flags) in the guest state
 * @env, reading and updating guest tables through @ops/@ctx.
 *
 * Checks, in the hardware's order: canonical form; at each level the P
 * flag, then reserved bits (SDM §4.3, §4.4.2, §4.5); then access rights
 * (§4.6) on the complete translation. Sets the accessed flag of each
 * entry that references a table as soon as the walk has passed it, and
 * the leaf's accessed (and, for writes, dirty) flag only when the access
 * is allowed (SDM §4.8; see mm/gwalk.c). Unless GWALK_PEEK, updates are
 * made with cmpxchg_pte and the walk restarts when an entry changed.
 *
 * Fills @res and returns res->status. Never fails for a reason other than
 * those in enum gwalk_status. */
int gwalk_walk(const struct gwalk_ops *ops, void *ctx, const struct gwalk_env *env, gva_t gva, u32 access,
	       struct gwalk_result *res);

/* Short name of a status, for messages. */
const char *gwalk_status_name(int status);

#endif
