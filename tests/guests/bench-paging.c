/*
 * tests/guests/bench-paging.c - benchmark guest: page-table workloads
 * (DESIGN.md §8, §9; run by tools/umbra-bench, `make bench`), in PAE
 * paging.
 *
 * Arguments (the guest's multiboot command line):
 *   op=NAME   one of the operations below, or all (default)
 *   iters=N   timed iterations (default per operation, below)
 *   base      set everything up (including the untimed cold run) but run
 *             the timed loop 0 times: the harness subtracts such a run's
 *             exits from the real one's to get exits per iteration
 *
 * Operations (one iteration each):
 *   ptw-cold  the §9 page-table workload's first iteration (iters is 1):
 *             8 address spaces, in each 32 PTE rewrites, each followed by
 *             INVLPG and a read through the new mapping (256 rewrites),
 *             8 CR3 switches
 *   ptw       the same workload warm: iterations 1..N after the cold one
 *   cr3       switch CR3 among 8 address spaces (warm), one read each
 *   fault     first touch: map a fresh page (not-present PTE made
 *             present) and write and read it; N pages (at most 2048)
 *   demand    first touch by demand paging: write a fresh page, the
 *             guest's #PF handler maps it, the write is retried; N pages
 *   fork      fork-like: build a child address space (3 new table pages),
 *             copy 512 PTEs write-protected into it (parent's too), switch
 *             to the child and read 16 pages, switch back, tear the child
 *             down and make the parent writable again
 *
 * Output per operation (padded so a base run prints as many bytes):
 *   BENCH name=OP iters=N tsc=T sum=XXXXXXXX
 * and a PASS line checking sum against a value computed from a model
 * (without paging). Same output bare on QEMU and under Umbra in each
 * paging mode, except tsc.
 *
 * Memory (needs 32 MiB of RAM): [0, 16 MiB) identity-mapped with 2 MiB
 * pages in every address space (one shared kernel page directory); page
 * tables from [4, 8) MiB; data frames in [8, 16) MiB, each holding a
 * known value in its first word; workload mappings at 1 GiB (PDPTE 1).
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"
#include "kernel/string.h"

GUEST_NAME("bench-paging");

#define TP_BASE (4 * MiB)
#define TP_PAGES 1024
#define FRAME_BASE (8 * MiB)
#define NFRAMES 2048
#define IDENT_END (16 * MiB)
#define WORK_VA 0x40000000u
#define NAS 8

#define STR_(x) #x
#define STR(x) STR_(x)
#define WORK_VA_S 0x40000000
#define FRAME_BASE_S 0x800000

static u32 iters;
static bool base;

static void bench_print(const char *name, u32 n, u64 tsc, u32 sum)
{
	printf("BENCH name=%s iters=%-10u tsc=%-20llu sum=%08x\n", name, n,
	       (unsigned long long)tsc, sum);
}

/* ------------------------------------------------------------ frames */

static inline u32 frame_pa(u32 k)
{
	return (u32)FRAME_BASE + k * 4096;
}

static inline u32 frame_val(u32 k)
{
	return k * 0x9E3779B1u + 0x7f4a7c15u;
}

static inline u32 work_va(u32 j)
{
	return WORK_VA + j * 4096;
}

/* With paging off or on ([8, 16) MiB is identity-mapped). */
static void frames_init(u32 count)
{
	for (u32 k = 0; k < count; k++)
		poke32(frame_pa(k), frame_val(k));
}

/* ------------------------------------------------------------ tables */

static u32 tp_next;
static u32 tp_free_list[TP_PAGES];
static u32 tp_nfree;

static void zero_page(u32 pa)
{
	u32 d = pa, n = 1024;
	asm volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(0) : "memory");
}

static u64 *tp_alloc(void)
{
	u32 p;
	if (tp_nfree) {
		p = tp_free_list[--tp_nfree];
	} else {
		if (tp_next >= TP_BASE + TP_PAGES * 4096) {
			report(false, "table pool exhausted");
			report_summary();
		}
		p = tp_next;
		tp_next += 4096;
	}
	zero_page(p);
	return (u64 *)p;
}

static void tp_free(u64 *t)
{
	tp_free_list[tp_nfree++] = (u32)t;
}

static void tp_reset(void)
{
	tp_next = TP_BASE;
	tp_nfree = 0;
}

struct aspace {
	u64 *pdpt, *pd1, *pt;
};

static u64 *kpd; /* the shared kernel page directory: [0, 16 MiB) */

static void kpd_build(void)
{
	kpd = tp_alloc();
	for (u32 va = 0; va < IDENT_END; va += 2 * MiB)
		kpd[va >> 21] = va | PTE_P | PTE_W | PTE_PS;
}

/* An address space: the kernel PD at PDPTE 0, a PD and one PT for the
 * work region at PDPTE 1 (PAE PDPTEs hold only P, PWT, PCD). */
static void as_new(struct aspace *as)
{
	as->pdpt = tp_alloc();
	as->pdpt[0] = (u32)kpd | PTE_P;
	as->pd1 = tp_alloc();
	as->pdpt[1] = (u32)as->pd1 | PTE_P;
	as->pt = tp_alloc();
	as->pd1[0] = (u32)as->pt | PTE_P | PTE_W;
}

static void setup_begin(void)
{
	paging_disable();
	tp_reset();
	kpd_build();
}

static inline void load_cr3(u64 *pdpt)
{
	write_cr3((u32)pdpt);
}

/* Time @loop(@n) and print the line and the checksum check. */
static void measure(const char *name, u32 n, u32 (*loop)(u32 n), u32 expect)
{
	u64 t0 = rdtsc();
	u32 sum = loop(n);
	u64 t1 = rdtsc();
	bench_print(name, n, t1 - t0, sum);
	report(sum == expect, "%s: checksum", name);
}

static u32 timed_iters(u32 dflt)
{
	return base ? 0 : iters ? iters : dflt;
}

/* ------------------------------------------------------------ ptw */

#define PTW_PTES 32

static struct aspace as[NAS];
static u32 ptw_first; /* the iteration number the timed loop starts at */

static inline u32 ptw_frame(u32 a, u32 j, u32 it)
{
	return (a * PTW_PTES + j + it * 37) & (NFRAMES - 1);
}

static u32 ptw_iter(u32 it)
{
	u32 sum = 0;
	for (u32 a = 0; a < NAS; a++) {
		load_cr3(as[a].pdpt);
		u64 *pt = as[a].pt;
		for (u32 j = 0; j < PTW_PTES; j++) {
			pt[j] = frame_pa(ptw_frame(a, j, it)) | PTE_P | PTE_W;
			invlpg(work_va(j));
			sum += peek32(work_va(j));
		}
	}
	return sum;
}

static u32 ptw_model(u32 first, u32 n)
{
	u32 sum = 0;
	for (u32 it = first; it < first + n; it++)
		for (u32 a = 0; a < NAS; a++)
			for (u32 j = 0; j < PTW_PTES; j++)
				sum += frame_val(ptw_frame(a, j, it));
	return sum;
}

static u32 ptw_loop(u32 n)
{
	u32 sum = 0;
	for (u32 i = 0; i < n; i++)
		sum += ptw_iter(ptw_first + i);
	return sum;
}

static void ptw_setup(void)
{
	setup_begin();
	frames_init(NFRAMES);
	for (u32 a = 0; a < NAS; a++)
		as_new(&as[a]);
	paging_enable_pae(as[0].pdpt, true);
}

static void op_ptw_cold(void)
{
	ptw_setup();
	u32 n = base ? 0 : 1;
	ptw_first = 0;
	measure("ptw-cold", n, ptw_loop, ptw_model(0, n));
	paging_disable();
}

static void op_ptw(void)
{
	ptw_setup();
	ptw_iter(0); /* cold, untimed */
	u32 n = timed_iters(100);
	ptw_first = 1;
	measure("ptw", n, ptw_loop, ptw_model(1, n));
	paging_disable();
}

/* ------------------------------------------------------------ cr3 */

#define CR3_FRAME(a) (100 + (a))

static u32 cr3_loop(u32 n)
{
	u32 sum = 0;
	for (u32 i = 0; i < n; i++) {
		load_cr3(as[i % NAS].pdpt);
		sum += peek32(WORK_VA);
	}
	return sum;
}

static void op_cr3(void)
{
	setup_begin();
	frames_init(NFRAMES);
	for (u32 a = 0; a < NAS; a++) {
		as_new(&as[a]);
		as[a].pt[0] = frame_pa(CR3_FRAME(a)) | PTE_P | PTE_W;
	}
	paging_enable_pae(as[0].pdpt, true);
	cr3_loop(NAS); /* cold, untimed */
	u32 n = timed_iters(1000), expect = 0;
	for (u32 i = 0; i < n; i++)
		expect += frame_val(CR3_FRAME(i % NAS));
	measure("cr3", n, cr3_loop, expect);
	paging_disable();
}

/* ------------------------------------------------------------ fault */

static u64 *fault_pt; /* contiguous PTs: entry i maps work_va(i) */

static u32 touch_value(u32 i)
{
	return i ^ 0x5a5a5a5au;
}

static u32 fault_model(u32 n)
{
	u32 sum = 0;
	for (u32 i = 0; i < n; i++)
		sum += touch_value(i);
	return sum;
}

static u32 fault_loop(u32 n)
{
	u32 sum = 0;
	for (u32 i = 0; i < n; i++) {
		fault_pt[i] = frame_pa(i) | PTE_P | PTE_W;
		poke32(work_va(i), touch_value(i));
		sum += peek32(work_va(i));
	}
	return sum;
}

/* One address space whose work region has @pages not-present PTEs in
 * physically contiguous PTs (so entry i is at fault_pt + i). */
static void fresh_setup(u32 pages)
{
	setup_begin();
	struct aspace *a = &as[0];
	as_new(a);
	fault_pt = a->pt;
	for (u32 t = 1; t * 512 < pages; t++) {
		u64 *pt = tp_alloc();
		if (pt != fault_pt + t * 512) {
			report(false, "page tables not contiguous");
			report_summary();
		}
		a->pd1[t] = (u32)pt | PTE_P | PTE_W;
	}
	paging_enable_pae(a->pdpt, true);
}

static u32 pages_arg(u32 dflt)
{
	u32 pages = iters ? iters : dflt;
	return MIN(pages, (u32)NFRAMES);
}

static void op_fault(void)
{
	u32 pages = pages_arg(1024);
	fresh_setup(pages);
	u32 n = base ? 0 : pages;
	measure("fault", n, fault_loop, fault_model(n));
	paging_disable();
}

/* ------------------------------------------------------------ demand */

/* The #PF handler (interrupt gate): a fault in the work region below
 * demand_limit maps the page (entry i of fault_pt -> frame i) and returns
 * to retry the access; any other #PF goes to the library's handler. */
u32 demand_limit, demand_faults, demand_old_handler;
u64 *demand_pt;
void demand_pf_entry(void);
asm(".text\n"
    ".globl demand_pf_entry\n"
    "demand_pf_entry:\n"
    "	pushl %eax\n"
    "	pushl %edx\n"
    "	movl %cr2, %eax\n"
    "	subl $" STR(WORK_VA_S) ", %eax\n"
    "	cmpl demand_limit, %eax\n"
    "	jae 1f\n"
    "	shrl $12, %eax\n"
    "	movl demand_pt, %edx\n"
    "	leal (%edx,%eax,8), %edx\n"
    "	shll $12, %eax\n"
    "	addl $" STR(FRAME_BASE_S) ", %eax\n"
    "	orl $3, %eax\n" /* P|W */
    "	movl $0, 4(%edx)\n"
    "	movl %eax, (%edx)\n"
    "	incl demand_faults\n"
    "	popl %edx\n"
    "	popl %eax\n"
    "	addl $4, %esp\n" /* the error code */
    "	iret\n"
    "1:	popl %edx\n"
    "	popl %eax\n"
    "	jmp *demand_old_handler\n");

struct __packed idtr32 {
	u16 limit;
	u32 base;
};

static u64 *idt_gate(int vec)
{
	struct idtr32 r;
	asm volatile("sidt %0" : "=m"(r));
	return (u64 *)(r.base + 8 * vec);
}

static u64 make_gate(u32 off)
{
	return (off & 0xffff) | (0x08ull << 16) | (0x8E00ull << 32) |
	       ((u64)(off >> 16) << 48);
}

static u32 demand_loop(u32 n)
{
	u32 sum = 0;
	for (u32 i = 0; i < n; i++) {
		poke32(work_va(i), touch_value(i));
		sum += peek32(work_va(i));
	}
	return sum;
}

static void op_demand(void)
{
	u32 pages = pages_arg(1024);
	fresh_setup(pages);
	u64 *gate = idt_gate(VEC_PF);
	u64 old = *gate;
	demand_old_handler = (u32)(old & 0xffff) | (u32)((old >> 48) << 16);
	demand_pt = fault_pt;
	demand_limit = pages * 4096;
	demand_faults = 0;
	*gate = make_gate((u32)demand_pf_entry);
	u32 n = base ? 0 : pages;
	measure("demand", n, demand_loop, fault_model(n));
	*gate = old;
	report(demand_faults == n, "demand: one #PF per page");
	paging_disable();
}

/* ------------------------------------------------------------ fork */

#define FORK_PTES 512
#define FORK_READS 16

static u32 fork_first;

static inline u32 fork_page(u32 t, u32 it)
{
	return (t * 32 + it) & (FORK_PTES - 1);
}

static u32 fork_iter(u32 it)
{
	struct aspace *p = &as[0];
	struct aspace c;
	/* build */
	as_new(&c);
	/* copy, write-protecting both sides (copy-on-write style) */
	for (u32 j = 0; j < FORK_PTES; j++) {
		u64 pte = p->pt[j] & ~(u64)PTE_W;
		p->pt[j] = pte;
		c.pt[j] = pte;
	}
	load_cr3(p->pdpt); /* the parent's mappings narrowed: flush */
	/* run the child a little */
	load_cr3(c.pdpt);
	u32 sum = 0;
	for (u32 t = 0; t < FORK_READS; t++)
		sum += peek32(work_va(fork_page(t, it)));
	load_cr3(p->pdpt);
	/* tear down (the pages are reused by the next iteration) */
	tp_free(c.pt);
	tp_free(c.pd1);
	tp_free(c.pdpt);
	for (u32 j = 0; j < FORK_PTES; j++)
		p->pt[j] |= PTE_W;
	load_cr3(p->pdpt);
	return sum;
}

static u32 fork_loop(u32 n)
{
	u32 sum = 0;
	for (u32 i = 0; i < n; i++)
		sum += fork_iter(fork_first + i);
	return sum;
}

static void op_fork(void)
{
	setup_begin();
	frames_init(FORK_PTES);
	as_new(&as[0]);
	for (u32 j = 0; j < FORK_PTES; j++)
		as[0].pt[j] = frame_pa(j) | PTE_P | PTE_W;
	paging_enable_pae(as[0].pdpt, true);
	fork_iter(0); /* cold, untimed */
	fork_first = 1;
	u32 n = timed_iters(100), expect = 0;
	for (u32 it = 1; it < 1 + n; it++)
		for (u32 t = 0; t < FORK_READS; t++)
			expect += frame_val(fork_page(t, it));
	measure("fork", n, fork_loop, expect);
	paging_disable();
}

/* ------------------------------------------------------------ driver */

static const struct {
	const char *name;
	void (*fn)(void);
} ops[] = {
	{"ptw-cold", op_ptw_cold}, {"ptw", op_ptw},	  {"cr3", op_cr3},
	{"fault", op_fault},	   {"demand", op_demand}, {"fork", op_fork},
};

void guest_main(void)
{
	char buf[32], nb[16];
	const char *op = cmdline_get("op", buf, sizeof(buf));
	if (!op)
		op = "all";
	const char *it = cmdline_get("iters", nb, sizeof(nb));
	if (it)
		for (const char *p = it; *p >= '0' && *p <= '9'; p++)
			iters = iters * 10 + (u32)(*p - '0');
	base = cmdline_has("base");
	if (mb_available_bytes(0, IDENT_END) < IDENT_END - 1 * MiB) {
		report(false, "RAM covers [0, 16 MiB)");
		return;
	}
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		if (!strcmp(op, "all") || !strcmp(op, ops[i].name)) {
			ops[i].fn();
			known = true;
		}
	}
	report(known, "operation '%s' known", op);
}
