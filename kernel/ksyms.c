/*
 * kernel/ksyms.c - binary search in the generated symbol table.
 */
#include "kernel/ksyms.h"

extern const u64 ksyms_count;
extern const u64 ksyms_addr[];
extern const char *const ksyms_name[];
extern const u8 __text_start[], __text_end[];

const char *ksym_lookup(u64 addr, u64 *offset)
{
	if (addr < (u64)__text_start || addr >= (u64)__text_end || ksyms_count == 0)
		return NULL;
	u64 lo = 0, hi = ksyms_count;
	while (hi - lo > 1) {
		u64 mid = lo + (hi - lo) / 2;
		if (ksyms_addr[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (ksyms_addr[lo] > addr)
		return NULL;
	*offset = addr - ksyms_addr[lo];
	return ksyms_name[lo];
}
