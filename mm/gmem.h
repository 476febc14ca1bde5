/*
 * mm/gmem.h - a VM's guest-physical memory: RAM from guest-physical 0 with
 * the legacy 640 KiB - 1 MiB hole, backed by host frames taken in the
 * largest aligned blocks the allocator has (1 GiB, else 2 MiB), so the
 * TDP tables can use large pages. All RAM is zeroed before the guest runs.
 *
 * Must not: hand out a host pointer for a guest-physical address outside
 * the VM's RAM. Every accessor checks bounds.
 */
#ifndef UMBRA_MM_GMEM_H
#define UMBRA_MM_GMEM_H

#include "kernel/types.h"

#define GMEM_CHUNK (2 * MiB)
#define GMEM_HOLE_START 0xa0000ULL
#define GMEM_HOLE_END 0x100000ULL

struct pt_format;

struct gmem {
	u64 size;      /* bytes of guest-physical address space covered */
	u32 nchunks;   /* size / GMEM_CHUNK */
	hpa_t *chunk;  /* host-physical base of each 2 MiB chunk */
	u8 *order;     /* allocation order of the block starting at a chunk (0 = inside a block) */
};

/* Allocate and zero @size bytes (rounded up to 2 MiB) of guest RAM.
 * E_NOMEM when the host has not enough memory (everything undone). */
int gmem_alloc(struct gmem *m, u64 size);
void gmem_free(struct gmem *m);

/* True when @gpa is guest RAM (inside the size, outside the hole). */
bool gmem_is_ram(const struct gmem *m, gpa_t gpa);

/* Host-physical address backing RAM @gpa, or 0 when @gpa is not RAM. */
hpa_t gmem_hpa(const struct gmem *m, gpa_t gpa);

/* Copy between guest RAM and Umbra. E_FAULT when any byte is not RAM
 * (nothing copied in that case). */
int gmem_read(const struct gmem *m, gpa_t gpa, void *buf, u64 len);
int gmem_write(const struct gmem *m, gpa_t gpa, const void *buf, u64 len);

/* Build a TDP table tree (NPT or EPT, as @f and @leaf_bits say) mapping
 * the RAM identity-style (gpa -> backing hpa) with the largest pages the
 * backing allows (@max_level: 2 = 2 MiB, 3 = 1 GiB). */
int gmem_map_tdp(const struct gmem *m, const struct pt_format *f, u64 leaf_bits, int max_level, hpa_t *root);

/* Free a tree built by gmem_map_tdp. */
void gmem_unmap_tdp(const struct pt_format *f, hpa_t root);

#endif
