/*
 * tests/fuzz/fuzz_shadow.c - libFuzzer target for the shadow MMU core
 * (mm/shadow*.c) over fake guest memory, with the invariants of the
 * shadow-paging issue checked after every step.
 *
 * The world, the steps and the model are those of the host test's random
 * sequences (tests/host/test_shadow_fuzz.c, tests/host/shadow_model.c):
 * address spaces sharing tables, data pages, large pages, MMIO and a
 * self-map of every table frame, two vCPUs; steps are guest accesses,
 * guest PTE writes (emulated when the frame is write-tracked, direct
 * otherwise, or through the self-map), INVLPG, CR3 loads, CR0.WP/CR4/EFER
 * changes, paging off and on, flushes and zap-all. Here the fuzzer's bytes
 * choose them: byte 0 the guest paging format (32-bit, PAE, 4-level,
 * 5-level), byte 1 the page limit (16, 40, 160, 4000: reclaim under
 * pressure), the rest each step and its operands.
 *
 * Checked after each step (a violation aborts: libFuzzer keeps the input):
 * every translation the simulated hardware uses (TLB or walk of the shadow
 * tables) is one the guest's tables allowed since that vCPU last
 * invalidated the address (SDM §4.10), with no wider rights; #PF error
 * codes equal the reference walker's; nothing writable maps a write-tracked
 * frame; the page count stays within the limit; every 16 steps every
 * reachable shadow leaf agrees with the guest's current tables; at the end
 * every frame comes back (no leak). ASan/UBSan catch use-after-free of a
 * zapped table and every overrun.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tests/host/shadow_fake.h"

void shadow_fuzz_input(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_failures = 0;
	shadow_fuzz_input(data, size);
	if (g_failures) {
		fprintf(stderr, "INVARIANT: %d shadow MMU check(s) failed (first ones above)\n", g_failures);
		abort();
	}
	return 0;
}
