/*
 * kernel/sched.h - runs every VM's vCPUs on this CPU until all have ended:
 * round-robin time slices (quantum=), HLT waits, timeouts.
 */
#ifndef UMBRA_KERNEL_SCHED_H
#define UMBRA_KERNEL_SCHED_H

/* Run the VMs placed on this CPU until they have ended. */
void sched_run(void);

/* Wait (halting between timer ticks) until every VM on every CPU ended. */
void sched_wait_all(void);

#endif
