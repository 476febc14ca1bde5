/*
 * kernel/ksyms.h - address-to-symbol lookup for backtraces. The table is
 * generated from the first link pass (tools/gensyms.sh).
 */
#ifndef UMBRA_KERNEL_KSYMS_H
#define UMBRA_KERNEL_KSYMS_H

#include "kernel/types.h"

/* Name of the function containing @addr and the offset into it; NULL when
 * @addr is outside every known function. */
const char *ksym_lookup(u64 addr, u64 *offset);

#endif
