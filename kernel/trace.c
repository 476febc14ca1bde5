/*
 * kernel/trace.c - trace category names, the run-time mask, the event
 * line printer and the console keys (docs/trace.md).
 */
#include "kernel/trace.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/flightrec.h"
#include "kernel/fmt.h"
#include "kernel/vm.h"
#include "kernel/x86.h"

const char *const trace_category_names[] = {"exit", "mmu", "nested", "io", "vm", NULL};
u64 trace_mask;

void trace_set_mask(u64 mask)
{
	trace_mask = mask & TRACE_COMPILED;
}

/* The whole line is formatted here and printed with one kprintf, so it
 * reaches the console in one piece. */
static void trace_vemit(const struct vm *vm, const struct vcpu *v, u64 tsc, const char *fmt, va_list ap)
{
	char line[232]; /* fits the console line buffer (struct cpu.con_buf) */
	int n;
	if (!tsc)
		tsc = rdtsc();
	const char *name = vm ? vm->cfg.name : "-";
	if (v)
		n = fmt_snprintf(line, sizeof(line), "T cpu=%u vm=%s vcpu=%u tsc=%lu ", this_cpu()->id, name, v->id,
				 tsc);
	else
		n = fmt_snprintf(line, sizeof(line), "T cpu=%u vm=%s tsc=%lu ", this_cpu()->id, name, tsc);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	n += fmt_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	while (n > 0 && line[n - 1] == ' ') /* an empty field list leaves a blank */
		n--;
	kprintf("%.*s\n", n, line);
}

void trace_emit(const struct vm *vm, const struct vcpu *v, u64 tsc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	trace_vemit(vm, v, tsc, fmt, ap);
	va_end(ap);
}

void trace_current(const char *fmt, ...)
{
	const struct vcpu *v = this_cpu()->vcpu;
	va_list ap;
	va_start(ap, fmt);
	trace_vemit(v ? v->vm : NULL, v, 0, fmt, ap);
	va_end(ap);
}

void trace_poll_console(void)
{
	int c = console_getc();
	if (c == 's') {
		for (u32 i = 0; i < nr_vms; i++)
			vm_print_stats(vms[i]);
	} else if (c == 'f') {
		flightrec_print(this_cpu()->id);
	}
}
