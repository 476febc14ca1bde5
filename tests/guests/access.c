/*
 * tests/guests/access.c - the paging access-rights matrix.
 *
 * For 32-bit paging, PAE paging and 4-level paging (through long_call),
 * every combination of
 *   PDE and PTE U/S and R/W (and XD for PAE and 4-level),
 *   CR0.WP, EFER.NXE, and CR4.SMEP / CR4.SMAP where the CPU has them,
 * is tried with eight accesses to one test page: read, write and fetch
 * from ring 0, the same from ring 3, and ring-0 read and write with
 * EFLAGS.AC=1. Each access records whether it faulted, the #PF error code,
 * whether CR2 held the address, whether the data read or written was
 * right, and the A/D bits of the PDE and the PTE afterwards (reset before
 * every access; INVLPG after every change of the PDE or PTE). The records
 * of one (mode, CR combination) are folded into an FNV-1a hash, and each
 * one is also compared with the result the SDM rules predict (Intel SDM
 * vol. 3A ch. 4: §4.6 access rights, §4.7 error code, §4.8 A/D bits,
 * §4.10.4 invalidation), so a bug shows as a differing hash and a FAIL.
 *
 * Printed: one line per (mode, WP, NXE) with SMEP = SMAP = 0 (counts and
 * hash), and per mode one line for all SMEP/SMAP combinations the CPU has
 * (no hash there: it would depend on the CPU model; a CPU without them
 * prints the same line). Details of mismatches come before a FAIL line.
 *
 * What is recorded about a faulting access leaves out the A bits: §4.8
 * ties A to the entries used for a translation and leaves open whether a
 * walk that ends in a #PF sets A in the entries it read (implementations
 * differ). D must stay clear: a faulting write writes nothing.
 *
 * The image is mapped supervisor-only (so ring-0 code keeps working with
 * SMEP and SMAP on); ring 3 runs a small position-independent stub copied
 * into a user page, on a user stack page, and ends with UD2 (#UD at a
 * known address means "done"; the value read is pushed on the user stack).
 *
 * Under 4-level paging one long_call runs all accesses of a CR combination
 * (entries written, INVLPG and the access all in long mode): the guest's
 * own 64-bit #PF and #UD handlers record the fault and resume the loop.
 *
 * One QEMU TCG deviation is tolerated (bare, or under Umbra where TCG walks
 * the guest tables): a reserved-bit #PF without P is recorded as P|RSVD.
 *
 * Arguments: modes=LIST (letters: 2 = 32-bit, p = PAE, 4 = 4-level;
 * default "2p4"); quick (SMEP/SMAP combinations only with CR0.WP = 1 and
 * EFER.NXE = 1: for slow emulators); verbose (also prints the SMEP/SMAP
 * counts and hash, which depend on the CPU: not for differential runs).
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"
#include "kernel/string.h"

GUEST_NAME("access");

#define TEST_VA 0x40000000u   /* the page under test */
#define UCODE_VA 0x50000000u  /* ring-3 stub (user, read-only) */
#define USTACK_VA 0x50001000u /* ring-3 stack (user, writable) */
#define USTACK_TOP (USTACK_VA + 4096)
#define DATA_OFF 0x800        /* data word in the test page; byte 0 is RET */
#define MAGIC 0x600dda7au

#define SEL_UCODE32 0x23
#define SEL_UDATA 0x2b
#define SEL_DATA 0x10
#define EFLAGS_AC (1u << 18)
#define CR4_SMEP (1u << 20)
#define CR4_SMAP (1u << 21)
#define ADDR_4K 0x000ffffffffff000ull

enum mode { M32, MPAE, M4L };
static const char *const mode_name[] = { "32-bit", "PAE", "4-level" };

/* The eight accesses of one permission combination. */
struct acc {
	bool user, ac;
	enum access_op op;
	const char *name;
};
static const struct acc accs[] = {
	{ false, false, ACC_READ, "ring 0 read" },
	{ false, false, ACC_WRITE, "ring 0 write" },
	{ false, false, ACC_EXEC, "ring 0 fetch" },
	{ true, false, ACC_READ, "ring 3 read" },
	{ true, false, ACC_WRITE, "ring 3 write" },
	{ true, false, ACC_EXEC, "ring 3 fetch" },
	{ false, true, ACC_READ, "ring 0 read AC=1" },
	{ false, true, ACC_WRITE, "ring 0 write AC=1" },
};

/* ------------------------------------------------------------ ring 3 and 64-bit code
 *
 * acc_ustub: copied to UCODE_VA and run at CPL 3 (also in compatibility
 * mode under 4-level paging). EAX = 0 read [EBX] into ECX, 1 write ECX
 * to [EBX], 2 call EBX; then push ECX and UD2.
 *
 * acc_user_enter32(req): a fault_try function: IRET to the stub at CPL 3.
 *
 * acc_lm_batch(): 64-bit, through long_call: for each step of acc_st,
 * write the PDE, the PTE and the data word, INVLPG, and make the access:
 * at CPL 0 (EFLAGS.AC set around it if asked), or by IRETQ to the stub at
 * CPL 3. A #PF (acc_pf64) or #UD (acc_ud64, the stub's end) is recorded
 * in the step, as is a normal end, and acc_lm_next goes on with the next
 * step on the saved stack, after reading back the entries and the word.
 */
struct req {
	u32 op, va, val, ac, user; /* offsets 0, 4, 8, 12, 16 */
};

struct step {
	u64 pde, pte;                      /* 0, 8: entries to write */
	u32 op, user, ac, va, val;         /* 16 .. 32 */
	u32 vector, err, cr2, value, data; /* 36 .. 52: results */
	u64 pde_after, pte_after;          /* 56, 64 */
};
#define STEP_SIZE 72
_Static_assert(sizeof(struct step) == STEP_SIZE, "struct step layout");

/* The batch, as the 64-bit code sees it (offsets in the comments). */
struct lm_state {
	u32 steps, n, pde_addr, pte_addr, data_addr, magic; /* 0 .. 20 */
	u32 i, cur;                                         /* 24, 28 */
	u64 rsp;                                            /* 32 */
};
struct lm_state acc_st;

#define STR_(x) #x
#define STR(x) STR_(x)
asm(".pushsection .text\n"
    ".code32\n"
    ".globl acc_ustub, acc_ustub_done, acc_ustub_end, acc_user_enter32\n"
    "acc_ustub:\n"
    "	cmp $0, %eax\n"
    "	je 1f\n"
    "	cmp $1, %eax\n"
    "	je 2f\n"
    "	call *%ebx\n"
    "	jmp 3f\n"
    "1:	mov (%ebx), %ecx\n"
    "	jmp 3f\n"
    "2:	mov %ecx, (%ebx)\n"
    "3:	push %ecx\n"
    "acc_ustub_done:\n"
    "	ud2\n"
    "acc_ustub_end:\n"
    "acc_user_enter32:\n"
    "	mov 4(%esp), %edx\n"
    "	mov 0(%edx), %eax\n"
    "	mov 4(%edx), %ebx\n"
    "	mov 8(%edx), %ecx\n"
    "	mov $" STR(SEL_UDATA) ", %esi\n"
    "	mov %si, %ds\n"
    "	mov %si, %es\n"
    "	push $" STR(SEL_UDATA) "\n"
    "	push $" STR(USTACK_TOP) "\n"
    "	push $2\n"
    "	push $" STR(SEL_UCODE32) "\n"
    "	push $" STR(UCODE_VA) "\n"
    "	iret\n"
    ".code64\n"
    ".globl acc_lm_batch, acc_lm_next, acc_pf64, acc_ud64\n"
    "acc_lm_batch:\n"
    "	push %rbx\n"
    "	push %rbp\n"
    "	push %r12\n"
    "	push %r13\n"
    "	push %r14\n"
    "	push %r15\n"
    "	mov $acc_st, %ebp\n"
    "	mov %rsp, 32(%rbp)\n"
    "	movl $0, 24(%rbp)\n"
    "10:	mov $acc_st, %ebp\n"
    "	mov 24(%rbp), %eax\n"
    "	cmp 4(%rbp), %eax\n"
    "	jae 19f\n"
    "	imul $" STR(STEP_SIZE) ", %eax, %esi\n"
    "	add 0(%rbp), %esi\n"
    "	mov %esi, 28(%rbp)\n"
    "	mov 8(%rbp), %edx\n"       /* PDE, PTE, data word, INVLPG */
    "	mov 0(%rsi), %rax\n"
    "	mov %rax, (%rdx)\n"
    "	mov 12(%rbp), %edx\n"
    "	mov 8(%rsi), %rax\n"
    "	mov %rax, (%rdx)\n"
    "	mov 16(%rbp), %edx\n"
    "	mov 20(%rbp), %eax\n"
    "	mov %eax, (%rdx)\n"
    "	mov 28(%rsi), %edx\n"
    "	invlpg (%rdx)\n"
    "	movl $-1, 36(%rsi)\n"
    "	mov 16(%rsi), %eax\n"
    "	mov 28(%rsi), %ebx\n"
    "	mov 32(%rsi), %ecx\n"
    "	cmpl $0, 20(%rsi)\n"
    "	jne 15f\n"
    "	cmpl $0, 24(%rsi)\n"
    "	je 11f\n"
    "	pushfq\n"
    "	orl $0x40000, (%rsp)\n"
    "	popfq\n"
    "11:	cmp $0, %eax\n"
    "	je 12f\n"
    "	cmp $1, %eax\n"
    "	je 13f\n"
    "	call *%rbx\n"
    "	jmp 14f\n"
    "12:	mov (%rbx), %ecx\n"
    "	jmp 14f\n"
    "13:	mov %ecx, (%rbx)\n"
    "14:	mov $acc_st, %ebp\n"
    "	mov 28(%rbp), %esi\n"
    "	mov %ecx, 48(%rsi)\n"
    "	jmp acc_lm_next\n"
    "15:	mov $" STR(SEL_UDATA) ", %edx\n"
    "	mov %dx, %ds\n"
    "	mov %dx, %es\n"
    "	pushq $" STR(SEL_UDATA) "\n"
    "	pushq $" STR(USTACK_TOP) "\n"
    "	pushq $2\n"
    "	pushq $" STR(SEL_UCODE32) "\n"
    "	pushq $" STR(UCODE_VA) "\n"
    "	iretq\n"
    "acc_lm_next:\n"                /* CPL 0, any stack */
    "	mov $acc_st, %ebp\n"
    "	mov 32(%rbp), %rsp\n"
    "	pushfq\n"
    "	andl $~0x40000, (%rsp)\n"
    "	popfq\n"
    "	mov 28(%rbp), %esi\n"
    "	mov 8(%rbp), %edx\n"
    "	mov (%rdx), %rax\n"
    "	mov %rax, 56(%rsi)\n"
    "	mov 12(%rbp), %edx\n"
    "	mov (%rdx), %rax\n"
    "	mov %rax, 64(%rsi)\n"
    "	mov 16(%rbp), %edx\n"
    "	mov (%rdx), %eax\n"
    "	mov %eax, 52(%rsi)\n"
    "	incl 24(%rbp)\n"
    "	jmp 10b\n"
    "19:	mov 32(%rbp), %rsp\n"
    "	pop %r15\n"
    "	pop %r14\n"
    "	pop %r13\n"
    "	pop %r12\n"
    "	pop %rbp\n"
    "	pop %rbx\n"
    "	xor %eax, %eax\n"
    "	ret\n"
    "acc_pf64:\n"                   /* #PF: error code on the stack */
    "	mov $acc_st, %ebp\n"
    "	mov 28(%rbp), %esi\n"
    "	movl $14, 36(%rsi)\n"
    "	mov (%rsp), %eax\n"
    "	mov %eax, 40(%rsi)\n"
    "	mov %cr2, %rax\n"
    "	mov %eax, 44(%rsi)\n"
    "	jmp acc_lm_next\n"
    "acc_ud64:\n"                   /* #UD: RIP on the stack */
    "	mov $acc_st, %ebp\n"
    "	mov 28(%rbp), %esi\n"
    "	movl $6, 36(%rsi)\n"
    "	mov %ecx, 48(%rsi)\n"
    "	mov (%rsp), %rax\n"
    "	mov %eax, 40(%rsi)\n"
    "	jmp acc_lm_next\n"
    ".code32\n"
    ".popsection\n");

extern char acc_ustub[], acc_ustub_done[], acc_ustub_end[];
void acc_user_enter32(void *req);
extern char acc_lm_batch[], acc_pf64[], acc_ud64[];

/* ------------------------------------------------------------ state */

static enum mode mode;
static u8 *test_frame, *ucode_frame, *ustack_frame;
static volatile u32 *pde32, *pte32;  /* 32-bit paging */
static volatile u64 *pde64, *pte64;  /* PAE and 4-level */
static u32 pt_addr;                  /* the page table under the test PDE */
static u32 root;                     /* CR3 of the current mode */
static bool has_smep, has_smap, tcg;
static u32 tss_base;
static bool verbose, quick;

static void set_ac(bool on)
{
	u32 f;
	asm volatile("pushfl; popl %0" : "=r"(f) : : "memory");
	f = on ? f | EFLAGS_AC : f & ~EFLAGS_AC;
	asm volatile("pushl %0; popfl" : : "r"(f) : "memory", "cc");
}

static void reload_fs_gs(void)
{
	asm volatile("mov %0, %%fs; mov %0, %%gs" : : "r"(SEL_DATA));
}

/* The 32-bit TSS of the library (found through TR and the GDT). */
static u32 find_tss(void)
{
	struct __packed {
		u16 limit;
		u32 base;
	} gdtr;
	u16 tr;
	asm volatile("sgdt %0" : "=m"(gdtr));
	asm volatile("str %0" : "=r"(tr));
	const u8 *d = (const u8 *)(gdtr.base + (tr & ~7u));
	return d[2] | (u32)d[3] << 8 | (u32)d[4] << 16 | (u32)d[7] << 24;
}

/* ------------------------------------------------------------ entries */

#define F_PDE_U 1u
#define F_PDE_W 2u
#define F_PDE_NX 4u
#define F_PTE_U 8u
#define F_PTE_W 16u
#define F_PTE_NX 32u

static u64 pde_value(u32 f)
{
	u64 pde = pt_addr | PTE_P;
	if (f & F_PDE_U)
		pde |= PTE_U;
	if (f & F_PDE_W)
		pde |= PTE_W;
	if (f & F_PDE_NX)
		pde |= PTE_NX;
	return pde;
}

static u64 pte_value(u32 f)
{
	u64 pte = (u32)test_frame | PTE_P;
	if (f & F_PTE_U)
		pte |= PTE_U;
	if (f & F_PTE_W)
		pte |= PTE_W;
	if (f & F_PTE_NX)
		pte |= PTE_NX;
	return pte;
}

/* ------------------------------------------------------------ one access */

/* What an access did: the vector (FAULT_NONE if none), the #PF error code
 * and CR2, the value read, the data word and both entries afterwards. */
struct outcome {
	int vector;
	u32 err, cr2, value, data;
	u64 pde, pte;
};

static void r0_access(void *p)
{
	struct req *r = p;
	if (r->ac)
		set_ac(true);
	if (r->op == ACC_READ)
		r->val = peek32(r->va);
	else if (r->op == ACC_WRITE)
		poke32(r->va, r->val);
	else
		((void (*)(void))r->va)();
	set_ac(false);
}

static u32 ustub_done(void)
{
	return UCODE_VA + (u32)(acc_ustub_done - acc_ustub);
}

/* 32-bit and PAE paging: entries written (A/D clear) and INVLPG, then the
 * access through fault_try. */
static struct outcome access_now(const struct acc *a, u32 f, u32 va, u32 val)
{
	struct req r = { .op = a->op, .va = va, .val = val, .ac = a->ac,
			 .user = a->user };
	struct outcome o = { .vector = FAULT_NONE };
	int v;

	*(volatile u32 *)(test_frame + DATA_OFF) = MAGIC;
	if (mode == M32) {
		*pde32 = (u32)pde_value(f);
		*pte32 = (u32)pte_value(f);
	} else {
		*pde64 = pde_value(f);
		*pte64 = pte_value(f);
	}
	/* SDM §4.10.4.1: INVLPG invalidates the TLB entries for the page
	 * and all entries of the paging-structure caches. */
	invlpg(TEST_VA);

	if (a->user)
		v = fault_try(acc_user_enter32, &r);
	else
		v = fault_try(r0_access, &r);
	set_ac(false); /* a fault leaves AC as it was */

	if (a->user) {
		if (v == VEC_UD && last_fault.eip == ustub_done()) {
			v = FAULT_NONE;
			o.value = *(volatile u32 *)(ustack_frame + 4092);
		}
	} else if (v == FAULT_NONE) {
		o.value = r.val;
	}
	o.vector = v;
	if (v != FAULT_NONE) {
		o.err = last_fault.error_code;
		o.cr2 = last_fault.cr2;
	}
	o.data = *(volatile u32 *)(test_frame + DATA_OFF);
	o.pde = mode == M32 ? *pde32 : *pde64;
	o.pte = mode == M32 ? *pte32 : *pte64;
	return o;
}

/* 4-level paging: the accesses of one CR combination in one long_call. */
#define MAX_STEPS (64 * ARRAY_SIZE(accs))
static struct step steps[MAX_STEPS];

struct idt_gate64 {
	u64 lo, hi;
};
struct __packed idt_ptr {
	u16 limit;
	u32 base;
};
extern struct idt_ptr idt64_ptr; /* lib.c: the IDT long_call loads */

static void set_gate64(struct idt_gate64 *g, u32 off)
{
	g->lo = (off & 0xffff) | 0x18ull << 16 | 0x8E00ull << 32 |
		(u64)(off >> 16) << 48;
	g->hi = 0;
}

/* Returns FAULT_NONE, or the vector of an exception the batch did not
 * expect (a FAIL). */
static int run_steps(int n)
{
	struct idt_gate64 *idt = (struct idt_gate64 *)idt64_ptr.base;
	struct idt_gate64 pf = idt[VEC_PF], ud = idt[VEC_UD];
	set_gate64(&idt[VEC_PF], (u32)acc_pf64);
	set_gate64(&idt[VEC_UD], (u32)acc_ud64);
	acc_st = (struct lm_state){
		.steps = (u32)steps,
		.n = (u32)n,
		.pde_addr = (u32)pde64,
		.pte_addr = (u32)pte64,
		.data_addr = (u32)test_frame + DATA_OFF,
		.magic = MAGIC,
	};
	int v = long_call(root, acc_lm_batch, 0, NULL);
	idt[VEC_PF] = pf;
	idt[VEC_UD] = ud;
	set_ac(false);
	reload_fs_gs();
	return v;
}

static struct outcome step_outcome(const struct step *s)
{
	struct outcome o = { .vector = FAULT_NONE };
	if (s->vector == VEC_UD && s->user && s->err == ustub_done()) {
		o.value = s->value; /* the stub's end: no fault */
	} else if (s->vector != 0xffffffffu) {
		o.vector = (int)s->vector;
		o.err = s->vector == VEC_PF ? s->err : 0;
		o.cr2 = s->cr2;
	} else {
		o.value = s->value;
	}
	o.data = s->data;
	o.pde = s->pde_after;
	o.pte = s->pte_after;
	return o;
}

/* ------------------------------------------------------------ records */

struct crs {
	bool wp, nxe, smep, smap;
};

/* A record: the vector (0xff: none), the error code, and flags. */
#define R_CR2 BIT(16)
#define R_DATA BIT(17)
#define R_PDE_A BIT(18)
#define R_PTE_A BIT(19)
#define R_PTE_D BIT(20)

/*
 * What the SDM says about access @a with entry flags @f and control
 * bits @c (vol. 3A §4.6.1 "Determination of Access Rights", §4.7
 * "Page-Fault Exceptions", §4.8 "Accessed and Dirty Flags").
 */
static u32 expected(const struct acc *a, u32 f, const struct crs *c)
{
	bool pae = mode != M32;
	bool write = a->op == ACC_WRITE, fetch = a->op == ACC_EXEC;
	/* A user-mode address: U/S = 1 in every paging-structure entry
	 * (PDPTE in PAE has none; PML4E/PDPTE here are U=1). */
	bool uaddr = (f & F_PDE_U) && (f & F_PTE_U);
	/* Writable: R/W = 1 in every entry. */
	bool waddr = (f & F_PDE_W) && (f & F_PTE_W);
	bool nxbits = pae && (f & (F_PDE_NX | F_PTE_NX));
	/* XD only with EFER.NXE = 1 (PAE, 4-level); with NXE = 0 bit 63 of
	 * a present entry is reserved (§4.4.2 table 4-11, §4.5 table 4-19). */
	bool xd = nxbits && c->nxe;
	bool rsvd = nxbits && !c->nxe;
	bool fault;

	if (rsvd)
		fault = true;
	else if (a->user)
		/* §4.6.1: user-mode accesses: data reads need a user-mode
		 * address; writes also R/W = 1 (CR0.WP does not matter);
		 * fetches a user-mode address without XD. */
		fault = !uaddr || (write && !waddr) || (fetch && xd);
	else if (fetch)
		/* Supervisor fetches: XD; with CR4.SMEP never from a
		 * user-mode address. */
		fault = xd || (uaddr && c->smep);
	else {
		/* Supervisor data: with CR4.SMAP = 1 an explicit access to a
		 * user-mode address needs EFLAGS.AC = 1; writes with CR0.WP = 1
		 * need R/W = 1 (with WP = 0 any address is writable). */
		bool smap_block = uaddr && c->smap && !a->ac;
		fault = smap_block || (write && c->wp && !waddr);
	}

	if (!fault) {
		/* §4.8: A set in each entry used; D in the PTE on a write. */
		u32 r = 0xff | R_CR2 | R_DATA | R_PDE_A | R_PTE_A;
		if (write)
			r |= R_PTE_D;
		return r;
	}
	/* §4.7: P = 1 (a protection or reserved-bit violation: every entry
	 * here is present), W/R, U/S = CPL 3, RSVD, I/D for a fetch when
	 * CR4.SMEP = 1 or (PAE/4-level and EFER.NXE = 1). */
	u32 err = PF_P;
	if (write)
		err |= PF_W;
	if (a->user)
		err |= PF_U;
	if (rsvd)
		err |= PF_RSVD;
	if (fetch && (c->smep || (pae && c->nxe)))
		err |= PF_ID;
	/* The faulting write stored nothing and set no D bit. */
	return VEC_PF | err << 8 | R_CR2 | R_DATA;
}

static u32 record(const struct acc *a, const struct outcome *o, u32 va,
		  u32 wrote)
{
	bool data;
	if (o->vector != FAULT_NONE)
		data = o->data == MAGIC;
	else if (a->op == ACC_READ)
		data = o->value == MAGIC && o->data == MAGIC;
	else if (a->op == ACC_WRITE)
		data = o->data == wrote;
	else
		data = o->data == MAGIC;

	u32 r = (o->vector == FAULT_NONE ? 0xff : (u32)o->vector & 0xff);
	if (data)
		r |= R_DATA;
	if (o->pte & PTE_D)
		r |= R_PTE_D;
	if (o->vector == FAULT_NONE) {
		r |= R_CR2; /* nothing to compare */
		if (o->pde & PTE_A)
			r |= R_PDE_A;
		if (o->pte & PTE_A)
			r |= R_PTE_A;
	} else {
		u32 err = o->err;
		/* QEMU TCG: RSVD without P (tests/guests/README.md). */
		if (tcg && o->vector == VEC_PF && (err & PF_RSVD))
			err |= PF_P;
		r |= (err & 0xff) << 8;
		if (o->cr2 == va)
			r |= R_CR2;
	}
	return r;
}

static void describe(u32 r)
{
	if ((r & 0xff) == 0xff)
		printf("no fault");
	else
		printf("vector %u error %#x", r & 0xff, (r >> 8) & 0xff);
	printf(", CR2 %s, data %s", r & R_CR2 ? "ok" : "wrong",
	       r & R_DATA ? "ok" : "wrong");
	if ((r & 0xff) == 0xff)
		printf(", PDE.A %u PTE.A %u", !!(r & R_PDE_A), !!(r & R_PTE_A));
	printf(", PTE.D %u", !!(r & R_PTE_D));
}

static void print_flags(u32 f)
{
	printf("PDE U=%u W=%u", !!(f & F_PDE_U), !!(f & F_PDE_W));
	if (mode != M32)
		printf(" XD=%u", !!(f & F_PDE_NX));
	printf(", PTE U=%u W=%u", !!(f & F_PTE_U), !!(f & F_PTE_W));
	if (mode != M32)
		printf(" XD=%u", !!(f & F_PTE_NX));
}

#define FNV_OFFSET 0x811c9dc5u
#define FNV_PRIME 0x01000193u

static u32 fnv(u32 h, u32 v)
{
	for (int i = 0; i < 4; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= FNV_PRIME;
	}
	return h;
}

struct tally {
	int accesses, faults, mismatches;
	u32 hash;
};

#define MAX_DETAILS 6

static void print_crs(const struct crs *c)
{
	printf("%s WP=%u NXE=%u SMEP=%u SMAP=%u", mode_name[mode], c->wp,
	       c->nxe, c->smep, c->smap);
}

/* Every entry combination and access under control bits @c. */
static void run_combination(const struct crs *c, struct tally *t,
			    int *details)
{
	u32 nflags = mode == M32 ? 16 : 64;
	static u32 serial;

	u32 cr0 = read_cr0(), cr4 = read_cr4();
	cr0 = c->wp ? cr0 | (u32)CR0_WP : cr0 & ~(u32)CR0_WP;
	cr4 &= ~(CR4_SMEP | CR4_SMAP);
	if (c->smep)
		cr4 |= CR4_SMEP;
	if (c->smap)
		cr4 |= CR4_SMAP;
	write_cr0(cr0);
	write_cr4(cr4);
	u64 efer = rdmsr(MSR_EFER);
	wrmsr(MSR_EFER, c->nxe ? efer | EFER_NXE : efer & ~EFER_NXE);
	if (mode != M4L)
		write_cr3(root);

	/* 4-level: all steps first, one long_call, then the outcomes. */
	int n = 0;
	if (mode == M4L) {
		for (u32 f = 0; f < nflags; f++)
			for (u32 i = 0; i < ARRAY_SIZE(accs); i++) {
				const struct acc *a = &accs[i];
				u32 val = 0x5a000000u |
					  ((serial + (u32)n + 1) & 0xffffff);
				steps[n++] = (struct step){
					.pde = pde_value(f),
					.pte = pte_value(f),
					.op = a->op,
					.user = a->user,
					.ac = a->ac,
					.va = TEST_VA +
					      (a->op == ACC_EXEC ? 0 : DATA_OFF),
					.val = val,
				};
			}
		int v = run_steps(n);
		if (v != FAULT_NONE) {
			t->mismatches++;
			printf("  unexpected vector %d error %#x at step %u\n", v,
			       last_fault.error_code, acc_st.i);
		}
	}

	n = 0;
	for (u32 f = 0; f < nflags; f++) {
		for (u32 i = 0; i < ARRAY_SIZE(accs); i++, n++) {
			const struct acc *a = &accs[i];
			u32 va = TEST_VA + (a->op == ACC_EXEC ? 0 : DATA_OFF);
			u32 wrote = 0x5a000000u | (++serial & 0xffffff);
			struct outcome o = mode == M4L
						   ? step_outcome(&steps[n])
						   : access_now(a, f, va, wrote);
			u32 got = record(a, &o, va, wrote);
			u32 want = expected(a, f, c);
			t->accesses++;
			if (o.vector != FAULT_NONE)
				t->faults++;
			t->hash = fnv(t->hash, got);
			if (got != want) {
				t->mismatches++;
				if ((*details)++ < MAX_DETAILS) {
					printf("  ");
					print_crs(c);
					printf(", ");
					print_flags(f);
					printf(", %s:\n    expected ", a->name);
					describe(want);
					printf("\n    got      ");
					describe(got);
					printf("\n");
				}
			}
		}
	}
	*(volatile u32 *)(test_frame + DATA_OFF) = MAGIC;
}

/* ------------------------------------------------------------ modes */

static void setup_pages(void)
{
	test_frame = pg_alloc();
	ucode_frame = pg_alloc();
	ustack_frame = pg_alloc();
	test_frame[0] = 0xc3; /* ret */
	memcpy(ucode_frame, acc_ustub, (size_t)(acc_ustub_end - acc_ustub));
}

static void build(void)
{
	/* Image identity-mapped supervisor-only, writable; the test page
	 * and the ring-3 pages each under their own PDE. */
	if (mode == M32) {
		u32 *pd = pt32_new();
		pt32_identity(pd, image_map_end(), PTE_P | PTE_W);
		pt32_map4k(pd, TEST_VA, (u32)test_frame, PTE_P | PTE_W);
		pt32_map4k(pd, UCODE_VA, (u32)ucode_frame, PTE_P | PTE_U);
		pt32_map4k(pd, USTACK_VA, (u32)ustack_frame,
			   PTE_P | PTE_W | PTE_U);
		pde32 = &pd[TEST_VA >> 22];
		pte32 = pt32_leaf(pd, TEST_VA);
		pt_addr = *pde32 & ~0xfffu;
		root = (u32)pd;
	} else if (mode == MPAE) {
		u64 *pdpt = pae_new();
		pae_identity(pdpt, image_map_end(), PTE_P | PTE_W);
		pae_map4k(pdpt, TEST_VA, (u32)test_frame, PTE_P | PTE_W);
		pae_map4k(pdpt, UCODE_VA, (u32)ucode_frame, PTE_P | PTE_U);
		pae_map4k(pdpt, USTACK_VA, (u32)ustack_frame,
			  PTE_P | PTE_W | PTE_U);
		u64 *pd = (u64 *)(u32)(pdpt[TEST_VA >> 30] & ADDR_4K);
		pde64 = &pd[(TEST_VA >> 21) & 511];
		pte64 = pae_leaf(pdpt, TEST_VA);
		pt_addr = (u32)(*pde64 & ADDR_4K);
		root = (u32)pdpt;
	} else {
		u64 *pml4 = pt4_new();
		pt4_identity(pml4, image_map_end(), PTE_P | PTE_W);
		pt4_map4k(pml4, TEST_VA, (u32)test_frame, PTE_P | PTE_W);
		pt4_map4k(pml4, UCODE_VA, (u32)ucode_frame, PTE_P | PTE_U);
		pt4_map4k(pml4, USTACK_VA, (u32)ustack_frame,
			  PTE_P | PTE_W | PTE_U);
		u64 *pdpt = (u64 *)(u32)(pml4[0] & ADDR_4K);
		u64 *pd = (u64 *)(u32)(pdpt[TEST_VA >> 30] & ADDR_4K);
		pde64 = &pd[(TEST_VA >> 21) & 511];
		pte64 = pt4_leaf(pml4, TEST_VA);
		pt_addr = (u32)(*pde64 & ADDR_4K);
		root = (u32)pml4;
	}
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
		/* 64-bit TSS layout: RSP0 is the qword at offset 4, where the
		 * 32-bit TSS has ESP0 and SS0: clear SS0 for a canonical RSP0
		 * while ring 3 is entered from long mode. */
		*(volatile u32 *)(tss_base + 8) = 0;

	int details = 0;
	struct tally extra = { .hash = FNV_OFFSET };
	for (int wp = 0; wp < 2; wp++)
		for (int nxe = 0; nxe < 2; nxe++) {
			struct tally t = { .hash = FNV_OFFSET };
			struct crs c = { wp, nxe, false, false };
			run_combination(&c, &t, &details);
			report(t.mismatches == 0,
			       "%s WP=%d NXE=%d: %d accesses, %d faults, hash %#010x",
			       mode_name[m], wp, nxe, t.accesses, t.faults,
			       t.hash);
			if (t.mismatches)
				printf("  %d accesses differ from the SDM rules\n",
				       t.mismatches);
			for (int smep = 0; smep < 2; smep++)
				for (int smap = 0; smap < 2; smap++) {
					if (!smep && !smap)
						continue;
					if ((smep && !has_smep) || (smap && !has_smap))
						continue;
					if (quick && !(wp && nxe))
						continue;
					struct crs c2 = { wp, nxe, smep, smap };
					run_combination(&c2, &extra, &details);
				}
		}
	report(extra.mismatches == 0,
	       "%s with CR4.SMEP/SMAP set (where the CPU has them): all "
	       "accesses as the SDM says", mode_name[m]);
	if (extra.mismatches)
		printf("  %d accesses differ from the SDM rules\n",
		       extra.mismatches);
	if (verbose) /* CPU-specific: not for differential runs */
		printf("  (SMEP/SMAP: %d accesses, %d faults, hash %#010x)\n",
		       extra.accesses, extra.faults, extra.hash);

	write_cr4(read_cr4() & ~(CR4_SMEP | CR4_SMAP));
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_NXE);
	if (m == M4L)
		*(volatile u32 *)(tss_base + 8) = SEL_DATA;
	else
		paging_disable();
}

void guest_main(void)
{
	char buf[16];
	const char *modes = cmdline_get("modes", buf, sizeof(buf));
	if (!modes)
		modes = "2p4";

	struct cpuid_regs r = cpuid(0, 0);
	if (r.a >= 7) {
		r = cpuid(7, 0);
		has_smep = r.b & BIT(7);
		has_smap = r.b & BIT(20);
	}
	tcg = on_qemu_tcg();
	verbose = cmdline_has("verbose");
	quick = cmdline_has("quick");
	tss_base = find_tss();
	setup_pages();

	for (const char *p = modes; *p; p++) {
		if (*p == '2')
			run_mode(M32);
		else if (*p == 'p')
			run_mode(MPAE);
		else if (*p == '4')
			run_mode(M4L);
	}
	report((read_cr0() & CR0_PG) == 0 && rdmsr(MSR_EFER) == 0,
	       "paging off again, EFER back to 0");
}
