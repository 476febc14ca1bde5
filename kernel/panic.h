/*
 * kernel/panic.h - fatal errors in Umbra itself (hypervisor bugs).
 *
 * Never use these for anything a guest can cause: a guest gets the
 * architectural fault or a clean kill of its VM (kernel/vm.h).
 */
#ifndef UMBRA_KERNEL_PANIC_H
#define UMBRA_KERNEL_PANIC_H

#include "kernel/types.h"

struct trap_frame;

/* Print @fmt, a backtrace, the registered dumps (flight recorder...), the
 * final result line, and stop. */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;

/* Full dump of an unexpected exception in Umbra, then stop. */
void panic_exception(struct trap_frame *tf) __noreturn;

/* Print a frame-pointer backtrace starting at @rbp. */
void backtrace_from(u64 rbp, u64 rip);

/* True once some CPU has begun a panic. */
bool panic_in_progress(void);

/* Register a function called during a panic (up to 4). */
void panic_add_dumper(void (*fn)(void));

#define BUG_ON(cond)                                                                  \
	do {                                                                          \
		if (unlikely(cond))                                                   \
			panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond);          \
	} while (0)
#define ASSERT(cond) BUG_ON(!(cond))

#endif
