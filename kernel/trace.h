/*
 * kernel/trace.h - trace categories (selected with trace=) and the TRACE()
 * macros: one event per line,
 *
 *     T cpu=N vm=NAME [vcpu=N] tsc=T EVENT key=value...
 *
 * The full format and every event are documented in docs/trace.md; a host
 * tool (tools/umbra-trace) summarizes a log.
 *
 * Two masks select events. TRACE_COMPILED (default: every category) is
 * fixed at build time: a category outside it compiles to nothing, so the
 * hot paths pay no test at all (make TRACE_COMPILED=0x1 keeps only exit).
 * The run-time mask comes from the command line (trace=exit,mmu,...).
 */
#ifndef UMBRA_KERNEL_TRACE_H
#define UMBRA_KERNEL_TRACE_H

#include "kernel/types.h"

struct vm;
struct vcpu;

/* Bit numbers of the categories in both masks; the order is that of
 * trace_category_names (the trace= option). */
enum trace_category {
	TRACE_EXIT,   /* every VM exit, event injection, entry failures */
	TRACE_MMU,    /* page-table and shadow-MMU events */
	TRACE_NESTED, /* nested SVM transitions */
	TRACE_IO,     /* port and MMIO accesses of unknown devices */
	TRACE_VM,     /* VM lifecycle: create, end */
	TRACE_NCATEGORIES
};

#ifndef TRACE_COMPILED
#define TRACE_COMPILED (BIT(TRACE_NCATEGORIES) - 1)
#endif

extern const char *const trace_category_names[]; /* NULL-terminated */
extern u64 trace_mask;

/* Set the run-time mask (bits of enum trace_category); categories not
 * compiled in stay off. */
void trace_set_mask(u64 mask);

/* Is category @c on? A constant false for categories compiled out. */
#define trace_on(c) ((TRACE_COMPILED & BIT(c)) && unlikely(trace_mask & BIT(c)))

/* Print one event line: the "T cpu= vm= [vcpu=] tsc=" prefix, then @fmt
 * (which has no newline: trace_emit ends the line). @v may be NULL (no
 * vcpu= field); @vm NULL prints vm=-. @tsc 0 means "read it now". Use
 * the macros below, which test the masks first. */
void trace_emit(const struct vm *vm, const struct vcpu *v, u64 tsc, const char *fmt, ...) __printf(4, 5);

/* An event of category @cat for VM @vm (no vCPU). */
#define TRACE_VM_EVENT(cat, vm, fmt, ...)                                   \
	do {                                                                \
		if (trace_on(cat))                                          \
			trace_emit((vm), NULL, 0, fmt, ##__VA_ARGS__);      \
	} while (0)

/* An event of category @cat for vCPU @v (prints vm= and vcpu=). */
#define TRACE_VCPU(cat, v, fmt, ...)                                        \
	do {                                                                \
		if (trace_on(cat))                                          \
			trace_emit((v)->vm, (v), 0, fmt, ##__VA_ARGS__);    \
	} while (0)

/* An event of category @cat for the vCPU loaded on this CPU (vm=- when
 * none). */
#define TRACE(cat, fmt, ...)                                                \
	do {                                                                \
		if (trace_on(cat))                                          \
			trace_current(fmt, ##__VA_ARGS__);                  \
	} while (0)
void trace_current(const char *fmt, ...) __printf(1, 2);

/*
 * Helpers for the shadow MMU and nested SVM. The event is printed as
 * "mmu=EVENT" / "nested=EVENT" (like exit=REASON), so tools/umbra-trace
 * counts them per VM without knowing every event name. @ev is a string
 * literal, @fmt the remaining key=value fields (may be ""):
 *
 *   TRACE_MMU_EV(v, "sp-create", "gfn=%#lx level=%d", gfn, level);
 *   TRACE_NESTED_EV(v, "vmrun", "l2-rip=%#lx", rip);
 */
#define TRACE_MMU_EV(v, ev, fmt, ...) TRACE_VCPU(TRACE_MMU, v, "mmu=" ev " " fmt, ##__VA_ARGS__)
#define TRACE_NESTED_EV(v, ev, fmt, ...) TRACE_VCPU(TRACE_NESTED, v, "nested=" ev " " fmt, ##__VA_ARGS__)

/* Console keys, polled by the scheduler between time slices: 's' prints
 * VM-STATS of every VM, 'f' this CPU's flight recorder. Cheap: one UART
 * status read. */
void trace_poll_console(void);

#endif
