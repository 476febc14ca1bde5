/*
 * kernel/bootinfo.h - multiboot2 / multiboot1 boot information, parsed and
 * validated into one self-contained struct.
 *
 * Pure code: reads the loader's block (and, for multiboot1, physical memory
 * through a callback), never writes it, and never trusts it. Every string is
 * copied into boot_info.strpool because low memory is reused later; the
 * string pointers therefore point into the struct itself, so do not copy a
 * boot_info by value (pass pointers).
 */
#ifndef UMBRA_KERNEL_BOOTINFO_H
#define UMBRA_KERNEL_BOOTINFO_H

#include "kernel/types.h"

/* Memory range types (the multiboot/E820 numbering; unknown -> RESERVED). */
enum { MEM_USABLE = 1, MEM_RESERVED = 2, MEM_ACPI_RECLAIM = 3, MEM_ACPI_NVS = 4, MEM_BAD = 5 };

struct mem_range {
	u64 base, len;
	u32 type;
};

struct boot_module {
	u64 start, end; /* physical, end exclusive as given by the loader */
	const char *cmdline; /* points into boot_info's string pool */
};

#define BOOT_MAX_MMAP 128
#define BOOT_MAX_MODULES 32

/* boot_info.warn bits: the block was valid but something was dropped. */
#define BOOT_WARN_MMAP_TRUNC BIT(0)    /* more than BOOT_MAX_MMAP ranges */
#define BOOT_WARN_MODULES_TRUNC BIT(1) /* more than BOOT_MAX_MODULES modules */
#define BOOT_WARN_STR_TRUNC BIT(2)     /* string pool full, strings cut */
#define BOOT_WARN_MMAP_VERSION BIT(3)  /* mb2 mmap entry_version != 0 (used anyway) */
#define BOOT_WARN_RSDP_BAD BIT(4)      /* ACPI RSDP tag without "RSD PTR " (ignored) */

struct boot_info {
	u32 proto;                /* 1 or 2 */
	u64 info_pa, info_len;    /* physical range of the info block itself */
	const char *cmdline, *loader_name; /* into the string pool, "" when absent */
	struct mem_range mmap[BOOT_MAX_MMAP];
	u32 mmap_count;
	u32 mem_lower_kb, mem_upper_kb;
	bool has_meminfo;
	struct boot_module modules[BOOT_MAX_MODULES];
	u32 module_count;
	bool has_rsdp;
	u8 rsdp_rev;
	u8 rsdp[36];              /* copy of ACPI RSDP (v1: 20 bytes, v2: 36) */
	bool has_efi64, has_efi32, has_efi_mmap, efi_bs_not_terminated;
	u64 efi_system_table;
	u32 warn;                 /* BOOT_WARN_* */
	char strpool[8192];
	u32 strpool_used;
};

/* Parse the multiboot2 information block at @info (readable for its whole
 * total_size; physical address @info_pa) into @bi. Validates the header
 * (16 <= total_size <= 1 MiB), every tag (size >= 8 and within the block,
 * 8-byte aligned walk, end tag present, minimum size of known tags, strings
 * NUL-terminated inside their tag, module start <= end, mmap entry_size a
 * multiple of 8 and >= 24 dividing the entries exactly). Unknown tags are
 * skipped; a later mmap tag appends; tag 15 (new RSDP) wins over tag 14.
 * Returns 0, or E_INVAL with a message in @err (e.g. "multiboot2: tag 6
 * (memory map) at offset 0x48 has size 12 < 16"); on success @err holds ""
 * or a note listing the BOOT_WARN_* conditions set in bi->warn. @err may be
 * NULL. On failure @bi is partly filled but its strings stay valid. */
int mb2_parse(const void *info, u64 info_pa, struct boot_info *bi, char *err,
	      size_t errlen);

/* Maps physical memory for reading: returns a pointer to @len readable
 * bytes at @pa, or NULL if that range cannot be read. */
typedef const void *(*bootinfo_phys_fn)(u64 pa, size_t len);

/* Parse the multiboot1 (0.6.96) information structure at @info (physical
 * @info_pa, at least 72 bytes readable) into @bi, following its physical
 * pointers through @phys: command line (flag bit 2), modules (bit 3), memory
 * map (bit 6, entries with a size field that excludes itself), loader name
 * (bit 9); mem_lower/upper (bit 0). Strings are read page by page and must
 * end within 4096 bytes; more than 1024 modules or a mmap over 1 MiB is
 * refused. Same return and @err conventions as mb2_parse. info_len is set
 * to 116 (the full structure). */
int mb1_parse(const void *info, u64 info_pa, bootinfo_phys_fn phys,
	      struct boot_info *bi, char *err, size_t errlen);

/* Normalize bi->mmap: ranges sorted by base, no overlaps (where ranges
 * overlap the stronger type wins: BAD > ACPI_NVS > RESERVED/unknown >
 * ACPI_RECLAIM > USABLE), adjacent ranges of equal type merged, zero-length
 * ranges dropped, ranges wrapping past 2^64 clipped. If the result would
 * exceed BOOT_MAX_MMAP, the smallest usable ranges are dropped and
 * BOOT_WARN_MMAP_TRUNC is set. Uses a static scratch buffer: not
 * reentrant (call it once at boot, on one CPU). */
void bootinfo_sanitize_mmap(struct boot_info *bi);

/* Short name of a MEM_* type ("usable", "reserved", "ACPI reclaim",
 * "ACPI NVS", "bad"; "reserved" for unknown values). */
const char *bootinfo_mem_type_name(u32 type);

#endif
