/*
 * kernel/vcpu_sync.h - the handshake between a vCPU entering guest mode
 * and other CPUs that need it to do something first (pure: no hardware,
 * host-tested with threads in tests/host/shootdown_test.c).
 *
 * Each vCPU has a request word and an entry sequence number:
 *   requests  bits other CPUs set (VREQ_*): work the vCPU must do before
 *             its next entry into guest mode (flush its tagged TLB, take
 *             an INIT or SIPI, look at its local APIC...)
 *   run_seq   odd while the vCPU is in guest mode (or about to enter),
 *             even otherwise; +1 at every entry and every exit
 *
 * Entry (owner):   seq++ (odd); full fence; if requests != 0: seq++ (even),
 *                  do them, try again; else enter guest mode
 * Exit (owner):    seq++ (even)
 * Request (other): requests |= bits (atomic, a full fence); then read seq:
 *                  odd -> the vCPU may be in guest mode without having seen
 *                  the bits: kick it (an IPI makes it exit) and, when the
 *                  caller must know it left guest mode (a TLB shootdown
 *                  before freeing page tables), wait until seq changes
 *
 * Why it is enough: both sides write then read across a full fence
 * (Dekker). Either the owner's read of requests sees the new bits, or the
 * requester's read of seq sees it odd and waits for the next change, which
 * is the exit that follows the kick; after that exit the owner sees the
 * bits before it can enter again. A requester never waits for a vCPU that
 * is outside guest mode, so a vCPU spinning in the host (on the lock its
 * requester holds) can never deadlock with it.
 */
#ifndef UMBRA_KERNEL_VCPU_SYNC_H
#define UMBRA_KERNEL_VCPU_SYNC_H

#include "kernel/types.h"

#define VREQ_TLB_FLUSH BIT(0) /* flush the vCPU's tagged TLB (ASID/VPID) */
#define VREQ_EVENT BIT(1)     /* INIT/SIPI/NMI or an interrupt arrived */

struct vcpu_sync {
	u32 requests;
	u64 run_seq;
};

/* Owner: about to enter guest mode. False when requests are pending: the
 * owner is back outside guest mode and must vsync_take() them first. */
static inline bool vsync_enter(struct vcpu_sync *s)
{
	__atomic_fetch_add(&s->run_seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->requests, __ATOMIC_SEQ_CST) == 0)
		return true;
	__atomic_fetch_add(&s->run_seq, 1, __ATOMIC_SEQ_CST);
	return false;
}

/* Owner: guest mode left. */
static inline void vsync_exit(struct vcpu_sync *s)
{
	__atomic_fetch_add(&s->run_seq, 1, __ATOMIC_RELEASE);
}

/* Owner: take (and clear) the pending requests. */
static inline u32 vsync_take(struct vcpu_sync *s)
{
	return __atomic_exchange_n(&s->requests, 0, __ATOMIC_ACQ_REL);
}

/* Other CPU: post @bits. Returns the sequence seen after posting: odd
 * means the vCPU must be kicked (and waited for with vsync_left). */
static inline u64 vsync_post(struct vcpu_sync *s, u32 bits)
{
	__atomic_fetch_or(&s->requests, bits, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&s->run_seq, __ATOMIC_SEQ_CST);
}

static inline bool vsync_in_guest(u64 seq)
{
	return seq & 1;
}

/* Has the vCPU left the guest-mode stay that vsync_post saw as @seq? */
static inline bool vsync_left(struct vcpu_sync *s, u64 seq)
{
	return __atomic_load_n(&s->run_seq, __ATOMIC_ACQUIRE) != seq;
}

#endif
