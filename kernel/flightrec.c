/*
 * kernel/flightrec.c - the per-CPU flight recorder of the last exits.
 *
 * Recording is a few stores per exit into this CPU's ring; nothing is
 * printed until a VM is killed or Umbra panics. An entry names its VM by
 * number (looked up in vms[] only when printing) so that printing from a
 * panic touches as little state as possible.
 */
#include "kernel/flightrec.h"
#include "kernel/backend.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/vm.h"

struct fr_entry {
	u64 tsc;
	u64 raw;
	u64 rip;
	u64 info1, info2;
	u16 vm;
	u16 vcpu;
	u16 reason;
};

struct fr_ring {
	u64 count; /* exits recorded on this CPU so far */
	struct fr_entry e[FLIGHTREC_N];
};

static struct fr_ring rings[MAX_CPUS];

void flightrec_record(const struct vcpu *v, const struct vm_exit *e, u64 tsc)
{
	struct fr_ring *r = &rings[this_cpu()->id];
	struct fr_entry *f = &r->e[r->count % FLIGHTREC_N];
	f->tsc = tsc;
	f->raw = e->raw;
	f->rip = v->regs.rip;
	f->info1 = e->info1;
	f->info2 = e->info2;
	f->vm = (u16)v->vm->id;
	f->vcpu = (u16)v->id;
	f->reason = (u16)e->reason;
	r->count++;
}

void flightrec_print(u32 cpu)
{
	if (cpu >= MAX_CPUS)
		return;
	const struct fr_ring *r = &rings[cpu];
	u64 n = r->count < FLIGHTREC_N ? r->count : FLIGHTREC_N;
	kprintf("FR cpu=%u exits=%lu shown=%lu (oldest first)\n", cpu, r->count, n);
	for (u64 seq = r->count - n; seq < r->count; seq++) {
		const struct fr_entry *f = &r->e[seq % FLIGHTREC_N];
		const char *vm = f->vm < nr_vms && vms[f->vm] ? vms[f->vm]->cfg.name : "?";
		const char *why = f->reason < EXIT_NREASONS ? exit_reason_names[f->reason] : "?";
		kprintf("FR cpu=%u seq=%lu tsc=%lu vm=%s vcpu=%u exit=%s raw=%#lx rip=%#lx info1=%#lx info2=%#lx\n",
			cpu, seq, f->tsc, vm, f->vcpu, why, f->raw, f->rip, f->info1, f->info2);
	}
}

void flightrec_vm_killed(struct vm *vm)
{
	struct cpu *c = this_cpu();
	struct vcpu *v = c->vcpu && c->vcpu->vm == vm ? c->vcpu : vm->nr_vcpus ? vm->vcpu[0] : NULL;
	flightrec_print(c->id);
	if (backend && v && v->arch)
		backend->dump(v);
}

/* Panic: every CPU's recorder that saw exits, then the state of the vCPU
 * loaded on the panicking CPU. */
static void flightrec_panic_dump(void)
{
	struct cpu *c = this_cpu();
	for (u32 i = 0; i < MAX_CPUS; i++)
		if (rings[i].count || i == c->id)
			flightrec_print(i);
	if (backend && c->vcpu && c->vcpu->arch)
		backend->dump(c->vcpu);
}

void flightrec_init(void)
{
	panic_add_dumper(flightrec_panic_dump);
}
