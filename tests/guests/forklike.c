/*
 * tests/guests/forklike.c - a fork-like copy-on-write workload under PAE
 * paging.
 *
 * A "parent" address space maps DATA_PAGES private data pages at DATA_VA.
 * Each round the parent first writes to a few of its pages, then "forks"
 * CHILDREN children: every level of its page tables is copied and every
 * data PTE is made read-only and marked copy-on-write (an ignored PTE bit,
 * SDM vol. 3A §4.5 table 4-19) in the parent and the child, with INVLPG
 * for each parent PTE changed (§4.10.4.2). The children then write, in
 * turn (a CR3 switch between any two writes), to pages and words chosen
 * by a PRNG seeded from the command line (seed=N, default 1), some of
 * the writes from ring 3. Each write to a shared page faults (#PF, P|W,
 * plus U from ring 3: §4.6, §4.7 with CR0.WP = 1); the guest's own #PF
 * handler, installed in the IDT, copies the frame (or, when no other
 * space maps it, just makes the PTE writable again), INVLPGs the page and
 * returns to the faulting instruction, which is then retried.
 *
 * Afterwards every child must see the parent's data plus its own writes
 * and nothing else, and the parent its data unchanged; the children's
 * tables and private frames are then freed to the frame pool (so freed
 * page tables come back as data pages and the other way round), and the
 * next round begins. One line per round prints the counts and a checksum
 * of everything the children read back: all derived from the seed, so
 * bare and under Umbra (either paging mode) print the same.
 *
 * Arguments: seed=N (default 1), rounds=N (4), children=N (16, at most
 * 32), writes=N per child and round (24, at most 64).
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"
#include "kernel/string.h"

GUEST_NAME("forklike");

#define DATA_VA 0x40000000u
#define DATA_PAGES 64
#define MAX_CHILDREN 32
#define MAX_WRITES 64
#define POOL_BASE (8u * (u32)MiB)  /* frames for tables and data */
#define POOL_END (24u * (u32)MiB)
#define POOL_FRAMES ((POOL_END - POOL_BASE) / 4096)
#define MAP_END (32u * (u32)MiB)   /* identity-mapped with 2M pages */
#define PTE_COW BIT(9)             /* ignored by the CPU: ours */
#define ADDR_4K 0x000ffffffffff000ull
#define WORDS 1024

/* ------------------------------------------------------------ frames */

static u32 free_list[POOL_FRAMES];
static int nfree;
static u8 refcnt[POOL_FRAMES];

static u8 *ref_of(u32 pa)
{
	return &refcnt[(pa - POOL_BASE) / 4096];
}

static u32 frame_alloc(void)
{
	if (!nfree) {
		report(false, "frame pool exhausted");
		report_summary();
	}
	u32 pa = free_list[--nfree];
	*ref_of(pa) = 1;
	return pa;
}

static void frame_free(u32 pa)
{
	*ref_of(pa) = 0;
	free_list[nfree++] = pa;
}

static u64 *table_alloc(void)
{
	u64 *t = (u64 *)frame_alloc();
	memset(t, 0, 4096);
	return t;
}

/* ------------------------------------------------------------ spaces */

struct space {
	u64 *pdpt, *pd0, *pd1, *pt; /* pd0: identity map, pd1: DATA_VA */
};

static struct space parent, child[MAX_CHILDREN];
static volatile u64 *cur_pt; /* data PT of the space in CR3 */
static u32 parent_ref[DATA_PAGES]; /* reference copies of parent data */

static void switch_to(struct space *s)
{
	cur_pt = s->pt;
	write_cr3((u32)s->pdpt);
}

static void build_parent(void)
{
	struct space *s = &parent;
	s->pdpt = table_alloc();
	s->pd0 = table_alloc();
	s->pd1 = table_alloc();
	s->pt = table_alloc();
	s->pdpt[0] = (u32)s->pd0 | PTE_P;
	s->pdpt[DATA_VA >> 30] = (u32)s->pd1 | PTE_P;
	for (u32 va = 0; va < MAP_END; va += 2 * (u32)MiB)
		s->pd0[va >> 21] = va | PTE_P | PTE_W | PTE_U | PTE_PS;
	s->pd1[(DATA_VA >> 21) & 511] = (u32)s->pt | PTE_P | PTE_W | PTE_U;
	for (int i = 0; i < DATA_PAGES; i++) {
		u32 f = frame_alloc();
		u32 *w = (u32 *)f;
		for (int j = 0; j < WORDS; j++)
			w[j] = 0x70000000u | (u32)i << 16 | (u32)j;
		s->pt[i] = f | PTE_P | PTE_W | PTE_U;
		parent_ref[i] = frame_alloc();
		memcpy((void *)parent_ref[i], w, 4096);
	}
}

/* Copy the parent's tables (all levels) and share its data COW. */
static void fork_child(struct space *c)
{
	struct space *p = &parent;
	c->pdpt = table_alloc();
	c->pd0 = table_alloc();
	c->pd1 = table_alloc();
	c->pt = table_alloc();
	memcpy(c->pd0, p->pd0, 4096);
	memcpy(c->pd1, p->pd1, 4096);
	memcpy(c->pt, p->pt, 4096);
	c->pdpt[0] = (u32)c->pd0 | PTE_P;
	c->pdpt[DATA_VA >> 30] = (u32)c->pd1 | PTE_P;
	c->pd1[(DATA_VA >> 21) & 511] = (u32)c->pt | PTE_P | PTE_W | PTE_U;
	for (int i = 0; i < DATA_PAGES; i++) {
		u64 e = p->pt[i];
		if (e & PTE_W) {
			/* The parent is the current space: flush its TLB
			 * entry for the page it can no longer write. */
			e = (e & ~(u64)PTE_W) | PTE_COW;
			p->pt[i] = e;
			invlpg(DATA_VA + i * 4096);
		}
		c->pt[i] = e & ~(u64)(PTE_A | PTE_D);
		(*ref_of((u32)(e & ADDR_4K)))++;
	}
}

static void free_child(struct space *c)
{
	for (int i = 0; i < DATA_PAGES; i++) {
		u32 f = (u32)(c->pt[i] & ADDR_4K);
		if (--*ref_of(f) == 0)
			frame_free(f);
	}
	frame_free((u32)c->pt);
	frame_free((u32)c->pd1);
	frame_free((u32)c->pd0);
	frame_free((u32)c->pdpt);
}

/* ------------------------------------------------------------ #PF */

static int n_faults, n_copies, n_reuses;

/* Called by cow_pf_entry; returns 1 when the fault was a COW write it
 * resolved (the instruction is then restarted), 0 to pass it on. */
int cow_fault(u32 err, u32 cr2);
int cow_fault(u32 err, u32 cr2)
{
	if ((err & (PF_P | PF_W | PF_RSVD)) != (PF_P | PF_W) ||
	    cr2 < DATA_VA || cr2 >= DATA_VA + DATA_PAGES * 4096)
		return 0;
	u32 i = (cr2 - DATA_VA) / 4096;
	u64 e = cur_pt[i];
	if ((e & (PTE_P | PTE_COW)) != (PTE_P | PTE_COW))
		return 0;
	u32 f = (u32)(e & ADDR_4K);
	n_faults++;
	if (*ref_of(f) == 1) {
		n_reuses++; /* nobody else maps it: just make it writable */
	} else {
		u32 nf = frame_alloc();
		memcpy((void *)nf, (void *)f, 4096);
		(*ref_of(f))--;
		f = nf;
		n_copies++;
	}
	cur_pt[i] = (e & ~(ADDR_4K | PTE_COW | PTE_A | PTE_D)) | f | PTE_W;
	invlpg(cr2); /* §4.10.4.2 (a stale read-only entry would refault) */
	return 1;
}

/*
 * The #PF gate: save registers and data segments, call cow_fault(error
 * code, CR2); on 1 drop the error code and IRET (the faulting instruction
 * runs again), else continue in the library's own #PF stub with the
 * stack as the CPU left it.
 */
u32 cow_prev_handler;
void cow_pf_entry(void);
asm(".pushsection .text\n"
    ".code32\n"
    ".globl cow_pf_entry\n"
    "cow_pf_entry:\n"
    "	pushal\n"
    "	push %ds\n"
    "	push %es\n"
    "	mov $0x10, %eax\n"
    "	mov %ax, %ds\n"
    "	mov %ax, %es\n"
    "	cld\n"
    "	mov %cr2, %eax\n"
    "	push %eax\n"            /* cr2 */
    "	push 44(%esp)\n"        /* error code: 4 + 8 + 32 bytes up */
    "	call cow_fault\n"
    "	add $8, %esp\n"
    "	pop %es\n"
    "	pop %ds\n"
    "	test %eax, %eax\n"
    "	jz 1f\n"
    "	popal\n"
    "	add $4, %esp\n"
    "	iret\n"
    "1:	popal\n"
    "	jmp *cow_prev_handler\n"
    ".popsection\n");

static volatile u64 *idt_pf_gate;
static u64 saved_gate;

static void install_handler(void)
{
	struct __packed {
		u16 limit;
		u32 base;
	} idtr;
	asm volatile("sidt %0" : "=m"(idtr));
	idt_pf_gate = (volatile u64 *)(idtr.base + 8 * VEC_PF);
	saved_gate = *idt_pf_gate;
	cow_prev_handler = (u32)(saved_gate & 0xffff) |
			   (u32)(saved_gate >> 48) << 16;
	u32 off = (u32)cow_pf_entry;
	*idt_pf_gate = (saved_gate & 0x0000ffffffff0000ull) | (off & 0xffff) |
		       (u64)(off >> 16) << 48;
}

static void remove_handler(void)
{
	*idt_pf_gate = saved_gate;
}

/* ------------------------------------------------------------ workload */

static u32 rng;

static u32 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

struct wr {
	u16 page, word;
	u32 val;
};
static struct wr wlog[MAX_CHILDREN][MAX_WRITES];
static int nlog[MAX_CHILDREN];
static u32 scratch[WORDS] __aligned(4096);

#define FNV_PRIME 0x01000193u /* FNV-1a, a word at a time */

/* Compare page @i of the current space with @want; fold it into @sum. */
static bool check_page(int i, const u32 *want, u32 *sum)
{
	const volatile u32 *p = (const volatile u32 *)(DATA_VA + i * 4096);
	bool ok = true;
	u32 h = *sum;
	for (int j = 0; j < WORDS; j++) {
		u32 v = p[j];
		ok &= v == want[j];
		h = (h ^ v) * FNV_PRIME;
	}
	*sum = h;
	return ok;
}

static void do_write(int c, u32 va, u32 val, int *user)
{
	if (rnd() % 4 == 0) {
		(*user)++;
		int v = user_write32(va, val);
		if (v != FAULT_NONE)
			report(false, "child %d: ring-3 write at %#x: vector %d "
				      "error %#x", c, va, v,
			       last_fault.error_code);
	} else {
		poke32(va, val);
	}
}

static void round_run(int r, int nchildren, int nwrites)
{
	n_faults = n_copies = n_reuses = 0;
	int writes = 0, user = 0, bad_child = 0, bad_pages = 0;
	u32 sum = 0x811c9dc5u;

	/* The parent writes to a few pages (read-only since the last fork:
	 * the handler finds them unshared and makes them writable). */
	switch_to(&parent);
	for (int k = 0; k < 8; k++) {
		u32 i = rnd() % DATA_PAGES, j = rnd() % WORDS, val = rnd();
		poke32(DATA_VA + i * 4096 + j * 4, val);
		((u32 *)parent_ref[i])[j] = val;
		writes++;
	}

	for (int c = 0; c < nchildren; c++) {
		fork_child(&child[c]);
		nlog[c] = 0;
	}

	/* Round-robin: one write per child, a CR3 switch before each. */
	for (int k = 0; k < nwrites; k++)
		for (int c = 0; c < nchildren; c++) {
			struct wr *w = &wlog[c][nlog[c]++];
			w->page = (u16)(rnd() % DATA_PAGES);
			w->word = (u16)(rnd() % WORDS);
			w->val = rnd();
			switch_to(&child[c]);
			do_write(c, DATA_VA + w->page * 4096u + w->word * 4u,
				 w->val, &user);
			writes++;
		}

	/* Each child: parent's data plus its own writes, in order. */
	for (int c = 0; c < nchildren; c++) {
		switch_to(&child[c]);
		bool ok = true;
		for (int i = 0; i < DATA_PAGES; i++) {
			memcpy(scratch, (void *)parent_ref[i], 4096);
			for (int k = 0; k < nlog[c]; k++)
				if (wlog[c][k].page == i)
					scratch[wlog[c][k].word] = wlog[c][k].val;
			if (!check_page(i, scratch, &sum)) {
				ok = false;
				bad_pages++;
			}
		}
		bad_child += !ok;
	}

	switch_to(&parent);
	bool parent_ok = true;
	u32 psum = 0;
	for (int i = 0; i < DATA_PAGES; i++)
		parent_ok &= check_page(i, (u32 *)parent_ref[i], &psum);

	for (int c = 0; c < nchildren; c++)
		free_child(&child[c]);

	report(bad_child == 0 && parent_ok,
	       "round %d: %d children see the parent's data and their own "
	       "writes, parent unchanged", r, nchildren);
	if (bad_child || !parent_ok)
		printf("  %d children wrong (%d pages), parent %s\n", bad_child,
		       bad_pages, parent_ok ? "ok" : "wrong");
	printf("round %d: %d writes (%d from ring 3), %d faults, %d copies, "
	       "%d made writable, checksum %#010x\n", r, writes, user,
	       n_faults, n_copies, n_reuses, sum);
}

static int arg_int(const char *key, int def, int max)
{
	char buf[16];
	const char *s = cmdline_get(key, buf, sizeof(buf));
	if (!s || !*s)
		return def;
	int v = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (*s - '0');
	return v < 1 ? 1 : v > max ? max : v;
}

void guest_main(void)
{
	int seed = arg_int("seed", 1, 1 << 30);
	int rounds = arg_int("rounds", 4, 1000);
	int nchildren = arg_int("children", 16, MAX_CHILDREN);
	int nwrites = arg_int("writes", 24, MAX_WRITES);
	rng = (u32)seed * 2654435761u | 1;
	printf("seed %d, %d rounds, %d children, %d writes per child\n", seed,
	       rounds, nchildren, nwrites);

	if (!report(mb_available_bytes(POOL_BASE, POOL_END - POOL_BASE) ==
			    POOL_END - POOL_BASE,
		    "RAM for the frame pool (8-24 MiB) is available"))
		return;
	for (u32 i = 0; i < POOL_FRAMES; i++)
		free_list[nfree++] = POOL_END - 4096 * (i + 1);

	build_parent();
	install_handler();
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_NXE);
	paging_enable_pae(parent.pdpt, true);
	cur_pt = parent.pt;

	int frames_before = nfree;
	for (int r = 1; r <= rounds; r++)
		round_run(r, nchildren, nwrites);

	paging_disable();
	remove_handler();
	report(nfree == frames_before,
	       "every child frame went back to the pool");
	bool ok = true;
	for (int i = 0; i < DATA_PAGES; i++)
		ok &= !memcmp((void *)(u32)(parent.pt[i] & ADDR_4K),
			      (void *)parent_ref[i], 4096);
	report(ok, "parent data intact with paging off");
}
