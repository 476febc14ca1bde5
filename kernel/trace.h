/*
 * kernel/trace.h - trace categories (selected with trace=) and the TRACE()
 * macro: one event per line, "T cpu=N vm=NAME tsc=T event key=value...".
 * The full format is documented in docs/trace.md.
 */
#ifndef UMBRA_KERNEL_TRACE_H
#define UMBRA_KERNEL_TRACE_H

#include "kernel/types.h"

enum trace_category {
	TRACE_EXIT,   /* every VM exit */
	TRACE_MMU,    /* page-table and shadow-MMU events */
	TRACE_NESTED, /* nested SVM transitions */
	TRACE_IO,     /* port and MMIO accesses of unknown devices */
	TRACE_VM,     /* VM lifecycle: create, start, end */
	TRACE_NCATEGORIES
};

extern const char *const trace_category_names[]; /* NULL-terminated */
extern u64 trace_mask;

void trace_set_mask(u64 mask);

static inline bool trace_on(enum trace_category c)
{
	return unlikely(trace_mask & BIT(c));
}

#endif
