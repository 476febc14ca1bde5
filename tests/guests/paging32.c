/*
 * tests/guests/paging32.c - 2-level (32-bit) paging with 4 KiB and 4 MiB
 * pages: aliases, A/D bits, #PF error codes and CR2 for not-present,
 * read-only (CR0.WP both ways) and user/supervisor accesses from ring 0 and
 * ring 3, combined PDE/PTE permissions, INVLPG and CR3 reloads, a
 * recursive page-directory mapping and two address spaces.
 *
 * Every check is architectural (Intel SDM vol. 3 ch. 4, AMD APM vol. 2
 * ch. 5), so the output is the same bare and under Umbra with shadow or
 * two-dimensional paging.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

GUEST_NAME("paging32");

/* Test virtual addresses, all outside the identity-mapped image. */
#define VA_ALIAS 0x40000000u   /* 4K -> page a, RW */
#define VA_AD 0x40001000u      /* 4K -> page b, RW, for A/D */
#define VA_NP 0x40002000u      /* PTE not present */
#define VA_RO 0x40003000u      /* 4K -> page a, read-only, supervisor */
#define VA_SUP 0x40004000u     /* 4K -> page b, RW, supervisor */
#define VA_URO 0x40005000u     /* 4K -> page c, read-only, user */
#define VA_URW 0x40006000u     /* 4K -> page c, RW, user */
#define VA_FLIP 0x40007000u    /* remapped between a and b */
#define VA_LATE 0x40008000u    /* made present later, without INVLPG */
#define VA_UCODE 0x40009000u   /* user RX page with a RET */
#define VA_PDE_S 0x40400000u   /* PDE supervisor, PTE user */
#define VA_PDE_RO 0x40800000u  /* PDE read-only, PTE writable */
#define VA_BIG 0x80000000u     /* 4M -> physical 0, RW */
#define VA_BIG_AD 0x80400000u  /* 4M -> physical 0, RW, for A/D */
#define VA_NO_PDE 0xc0000000u  /* PDE not present */
#define VA_RECURSIVE 0xffc00000u /* PD slot 1023 points at the PD itself */

static u32 *pd;
static u8 *page_a, *page_b, *page_c;

static void set_wp(bool on)
{
	u32 cr0 = read_cr0();
	write_cr0(on ? cr0 | (u32)CR0_WP : cr0 & ~(u32)CR0_WP);
}

static void build(void)
{
	pd = pt32_new();
	page_a = pg_alloc();
	page_b = pg_alloc();
	page_c = pg_alloc();
	u32 a = (u32)page_a, b = (u32)page_b, c = (u32)page_c;
	u8 *ucode = pg_alloc();
	ucode[0] = 0xc3; /* ret */

	/* The image (code, stacks, tables) stays identity-mapped and
	 * user-accessible so ring-3 code can run from it. */
	pt32_identity(pd, image_map_end(), PTE_P | PTE_W | PTE_U);
	pt32_map4k(pd, VA_ALIAS, a, PTE_P | PTE_W);
	pt32_map4k(pd, VA_AD, b, PTE_P | PTE_W);
	pt32_map4k(pd, VA_NP, a, 0);
	pt32_map4k(pd, VA_RO, a, PTE_P);
	pt32_map4k(pd, VA_SUP, b, PTE_P | PTE_W);
	pt32_map4k(pd, VA_URO, c, PTE_P | PTE_U);
	pt32_map4k(pd, VA_URW, c, PTE_P | PTE_W | PTE_U);
	pt32_map4k(pd, VA_FLIP, a, PTE_P | PTE_W);
	pt32_map4k(pd, VA_LATE, b, 0);
	pt32_map4k(pd, VA_UCODE, (u32)ucode, PTE_P | PTE_U);
	pt32_map4k(pd, VA_PDE_S, c, PTE_P | PTE_W | PTE_U);
	pd[VA_PDE_S >> 22] &= ~(u32)PTE_U;
	pt32_map4k(pd, VA_PDE_RO, c, PTE_P | PTE_W | PTE_U);
	pd[VA_PDE_RO >> 22] &= ~(u32)PTE_W;
	pt32_map4m(pd, VA_BIG, 0, PTE_P | PTE_W);
	pt32_map4m(pd, VA_BIG_AD, 0, PTE_P | PTE_W);
	pd[VA_RECURSIVE >> 22] = (u32)pd | PTE_P | PTE_W;
}

static void check_aliases(void)
{
	poke32(VA_ALIAS, 0x11111111);
	report(peek32((u32)page_a) == 0x11111111,
	       "write through a 4K alias lands in the physical page");
	poke32((u32)page_a + 4, 0x22222222);
	report(peek32(VA_ALIAS + 4) == 0x22222222,
	       "4K alias reads what was written physically");
	report(peek32(VA_BIG + (u32)page_a + 4) == 0x22222222,
	       "4M page reads the same physical page");
	poke32(VA_BIG + (u32)page_a + 8, 0x33333333);
	report(peek32(VA_ALIAS + 8) == 0x33333333,
	       "write through the 4M page seen through the 4K alias");
}

static void check_ad(void)
{
	volatile u32 *pte = pt32_leaf(pd, VA_AD);
	volatile u32 *pde = &pd[VA_AD >> 22];
	*pte &= ~(u32)(PTE_A | PTE_D);
	*pde &= ~(u32)PTE_A;
	invlpg(VA_AD);
	report(!(*pte & (PTE_A | PTE_D)), "4K PTE: A and D clear before use");
	(void)peek32(VA_AD);
	report((*pte & (PTE_A | PTE_D)) == PTE_A,
	       "4K PTE after a read: A set, D clear");
	report(*pde & PTE_A, "PDE above it: A set");
	poke32(VA_AD, 1);
	report((*pte & (PTE_A | PTE_D)) == (PTE_A | PTE_D),
	       "4K PTE after a write: A and D set");

	volatile u32 *big = &pd[VA_BIG_AD >> 22];
	*big &= ~(u32)(PTE_A | PTE_D);
	invlpg(VA_BIG_AD);
	(void)peek32(VA_BIG_AD + (u32)page_c);
	report((*big & (PTE_A | PTE_D)) == PTE_A,
	       "4M PDE after a read: A set, D clear");
	poke32(VA_BIG_AD + (u32)page_c, 2);
	report((*big & (PTE_A | PTE_D)) == (PTE_A | PTE_D),
	       "4M PDE after a write: A and D set");
}

#define UW (PF_U | PF_W)

static const struct access_case wp1_cases[] = {
	{ "ring 0 read, PTE not present", RING0, ACC_READ, VA_NP, 0 },
	{ "ring 0 write, PTE not present", RING0, ACC_WRITE, VA_NP, PF_W },
	{ "ring 0 read, PDE not present", RING0, ACC_READ, VA_NO_PDE, 0 },
	{ "ring 0 write, read-only, WP=1", RING0, ACC_WRITE, VA_RO, PF_P | PF_W },
	{ "ring 0 read, read-only", RING0, ACC_READ, VA_RO, NOFAULT },
	{ "ring 0 write, PDE read-only, PTE writable, WP=1", RING0, ACC_WRITE,
	  VA_PDE_RO, PF_P | PF_W },
	{ "ring 3 read, supervisor page", RING3, ACC_READ, VA_SUP, PF_P | PF_U },
	{ "ring 3 write, supervisor page", RING3, ACC_WRITE, VA_SUP, PF_P | UW },
	{ "ring 3 exec, supervisor page", RING3, ACC_EXEC, VA_SUP, PF_P | PF_U },
	{ "ring 3 read, PTE not present", RING3, ACC_READ, VA_NP, PF_U },
	{ "ring 3 exec, PTE not present (no I/D without NXE)", RING3, ACC_EXEC,
	  VA_NP, PF_U },
	{ "ring 3 read, user read-only", RING3, ACC_READ, VA_URO, NOFAULT },
	{ "ring 3 write, user read-only", RING3, ACC_WRITE, VA_URO, PF_P | UW },
	{ "ring 3 write, user writable", RING3, ACC_WRITE, VA_URW, NOFAULT },
	{ "ring 3 exec, user page", RING3, ACC_EXEC, VA_UCODE, NOFAULT },
	{ "ring 3 read, PDE supervisor, PTE user", RING3, ACC_READ, VA_PDE_S,
	  PF_P | PF_U },
	{ "ring 3 write, PDE read-only, PTE writable", RING3, ACC_WRITE,
	  VA_PDE_RO, PF_P | UW },
};

static const struct access_case wp0_cases[] = {
	{ "ring 0 write, read-only, WP=0", RING0, ACC_WRITE, VA_RO, NOFAULT },
	{ "ring 0 write, PDE read-only, WP=0", RING0, ACC_WRITE, VA_PDE_RO,
	  NOFAULT },
	{ "ring 3 write, user read-only, WP=0", RING3, ACC_WRITE, VA_URO,
	  PF_P | UW },
};

static void check_faults(void)
{
	poke32((u32)page_a, 0);
	poke32((u32)page_c, 0);
	report_access_cases(wp1_cases, ARRAY_SIZE(wp1_cases));
	report(peek32((u32)page_c) == 0x5a5a5a5a,
	       "ring 3 write reached the page");

	set_wp(false);
	report_access_cases(wp0_cases, ARRAY_SIZE(wp0_cases));
	report(peek32((u32)page_a) == 0x5a5a5a5a,
	       "WP=0 write reached the page");
	set_wp(true);
	report_access("ring 0 write, read-only, WP=1 again", RING0, ACC_WRITE,
		      VA_RO, PF_P | PF_W);
}

static void check_tlb(void)
{
	poke32((u32)page_a + 64, 0xaaaa0001);
	poke32((u32)page_b + 64, 0xbbbb0001);
	volatile u32 *pte = pt32_leaf(pd, VA_FLIP);
	report(peek32(VA_FLIP + 64) == 0xaaaa0001, "VA maps page a");
	*pte = (u32)page_b | PTE_P | PTE_W;
	invlpg(VA_FLIP);
	report(peek32(VA_FLIP + 64) == 0xbbbb0001,
	       "after PTE change + INVLPG: page b");
	*pte = (u32)page_a | PTE_P | PTE_W;
	write_cr3(read_cr3());
	report(peek32(VA_FLIP + 64) == 0xaaaa0001,
	       "after PTE change + CR3 reload: page a");

	/* Not-present entries are never cached (SDM 4.10.2.3). */
	pte = pt32_leaf(pd, VA_LATE);
	report(try_read32(VA_LATE + 64, NULL) == VEC_PF, "VA not present: #PF");
	*pte |= PTE_P;
	u32 v = 0;
	report(try_read32(VA_LATE + 64, &v) == FAULT_NONE && v == 0xbbbb0001,
	       "made present without INVLPG: no fault, page b");

	/* Recursive mapping: PD slot 1023 points at the PD. */
	volatile u32 *rpd = (volatile u32 *)(VA_RECURSIVE + 1023 * 4096);
	report(rpd[VA_ALIAS >> 22] == pd[VA_ALIAS >> 22],
	       "recursive mapping reads the PD");
	volatile u32 *rpt = (volatile u32 *)(VA_RECURSIVE + (VA_FLIP >> 22) * 4096);
	rpt[(VA_FLIP >> 12) & 1023] = (u32)page_b | PTE_P | PTE_W;
	invlpg(VA_FLIP);
	report(peek32(VA_FLIP + 64) == 0xbbbb0001,
	       "PTE written through the recursive mapping takes effect");
	report(*pt32_leaf(pd, VA_FLIP) == ((u32)page_b | PTE_P | PTE_W | PTE_A),
	       "recursive write seen in the PT (A set by the access)");

	/* A second address space mapping VA_FLIP to page c. */
	u32 *pd2 = pt32_new();
	pt32_identity(pd2, image_map_end(), PTE_P | PTE_W | PTE_U);
	pt32_map4k(pd2, VA_FLIP, (u32)page_c, PTE_P | PTE_W);
	poke32((u32)page_c + 64, 0xcccc0001);
	u32 cr3 = read_cr3();
	write_cr3((u32)pd2);
	v = peek32(VA_FLIP + 64);
	bool alias_gone = try_read32(VA_ALIAS, NULL) == VEC_PF;
	write_cr3(cr3);
	report(v == 0xcccc0001, "second address space: VA maps page c");
	report(alias_gone, "second address space: other mappings absent");
	report(peek32(VA_FLIP + 64) == 0xbbbb0001, "back in the first: page b");
}

void guest_main(void)
{
	build();
	paging_enable32(pd, true);
	report((read_cr0() & (CR0_PG | CR0_WP)) == (CR0_PG | CR0_WP) &&
		       (read_cr4() & CR4_PSE),
	       "paging on: CR0.PG, CR0.WP, CR4.PSE");
	check_aliases();
	check_ad();
	check_faults();
	check_tlb();
	paging_disable();
	report(peek32((u32)page_a + 64) == 0xaaaa0001, "paging off again");
}
