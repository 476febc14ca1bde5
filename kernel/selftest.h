/*
 * kernel/selftest.h - deliberate failures on request (selftest=...), so the
 * tests can check that Umbra's own faults produce the documented dump.
 */
#ifndef UMBRA_KERNEL_SELFTEST_H
#define UMBRA_KERNEL_SELFTEST_H

enum selftest {
	SELFTEST_NONE,
	SELFTEST_UD,    /* ud2 in Umbra */
	SELFTEST_PF,    /* read of an unmapped address */
	SELFTEST_GP,    /* non-canonical access */
	SELFTEST_STACK, /* recursion into the stack guard page (#PF -> #DF on IST) */
	SELFTEST_PANIC, /* explicit panic() */
};

/* Trigger the requested failure; returns only for SELFTEST_NONE. */
void selftest_run(int which);

#endif
