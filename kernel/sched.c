/*
 * kernel/sched.c - the per-CPU scheduler (see sched.h).
 *
 * Every vCPU is placed on one CPU when its VM is created (vcpu.cpu:
 * affinity= or round-robin); each CPU runs only its own vCPUs, in
 * round-robin slices. A vCPU runs until its slice ends (a timer tick
 * arrives as an INTR exit) or it halts or its VM ends; then the next
 * runnable vCPU of this CPU gets it. Not runnable: halted (HLT) or an AP
 * waiting for SIPI (kernel/vcpu_mp.c). Before each entry the vCPU takes
 * what other CPUs posted to it (TLB flush requests, INIT/SIPI/NMI:
 * kernel/vcpu_kick.h) and enters only through the handshake of
 * kernel/vcpu_sync.h, so a kick always finds it.
 *
 * A halted vCPU waits for its virtual local APIC (kernel/vlapic.c): it
 * wakes when an interrupt it can take is pending (RFLAGS.IF=1, IRR above
 * PPR) or an NMI arrives; the LAPIC timer is checked here before each
 * pick, so a timer interrupt reaches a halted vCPU at most one host tick
 * late, and an IPI from another vCPU kicks this CPU out of its idle HLT.
 * A VM whose every vCPU halted with nothing that can wake it (interrupts
 * off, or no pending interrupt and no armed, unmasked LAPIC timer), or
 * waits for a SIPI, can never continue: its home CPU (vCPU 0's) ends it
 * with a clear reason instead of hanging the run. It also enforces the
 * VM's timeout.
 */
#include "kernel/sched.h"
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/exit.h"
#include "kernel/fpu.h"
#include "kernel/mmu.h"
#include "kernel/timer.h"
#include "kernel/trace.h"
#include "kernel/vcpu_kick.h"
#include "kernel/vcpu_mp.h"
#include "kernel/vlapic.h"
#include "kernel/vm.h"
#include "kernel/x86.h"

static bool here(const struct vcpu *v)
{
	return v->cpu == this_cpu()->id;
}

/* The VM's home CPU: timeouts, the blocked-VM check. */
static bool mine(const struct vm *vm)
{
	return vm->cpu == this_cpu()->id;
}

/* Does this CPU run any vCPU of @vm? */
static bool on_this_cpu(const struct vm *vm)
{
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		if (here(vm->vcpu[i]))
			return true;
	return false;
}

static void check_timeouts(void)
{
	u64 now = timer_ticks();
	/* timeouts move only with the tick: skip the scan on every other exit */
	struct cpu *c = this_cpu();
	if (now == c->ticks)
		return;
	c->ticks = now;
	for (u32 i = 0; i < nr_vms; i++) {
		struct vm *vm = vms[i];
		if (mine(vm) && vm_running(vm) && vm->cfg.timeout_s && now - vm->start_tick >= vm->cfg.timeout_s * TIMER_HZ)
			vm_end(vm, VMR_KILLED, 0, "timeout after %lu s", vm->cfg.timeout_s);
	}
}

/* A halted vCPU its LAPIC can still wake (HLT with IF=0 waits for NMI,
 * SMI, INIT or reset only). */
static bool may_wake(struct vcpu *v)
{
	return v->nmi_pending || ((v->regs.rflags & RFLAGS_IF) && vlapic_may_wake(v));
}

/* Every vCPU halted for good or waiting for a SIPI, and nothing was sent
 * to any of them while we looked (wake_seq: other CPUs' vCPUs may change
 * state under us; a wake always bumps it after making itself visible). */
static bool vm_blocked_forever(struct vm *vm)
{
	u32 seq = __atomic_load_n(&vm->wake_seq, __ATOMIC_SEQ_CST);
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpu[i];
		if (__atomic_load_n(&v->sync.requests, __ATOMIC_SEQ_CST))
			return false;
		if (v->wait_sipi)
			continue;
		if (!v->halted || may_wake(v))
			return false;
	}
	return __atomic_load_n(&vm->wake_seq, __ATOMIC_SEQ_CST) == seq;
}

/* Take what was posted to this CPU's vCPUs and wake the halted ones that
 * have an interrupt (or NMI) to take. */
static void service_all(void)
{
	u64 now = rdtsc();
	for (u32 i = 0; i < nr_vms; i++) {
		struct vm *vm = vms[i];
		if (!vm_running(vm))
			continue;
		for (u32 j = 0; j < vm->nr_vcpus; j++) {
			struct vcpu *v = vm->vcpu[j];
			if (!here(v))
				continue;
			vcpu_service(v);
			if (!v->halted)
				continue;
			if (v->nmi_pending) {
				v->halted = false;
				continue;
			}
			if (!(v->regs.rflags & RFLAGS_IF))
				continue;
			vlapic_timer_check(v, now);
			if (vlapic_pending(v) >= 0) {
				/* HLT completed (exit.c moved RIP past it, which
				 * ends any STI shadow) and IF=1: the guest can
				 * take the interrupt now, no window needed */
				v->halted = false;
				vlapic_irq_window(v);
			}
		}
	}
}

static struct vcpu *pick_next(u32 *cursor)
{
	u32 total = nr_vms * VM_MAX_VCPUS;
	for (u32 n = 0; n < total; n++) {
		u32 k = (*cursor + 1 + n) % total;
		struct vm *vm = vms[k / VM_MAX_VCPUS];
		u32 vi = k % VM_MAX_VCPUS;
		if (!vm || !vm_running(vm) || vi >= vm->nr_vcpus)
			continue;
		struct vcpu *v = vm->vcpu[vi];
		if (!here(v) || v->halted || v->wait_sipi)
			continue;
		*cursor = k;
		return vm->vcpu[vi];
	}
	return NULL;
}

static bool any_running(bool all_cpus)
{
	for (u32 i = 0; i < nr_vms; i++)
		if ((all_cpus || on_this_cpu(vms[i])) && vm_running(vms[i]))
			return true;
	return false;
}

void sched_wait_all(void)
{
	while (any_running(true))
		__asm__ volatile("sti; hlt; cli");
}

void sched_run(void)
{
	struct cpu *c = this_cpu();
	u32 cursor = (u32)-1;
	u64 quantum = umbra_config.quantum_us * TIMER_HZ / 1000000;
	if (quantum == 0)
		quantum = 1;
	while (any_running(false)) {
		if (c->id == 0)
			trace_poll_console(); /* keys 's' and 'f' (docs/trace.md), once per slice */
		for (u32 i = 0; i < nr_vms; i++)
			if (mine(vms[i]) && vm_running(vms[i]) && vm_blocked_forever(vms[i]))
				vm_end(vms[i], VMR_KILLED, 0, "halted with %s (no virtual device can wake it)",
				       (vms[i]->vcpu[0]->regs.rflags & RFLAGS_IF) ? "interrupts enabled"
										 : "interrupts disabled");
		service_all();
		struct vcpu *v = pick_next(&cursor);
		if (!v) {
			/* every vCPU waits: sleep until the next tick */
			__asm__ volatile("sti; hlt; cli");
			check_timeouts();
			continue;
		}
		if (c->vcpu != v) {
			if (c->vcpu && backend->vcpu_put)
				backend->vcpu_put(c->vcpu);
			fpu_switch(c->vcpu, v);
			if (backend->vcpu_load)
				backend->vcpu_load(v);
			c->vcpu = v;
		}
		u64 slice_end = timer_ticks() + quantum;
		while (vm_running(v->vm) && !v->halted && !v->wait_sipi) {
			struct vm_exit e;
			vcpu_service(v);
			if (!vm_running(v->vm) || v->wait_sipi)
				break;
			mmu_before_entry(v);
			if (!vm_running(v->vm))
				break;
			if (v->nmi_pending && !backend->event_queued(v) && !backend->nmi_blocked(v)) {
				TRACE_VCPU(TRACE_EXIT, v, "inject nmi");
				backend->inject_event(v, 2, false, false, 0);
				v->nmi_pending = false;
			}
			vlapic_before_entry(v);
			if (!vcpu_enter_begin(v))
				continue; /* something was posted: take it first */
			backend->vcpu_run(v, &e);
			vcpu_enter_end(v);
			exit_handle(v, &e);
			/* take pending host interrupts (the timer) */
			__asm__ volatile("sti; nop; cli");
			check_timeouts();
			if (timer_ticks() >= slice_end)
				break;
		}
	}
	if (c->vcpu) {
		if (backend->vcpu_put)
			backend->vcpu_put(c->vcpu);
		fpu_switch(c->vcpu, NULL);
		c->vcpu = NULL;
	}
}
