/*
 * kernel/canary.c - see canary.h.
 */
#include "kernel/canary.h"
#include "kernel/console.h"
#include "kernel/string.h"
#include "kernel/types.h"
#include "kernel/x86.h"
#include "mm/hostpt.h"
#include "mm/kmem.h"

#define CANARY_BYTES 64

/* Initialized (non-zero) so it lands in .data, not .bss. */
static u8 canary_data[CANARY_BYTES] __attribute__((aligned(64))) = { 0xff };
static u8 *canary_heap;

/* A value the compiler cannot see through: keeps the tag words from being
 * constant-folded into a contiguous constant in .rodata. */
static inline u32 opaque(u32 v)
{
	__asm__ volatile("" : "+r"(v));
	return v;
}

/* The tag "UMBRA-CANARY-TAG" as four little-endian words, each stored
 * XOR-masked. */
static const u32 tag_masked[4] = {
	0x52424d55u ^ 0xa5c35a3cu, 0x41432d41u ^ 0x3c5aa5c3u,
	0x5952414eu ^ 0x5a3cc3a5u, 0x4741542du ^ 0xc3a53c5au,
};
static const u32 tag_mask[4] = { 0xa5c35a3cu, 0x3c5aa5c3u, 0x5a3cc3a5u, 0xc3a53c5au };

static void canary_fill(u8 *p)
{
	for (int i = 0; i < 4; i++) {
		u32 w = opaque(tag_masked[i]) ^ opaque(tag_mask[i]);
		memcpy(p + 4 * i, &w, 4);
	}
	u64 x = rdtsc() | 1;
	for (int i = 16; i < CANARY_BYTES; i += 8) {
		/* xorshift64, reseeded with fresh RDTSC bits each step */
		x ^= rdtsc() << 17;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
}

void canary_init(void)
{
	canary_fill(canary_data);
	canary_heap = kzalloc(CANARY_BYTES);
	if (canary_heap) {
		memcpy(canary_heap, canary_data, CANARY_BYTES);
		kprintf("umbra: secrecy canary at %#lx (heap copy at %#lx)\n", virt_to_phys(canary_data),
			virt_to_phys(canary_heap));
	} else {
		kprintf("umbra: secrecy canary at %#lx (no heap copy: out of memory)\n",
			virt_to_phys(canary_data));
	}
}
