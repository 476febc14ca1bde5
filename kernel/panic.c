/*
 * kernel/panic.c - the dump-and-stop path for hypervisor bugs.
 *
 * Prints everything a developer needs from a serial log alone: the vector
 * and error code, all registers, control registers, a symbolized
 * frame-pointer backtrace, and the registered dumpers (flight recorder,
 * VMCB/VMCS). Then the final result line, and stop (kernel/shutdown.c).
 */
#include "kernel/panic.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/ksyms.h"
#include "kernel/shutdown.h"
#include "kernel/smp.h"
#include "kernel/lapic.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

static void (*dumpers[4])(void);
static volatile int panicking;

void panic_add_dumper(void (*fn)(void))
{
	for (size_t i = 0; i < ARRAY_SIZE(dumpers); i++) {
		if (!dumpers[i]) {
			dumpers[i] = fn;
			return;
		}
	}
}

static void print_addr(const char *prefix, u64 addr)
{
	u64 off;
	const char *name = ksym_lookup(addr, &off);
	if (name)
		kprintf("%s%016lx %s+0x%lx\n", prefix, addr, name, off);
	else
		kprintf("%s%016lx\n", prefix, addr);
}

/* A frame pointer is followed only while it stays in Umbra's own
 * higher-half image or the direct map and is 8-byte aligned. */
static bool frame_ok(u64 rbp)
{
	return rbp >= 0xffff800000000000ULL && (rbp & 7) == 0 && rbp < 0xfffffffffffff000ULL;
}

void backtrace_from(u64 rbp, u64 rip)
{
	kprintf("backtrace:\n");
	print_addr("  ", rip);
	for (int depth = 0; depth < 32 && frame_ok(rbp); depth++) {
		u64 ret = ((u64 *)rbp)[1];
		u64 next = ((u64 *)rbp)[0];
		if (!ret)
			break;
		print_addr("  ", ret);
		if (next <= rbp)
			break;
		rbp = next;
	}
}

static void __noreturn panic_finish(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(dumpers); i++)
		if (dumpers[i])
			dumpers[i]();
	shutdown_finish(false, "panic");
}

bool panic_in_progress(void)
{
	return __atomic_load_n(&panicking, __ATOMIC_ACQUIRE) != 0;
}

/* Stop every other CPU first (an NMI reaches them even with interrupts
 * off; kernel/trap.c halts a CPU that takes one during a panic), so the
 * dump is not interleaved with their output and nothing moves under it. */
static void panic_enter(void)
{
	irq_disable();
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST)) {
		console_panic_mode();
		kprintf("\nnested panic on CPU %u; stopping\n", this_cpu()->id);
		halt_forever();
	}
	if (smp_cpus_online > 1) {
		lapic_nmi_others();
		udelay(10000);
	}
	console_panic_mode();
}

void panic(const char *fmt, ...)
{
	panic_enter();
	va_list ap;
	kprintf("\nPANIC on CPU %u: ", this_cpu()->id);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	backtrace_from(read_rbp(), (u64)__builtin_return_address(0));
	panic_finish();
}

void panic_exception(struct trap_frame *tf)
{
	panic_enter();
	kprintf("\nPANIC on CPU %u: unexpected exception %s (vector %lu) error code 0x%lx\n",
		this_cpu()->id, exception_name(tf->vector), tf->vector, tf->error);
	print_addr("RIP: ", tf->rip);
	kprintf("CS: %04lx RFLAGS: %016lx SS: %04lx RSP: %016lx\n", tf->cs, tf->rflags, tf->ss, tf->rsp);
	kprintf("RAX: %016lx RBX: %016lx RCX: %016lx RDX: %016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
	kprintf("RSI: %016lx RDI: %016lx RBP: %016lx\n", tf->rsi, tf->rdi, tf->rbp);
	kprintf("R8:  %016lx R9:  %016lx R10: %016lx R11: %016lx\n", tf->r8, tf->r9, tf->r10, tf->r11);
	kprintf("R12: %016lx R13: %016lx R14: %016lx R15: %016lx\n", tf->r12, tf->r13, tf->r14, tf->r15);
	kprintf("CR0: %016lx CR2: %016lx CR3: %016lx CR4: %016lx\n", read_cr0(), read_cr2(), read_cr3(),
		read_cr4());
	kprintf("EFER: %016lx GS.base: %016lx\n", rdmsr(MSR_EFER), rdmsr(MSR_GS_BASE));
	if (tf->vector == 14)
		kprintf("page fault at %016lx: %s %s %s%s%s\n", read_cr2(),
			(tf->error & 1) ? "protection" : "not-present", (tf->error & 2) ? "write" : "read",
			(tf->error & 4) ? "user" : "supervisor", (tf->error & 8) ? " reserved-bit" : "",
			(tf->error & 16) ? " fetch" : "");
	backtrace_from(tf->rbp, tf->rip);
	panic_finish();
}
