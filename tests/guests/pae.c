/*
 * tests/guests/pae.c - PAE paging with 4 KiB and 2 MiB pages and NX
 * (EFER.NXE): aliases, A/D bits, #PF error codes including I/D for fetches
 * from NX pages at the PTE and PDE level, reserved-bit faults once NXE is
 * off, INVLPG, and PDPTEs reloaded by a CR3 write.
 *
 * Checks are architectural (Intel SDM vol. 3 ch. 4, AMD APM vol. 2 ch. 5).
 * One QEMU TCG deviation is tolerated bare only: a reserved-bit #PF lacks
 * the P bit in its error code.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

GUEST_NAME("pae");

#define VA_ALIAS 0x40000000u   /* 4K -> page a, RW */
#define VA_AD 0x40001000u      /* 4K -> page b, RW, for A/D */
#define VA_NP 0x40002000u      /* PTE not present */
#define VA_RO 0x40003000u      /* 4K -> page a, read-only */
#define VA_SUP 0x40004000u     /* 4K -> page b, RW, supervisor */
#define VA_URO 0x40005000u     /* 4K -> page c, read-only, user */
#define VA_FLIP 0x40007000u    /* remapped between a and b */
#define VA_LATE 0x40008000u    /* made present later, without INVLPG */
#define VA_UCODE 0x40009000u   /* code page, user, executable */
#define VA_NX 0x4000a000u      /* code page, supervisor, NX */
#define VA_X 0x4000b000u       /* code page, supervisor, executable */
#define VA_UNX 0x4000c000u     /* code page, user, NX */
#define VA_RSVD 0x4000d000u    /* code page with bit 63, used when NXE=0 */
#define VA_PDE_S 0x40400000u   /* PDE supervisor, PTE user */
#define VA_PDE_NX 0x40600000u  /* PDE NX, PTE executable */
#define VA_BIG 0x80000000u     /* 2M -> physical 0, RW */
#define VA_BIG_AD 0x80200000u  /* 2M -> physical 0, RW, for A/D */
#define VA_BIG_NX 0x80400000u  /* 2M -> physical 0, NX */
#define VA_LATE_PDPTE 0xc0000000u /* PDPTE 3: filled in later */

static u64 *pdpt;
static u8 *page_a, *page_b, *page_c, *code;

static void build(void)
{
	pdpt = pae_new();
	page_a = pg_alloc();
	page_b = pg_alloc();
	page_c = pg_alloc();
	code = pg_alloc();
	code[0] = 0xc3; /* ret */
	u32 a = (u32)page_a, b = (u32)page_b, c = (u32)page_c, x = (u32)code;

	pae_identity(pdpt, image_map_end(), PTE_P | PTE_W | PTE_U);
	pae_map4k(pdpt, VA_ALIAS, a, PTE_P | PTE_W);
	pae_map4k(pdpt, VA_AD, b, PTE_P | PTE_W);
	pae_map4k(pdpt, VA_NP, x, 0);
	pae_map4k(pdpt, VA_RO, a, PTE_P);
	pae_map4k(pdpt, VA_SUP, b, PTE_P | PTE_W);
	pae_map4k(pdpt, VA_URO, c, PTE_P | PTE_U);
	pae_map4k(pdpt, VA_FLIP, a, PTE_P | PTE_W);
	pae_map4k(pdpt, VA_LATE, b, 0);
	pae_map4k(pdpt, VA_UCODE, x, PTE_P | PTE_U);
	pae_map4k(pdpt, VA_NX, x, PTE_P | PTE_W | PTE_NX);
	pae_map4k(pdpt, VA_X, x, PTE_P);
	pae_map4k(pdpt, VA_UNX, x, PTE_P | PTE_U | PTE_NX);
	pae_map4k(pdpt, VA_RSVD, x, PTE_P | PTE_NX);
	pae_map4k(pdpt, VA_PDE_S, c, PTE_P | PTE_W | PTE_U);
	pae_map4k(pdpt, VA_PDE_NX, x, PTE_P | PTE_U);
	pae_map2m(pdpt, VA_BIG, 0, PTE_P | PTE_W);
	pae_map2m(pdpt, VA_BIG_AD, 0, PTE_P | PTE_W);
	pae_map2m(pdpt, VA_BIG_NX, 0, PTE_P | PTE_W | PTE_NX);

	/* PDE-level permissions: clear U on one PDE, set NX on another. */
	u64 *pd1 = (u64 *)(u32)(pdpt[1] & ~0xfffull);
	pd1[(VA_PDE_S >> 21) & 511] &= ~PTE_U;
	pd1[(VA_PDE_NX >> 21) & 511] |= PTE_NX;
}

static void check_aliases(void)
{
	poke32(VA_ALIAS, 0x11111111);
	report(peek32((u32)page_a) == 0x11111111,
	       "write through a 4K alias lands in the physical page");
	report(peek32(VA_BIG + (u32)page_a) == 0x11111111,
	       "2M page reads the same physical page");
	poke32(VA_BIG + (u32)page_a + 8, 0x33333333);
	report(peek32(VA_ALIAS + 8) == 0x33333333,
	       "write through the 2M page seen through the 4K alias");
	report(peek32(VA_BIG_NX + (u32)page_a + 8) == 0x33333333,
	       "NX 2M page is readable");
}

static void check_ad(void)
{
	volatile u64 *pte = pae_leaf(pdpt, VA_AD);
	u64 *pd1 = (u64 *)(u32)(pdpt[1] & ~0xfffull);
	volatile u64 *pde = &pd1[(VA_AD >> 21) & 511];
	*pte &= ~(PTE_A | PTE_D);
	*pde &= ~PTE_A;
	invlpg(VA_AD);
	(void)peek32(VA_AD);
	report((*pte & (PTE_A | PTE_D)) == PTE_A,
	       "4K PTE after a read: A set, D clear");
	report(*pde & PTE_A, "PDE above it: A set");
	poke32(VA_AD, 1);
	report((*pte & (PTE_A | PTE_D)) == (PTE_A | PTE_D),
	       "4K PTE after a write: A and D set");

	volatile u64 *big = pae_leaf(pdpt, VA_BIG_AD);
	*big &= ~(PTE_A | PTE_D);
	invlpg(VA_BIG_AD);
	(void)peek32(VA_BIG_AD + (u32)page_c);
	report((*big & (PTE_A | PTE_D)) == PTE_A,
	       "2M PDE after a read: A set, D clear");
	poke32(VA_BIG_AD + (u32)page_c, 2);
	report((*big & (PTE_A | PTE_D)) == (PTE_A | PTE_D),
	       "2M PDE after a write: A and D set");
}

#define UW (PF_U | PF_W)
#define ID PF_ID

static const struct access_case cases[] = {
	{ "ring 0 read, PTE not present", RING0, ACC_READ, VA_NP, 0 },
	{ "ring 0 write, PTE not present", RING0, ACC_WRITE, VA_NP, PF_W },
	{ "ring 0 exec, PTE not present", RING0, ACC_EXEC, VA_NP, ID },
	{ "ring 0 read, PDPTE not present", RING0, ACC_READ, VA_LATE_PDPTE, 0 },
	{ "ring 0 write, read-only, WP=1", RING0, ACC_WRITE, VA_RO, PF_P | PF_W },
	{ "ring 3 read, supervisor page", RING3, ACC_READ, VA_SUP, PF_P | PF_U },
	{ "ring 3 write, supervisor page", RING3, ACC_WRITE, VA_SUP, PF_P | UW },
	{ "ring 3 exec, supervisor page", RING3, ACC_EXEC, VA_X, PF_P | PF_U | ID },
	{ "ring 3 write, user read-only", RING3, ACC_WRITE, VA_URO, PF_P | UW },
	{ "ring 3 read, PDE supervisor, PTE user", RING3, ACC_READ, VA_PDE_S,
	  PF_P | PF_U },
	{ "ring 0 exec, executable page", RING0, ACC_EXEC, VA_X, NOFAULT },
	{ "ring 0 exec, NX page", RING0, ACC_EXEC, VA_NX, PF_P | ID },
	{ "ring 0 read, NX page", RING0, ACC_READ, VA_NX, NOFAULT },
	{ "ring 0 write, NX page", RING0, ACC_WRITE, VA_NX + 64, NOFAULT },
	{ "ring 3 exec, user page", RING3, ACC_EXEC, VA_UCODE, NOFAULT },
	{ "ring 3 exec, user NX page", RING3, ACC_EXEC, VA_UNX, PF_P | PF_U | ID },
	{ "ring 3 read, user NX page", RING3, ACC_READ, VA_UNX, NOFAULT },
	{ "ring 3 exec, PDE NX, PTE executable", RING3, ACC_EXEC, VA_PDE_NX,
	  PF_P | PF_U | ID },
};

static void check_faults(void)
{
	report_access_cases(cases, ARRAY_SIZE(cases));
	report_access("ring 0 exec, NX 2M page", RING0, ACC_EXEC,
		      VA_BIG_NX + (u32)code, PF_P | ID);
	report_access("ring 0 exec, same code through an executable 2M page",
		      RING0, ACC_EXEC, VA_BIG + (u32)code, NOFAULT);
}

/* With EFER.NXE=0, bit 63 of a present entry is reserved. */
static void check_reserved(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_NXE);
	write_cr3(read_cr3());
	int v = try_read32(VA_RSVD, NULL);
	u32 err = last_fault.error_code;
	/* QEMU TCG reports RSVD without P (deviation). */
	bool ok = v == VEC_PF && last_fault.cr2 == VA_RSVD &&
		  (err == (PF_P | PF_RSVD) || (on_qemu_tcg() && err == PF_RSVD));
	report(ok, "NXE=0, read with bit 63 set: #PF error %#x (P|RSVD), CR2",
	       (u32)(PF_P | PF_RSVD));
	if (!ok)
		printf("  got vector %d error %#x cr2 %#x\n", v, err, last_fault.cr2);
	report_access("NXE=0, exec of a page without bit 63: I/D not reported",
		      RING0, ACC_EXEC, VA_NP, 0);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
}

static void check_tlb(void)
{
	poke32((u32)page_a + 64, 0xaaaa0001);
	poke32((u32)page_b + 64, 0xbbbb0001);
	poke32((u32)page_c + 64, 0xcccc0001);
	volatile u64 *pte = pae_leaf(pdpt, VA_FLIP);
	report(peek32(VA_FLIP + 64) == 0xaaaa0001, "VA maps page a");
	*pte = (u32)page_b | PTE_P | PTE_W;
	invlpg(VA_FLIP);
	report(peek32(VA_FLIP + 64) == 0xbbbb0001,
	       "after PTE change + INVLPG: page b");
	*pte = (u32)page_a | PTE_P | PTE_W;
	write_cr3(read_cr3());
	report(peek32(VA_FLIP + 64) == 0xaaaa0001,
	       "after PTE change + CR3 reload: page a");

	pte = pae_leaf(pdpt, VA_LATE);
	report(try_read32(VA_LATE + 64, NULL) == VEC_PF, "VA not present: #PF");
	*pte |= PTE_P;
	u32 v = 0;
	report(try_read32(VA_LATE + 64, &v) == FAULT_NONE && v == 0xbbbb0001,
	       "made present without INVLPG: no fault, page b");

	/* A new PDPTE is used after the CR3 write that loads it. */
	u64 *pd3 = pg_alloc();
	u64 *pt3 = pg_alloc();
	pt3[0] = (u32)page_c | PTE_P | PTE_W;
	pd3[0] = (u32)pt3 | PTE_P | PTE_W;
	pdpt[3] = (u32)pd3 | PTE_P;
	write_cr3(read_cr3());
	v = 0;
	report(try_read32(VA_LATE_PDPTE + 64, &v) == FAULT_NONE && v == 0xcccc0001,
	       "PDPTE filled in + CR3 reload: mapping visible");
}

void guest_main(void)
{
	build();
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	paging_enable_pae(pdpt, true);
	report((read_cr0() & (CR0_PG | CR0_WP)) == (CR0_PG | CR0_WP) &&
		       (read_cr4() & CR4_PAE) && (rdmsr(MSR_EFER) & EFER_NXE),
	       "PAE paging on: CR0.PG, CR0.WP, CR4.PAE, EFER.NXE");
	check_aliases();
	check_ad();
	check_faults();
	check_tlb();
	check_reserved();
	paging_disable();
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_NXE);
	report(peek32((u32)page_a + 64) == 0xaaaa0001 && rdmsr(MSR_EFER) == 0,
	       "paging off again, EFER back to 0");
}
