/*
 * kernel/flightrec.h - the flight recorder: a per-CPU ring of the last
 * FLIGHTREC_N exits (DESIGN.md §7), always on. Printed, oldest first, on a
 * panic and when a VM is killed, with the backend's VMCB/VMCS dump; the
 * line format is in docs/trace.md ("FR cpu=N ...").
 */
#ifndef UMBRA_KERNEL_FLIGHTREC_H
#define UMBRA_KERNEL_FLIGHTREC_H

#include "kernel/types.h"

#define FLIGHTREC_N 32

struct vcpu;
struct vm;
struct vm_exit;

/* Register the panic dumper. Once, at boot. */
void flightrec_init(void);

/* Record exit @e of @v, taken at host TSC @tsc (kernel/exit.c). */
void flightrec_record(const struct vcpu *v, const struct vm_exit *e, u64 tsc);

/* Print CPU @cpu's recorder, oldest exit first. */
void flightrec_print(u32 cpu);

/* @vm was killed on this CPU: print this CPU's recorder and the backend
 * state of the VM's vCPU (the one loaded here if it is @vm's). */
void flightrec_vm_killed(struct vm *vm);

#endif
