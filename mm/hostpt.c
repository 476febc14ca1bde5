/*
 * mm/hostpt.c - builds and owns Umbra's host page tables (see hostpt.h).
 *
 * Tables are taken below 4 GiB at boot because the boot tables only map
 * that much; once the new CR3 is loaded every frame is reachable.
 */
#include "mm/hostpt.h"
#include "kernel/bootinfo.h"
#include "kernel/cpu.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "mm/pmm.h"
#include "mm/pt.h"

extern u8 __text_start[], __text_end[], __rodata_start[], __rodata_end[], __data_start[], __data_end[];

static hpa_t host_root;
static u64 direct_bytes;
static bool use_1g;
static bool booting = true;

static int host_alloc_table(void *ctx, hpa_t *out)
{
	int r = booting ? pmm_alloc_below(0, 4 * GiB, out) : pmm_alloc(0, PMM_NORMAL, out);
	if (r)
		return r;
	memset(phys_to_virt(*out), 0, PAGE_SIZE);
	return E_OK;
}

static void host_free_table(void *ctx, hpa_t pa)
{
	pmm_free(pa, 0);
}

static const struct pt_ops host_ops = {
	.p2v = phys_to_virt,
	.alloc_table = host_alloc_table,
	.free_table = host_free_table,
};

static int map_image(u8 *start, u8 *end, u64 bits)
{
	u64 va = (u64)start;
	u64 size = ALIGN_UP((u64)end, PAGE_SIZE) - va;
	return pt_map(&pt_format_x86_4level, &host_ops, host_root, va, va - KERNEL_VMA, size, bits, 1);
}

int hostpt_init(const struct mem_range *mmap, u32 count)
{
	bool nx = (rdmsr(MSR_EFER) & EFER_NXE) != 0;
	u64 nxbit = nx ? PTE_NX : 0;
	use_1g = (cpuid(0x80000001).edx & BIT(26)) != 0; /* Page1GB */
	int maxlvl = use_1g ? 3 : 2;

	int r = host_alloc_table(NULL, &host_root);
	if (r)
		return r;

	/* Direct map: the first MiB (BIOS data, EBDA, ROM: read by ACPI
	 * scans), then every RAM-like range of the memory map. */
	u64 dm = PTE_P | PTE_RW | PTE_G | nxbit;
	r = pt_map(&pt_format_x86_4level, &host_ops, host_root, DIRECT_MAP_BASE, 0, 1 * MiB, dm, maxlvl);
	for (u32 i = 0; i < count && !r; i++) {
		const struct mem_range *m = &mmap[i];
		if (m->type != MEM_USABLE && m->type != MEM_ACPI_RECLAIM && m->type != MEM_ACPI_NVS)
			continue;
		u64 b = ALIGN_DOWN(m->base, PAGE_SIZE), e = ALIGN_UP(m->base + m->len, PAGE_SIZE);
		if (e <= b)
			continue;
		r = pt_map(&pt_format_x86_4level, &host_ops, host_root, DIRECT_MAP_BASE + b, b, e - b, dm, maxlvl);
		direct_bytes += e - b;
	}
	if (r)
		return r;

	/* The image, W^X. */
	r = map_image(__text_start, __text_end, PTE_P | PTE_G);
	if (!r)
		r = map_image(__rodata_start, __rodata_end, PTE_P | PTE_G | nxbit);
	if (!r)
		r = map_image(__data_start, __data_end, PTE_P | PTE_RW | PTE_G | nxbit);
	if (r)
		return r;

	/* Guard pages under the stacks, in the image mapping. */
	u64 guards[16];
	size_t ng = cpu_guard_pages(guards, ARRAY_SIZE(guards));
	for (size_t i = 0; i < ng; i++)
		pt_unmap(&pt_format_x86_4level, &host_ops, host_root, guards[i], PAGE_SIZE);

	write_cr3(host_root);
	write_cr4(read_cr4() | CR4_PGE);
	booting = false;
	return E_OK;
}

void *hostpt_map_mmio(hpa_t pa, u64 size)
{
	u64 b = ALIGN_DOWN(pa, PAGE_SIZE), e = ALIGN_UP(pa + size, PAGE_SIZE);
	u64 bits = PTE_P | PTE_RW | PTE_PCD | PTE_PWT | ((rdmsr(MSR_EFER) & EFER_NXE) ? PTE_NX : 0);
	if (pt_map(&pt_format_x86_4level, &host_ops, host_root, DIRECT_MAP_BASE + b, b, e - b, bits, 1))
		return NULL;
	for (u64 v = b; v < e; v += PAGE_SIZE)
		invlpg(DIRECT_MAP_BASE + v);
	return phys_to_virt(pa);
}

int hostpt_unmap_page(u64 va)
{
	int r = pt_unmap(&pt_format_x86_4level, &host_ops, host_root, ALIGN_DOWN(va, PAGE_SIZE), PAGE_SIZE);
	invlpg(va);
	return r;
}

int hostpt_map_identity(hpa_t pa, u64 size)
{
	return pt_map(&pt_format_x86_4level, &host_ops, host_root, pa, pa, size, PTE_P | PTE_RW, 1);
}

void hostpt_unmap_identity(hpa_t pa, u64 size)
{
	pt_unmap(&pt_format_x86_4level, &host_ops, host_root, pa, size);
	for (u64 o = 0; o < size; o += PAGE_SIZE)
		invlpg(pa + o);
}

u64 hostpt_direct_bytes(void)
{
	return direct_bytes;
}

bool hostpt_uses_1g(void)
{
	return use_1g;
}
