/*
 * tests/fuzz/fuzz_bootinfo.h - the boot-information model shared by the
 * multiboot2 and multiboot1 targets (tests/fuzz/fuzz_bootinfo.c).
 *
 * A model records what a parse must produce, in the order the contract
 * (kernel/bootinfo.h) gives: strings in the order they are met, copied into
 * an 8 KiB pool and cut when it is full; at most 32 modules and 128 memory
 * ranges, later ones dropped with a warning; ranges clipped below 2^64 and
 * unknown types made "reserved".
 */
#ifndef UMBRA_TESTS_FUZZ_BOOTINFO_H
#define UMBRA_TESTS_FUZZ_BOOTINFO_H

#include "kernel/bootinfo.h"

struct fz_str {
	const char *s; /* into the parsed block (lives for the call) */
	size_t len;    /* after any cut */
};

struct fz_bootmodel {
	u32 pool_used;
	struct fz_str cmdline, loader;
	struct {
		u64 start, end;
		struct fz_str cmd;
	} mods[BOOT_MAX_MODULES];
	u32 nmods;
	struct mem_range mmap[BOOT_MAX_MMAP];
	u32 nmmap;
	bool has_meminfo;
	u32 mem_lower, mem_upper;
	bool has_efi32, has_efi64, has_efi_mmap, efi_bs;
	u64 efi_table;
	bool has_rsdp, rsdp_new;
	u8 rsdp_rev, rsdp[36];
	u32 warn;
};

enum { FZ_S_CMDLINE, FZ_S_LOADER };

void fz_model_init(struct fz_bootmodel *m);
/* A string for the command line or loader name (the last one wins);
 * @s NULL: absent, "" without using the pool. */
void fz_model_str(struct fz_bootmodel *m, int which, const char *s, size_t len);
/* A module (@s NULL: no command line, as above); returns its string slot,
 * or NULL when the module was dropped. */
struct fz_str *fz_model_module(struct fz_bootmodel *m, u64 start, u64 end, const char *s, size_t len);
/* Cut a string as the pool does; returns the kept length. */
struct fz_str fz_model_pool(struct fz_bootmodel *m, const char *s, size_t len);
void fz_model_range(struct fz_bootmodel *m, u64 base, u64 len, u32 type);

/* Every string pointer of @bi in its pool, terminated there; counts in
 * bounds; modules ordered. Valid after failures too. */
void fz_check_strings(const struct boot_info *bi);
/* @bi equals the model (after a successful parse). */
void fz_compare_model(const struct boot_info *bi, const struct fz_bootmodel *m);
/* Run bootinfo_sanitize_mmap on a copy of @bi and check the result. */
void fz_check_sanitize(const struct boot_info *bi);

#endif
