/*
 * tests/guests/hostile-selfmap.c - hostile page tables that map themselves.
 *
 * 32-bit paging: two PDEs (1023 and 1022) point at the PD itself, so the
 * PD is also a page table and a data page; PAE: a PDE of the last PD
 * points at that PD, another at the PDPT page (its PDPTEs become read-only
 * PTEs); 4-level (long_call): PML4 entry 511 points at the PML4.
 * Through the recursive mappings the guest reads the tables, then runs a
 * storm of thousands of writes to its own page tables through them (PDE
 * and PTE changes, each followed by INVLPG, a CR3 reload every 64), and
 * checks every access against the physical frames. Prints a checksum; the
 * output is the same bare and under Umbra (both paging modes).
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

GUEST_NAME("hostile-selfmap");

#define NDATA 8
#define STORM 4000
#define VA_WIN 0x40000000u	/* PDE 256 (32-bit): the storm window */
#define SELF32 0xfffff000u	/* PD through PDE 1023 -> PD -> PTE 1023 */
#define PTS32 0xffc00000u	/* page tables through PDE 1023 */
#define SELF32B 0xffbfe000u	/* PD through PDE 1022 -> PD -> PTE 1022 */
#define PTS32B 0xff800000u	/* page tables through PDE 1022 */

static u8 data[NDATA][4096] __aligned(4096);
static u32 sum = 2166136261u;

static void mix(u32 v)
{
	for (int i = 0; i < 4; i++) {
		sum ^= (v >> (8 * i)) & 0xff;
		sum *= 16777619u;
	}
}

static void check32(void)
{
	u32 *pd = pt32_new();
	pt32_identity(pd, image_map_end(), PTE_P | PTE_W);
	u32 *pt[2] = { pg_alloc(), pg_alloc() };
	pd[1023] = (u32)pd | PTE_P | PTE_W;
	pd[1022] = (u32)pd | PTE_P | PTE_W;
	pd[256] = (u32)pt[0] | PTE_P | PTE_W;
	paging_enable32(pd, true);

	report((peek32(SELF32 + 4 * 1023) & ~0x60u) == ((u32)pd | PTE_P | PTE_W),
	       "32-bit: PDE 1023 read through itself");
	report(peek32(SELF32B + 4 * 1022) == pd[1022] &&
		       peek32(SELF32B) == pd[0],
	       "32-bit: PD read through PDE 1022 equals the PD");
	report(!(pd[1023] & PTE_D), "32-bit: PDE 1023 used as a PTE, reads only: D clear");
	poke32(SELF32 + 4 * 300, (u32)data[0] | PTE_P | PTE_W | PTE_PS);
	report(pd[1023] & PTE_D, "32-bit: after a write through it: D set");
	invlpg(300u << 22);
	report((pd[300] & ~0x60u) == ((u32)data[0] | PTE_P | PTE_W | PTE_PS),
	       "32-bit: PDE written through the self map lands in the PD");
	pd[300] = 0;
	invlpg(300u << 22);

	/* The storm: rewrite PDE 256 and PTEs of its table through the
	 * recursive mappings; check every access. */
	u32 ok = 0;
	for (u32 k = 0; k < STORM; k++) {
		u32 t = (k >> 3) & 1, slot = k % 1024, d = (k * 5) % NDATA;
		u32 ptes = PTS32 + 256 * 4096; /* PT of PDE 256 */
		if ((k & 7) == 0) {
			poke32(SELF32 + 4 * 256, (u32)pt[t] | PTE_P | PTE_W);
			if (k & 64) {
				invlpg(ptes);
				invlpg(PTS32B + 256 * 4096);
			} else
				write_cr3(read_cr3());
		}
		poke32(ptes + 4 * slot, (u32)data[d] | PTE_P | PTE_W);
		invlpg(VA_WIN + slot * 4096);
		poke32(VA_WIN + slot * 4096 + 4 * (k & 1023), k ^ 0x5a5a0000u);
		u32 back = peek32((u32)data[d] + 4 * (k & 1023));
		u32 entry = pt[t][slot] & ~0x60u;
		ok += back == (k ^ 0x5a5a0000u) &&
		      entry == ((u32)data[d] | PTE_P | PTE_W);
		mix(back);
		mix(entry);
		if (slot & 1) { /* unmap again, through PDE 1022's view */
			poke32(PTS32B + 256 * 4096 + 4 * slot, 0);
			invlpg(VA_WIN + slot * 4096);
			int v = try_read32(VA_WIN + slot * 4096, NULL);
			ok += v == VEC_PF && last_fault.cr2 == VA_WIN + slot * 4096 ? 0 : 0x10000;
			mix(v);
		}
	}
	report(ok == STORM, "32-bit: %u self-map writes, every access as expected",
	       STORM);
	/* A write to the PD through the self map that removes the self map. */
	poke32(SELF32 + 4 * 1022, 0);
	invlpg(SELF32B);
	report(try_read32(SELF32B, NULL) == VEC_PF && pd[1022] == 0,
	       "32-bit: self map removed through itself: #PF");
	paging_disable();
}

#define PAE_SELF 0xfffff000u	/* PD 3 through its PDE 511 */
#define PAE_PDS 0xffc00000u	/* PDE 510 of PD 3 -> PDPT page as a PT */

static void checkpae(void)
{
	u64 *pdpt = pae_new();
	pae_identity(pdpt, image_map_end(), PTE_P | PTE_W);
	pae_map4k(pdpt, 0xc0000000u, (u32)data[0], PTE_P | PTE_W);
	u64 *pd3 = (u64 *)(u32)(pdpt[3] & ~0xfffull);
	pd3[511] = (u32)pd3 | PTE_P | PTE_W;
	pd3[510] = (u32)pdpt | PTE_P | PTE_W;
	paging_enable_pae(pdpt, true);

	report((peek32(PAE_SELF + 8 * 511) & ~0x60u) == ((u32)pd3 | PTE_P | PTE_W),
	       "PAE: PDE 511 read through itself");
	u32 v = 0;
	report(try_read32(PAE_PDS + 3 * 4096 + 8 * 511, &v) == FAULT_NONE &&
		       (v & ~0x60u) == ((u32)pd3 | PTE_P | PTE_W),
	       "PAE: PD 3 read through the PDPT-as-page-table mapping");
	report(try_write32(PAE_PDS + 3 * 4096, 0) == VEC_PF &&
		       last_fault.error_code == (PF_P | PF_W),
	       "PAE: write through a PDPTE used as a read-only PTE: #PF P|W");
	/* Walks through PDPTEs used as PTEs may set their A bit, which is
	 * reserved in a PDPTE (Intel: a later CR3 load would #GP): take the
	 * PDPT-as-page-table mapping away and clear A/D in the PDPTEs. */
	pd3[510] = 0;
	for (int i = 0; i < 4; i++)
		pdpt[i] &= ~0x60ull;
	write_cr3(read_cr3());
	u32 ok = 0;
	for (u32 k = 0; k < STORM; k++) {
		u32 slot = k % 512, d = (k * 3) % NDATA;
		/* PTE of 0xc0000000 + slot*4K, through PDE 511 of PD 3 */
		u32 pte = 0xffe00000u + 8 * slot;
		poke32(pte + 4, 0);
		poke32(pte, (u32)data[d] | PTE_P | PTE_W);
		invlpg(0xc0000000u + slot * 4096);
		poke32(0xc0000000u + slot * 4096 + 8 * (k & 511), ~k);
		u32 back = peek32((u32)data[d] + 8 * (k & 511));
		ok += back == ~k;
		mix(back);
		if ((k & 63) == 63)
			write_cr3(read_cr3());
	}
	report(ok == STORM, "PAE: %u self-map writes, every access as expected",
	       STORM);
	paging_disable();
}

/* 64-bit helpers for long_call (arg in RDI, result in RAX). */
extern char sm_read64[], sm_write64[];
asm(".pushsection .text\n.code64\n"
    "sm_read64: mov (%rdi), %rax\n ret\n"
    "sm_write64: movq $0x1234567, %rax\n mov %rax, (%rdi)\n mov (%rdi), %rax\n ret\n"
    ".code32\n.popsection\n");

static void check4(void)
{
	u64 *pml4 = pt4_new();
	pt4_identity(pml4, image_map_end(), PTE_P | PTE_W);
	pml4[511] = (u32)pml4 | PTE_P | PTE_W;
	pml4[300] = 0;
	u64 r = 0;
	const u64 self = 0xfffffffffffff000ull;
	int v = long_call((u32)pml4, sm_read64, self + 8 * 511, &r);
	report(v == FAULT_NONE && (r & ~0x60ull) == ((u32)pml4 | PTE_P | PTE_W),
	       "4-level: PML4 entry 511 read through itself");
	v = long_call((u32)pml4, sm_read64, self, &r);
	report(v == FAULT_NONE && (r & ~0x60ull) == (pml4[0] & ~0x60ull),
	       "4-level: PML4 entry 0 read through the self map");
	v = long_call((u32)pml4, sm_write64, self + 8 * 300, &r);
	report(v == FAULT_NONE && pml4[300] == 0x1234567,
	       "4-level: PML4 entry written through the self map");
	pml4[300] = 0;
	for (int i = 0; i < 64; i++) {
		v = long_call((u32)pml4, sm_read64, self - 0x1000ull * (i & 3), &r);
		mix(v);
		mix((u32)r & ~0x60u);
	}
	report(true, "4-level: 64 more walks through the self map done");
}

void guest_main(void)
{
	check32();
	checkpae();
	check4();
	printf("checksum %#x\n", sum);
}
