/*
 * tests/guests/ctxswitch.c - many address spaces switched round-robin
 * while their tables are edited (DESIGN.md §5.1: shadow pages survive CR3
 * switches; edits must be seen after the flush the architecture requires).
 *
 * In 32-bit paging and then PAE paging: NSPACES address spaces share the
 * identity map of the image and each maps a private window of WPAGES
 * pages at WINDOW. The guest switches CR3 among them, checks each window
 * holds its own data, rewrites PTEs to point the window at other frames
 * (with INVLPG, and in a second pass with a CR3 reload instead), and
 * checks the new mapping is used. Everything printed is derived from the
 * data read back, so bare, paging=tdp and paging=shadow must agree.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

GUEST_NAME("ctxswitch");

#define NSPACES 24
#define WPAGES 4
#define WINDOW 0x40000000u
#define NFRAMES (NSPACES * WPAGES + 8)

static u32 frames[NFRAMES];
static u32 *pd32[NSPACES];
static u64 *pdpt[NSPACES];


static u32 frame_of(int space, int page, int gen)
{
	return frames[(space * WPAGES + page + gen * 7) % NFRAMES];
}

static void fill_frames(void)
{
	for (int i = 0; i < NFRAMES; i++) {
		frames[i] = (u32)pg_alloc();
		*(volatile u32 *)frames[i] = 0xf0000000u | (u32)i; /* tag: which frame */
	}
}

static u32 tag_at(u32 va)
{
	return *(volatile u32 *)va;
}

static int frame_index(u32 pa)
{
	for (int i = 0; i < NFRAMES; i++)
		if (frames[i] == pa)
			return i;
	return -1;
}

static bool check_space(int s, int gen)
{
	bool ok = true;
	for (int p = 0; p < WPAGES; p++) {
		u32 want = 0xf0000000u | (u32)frame_index(frame_of(s, p, gen));
		ok &= tag_at(WINDOW + p * 4096) == want;
	}
	return ok;
}

static void run32(void)
{
	for (int s = 0; s < NSPACES; s++) {
		pd32[s] = pt32_new();
		pt32_identity(pd32[s], image_map_end(), PTE_P | PTE_W);
		for (int p = 0; p < WPAGES; p++)
			pt32_map4k(pd32[s], WINDOW + p * 4096, frame_of(s, p, 0), PTE_P | PTE_W);
	}
	paging_enable32(pd32[0], true);
	int good = 0;
	for (int round = 0; round < 3; round++)
		for (int s = 0; s < NSPACES; s++) {
			write_cr3((u32)pd32[s]);
			good += check_space(s, 0);
		}
	report(good == 3 * NSPACES, "32-bit: %d address spaces x 3 rounds see their own windows", NSPACES);

	/* Edit the current space's PTEs, INVLPG each, check. */
	good = 0;
	for (int s = 0; s < NSPACES; s++) {
		write_cr3((u32)pd32[s]);
		for (int p = 0; p < WPAGES; p++) {
			*pt32_leaf(pd32[s], WINDOW + p * 4096) = frame_of(s, p, 1) | PTE_P | PTE_W;
			invlpg(WINDOW + p * 4096);
		}
		good += check_space(s, 1);
	}
	report(good == NSPACES, "32-bit: PTE rewrites with INVLPG are seen");

	/* Edit other (inactive) spaces' tables, then switch to them: the CR3
	 * load must pick up the edits. */
	for (int s = 0; s < NSPACES; s++)
		for (int p = 0; p < WPAGES; p++)
			*pt32_leaf(pd32[s], WINDOW + p * 4096) = frame_of(s, p, 2) | PTE_P | PTE_W;
	good = 0;
	for (int s = 0; s < NSPACES; s++) {
		write_cr3((u32)pd32[s]);
		good += check_space(s, 2);
	}
	report(good == NSPACES, "32-bit: edits of inactive spaces are seen after CR3 loads");

	/* Write through the windows, read back through another space. */
	for (int s = 0; s < NSPACES; s++) {
		write_cr3((u32)pd32[s]);
		*(volatile u32 *)(WINDOW + 4) = 0x1000u + (u32)s;
	}
	u32 sum = 0;
	for (int i = 0; i < NFRAMES; i++)
		sum += *(volatile u32 *)(frames[i] + 4);
	printf("32-bit: checksum of window writes %#x\n", sum);
	paging_disable();
}

static void runpae(void)
{
	for (int s = 0; s < NSPACES; s++) {
		pdpt[s] = pae_new();
		pae_identity(pdpt[s], image_map_end(), PTE_P | PTE_W);
		for (int p = 0; p < WPAGES; p++)
			pae_map4k(pdpt[s], WINDOW + p * 4096, frame_of(s, p, 0), PTE_P | PTE_W);
	}
	paging_enable_pae(pdpt[0], true);
	int good = 0;
	for (int round = 0; round < 3; round++)
		for (int s = 0; s < NSPACES; s++) {
			write_cr3((u32)pdpt[s]);
			good += check_space(s, 0);
		}
	report(good == 3 * NSPACES, "PAE: %d address spaces x 3 rounds see their own windows", NSPACES);
	good = 0;
	for (int s = 0; s < NSPACES; s++) {
		write_cr3((u32)pdpt[s]);
		for (int p = 0; p < WPAGES; p++) {
			*pae_leaf(pdpt[s], WINDOW + p * 4096) = frame_of(s, p, 1) | PTE_P | PTE_W;
			invlpg(WINDOW + p * 4096);
		}
		good += check_space(s, 1);
	}
	report(good == NSPACES, "PAE: PTE rewrites with INVLPG are seen");
	for (int s = 0; s < NSPACES; s++)
		for (int p = 0; p < WPAGES; p++)
			*pae_leaf(pdpt[s], WINDOW + p * 4096) = frame_of(s, p, 2) | PTE_P | PTE_W;
	good = 0;
	for (int s = 0; s < NSPACES; s++) {
		write_cr3((u32)pdpt[s]);
		good += check_space(s, 2);
	}
	report(good == NSPACES, "PAE: edits of inactive spaces are seen after CR3 loads");
	/* unmap a window page, expect #PF on access */
	write_cr3((u32)pdpt[3]);
	*pae_leaf(pdpt[3], WINDOW) = 0;
	invlpg(WINDOW);
	u32 v;
	int vec = try_read32(WINDOW, &v);
	report(vec == 14 && last_fault.error_code == 0 && last_fault.cr2 == WINDOW,
	       "PAE: an unmapped window page faults (#PF, error 0)");
	paging_disable();
}

void guest_main(void)
{
	fill_frames();
	run32();
	runpae();
	report_summary();
}
