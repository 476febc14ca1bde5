/*
 * kernel/selftest.c - see selftest.h. Each trigger sits in its own
 * noinline function so the backtrace names it.
 */
#include "kernel/selftest.h"
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/types.h"

static __attribute__((noinline)) void selftest_trigger_ud(void)
{
	__asm__ volatile("ud2");
}

static __attribute__((noinline)) void selftest_trigger_pf(void)
{
	/* the lowest canonical-high page is never mapped */
	volatile u64 *p = (volatile u64 *)0xffff900000000000ULL;
	(void)*p;
}

static __attribute__((noinline)) void selftest_trigger_gp(void)
{
	volatile u64 *p = (volatile u64 *)0x8000000000000000ULL;
	(void)*p;
}

/* Recurse until the stack runs into its guard page. The depth check can
 * never stop it in practice (the stack is 16 KiB) but keeps the compiler
 * from calling the recursion infinite. */
static __attribute__((noinline)) u64 selftest_recurse(volatile u64 depth)
{
	volatile u8 pad[512];
	pad[0] = (u8)depth;
	if (depth > (1ULL << 40))
		return pad[0];
	return selftest_recurse(depth + 1) + pad[0];
}

void selftest_run(int which)
{
	if (which == SELFTEST_NONE)
		return;
	kprintf("selftest: triggering a deliberate failure (selftest=%d)\n", which);
	switch (which) {
	case SELFTEST_UD: selftest_trigger_ud(); break;
	case SELFTEST_PF: selftest_trigger_pf(); break;
	case SELFTEST_GP: selftest_trigger_gp(); break;
	case SELFTEST_STACK: selftest_recurse(0); break;
	case SELFTEST_PANIC: panic("selftest: deliberate panic"); break;
	}
	panic("selftest %d did not fault", which);
}
