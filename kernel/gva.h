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
