/*
 * kernel/loader.c - multiboot v1 image loader (Multiboot Specification
 * 0.6.96 §3.1 header, §3.2 machine state, §3.3 boot information).
 *
 * Accepts 32-bit ELF images (PT_LOAD segments at their physical addresses)
 * and the a.out kludge (header flag 16), as QEMU -kernel does. Every field
 * of the image is untrusted: offsets and sizes are checked against the
 * module and the VM's RAM before anything is copied.
 */
#include "kernel/loader.h"
#include "kernel/fmt.h"
#include "kernel/string.h"
#include "mm/gmem.h"

#define MB1_HEADER_MAGIC 0x1badb002u
#define MB1_BOOT_MAGIC 0x2badb002u
#define MB1_SEARCH 8192

#define MBI_FLAG_MEM BIT(0)
#define MBI_FLAG_CMDLINE BIT(2)
#define MBI_FLAG_MODS BIT(3)
#define MBI_FLAG_MMAP BIT(6)
#define MBI_FLAG_LOADER BIT(9)

struct mb1_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct elf32_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version, entry, phoff, shoff, flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
	u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

struct mb1_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr, drives_length, drives_addr, config_table, boot_loader_name;
} __packed;

struct mb1_mmap_entry {
	u32 size;
	u64 addr, len;
	u32 type;
} __packed;

#define FAIL(...)                                      \
	do {                                           \
		fmt_snprintf(err, errlen, __VA_ARGS__); \
		return E_INVAL;                        \
	} while (0)

static bool overlaps_boot_data(u64 start, u64 end)
{
	return start < LOADER_DATA_END && end > LOADER_GDT_GPA;
}

static int load_segment(struct gmem *m, const u8 *img, u64 len, u64 off, u64 filesz, u64 paddr, u64 memsz,
			char *err, size_t errlen)
{
	if (filesz > memsz)
		FAIL("segment at %#lx: file size %#lx > memory size %#lx", paddr, filesz, memsz);
	if (off > len || filesz > len - off)
		FAIL("segment at %#lx: file range [%#lx, +%#lx) is outside the image (%lu bytes)", paddr, off, filesz,
		     len);
	if (paddr + memsz < paddr || !gmem_is_ram(m, paddr) || (memsz && !gmem_is_ram(m, paddr + memsz - 1)) ||
	    (paddr < GMEM_HOLE_END && paddr + memsz > GMEM_HOLE_START))
		FAIL("segment [%#lx, %#lx) is not inside the VM's RAM (mem= too small?)", paddr, paddr + memsz);
	if (overlaps_boot_data(paddr, paddr + memsz))
		FAIL("segment [%#lx, %#lx) overlaps the boot data Umbra places at [%#x, %#x)", paddr, paddr + memsz,
		     LOADER_GDT_GPA, LOADER_DATA_END);
	if (gmem_write(m, paddr, img + off, filesz))
		FAIL("segment at %#lx: cannot write guest memory", paddr);
	static const u8 zero[256];
	for (u64 z = filesz; z < memsz; z += sizeof(zero))
		gmem_write(m, paddr + z, zero, MIN(sizeof(zero), memsz - z));
	return E_OK;
}

static int load_elf(struct gmem *m, const u8 *img, u64 len, u32 *entry, char *err, size_t errlen)
{
	const struct elf32_ehdr *eh = (const void *)img;
	if (len < sizeof(*eh))
		FAIL("image too small for an ELF header");
	if (eh->ident[4] == 2)
		FAIL("64-bit ELF image: a multiboot kernel must be a 32-bit ELF (it may contain 64-bit code)");
	if (eh->ident[4] != 1 || eh->ident[5] != 1 || eh->machine != 3)
		FAIL("not a 32-bit little-endian i386 ELF image");
	if (eh->phentsize != sizeof(struct elf32_phdr) || eh->phnum == 0 || eh->phnum > 64 || eh->phoff > len ||
	    (u64)eh->phnum * sizeof(struct elf32_phdr) > len - eh->phoff)
		FAIL("bad ELF program header table (offset %#x, %u entries)", eh->phoff, eh->phnum);
	bool loaded = false;
	for (u32 i = 0; i < eh->phnum; i++) {
		struct elf32_phdr ph;
		memcpy(&ph, img + eh->phoff + i * sizeof(ph), sizeof(ph));
		if (ph.type != 1 /* PT_LOAD */ || ph.memsz == 0)
			continue;
		int r = load_segment(m, img, len, ph.offset, ph.filesz, ph.paddr, ph.memsz, err, errlen);
		if (r)
			return r;
		loaded = true;
	}
	if (!loaded)
		FAIL("ELF image has no loadable segment");
	*entry = eh->entry;
	return E_OK;
}

static int load_aout(struct gmem *m, const u8 *img, u64 len, const struct mb1_header *h, u64 hoff, u32 *entry,
		     char *err, size_t errlen)
{
	if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > hoff)
		FAIL("a.out kludge: header_addr/load_addr do not match the header's position");
	u64 file_off = hoff - (h->header_addr - h->load_addr);
	u64 load_end = h->load_end_addr ? h->load_end_addr : h->load_addr + (len - file_off);
	u64 bss_end = h->bss_end_addr ? h->bss_end_addr : load_end;
	if (load_end < h->load_addr || bss_end < load_end)
		FAIL("a.out kludge: load_end_addr/bss_end_addr out of order");
	int r = load_segment(m, img, len, file_off, load_end - h->load_addr, h->load_addr, bss_end - h->load_addr,
			     err, errlen);
	if (r)
		return r;
	*entry = h->entry_addr;
	return E_OK;
}

static void write_mbi(struct gmem *m, const char *cmdline)
{
	u64 mem = m->size;
	struct mb1_mmap_entry mmap[4] = {
		{20, 0, 0x9fc00, 1},
		{20, 0x9fc00, 0x400, 2},
		{20, 0xf0000, 0x10000, 2},
		{20, GMEM_HOLE_END, mem - GMEM_HOLE_END, 1},
	};
	static const char loader_name[] = "Umbra";
	u32 mmap_gpa = LOADER_MBI_GPA + 0x100;
	u32 name_gpa = mmap_gpa + sizeof(mmap);
	u32 cmd_gpa = name_gpa + sizeof(loader_name);
	u64 cmd_max = LOADER_DATA_END - cmd_gpa - 1;
	u64 cmd_len = MIN(strlen(cmdline), cmd_max);
	struct mb1_info mbi = {
		.flags = MBI_FLAG_MEM | MBI_FLAG_CMDLINE | MBI_FLAG_MODS | MBI_FLAG_MMAP | MBI_FLAG_LOADER,
		.mem_lower = 639,
		.mem_upper = (u32)((mem - GMEM_HOLE_END) / KiB),
		.cmdline = cmd_gpa,
		.mods_count = 0,
		.mods_addr = 0,
		.mmap_length = sizeof(mmap),
		.mmap_addr = mmap_gpa,
		.boot_loader_name = name_gpa,
	};
	gmem_write(m, LOADER_MBI_GPA, &mbi, sizeof(mbi));
	gmem_write(m, mmap_gpa, mmap, sizeof(mmap));
	gmem_write(m, name_gpa, loader_name, sizeof(loader_name));
	gmem_write(m, cmd_gpa, cmdline, cmd_len);
	u8 nul = 0;
	gmem_write(m, cmd_gpa + cmd_len, &nul, 1);

	/* A GDT matching the selectors we load, so a guest that reloads a
	 * segment register before its own lgdt keeps working. */
	static const u64 gdt[4] = {0, 0, 0x00cf9b000000ffffULL, 0x00cf93000000ffffULL};
	gmem_write(m, LOADER_GDT_GPA, gdt, sizeof(gdt));
}

static void set_seg(struct seg_desc *d, u16 sel, u16 attr, u32 limit, u64 base)
{
	d->sel = sel;
	d->attr = attr;
	d->limit = limit;
	d->base = base;
}

int loader_load_multiboot(struct gmem *m, const u8 *img, u64 len, const char *cmdline,
			  struct vcpu_boot_state *bs, char *err, size_t errlen)
{
	const struct mb1_header *h = NULL;
	u64 hoff = 0;
	for (u64 off = 0; off + sizeof(*h) <= MIN(len, (u64)MB1_SEARCH + sizeof(*h)); off += 4) {
		const struct mb1_header *c = (const void *)(img + off);
		if (c->magic == MB1_HEADER_MAGIC && (u32)(c->magic + c->flags + c->checksum) == 0) {
			h = c;
			hoff = off;
			break;
		}
	}
	if (!h)
		FAIL("no multiboot header (magic 0x1badb002 with a valid checksum) in the first 8 KiB");
	/* Bits 0-15 are requirements; we honour 0 (page-aligned modules: we
	 * pass none) and 1 (memory information); 2 (video mode) is ignored
	 * as QEMU does. */
	if (h->flags & 0xfff8)
		FAIL("multiboot header requires features Umbra lacks (flags %#x)", h->flags);
	u32 entry;
	int r = (h->flags & BIT(16)) ? load_aout(m, img, len, h, hoff, &entry, err, errlen)
				     : load_elf(m, img, len, &entry, err, errlen);
	if (r)
		return r;
	write_mbi(m, cmdline);

	memset(bs, 0, sizeof(*bs));
	bs->cr0 = 0x11; /* PE | ET */
	bs->regs.rip = entry;
	bs->regs.rflags = 0x2;
	bs->regs.gpr[GPR_RAX] = MB1_BOOT_MAGIC;
	bs->regs.gpr[GPR_RBX] = LOADER_MBI_GPA;
	/* attributes in the VMCB layout: type, S, DPL, P, AVL, L, D/B, G */
	set_seg(&bs->seg[SEG_CS], 0x10, 0xc9b, 0xffffffff, 0);
	for (int s = SEG_ES; s <= SEG_GS; s++)
		if (s != SEG_CS)
			set_seg(&bs->seg[s], 0x18, 0xc93, 0xffffffff, 0);
	set_seg(&bs->seg[SEG_LDTR], 0, 0x82, 0xffff, 0);
	set_seg(&bs->seg[SEG_TR], 0, 0x8b, 0xffff, 0);
	set_seg(&bs->seg[SEG_GDTR], 0, 0, 0x1f, LOADER_GDT_GPA);
	set_seg(&bs->seg[SEG_IDTR], 0, 0, 0x3ff, 0);
	return E_OK;
}
