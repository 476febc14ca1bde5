/*
 * kernel/trap.c - host exception and interrupt dispatch.
 *
 * An exception in Umbra itself is a hypervisor bug: it gets a full dump
 * (kernel/panic.c) and a halt, never a silent reboot. The only expected
 * exceptions are #GP/#UD from the *_safe helpers, found through the
 * exception table (section .extable: pairs of faulting RIP and fixup RIP).
 */
#include "kernel/trap.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/x86.h"

struct extable_entry {
	u64 fault_rip, fixup_rip;
};
extern const struct extable_entry __extable_start[], __extable_end[];

static irq_handler_fn irq_handlers[256];

/* Host NMIs seen outside a panic (for diagnostics). */
u64 host_nmis;

static const char *const exc_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "exc15", "#MF", "#AC", "#MC", "#XM", "#VE",
	"#CP", "exc22", "exc23", "exc24", "exc25", "exc26", "exc27", "#HV", "#VC",
	"#SX", "exc31",
};

const char *exception_name(u64 vector)
{
	return vector < 32 ? exc_names[vector] : "IRQ";
}

void irq_register(u8 vector, irq_handler_fn fn)
{
	irq_handlers[vector] = fn;
}

static bool try_fixup(struct trap_frame *tf)
{
	for (const struct extable_entry *e = __extable_start; e < __extable_end; e++) {
		if (e->fault_rip == tf->rip) {
			tf->rip = e->fixup_rip;
			return true;
		}
	}
	return false;
}

void trap_entry(struct trap_frame *tf)
{
	u64 v = tf->vector;
	if (v >= 32) {
		if (irq_handlers[v])
			irq_handlers[v](tf);
		/* a vector nobody registered is ignored (spurious); the LAPIC
		 * EOI is the handler's job */
		return;
	}
	if ((v == 13 || v == 6) && try_fixup(tf))
		return;
	if (v == 2) {
		/* NMI: another CPU panics and stops us; otherwise (a host NMI
		 * from hardware) count it and go on. No printing here: the NMI
		 * may have interrupted this CPU inside the console lock. */
		if (panic_in_progress())
			halt_forever();
		host_nmis++;
		return;
	}
	panic_exception(tf);
}

int rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;
	int err = 0;
	__asm__ volatile("1: rdmsr\n\t"
			 "2:\n\t"
			 ".pushsection .extable, \"a\"\n\t"
			 ".quad 1b, 3f\n\t"
			 ".popsection\n\t"
			 ".pushsection .text.fixup, \"ax\"\n"
			 "3: movl %3, %2\n\t"
			 "jmp 2b\n\t"
			 ".popsection"
			 : "=a"(lo), "=d"(hi), "+r"(err)
			 : "i"(E_FAULT), "c"(msr));
	*val = ((u64)hi << 32) | lo;
	return err;
}

int wrmsr_safe(u32 msr, u64 val)
{
	int err = 0;
	__asm__ volatile("1: wrmsr\n\t"
			 "2:\n\t"
			 ".pushsection .extable, \"a\"\n\t"
			 ".quad 1b, 3f\n\t"
			 ".popsection\n\t"
			 ".pushsection .text.fixup, \"ax\"\n"
			 "3: movl %1, %0\n\t"
			 "jmp 2b\n\t"
			 ".popsection"
			 : "+r"(err)
			 : "i"(E_FAULT), "c"(msr), "a"((u32)val), "d"((u32)(val >> 32))
			 : "memory");
	return err;
}
