/*
 * kernel/vcpu_kick.c - posting requests to vCPUs and kicking their CPUs
 * (see vcpu_kick.h; the handshake is kernel/vcpu_sync.h).
 *
 * A kick is a fixed IPI (IPI_KICK_VECTOR) to the CPU the vCPU is placed
 * on. In guest mode the CPU exits on it (SVM: the INTR intercept; VMX:
 * external-interrupt exiting) before running another guest instruction;
 * the handler itself only acknowledges it. In the host the interrupt stays
 * pending until the scheduler opens interrupts, which also ends an idle
 * HLT, so a vCPU woken by an IPI from another vCPU runs at once.
 */
#include "kernel/vcpu_kick.h"
#include "kernel/cpu.h"
#include "kernel/lapic.h"
#include "kernel/trap.h"
#include "kernel/vm.h"
#include "kernel/x86.h"

static void kick_irq(struct trap_frame *tf)
{
	lapic_eoi();
}

void vcpu_kick_init(void)
{
	irq_register(IPI_KICK_VECTOR, kick_irq);
}

static void kick(struct vcpu *v)
{
	struct cpu *target = cpus[v->cpu];
	if (target && target != this_cpu())
		lapic_send_ipi(target->apic_id, IPI_KICK_VECTOR);
}

void vcpu_post(struct vcpu *v, u32 bits)
{
	vsync_post(&v->sync, bits);
	/* in guest mode or not: an idle CPU must wake to look at it */
	kick(v);
}

void vcpu_post_wait(struct vcpu *v, u32 bits)
{
	u64 seq = vsync_post(&v->sync, bits);
	struct cpu *c = this_cpu();
	if (!vsync_in_guest(seq) || c->vcpu == v)
		return;
	kick(v);
	while (!vsync_left(&v->sync, seq))
		cpu_relax();
}

bool vcpu_enter_begin(struct vcpu *v)
{
	return vsync_enter(&v->sync);
}

void vcpu_enter_end(struct vcpu *v)
{
	vsync_exit(&v->sync);
}

u32 vcpu_take_requests(struct vcpu *v)
{
	return vsync_take(&v->sync);
}
