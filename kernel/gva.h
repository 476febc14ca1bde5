/*
 * kernel/gva.h - a vCPU's view of memory: guest-virtual reads and writes
 * through the guest's own page tables (mm/gwalk.c), for instruction fetch
 * and emulation. The guest's paging state comes from the backend
 * accessors, so this file is vendor-neutral.
 */
#ifndef UMBRA_KERNEL_GVA_H
#define UMBRA_KERNEL_GVA_H

#include "kernel/types.h"
#include "mm/gwalk.h"

struct vcpu;

/* A fault to inject after a failed guest-virtual access. */
struct gva_fault {
	u8 vector;      /* 14 (#PF) or 13 (#GP: non-canonical) */
	u32 error;
	u64 cr2;
};

/* Result of gva_read/gva_write. */
enum {
	GVA_OK = 0,
	GVA_FAULT,     /* inject @fault */
	GVA_BAD_GPA,   /* the guest's tables or the target are not RAM */
};

/* A vCPU's last code-page translation (gva_fetch): valid while the paging
 * registers are the same and every table entry the walk read still holds
 * the value it read (then a new walk would take the same path to the
 * same frame). */
struct gva_code_cache {
	bool valid;
	u8 nlv;            /* entries in pte[] */
	u8 pte_size;       /* 4 or 8 */
	u32 acc;           /* GWALK_FETCH [| GWALK_USER] */
	u64 page;          /* linear address of the page */
	u64 cr0, cr3, cr4, efer;
	u64 pdpte;         /* shadow PAE: the PDPTE register used */
	const u8 *host;    /* the guest page in Umbra's direct map */
	struct {
		const void *p; /* the entry in Umbra's direct map */
		u64 val;
	} pte[GWALK_MAX_LEVELS];
};

/* Read @len bytes of code at linear @la (not crossing a page) for @acc
 * (GWALK_FETCH, | GWALK_USER at CPL 3), through @v's code cache when its
 * translation still holds. GVA_* as gva_read; nothing is cached for
 * faults, MMIO, or PAE paging under TDP (PDPTEs read from memory). */
int gva_fetch(struct vcpu *v, u64 la, void *buf, unsigned len, u32 acc, struct gva_fault *f);

/* Guest-physical memory callbacks for mm/gwalk.c over the VM's RAM;
 * @ctx is the struct vm. */
extern const struct gwalk_ops vm_gwalk_ops;

/* The CPU capabilities a guest walk assumes (from the host CPU). */
const struct gwalk_caps *gva_caps(void);

/* Fill @env with @v's current paging state (PAE PDPTEs read from memory).
 * Returns E_OK, or E_INVAL for an impossible register combination. */
int gva_env(struct vcpu *v, struct gwalk_env *env);

/* Copy @len bytes at linear address @la of @v (access flags GWALK_*) to
 * or from @buf, page by page. */
int gva_read(struct vcpu *v, u64 la, void *buf, unsigned len, u32 access, struct gva_fault *f);
int gva_write(struct vcpu *v, u64 la, const void *buf, unsigned len, u32 access, struct gva_fault *f);

#endif
