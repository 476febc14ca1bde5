/*
 * kernel/trace.c - trace category names and the run-time mask.
 */
#include "kernel/trace.h"

const char *const trace_category_names[] = {"exit", "mmu", "nested", "io", "vm", NULL};
u64 trace_mask;

void trace_set_mask(u64 mask)
{
	trace_mask = mask;
}
