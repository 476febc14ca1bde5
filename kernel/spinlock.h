/*
 * kernel/spinlock.h - ticket spinlocks with interrupt save/restore.
 *
 * Lock discipline: a spinlock is held for short, non-sleeping sections only;
 * spin_lock_irqsave() must be used for any lock also taken from interrupt or
 * NMI-free exception context (the console lock).
 */
#ifndef UMBRA_KERNEL_SPINLOCK_H
#define UMBRA_KERNEL_SPINLOCK_H

#include "kernel/types.h"

struct spinlock {
	volatile u32 next;
	volatile u32 owner;
};

#define SPINLOCK_INIT {0, 0}

static inline void spin_lock(struct spinlock *l)
{
	u32 me = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		__asm__ volatile("pause");
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(struct spinlock *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) != __atomic_load_n(&l->next, __ATOMIC_RELAXED);
}

static inline u64 spin_lock_irqsave(struct spinlock *l)
{
	u64 flags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, u64 flags)
{
	spin_unlock(l);
	if (flags & (1u << 9))
		__asm__ volatile("sti" ::: "memory");
}

#endif
