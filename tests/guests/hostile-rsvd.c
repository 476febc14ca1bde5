/*
 * tests/guests/hostile-rsvd.c - reserved bits set at every paging level.
 *
 * 32-bit paging: bit 21 of a 4 MiB PDE (reserved with PSE) -> #PF P|RSVD.
 * PAE: bit 62 (above any MAXPHYADDR) in a PDE, in a PTE, bits 20:13 of a
 * 2 MiB PDE -> #PF P|RSVD (with W for a write); bit 62 in a PDPTE: Intel
 * loads PDPTEs on the MOV to CR3 and raises #GP(0) there; AMD and QEMU TCG
 * use them at the walk and raise #PF P|RSVD: either is accepted, the line
 * printed is the same. 4-level (long_call): PS in a PML4 entry and
 * bit MAXPHYADDR in a PML4 entry, PDPTE, PDE and PTE -> #PF P|RSVD.
 * A reserved-bit #PF without P is accepted bare on QEMU TCG only
 * (tests/guests/README.md). Output is the same bare and under Umbra.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

GUEST_NAME("hostile-rsvd");

#define R62 (1ull << 62)
#define VA 0x40000000u

static u8 page[4096] __aligned(4096);

static bool rsvd_err(u32 err, u32 extra)
{
	return err == (PF_P | PF_RSVD | extra) ||
	       (on_qemu_tcg() && err == (PF_RSVD | extra));
}

static void expect_rsvd(int v, u32 va, u32 extra, const char *what)
{
	bool ok = v == VEC_PF && last_fault.cr2 == va &&
		  rsvd_err(last_fault.error_code, extra);
	report(ok, "%s: #PF P|RSVD%s", what, extra ? "|W" : "");
	if (!ok)
		printf("  got vector %d error %#x cr2 %#x\n", v,
		       last_fault.error_code, last_fault.cr2);
}

static void check32(void)
{
	u32 *pd = pt32_new();
	pt32_identity(pd, image_map_end(), PTE_P | PTE_W);
	pt32_map4m(pd, VA, 0, PTE_P | PTE_W | (1u << 21));
	paging_enable32(pd, true);
	expect_rsvd(try_read32(VA + 0x1000, NULL), VA + 0x1000, 0,
		    "32-bit read, bit 21 in a 4M PDE");
	expect_rsvd(try_write32(VA + 0x2000, 1), VA + 0x2000, PF_W,
		    "32-bit write, bit 21 in a 4M PDE");
	pd[VA >> 22] &= ~(1u << 21);
	invlpg(VA + 0x1000);
	report(try_read32(VA + 0x1000, NULL) == FAULT_NONE,
	       "32-bit: reserved bit cleared, no fault");
	paging_disable();
}

struct cr3_arg { u32 cr3; };
static void load_cr3(void *a) { write_cr3(((struct cr3_arg *)a)->cr3); }

static void checkpae(void)
{
	u64 *pdpt = pae_new();
	pae_identity(pdpt, image_map_end(), PTE_P | PTE_W);
	pae_map4k(pdpt, VA, (u32)page, PTE_P | PTE_W);
	pae_map4k(pdpt, VA + 0x200000, (u32)page, PTE_P | PTE_W | R62);
	pae_map2m(pdpt, VA + 0x400000, 0, PTE_P | PTE_W | (1ull << 13));
	pae_map4k(pdpt, VA + 0x600000, (u32)page, PTE_P | PTE_W);
	u64 *pd1 = (u64 *)(u32)(pdpt[1] & ~0xfffull);
	pd1[3] |= R62; /* the PDE above VA + 0x600000 */
	paging_enable_pae(pdpt, true);

	report(try_read32(VA, NULL) == FAULT_NONE, "PAE: clean mapping, no fault");
	expect_rsvd(try_read32(VA + 0x200000, NULL), VA + 0x200000, 0,
		    "PAE read, bit 62 in a PTE");
	expect_rsvd(try_write32(VA + 0x200000, 1), VA + 0x200000, PF_W,
		    "PAE write, bit 62 in a PTE");
	expect_rsvd(try_read32(VA + 0x400000, NULL), VA + 0x400000, 0,
		    "PAE read, bit 13 in a 2M PDE");
	expect_rsvd(try_read32(VA + 0x600000, NULL), VA + 0x600000, 0,
		    "PAE read, bit 62 in a PDE");

	/* A PDPTE with a reserved bit: #GP at the CR3 load, or #PF at use. */
	u64 *pd2 = pg_alloc();
	pd2[0] = 0 | PTE_P | PTE_W | PTE_PS;
	pdpt[2] = (u32)pd2 | PTE_P | R62;
	struct cr3_arg a = { read_cr3() };
	int v = fault_try(load_cr3, &a);
	bool ok;
	if (v == VEC_GP) {
		ok = last_fault.error_code == 0;
	} else {
		v = try_read32(0x80000000u, NULL);
		ok = v == VEC_PF && last_fault.cr2 == 0x80000000u &&
		     rsvd_err(last_fault.error_code, 0);
	}
	report(ok, "PAE: bit 62 in a PDPTE: #GP(0) at the CR3 load or #PF P|RSVD at use");
	if (!ok)
		printf("  got vector %d error %#x\n", v, last_fault.error_code);
	pdpt[2] = (u32)pd2 | PTE_P;
	write_cr3(read_cr3());
	report(try_read32(0x80000000u, NULL) == FAULT_NONE,
	       "PAE: PDPTE fixed + CR3 reload, no fault");
	pdpt[2] = 0;
	write_cr3(read_cr3());
	paging_disable();
}

extern char rs_read64[];
asm(".pushsection .text\n.code64\n"
    "rs_read64: mov (%rdi), %rax\n ret\n"
    ".code32\n.popsection\n");

static void check4(void)
{
	static const struct { int level; u64 bits; const char *what; } c[] = {
		{ 4, PTE_PS, "4-level read, PS in a PML4 entry" },
		{ 4, 0, "4-level read, bit MAXPHYADDR in a PML4 entry" },
		{ 3, 0, "4-level read, bit MAXPHYADDR in a PDPTE" },
		{ 2, 0, "4-level read, bit MAXPHYADDR in a PDE" },
		{ 1, 0, "4-level read, bit MAXPHYADDR in a PTE" },
	};
	/* Bits 62:52 are ignored in 4-level entries; bits 51:MAXPHYADDR
	 * are reserved. */
	u32 maxphy = cpuid(0x80000008, 0).a & 0xff;
	if (maxphy >= 52) {
		report_skip("4-level reserved address bits: MAXPHYADDR is 52");
		return;
	}
	const u64 va = 0x8000000000ull; /* PML4 entry 1 */
	for (unsigned i = 0; i < ARRAY_SIZE(c); i++) {
		u64 *pml4 = pt4_new();
		pt4_identity(pml4, image_map_end(), PTE_P | PTE_W);
		pt4_map4k(pml4, va, (u32)page, PTE_P | PTE_W);
		u64 *e = &pml4[1];
		for (int l = 4; l > c[i].level; l--)
			e = &((u64 *)(u32)(*e & 0xfffff000ull))[0];
		*e |= c[i].bits ? c[i].bits : 1ull << maxphy;
		u64 r;
		int v = long_call((u32)pml4, rs_read64, va, &r);
		bool ok = v == VEC_PF && last_fault.cr2 == (u32)va &&
			  rsvd_err(last_fault.error_code, 0);
		report(ok, "%s: #PF P|RSVD", c[i].what);
		if (!ok)
			printf("  got vector %d error %#x cr2 %#x\n", v,
			       last_fault.error_code, last_fault.cr2);
	}
}

void guest_main(void)
{
	check32();
	checkpae();
	check4();
}
