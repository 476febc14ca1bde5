/*
 * kernel/sched.h - runs every VM's vCPUs on this CPU until all have ended:
 * round-robin time slices (quantum=), HLT waits, timeouts.
 */
#ifndef UMBRA_KERNEL_SCHED_H
#define UMBRA_KERNEL_SCHED_H

/* Run until every VM has ended. */
void sched_run(void);

#endif
