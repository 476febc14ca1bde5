/*
 * tests/guests/largepages.c - large pages mixed with 4 KiB pages.
 *
 * In 32-bit paging (4 MiB pages, CR4.PSE), PAE paging (2 MiB) and 4-level
 * paging (2 MiB, and 1 GiB where CPUID 80000001h EDX bit 26 says so; run
 * through long_call), one large page at VA_BIG maps the physical range at
 * BIG_PA, and the next page directory entry maps the same frames with a
 * page table of 4 KiB pages (VA_SMALL); the identity map reaches them a
 * third way. Checked, through every alias:
 *  - writes through the large page are read through the 4 KiB pages and
 *    the identity map, and the other way round;
 *  - A/D bits of the large-page PDE (SDM vol. 3A §4.8), of a 4 KiB PTE
 *    and of the PDE above it;
 *  - splitting: the large PDE is replaced by a page table mapping the same
 *    range with pairs of frames swapped, and merged back; each time with
 *    the SDM's algorithm for a change of page size (§4.10.2.3): clear P,
 *    invalidate every translation of the range (INVLPG of each 4 KiB
 *    page, §4.10.4.1-2), then write the new entry;
 *  - a split onto the page table of the 4 KiB alias (one table under two
 *    PDEs): a PTE changed in it (INVLPG of both addresses) is seen
 *    through both;
 *  - a read-only large page: a write faults with P|W (§4.6, §4.7);
 *  - 4-level: a 1 GiB region (a 1 GiB page where the CPU has them, else a
 *    directory of 2 MiB pages: the lines printed are the same) aliasing
 *    physical memory from 0, its A/D bits, split into 2 MiB pages with two
 *    swapped and merged back (the range invalidated by a CR3 load).
 *
 * All accesses of a step are a list of operations run by one executor:
 * C with paging on in 32-bit and PAE paging, 64-bit code inside long_call
 * for 4-level paging, so every step runs with paging on in each mode.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"
#include "kernel/string.h"

GUEST_NAME("largepages");

#define VA_BIG 0x40000000u
#define BIG_PA (8u * (u32)MiB)   /* 4 MiB aligned, in RAM */
#define ID_END (16u * (u32)MiB)  /* identity map (large pages) */
#define VA_1G 0x0000008000000000ull
#define ADDR_4K 0x000ffffffffff000ull

enum mode { M32, MPAE, M4L };
static const char *const mode_name[] = { "32-bit", "PAE", "4-level" };

/* ------------------------------------------------------------ executor */

enum op_kind { OP_R32, OP_W32, OP_R64, OP_W64, OP_INVLPG, OP_CR3 };

struct op {
	u32 kind, check; /* check: a read whose value must be val */
	u64 va, val, res;
};

#define MAX_OPS 4096
static struct op ops[MAX_OPS];
static int nops;

struct ophdr {
	u32 ops, n, done;
};
static struct ophdr hdr;

/* 64-bit executor: the same operations (rdi = &hdr). */
asm(".pushsection .text\n"
    ".code64\n"
    ".globl lp_lm_run\n"
    "lp_lm_run:\n"
    "	mov 0(%rdi), %esi\n"
    "	xor %ecx, %ecx\n"
    "1:	cmp 4(%rdi), %ecx\n"
    "	jae 9f\n"
    "	mov %ecx, 8(%rdi)\n"
    "	mov 0(%rsi), %eax\n"
    "	mov 8(%rsi), %rdx\n"
    "	mov 16(%rsi), %r8\n"
    "	cmp $0, %eax\n"
    "	jne 2f\n"
    "	mov (%rdx), %r9d\n"
    "	mov %r9, 24(%rsi)\n"
    "	jmp 8f\n"
    "2:	cmp $1, %eax\n"
    "	jne 3f\n"
    "	mov %r8d, (%rdx)\n"
    "	jmp 8f\n"
    "3:	cmp $2, %eax\n"
    "	jne 4f\n"
    "	mov (%rdx), %r9\n"
    "	mov %r9, 24(%rsi)\n"
    "	jmp 8f\n"
    "4:	cmp $3, %eax\n"
    "	jne 5f\n"
    "	mov %r8, (%rdx)\n"
    "	jmp 8f\n"
    "5:	cmp $4, %eax\n"
    "	jne 6f\n"
    "	invlpg (%rdx)\n"
    "	jmp 8f\n"
    "6:	mov %cr3, %rax\n"
    "	mov %rax, %cr3\n"
    "8:	add $32, %rsi\n"
    "	inc %ecx\n"
    "	jmp 1b\n"
    "9:	mov %ecx, 8(%rdi)\n"
    "	ret\n"
    ".code32\n"
    ".popsection\n");
extern char lp_lm_run[];

static void run32(void *arg)
{
	struct ophdr *h = arg;
	struct op *o = (struct op *)h->ops;
	for (h->done = 0; h->done < h->n; h->done++, o++) {
		volatile u32 *p = (volatile u32 *)(u32)o->va;
		switch (o->kind) {
		case OP_R32:
			o->res = *p;
			break;
		case OP_W32:
			*p = (u32)o->val;
			break;
		case OP_R64:
			o->res = p[0] | (u64)p[1] << 32;
			break;
		case OP_W64:
			/* A PAE entry in two stores: the half with P last
			 * when it becomes present, first when it goes. */
			if (o->val & PTE_P) {
				p[1] = (u32)(o->val >> 32);
				p[0] = (u32)o->val;
			} else {
				p[0] = (u32)o->val;
				p[1] = (u32)(o->val >> 32);
			}
			break;
		case OP_INVLPG:
			invlpg((u32)o->va);
			break;
		default:
			write_cr3(read_cr3());
		}
	}
}

static enum mode mode;
static u32 root;

/* Run the list; returns FAULT_NONE or the vector (hdr.done: which op). */
static int run(void)
{
	hdr.ops = (u32)ops;
	hdr.n = (u32)nops;
	hdr.done = 0;
	int v = mode == M4L ? long_call(root, lp_lm_run, (u32)&hdr, NULL)
			    : fault_try(run32, &hdr);
	asm volatile("mov %0, %%fs; mov %0, %%gs" : : "r"(0x10));
	return v;
}

static int add(enum op_kind k, u64 va, u64 val)
{
	if (nops == MAX_OPS) {
		report(false, "operation list full");
		report_summary();
	}
	ops[nops] = (struct op){ .kind = k, .va = va, .val = val };
	return nops++;
}

static int rd(u64 va) { return add(OP_R32, va, 0); }
static void wr(u64 va, u32 v) { add(OP_W32, va, v); }
static void flush(u64 va) { add(OP_INVLPG, va, 0); }

/* ------------------------------------------------------------ layout */

static u32 large;        /* large-page size of the mode */
static u32 nsub;         /* 4 KiB pages in it */
static u32 va_small;     /* the 4 KiB alias (next PDE) */
static u32 esz;          /* paging-structure entry size */
static u32 pde_big, pde_small, small_pt, split_pt; /* physical addresses */

static void set_entry(u32 addr, u64 val)
{
	add(esz == 4 ? OP_W32 : OP_W64, addr, val);
}

static int get_entry(u32 addr)
{
	return add(esz == 4 ? OP_R32 : OP_R64, addr, 0);
}

static u64 ent_large(u32 pa, u64 flags) { return pa | flags | PTE_PS; }
static u64 ent_table(u32 pa) { return pa | PTE_P | PTE_W | PTE_U; }

static u32 off(u32 k) { return (k * 56) & 0xff8; } /* a multiple of 8 */
static u32 tag(u32 k, u32 gen) { return 0xb1000000u | gen << 16 | k; }

/* ------------------------------------------------------------ checks */

/* Report @what: the list ran without a fault (@v) and every checked read
 * got its value; details of the first difference follow a FAIL. */
static bool expect_reads(const char *what, int v)
{
	bool ok = v == FAULT_NONE && hdr.done == hdr.n;
	int bad = -1;
	for (int i = 0; ok && i < nops; i++)
		if (ops[i].check && (u32)ops[i].res != (u32)ops[i].val) {
			ok = false;
			bad = i;
		}
	report(ok, "%s: %s", mode_name[mode], what);
	if (v != FAULT_NONE)
		printf("  vector %d error %#x cr2 %#x at operation %u\n", v,
		       last_fault.error_code, last_fault.cr2, hdr.done);
	else if (bad >= 0)
		printf("  read at %#llx: %#x, expected %#x\n", ops[bad].va,
		       (u32)ops[bad].res, (u32)ops[bad].val);
	return ok;
}

/* A read that must give @want. */
static int rd_want(u64 va, u32 want)
{
	int i = rd(va);
	ops[i].val = want;
	ops[i].check = 1;
	return i;
}

/* Clear P, INVLPG every 4 KiB page of the large range, write @val. */
static void change_size(u64 val)
{
	set_entry(pde_big, 0);
	for (u32 k = 0; k < nsub; k++)
		flush(VA_BIG + k * 4096);
	set_entry(pde_big, val);
}

static void check_aliases(void)
{
	nops = 0;
	for (u32 k = 0; k < nsub; k++)
		wr(VA_BIG + k * 4096 + off(k), tag(k, 1));
	for (u32 k = 0; k < nsub; k++) {
		rd_want(va_small + k * 4096 + off(k), tag(k, 1));
		rd_want(BIG_PA + k * 4096 + off(k), tag(k, 1));
	}
	expect_reads("writes through the large page read back through the "
		     "4K pages and the identity map", run());

	nops = 0;
	for (u32 k = 0; k < nsub; k++)
		wr(va_small + k * 4096 + off(k), tag(k, 2));
	for (u32 k = 0; k < nsub; k++)
		rd_want(VA_BIG + k * 4096 + off(k), tag(k, 2));
	expect_reads("writes through the 4K pages read back through the "
		     "large page", run());
}

static void check_ad(void)
{
	u32 pte5 = small_pt + 5 * esz;
	nops = 0;
	set_entry(pde_big, ent_large(BIG_PA, PTE_P | PTE_W));
	flush(VA_BIG + 3 * 4096); /* one INVLPG: the whole large page */
	rd(VA_BIG + 0x104);
	int big_r = get_entry(pde_big);
	wr(VA_BIG + 0x10c, 0x12345678);
	int big_w = get_entry(pde_big);
	set_entry(pde_small, ent_table(small_pt));
	set_entry(pte5, (BIG_PA + 5 * 4096) | PTE_P | PTE_W);
	flush(va_small + 5 * 4096);
	rd(va_small + 5 * 4096 + 0x104);
	int pde_r = get_entry(pde_small), pte_r = get_entry(pte5);
	wr(va_small + 5 * 4096 + 0x10c, 0x9abcdef0);
	int pte_w = get_entry(pte5);
	int v = run();
	u64 ad = PTE_A | PTE_D;
	bool ok = v == FAULT_NONE && (ops[big_r].res & ad) == PTE_A &&
		  (ops[big_w].res & ad) == ad;
	report(ok, "%s: large-page PDE: A after a read, A and D after a write",
	       mode_name[mode]);
	ok = v == FAULT_NONE && (ops[pte_r].res & ad) == PTE_A &&
	     (ops[pte_w].res & ad) == ad && (ops[pde_r].res & PTE_A);
	report(ok, "%s: 4K PTE beside it: A after a read, A and D after a "
		   "write; A in its PDE", mode_name[mode]);
	if (v != FAULT_NONE)
		printf("  vector %d error %#x cr2 %#x\n", v,
		       last_fault.error_code, last_fault.cr2);
}

static void check_split(void)
{
	nops = 0;
	change_size(ent_table(split_pt));
	for (u32 k = 0; k < nsub; k++)
		rd_want(VA_BIG + k * 4096 + off(k ^ 1), tag(k ^ 1, 2));
	int pte = get_entry(split_pt + 3 * esz), pde = get_entry(pde_big);
	wr(VA_BIG + 4096 + 0x204, 0x5151aaaa); /* frame 0 */
	rd_want(va_small + 0x204, 0x5151aaaa);
	bool ok = expect_reads("split into 4K pages (pairs of frames swapped): "
			       "the new translations are used", run());
	report(ok && (ops[pte].res & PTE_A) && (ops[pde].res & PTE_A),
	       "%s: split: A set in the new PTE and PDE", mode_name[mode]);

	nops = 0;
	change_size(ent_large(BIG_PA, PTE_P | PTE_W));
	for (u32 k = 0; k < nsub; k++)
		rd_want(VA_BIG + k * 4096 + off(k), tag(k, 2));
	rd_want(VA_BIG + 0x204, 0x5151aaaa);
	expect_reads("merged back into one large page", run());
}

/* The large PDE pointed at the 4K alias's page table: one table, two
 * PDEs. A PTE changed in it is seen through both (INVLPG of both). */
static void check_shared_table(void)
{
	u32 pte3 = small_pt + 3 * esz;
	nops = 0;
	change_size(ent_table(small_pt));
	for (u32 k = 0; k < nsub; k += 7)
		rd_want(VA_BIG + k * 4096 + off(k), tag(k, 2));
	set_entry(pte3, (BIG_PA + 7 * 4096) | PTE_P | PTE_W);
	flush(VA_BIG + 3 * 4096);
	flush(va_small + 3 * 4096);
	rd_want(VA_BIG + 3 * 4096 + off(7), tag(7, 2));
	rd_want(va_small + 3 * 4096 + off(7), tag(7, 2));
	wr(VA_BIG + 3 * 4096 + 0x304, 0x77773333);
	rd_want(va_small + 7 * 4096 + 0x304, 0x77773333);
	set_entry(pte3, (BIG_PA + 3 * 4096) | PTE_P | PTE_W);
	flush(VA_BIG + 3 * 4096);
	flush(va_small + 3 * 4096);
	rd_want(VA_BIG + 3 * 4096 + off(3), tag(3, 2));
	rd_want(va_small + 3 * 4096 + off(3), tag(3, 2));
	change_size(ent_large(BIG_PA, PTE_P | PTE_W));
	rd_want(VA_BIG + 7 * 4096 + 0x304, 0x77773333);
	expect_reads("one page table under the large PDE and the 4K alias's "
		     "PDE: a PTE change is seen through both", run());
}

static void check_readonly(void)
{
	nops = 0;
	set_entry(pde_big, ent_large(BIG_PA, PTE_P));
	flush(VA_BIG);
	rd_want(VA_BIG + 9 * 4096 + off(9), tag(9, 2));
	int w = add(OP_W32, VA_BIG + 9 * 4096 + 0x404, 0xdead);
	int v = run();
	u32 va = VA_BIG + 9 * 4096 + 0x404;
	bool ok = v == VEC_PF && hdr.done == (u32)w &&
		  last_fault.error_code == (PF_P | PF_W) &&
		  last_fault.cr2 == va && (u32)ops[w - 1].res == tag(9, 2);
	report(ok, "%s: read-only large page: read works, write #PF P|W, CR2",
	       mode_name[mode]);
	if (!ok)
		printf("  vector %d error %#x cr2 %#x at operation %u\n", v,
		       last_fault.error_code, last_fault.cr2, hdr.done);
	nops = 0;
	set_entry(pde_big, ent_large(BIG_PA, PTE_P | PTE_W));
	flush(VA_BIG);
	run();
}

/* ------------------------------------------------------------ 1 GiB */

static bool has_1g;

static void check_1g(u64 *pml4)
{
	u64 *pdpt_hi = pg_alloc(), *pd_id = pg_alloc(), *pd_swap = pg_alloc();
	for (u32 j = 0; j < 512; j++) {
		pd_id[j] = (u64)j * 2 * MiB | PTE_P | PTE_W | PTE_PS;
		pd_swap[j] = pd_id[j];
	}
	/* In the split form VA_1G + 8M maps 10M and the other way round. */
	pd_swap[4] = (u64)10 * MiB | PTE_P | PTE_W | PTE_PS;
	pd_swap[5] = (u64)8 * MiB | PTE_P | PTE_W | PTE_PS;
	u64 big = has_1g ? (0 | PTE_P | PTE_W | PTE_PS) : ent_table((u32)pd_id);
	u32 leaf = has_1g ? (u32)&pdpt_hi[0] : (u32)&pd_id[4];
	pdpt_hi[0] = big;
	pml4[1] = ent_table((u32)pdpt_hi);
	poke32(8 * MiB + 0x7f0, 0x08080808);
	poke32(10 * MiB + 0x7f0, 0x10101010);

	nops = 0;
	rd_want(VA_1G + 8 * MiB + 0x7f0, 0x08080808);
	rd_want(VA_1G + 10 * MiB + 0x7f0, 0x10101010);
	rd_want(VA_1G + BIG_PA + 5 * 4096 + off(5), tag(5, 2));
	wr(VA_1G + 12 * MiB + 0x40, 0x1a1a1a1a);
	rd_want(12 * MiB + 0x40, 0x1a1a1a1a);
	expect_reads("1G region (a 1G page where supported) aliases physical "
		     "memory", run());

	nops = 0;
	add(OP_W64, leaf, (has_1g ? big : pd_id[4]) & ~(u64)(PTE_A | PTE_D));
	flush(VA_1G + 8 * MiB);
	rd(VA_1G + 8 * MiB + 0x7f0);
	int r = add(OP_R64, leaf, 0);
	wr(VA_1G + 8 * MiB + 0x7f8, 0x2b2b2b2b);
	int w = add(OP_R64, leaf, 0);
	int v = run();
	u64 ad = PTE_A | PTE_D;
	report(v == FAULT_NONE && (ops[r].res & ad) == PTE_A &&
		       (ops[w].res & ad) == ad,
	       "4-level: leaf of the 1G region: A after a read, A and D after "
	       "a write");

	/* Split (1G page -> directory of 2M pages, or the directory
	 * replaced) and back, the range invalidated by a CR3 load. */
	nops = 0;
	add(OP_W64, (u32)&pdpt_hi[0], 0);
	add(OP_CR3, 0, 0);
	add(OP_W64, (u32)&pdpt_hi[0], ent_table((u32)pd_swap));
	rd_want(VA_1G + 8 * MiB + 0x7f0, 0x10101010);
	rd_want(VA_1G + 10 * MiB + 0x7f0, 0x08080808);
	rd_want(VA_1G + 12 * MiB + 0x40, 0x1a1a1a1a);
	add(OP_W64, (u32)&pdpt_hi[0], 0);
	add(OP_CR3, 0, 0);
	add(OP_W64, (u32)&pdpt_hi[0], big);
	rd_want(VA_1G + 8 * MiB + 0x7f0, 0x08080808);
	rd_want(VA_1G + 10 * MiB + 0x7f0, 0x10101010);
	expect_reads("1G region split into 2M pages (two swapped) and merged "
		     "back", run());
	pml4[1] = 0;
}

/* ------------------------------------------------------------ modes */

static void build(void)
{
	split_pt = (u32)pg_alloc();
	if (mode == M32) {
		large = 4 * (u32)MiB;
		esz = 4;
		u32 *pd = pt32_new();
		pt32_identity(pd, ID_END, PTE_P | PTE_W);
		va_small = VA_BIG + large;
		pt32_map4m(pd, VA_BIG, BIG_PA, PTE_P | PTE_W);
		for (u32 k = 0; k < large / 4096; k++)
			pt32_map4k(pd, va_small + k * 4096, BIG_PA + k * 4096,
				   PTE_P | PTE_W);
		pde_big = (u32)&pd[VA_BIG >> 22];
		pde_small = (u32)&pd[va_small >> 22];
		small_pt = pd[va_small >> 22] & ~0xfffu;
		root = (u32)pd;
	} else {
		large = 2 * (u32)MiB;
		esz = 8;
		va_small = VA_BIG + large;
		u64 *pd;
		if (mode == MPAE) {
			u64 *pdpt = pae_new();
			pae_identity(pdpt, ID_END, PTE_P | PTE_W);
			pae_map2m(pdpt, VA_BIG, BIG_PA, PTE_P | PTE_W);
			for (u32 k = 0; k < large / 4096; k++)
				pae_map4k(pdpt, va_small + k * 4096,
					  BIG_PA + k * 4096, PTE_P | PTE_W);
			pd = (u64 *)(u32)(pdpt[VA_BIG >> 30] & ADDR_4K);
			root = (u32)pdpt;
		} else {
			u64 *pml4 = pt4_new();
			pt4_identity(pml4, ID_END, PTE_P | PTE_W);
			pt4_map2m(pml4, VA_BIG, BIG_PA, PTE_P | PTE_W);
			for (u32 k = 0; k < large / 4096; k++)
				pt4_map4k(pml4, va_small + k * 4096,
					  BIG_PA + k * 4096, PTE_P | PTE_W);
			u64 *pdpt = (u64 *)(u32)(pml4[0] & ADDR_4K);
			pd = (u64 *)(u32)(pdpt[VA_BIG >> 30] & ADDR_4K);
			root = (u32)pml4;
		}
		pde_big = (u32)&pd[(VA_BIG >> 21) & 511];
		pde_small = (u32)&pd[(va_small >> 21) & 511];
		small_pt = (u32)(pd[(va_small >> 21) & 511] & ADDR_4K);
	}
	nsub = large / 4096;
	for (u32 k = 0; k < nsub; k++) {
		u32 pa = BIG_PA + (k ^ 1) * 4096;
		if (esz == 4)
			((u32 *)split_pt)[k] = pa | PTE_P | PTE_W;
		else
			((u64 *)split_pt)[k] = pa | PTE_P | PTE_W;
	}
	memset((void *)BIG_PA, 0, large);
}

static void run_mode(enum mode m)
{
	mode = m;
	build();
	if (m == M32)
		paging_enable32((u32 *)root, true);
	else if (m == MPAE)
		paging_enable_pae((u64 *)root, true);
	else
		write_cr0(read_cr0() | (u32)CR0_WP);
	check_aliases();
	check_ad();
	check_split();
	check_shared_table();
	check_readonly();
	if (m == M4L)
		check_1g((u64 *)root);
	if (m != M4L)
		paging_disable();
}

void guest_main(void)
{
	char buf[16];
	const char *modes = cmdline_get("modes", buf, sizeof(buf));
	if (!modes)
		modes = "2p4";
	if (!report(mb_available_bytes(BIG_PA, ID_END - BIG_PA) ==
			    ID_END - BIG_PA,
		    "RAM at 8-16 MiB is available"))
		return;
	struct cpuid_regs r = cpuid(0x80000000, 0);
	if (r.a >= 0x80000001)
		has_1g = cpuid(0x80000001, 0).d & BIT(26);
	for (const char *p = modes; *p; p++) {
		if (*p == '2')
			run_mode(M32);
		else if (*p == 'p')
			run_mode(MPAE);
		else if (*p == '4')
			run_mode(M4L);
	}
	report(!(read_cr0() & CR0_PG), "paging off again");
}
