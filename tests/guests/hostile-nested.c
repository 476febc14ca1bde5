/*
 * tests/guests/hostile-nested.c - a hostile L1 hypervisor (issue 11,
 * "Containment", nested part): a 32-bit L1 on PAE paging with PAE-format
 * npt12, built on the body of nestedpae (tests/guests/nested-common.c,
 * included with its guest_main renamed and not run: its VMCB set-up,
 * VMRUN stub, npt12 builders and L2 loader are reused unchanged). Its own
 * L2 code is in hostile-nested.asm. AMD APM vol. 2 chapter 15 sections
 * are cited per check.
 *
 * Arguments select the attacks; without any, every one whose outcome is
 * defined (the same output bare and under a correct hypervisor) runs:
 *
 *   vmrunloop  20000 VMRUNs of an L2 that exits at once (VMMCALL, resumed
 *              after it), 20000 of one that HLTs (re-run at the HLT), and
 *              an L2 that executes VMRUN 2000 times (intercepted, 0x80);
 *              `loops=N` for N, N and N/10 (slow emulators)
 *   addr       rAX of VMRUN/VMSAVE/VMLOAD not 4K-aligned or at/above
 *              MAXPHYADDR (#GP(0)); VM_HSAVE_PA the same (WRMSR #GP(0));
 *              VMRUN/VMSAVE/VMLOAD/VM_HSAVE_PA at 3 GiB, not RAM (either
 *              #GP(0) or no exception: unbacked memory is the platform's)
 *   eventinj   EVENTINJ with reserved types and non-exception vectors
 *              (VMEXIT_INVALID), and a legal #UD injected through the L2's
 *              IDT (HLT exit in its handler)
 *   ncr3       nCR3 with bit 63 or bit MAXPHYADDR set
 *   npt12      npt12 tables mapped into the L2 (it rewrites its own
 *              nested translations, the L1 flushes) and a PD entry that
 *              points at its own PD (a loop)
 *   maps       IOPM and MSRPM bases at 3 GiB (not RAM)
 *   gif        GIF and interrupt masking around VMRUN with the L1's LAPIC
 *              timer: V_INTR_MASKING, INTR intercept, CLGI, STGI
 *
 * and, only when named (each in its own VM: Umbra may end the VM; the
 * test compares the output up to the line printed before the attack):
 *
 *   npt12beyond  an npt12 leaf at L1 physical 3 GiB, read and written
 *   ncr3beyond   nCR3 at 3 GiB
 *   ncr3mmio     nCR3 at the local APIC page 0xfee00000
 *   l2svm        CLGI, STGI, VMSAVE, VMLOAD in the L2, not intercepted
 *   hsaveoverlap VM_HSAVE_PA = the vmcb12 page
 */
#define NESTED_MODE NM_PAE
#define guest_main nestedpae_main
#define guest_name nestedpae_guest_name
#include "tests/guests/nested-common.c"
#undef guest_main
#undef guest_name
#include "tests/guests/lib/smp.h"

GUEST_NAME("hostile-nested");

/* More of the VMCB (APM vol. 2, appendix B, table B-1) and exit codes
 * (appendix C). */
#define VMCB_VINTR 0x060
#define VINTR_MASKING BIT(24)
#define VMCB_EXITINTINFO 0x088
#define VMCB_EVENTINJ 0x0a8
#define I1_INTR BIT(0)
#define I1_MSR BIT(28)
#define EXIT_INTR 0x60ull
#define EXIT_MSR 0x7cull
#define EXIT_VMRUN 0x80ull
#define EVENT_V BIT(31)

#define BEYOND 0xc0000000u	/* 3 GiB: no RAM, no device (-m 64M) */
#define TIMER_VEC 0x41

/* L2 layout (hostile-nested.asm) */
#define GPA_A 0x60000u
#define GPA_B 0x61000u
#define GPA_NPT_PT 0x70000u
#define GPA_BEYOND 0x80000u
#define VAL_A4 0xa4a4a4a4u
#define VAL_A5 0xa5a5a5a5u
#define VAL_B6 0xb6b6b6b6u
#define VAL_B7 0xb7b7b7b7u
#define AD_MASK (~(u64)(PTE_A | PTE_D))

extern char hn_l2_vmmcall[], hn_l2_vmmcall_end[], hn_l2_vmrun[], hn_l2_vmrun_end[];
extern char hn_l2_spin[], hn_l2_spin_end[], hn_l2_npt[], hn_l2_npt_end[];
extern char hn_l2_beyond[], hn_l2_beyond_end[], hn_l2_io[], hn_l2_io_end[];
extern char hn_l2_svm[], hn_l2_svm_end[];
extern char hn_vmrun64[], hn_vmsave64[], hn_vmload64[];
void hn_vmrun_gif0(u32 vmcb);
void hn_vmsave32(u32 rax);
void hn_vmload32(u32 rax);
void hn_stgi(void);
void hn_clgi(void);
void hn_sti_spin(void *unused);
void hn_stgi_sti_spin(void *unused);

static u64 *l1_pdpt, *l1_pml4;
static unsigned maxphy;
static u8 vmsave_area[4096] __aligned(4096);

static bool invalid(u64 ec)
{
	/* QEMU TCG's 32-bit VMEXIT_INVALID (README, deviations) */
	return ec == EXIT_INVALID || (ec == 0xffffffffull && on_qemu_tcg());
}

/* The legal L2 of the address checks: a lone HLT (nested-common). */
static void hlt_l2(void)
{
	l2_load(l2_hlt, l2_hlt_end);
	simple_l2(L2_PROT);
}

static bool hlt_runs(void)
{
	V8(VMCB_TLB_CTL) = 1;
	u64 ec = l2_enter();
	if (ec != EXIT_HLT)
		show_exit(ec);
	return ec == EXIT_HLT;
}

/* ------------------------------------------------------------ 32/64 */

static u32 op_rax;
static void do_vmsave(void *unused) { hn_vmsave32(op_rax); }
static void do_vmload(void *unused) { hn_vmload32(op_rax); }

/* VMRUN with EAX = @pa (the VMCB page holds a legal HLT L2). */
static int vmrun_at(u32 pa)
{
	ctx.vmcb_pa = pa;
	return fault_try(do_vmrun32, NULL);
}

/* @fn64(@rax) in long mode (paging off around it: long_call enables
 * long mode from paging off). Returns the vector or FAULT_NONE. */
static int long_op(void *fn64, u64 rax)
{
	paging_disable();
	int v = long_call((u32)l1_pml4, fn64, rax, NULL);
	paging_enable_pae(l1_pdpt, true);
	return v;
}

static bool gp0(int v)
{
	return v == VEC_GP && last_fault.error_code == 0;
}

/* ------------------------------------------------------------ vmrunloop */

/*
 * VMRUN storms: each VMRUN must produce exactly one L2 entry and one
 * #VMEXIT (15.5 "VMRUN Instruction", 15.6 "#VMEXIT"): counts printed.
 */
static void test_vmrunloop(void)
{
	char buf[16];
	int n = 20000, exits = 0;
	if (cmdline_get("loops", buf, sizeof(buf))) {
		n = 0;
		for (const char *p = buf; *p >= '0' && *p <= '9' && n < 1000000; p++)
			n = n * 10 + (*p - '0');
		if (n < 10)
			n = 10;
	}

	l2_load(hn_l2_vmmcall, hn_l2_vmmcall_end);
	simple_l2(L2_PROT);
	for (int i = 0; i < n; i++) {
		u64 ec = l2_enter();
		if (ec != EXIT_VMMCALL) {
			show_exit(ec);
			break;
		}
		skip_insn(3);
		exits++;
	}
	printf("VMMCALL loop: %d VMRUNs, %d VMMCALL exits, the L2 counted %u\n",
	       n, exits, res(0));
	report(exits == n && res(0) == (u32)n,
	       "every VMRUN ran the L2 once to its VMMCALL (15.5, 15.9)");

	hlt_l2();
	exits = 0;
	for (int i = 0; i < n; i++) {
		u64 ec = l2_enter();
		if (ec != EXIT_HLT || V64(VMCB_RIP) != L2_CODE) {
			show_exit(ec);
			break;
		}
		exits++;
	}
	printf("HLT loop: %d VMRUNs at the same HLT, %d HLT exits\n", n, exits);
	report(exits == n, "every VMRUN of the HLT L2 exits with HLT at its RIP");

	/* The L2 executes VMRUN: its L1 intercepts VMRUN (it must: 15.5.1),
	 * so every one is exit 0x80 with rAX the L2's operand (15.9). */
	const u32 m = (u32)n / 10;
	l2_load(hn_l2_vmrun, hn_l2_vmrun_end);
	simple_l2(L2_PROT);
	ctx.rbx = m;
	u32 vmruns = 0, bad_rax = 0;
	u64 ec;
	for (;;) {
		ec = l2_enter();
		if (ec != EXIT_VMRUN)
			break;
		vmruns++;
		if ((u32)V64(VMCB_RAX) != 0x5000)
			bad_rax++;
		if (!nrip_ok(V64(VMCB_RIP) + 3))
			bad_rax++;
		skip_insn(3);
		if (vmruns > m + 10)
			break;
	}
	printf("L2 VMRUN loop: %u VMRUN exits (0x80), the L2 counted %u, then exit %#llx\n",
	       vmruns, res(0), ec);
	report(vmruns == m && res(0) == m && bad_rax == 0 && ec == EXIT_HLT,
	       "each VMRUN of the L2 exits to its L1 (0x80) with rAX = 0x5000, then HLT");
}

/* ------------------------------------------------------------ addr */

static void either(const char *what, int v)
{
	report(v == FAULT_NONE || gp0(v), "%s: #GP(0) or no exception "
	       "(memory outside RAM is the platform's), the L1 goes on", what);
}

/*
 * rAX checks of VMRUN, VMSAVE, VMLOAD: "#GP(0) if rAX is not 4-Kbyte
 * aligned or references a physical address at or above MAXPHYADDR"
 * (vol. 3, VMRUN/VMLOAD/VMSAVE; vol. 2, 15.5). VM_HSAVE_PA: "the low 12
 * bits must be zero", an address the processor can reach (15.30.4).
 */
static void test_addr(void)
{
	u64 top = 1ull << maxphy;
	int v;

	hlt_l2();
	v = vmrun_at((u32)vmcb + 0x10);
	report(gp0(v), "VMRUN with rAX = the VMCB + 0x10 (not 4K-aligned): #GP(0)");
	v = vmrun_at((u32)vmcb + 0x800);
	report(gp0(v), "VMRUN with rAX = the VMCB + 0x800: #GP(0)");
	report(hlt_runs(), "VMRUN with the aligned VMCB runs (HLT exit)");

	v = long_op(hn_vmrun64, top);
	report(gp0(v), "64-bit VMRUN with rAX = 2^MAXPHYADDR: #GP(0)");
	v = long_op(hn_vmrun64, (u32)vmcb | (1ull << 63));
	report(gp0(v), "64-bit VMRUN with rAX = the VMCB | bit 63: #GP(0)");
	v = long_op(hn_vmsave64, top + (u32)vmsave_area);
	report(gp0(v), "64-bit VMSAVE with rAX at/above 2^MAXPHYADDR: #GP(0)");
	v = long_op(hn_vmload64, top + (u32)vmsave_area);
	report(gp0(v), "64-bit VMLOAD with rAX at/above 2^MAXPHYADDR: #GP(0)");

	/* VMSAVE the L1's own state first: a VMLOAD that did load (it must
	 * not) would load the same state. */
	op_rax = (u32)vmsave_area;
	v = fault_try(do_vmsave, NULL);
	report(v == FAULT_NONE, "VMSAVE to an aligned page of RAM");
	op_rax = (u32)vmsave_area + 0x100;
	report(gp0(fault_try(do_vmsave, NULL)), "VMSAVE with rAX + 0x100 (not aligned): #GP(0)");
	report(gp0(fault_try(do_vmload, NULL)), "VMLOAD with rAX + 0x100 (not aligned): #GP(0)");
	op_rax = BEYOND;
	either("VMSAVE to 3 GiB (not RAM)", fault_try(do_vmsave, NULL));
	either("VMLOAD from 3 GiB (not RAM)", fault_try(do_vmload, NULL));
	op_rax = (u32)vmsave_area;
	report(fault_try(do_vmload, NULL) == FAULT_NONE,
	       "VMLOAD of the saved state back");

	hlt_l2();
	either("VMRUN with rAX = 3 GiB (not RAM)", vmrun_at(BEYOND));
	report(hlt_runs(), "VMRUN of the legal VMCB after it runs (HLT exit)");

	/* VM_HSAVE_PA */
	u64 back = 0;
	const struct {
		const char *what;
		u64 val;
	} bad_hsave[] = {
		{ "the host save area + 0x10 (not aligned)", (u32)hsave + 0x10 },
		{ "the host save area + 0xfff", (u32)hsave + 0xfff },
		{ "2^MAXPHYADDR", top },
		{ "the host save area | bit 63", (u32)hsave | (1ull << 63) },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad_hsave); i++) {
		v = try_wrmsr(MSR_VM_HSAVE_PA, bad_hsave[i].val);
		try_rdmsr(MSR_VM_HSAVE_PA, &back);
		report(gp0(v) && back == (u32)hsave,
		       "WRMSR VM_HSAVE_PA = %s: #GP(0), the old value stays",
		       bad_hsave[i].what);
	}
	v = try_wrmsr(MSR_VM_HSAVE_PA, BEYOND);
	either("WRMSR VM_HSAVE_PA = 3 GiB (not RAM)", v);
	report(try_wrmsr(MSR_VM_HSAVE_PA, (u32)hsave) == FAULT_NONE,
	       "WRMSR VM_HSAVE_PA = the host save area again");
	hlt_l2();
	report(hlt_runs(), "VMRUN after it runs (HLT exit)");
}

/* ------------------------------------------------------------ eventinj */

/*
 * EVENTINJ (15.20 "Event Injection"): TYPE 1 and 5-7 are reserved, and
 * TYPE 3 (exception) with vector 2 (NMI) or a vector that is no exception
 * is illegal; VMRUN exits with VMEXIT_INVALID (15.5.1). Only vectors both
 * readings agree on (2, 32, 255; not the reserved vectors 9, 15, 20-31).
 */
static void test_eventinj(void)
{
	static const struct {
		const char *what;
		u32 ev;
	} bad[] = {
		{ "TYPE 1 (reserved), vector 0x20", 1u << 8 | 0x20 },
		{ "TYPE 5 (reserved), vector 6", 5u << 8 | 6 },
		{ "TYPE 6 (reserved), vector 0x20", 6u << 8 | 0x20 },
		{ "TYPE 7 (reserved), vector 6", 7u << 8 | 6 },
		{ "TYPE 3 (exception) with vector 2", 3u << 8 | 2 },
		{ "TYPE 3 (exception) with vector 32", 3u << 8 | 32 },
		{ "TYPE 3 (exception) with vector 255", 3u << 8 | 255 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		hlt_l2();
		V32(VMCB_EVENTINJ) = EVENT_V | bad[i].ev;
		u64 ec = l2_enter();
		if (!report(invalid(ec), "EVENTINJ %s: VMEXIT_INVALID", bad[i].what))
			show_exit(ec);
	}
	/* Legal: #UD delivered through the L2's IDT (at GPA 0x4000, GDT at
	 * 0x4800) to its gate 6, which points at the HLT: HLT exit there,
	 * with EFLAGS, CS, EIP pushed (12 bytes). */
	hlt_l2();
	u32 *gdt2 = l2_ptr(0x4800), *idt2 = l2_ptr(0x4000);
	gdt2[2] = 0x0000ffff; /* 0x08: 32-bit flat code */
	gdt2[3] = 0x00cf9a00;
	gdt2[4] = 0x0000ffff; /* 0x10: data */
	gdt2[5] = 0x00cf9200;
	idt2[12] = 0x00080000 | L2_CODE; /* gate 6: 0x08:L2_CODE, */
	idt2[13] = 0x8e00;		  /* 32-bit interrupt gate */
	V32(0x460 + 4) = 0x27;		  /* GDTR limit, base */
	V64(0x460 + 8) = 0x4800;
	V32(0x480 + 4) = 0x3f;		  /* IDTR: 8 gates */
	V64(0x480 + 8) = 0x4000;
	V64(VMCB_RIP) = L2_CODE + 0x100;  /* never reached: the #UD comes first */
	V32(VMCB_EVENTINJ) = EVENT_V | 3u << 8 | 6;
	u64 ec = l2_enter();
	if (!report(ec == EXIT_HLT && V64(VMCB_RIP) == L2_CODE &&
		    V64(VMCB_RSP) == L2_STACK - 12 &&
		    peek32(L2BASE + L2_STACK - 12) == L2_CODE + 0x100,
		    "EVENTINJ #UD (TYPE 3, vector 6): delivered through the L2's "
		    "IDT before its first instruction, HLT exit in the handler"))
		show_exit(ec);
	report((V32(VMCB_EVENTINJ) & EVENT_V) == 0, "EVENTINJ.V is clear after the #VMEXIT");
	hlt_l2();
	report(hlt_runs(), "legal VMCB after them: HLT exit");
}

/* ------------------------------------------------------------ ncr3 */

static void test_ncr3(void)
{
	/* 15.25.4: with NP_ENABLE=1, an MBZ bit of nCR3 makes VMRUN fail. */
	const struct {
		const char *what;
		u64 bits;
	} bad[] = {
		{ "bit 63", 1ull << 63 },
		{ "bit MAXPHYADDR", 1ull << maxphy },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		hlt_l2();
		V64(VMCB_NCR3) |= bad[i].bits;
		u64 ec = l2_enter();
		/* QEMU TCG runs the L2 (README, deviations) */
		bool ok = invalid(ec) || (ec == EXIT_HLT && on_qemu_tcg());
		if (!report(ok, "nCR3 with %s set: VMEXIT_INVALID", bad[i].what))
			show_exit(ec);
	}
	hlt_l2();
	report(hlt_runs(), "legal nCR3 again: HLT exit");
}

/* ------------------------------------------------------------ npt12 */

static u64 *npt_pd(void)
{
	return (u64 *)(u32)(((u64 *)npt_root)[0] & ~0xfffull);
}

static u64 *npt_pt(void)
{
	return (u64 *)(u32)(npt_pd()[0] & ~0xfffull);
}

/* Expect a #NPF at @gpa with EXITINFO1 = @info1. */
static bool npf_at(const char *what, u64 ec, u64 info1, u32 gpa)
{
	bool ok = ec == EXIT_NPF && V64(VMCB_EXITINFO1) == info1 &&
		  V64(VMCB_EXITINFO2) == gpa;
	if (!report(ok, "%s: #NPF, EXITINFO1 %#llx, EXITINFO2 %#x", what, info1, gpa))
		show_exit(ec);
	return ok;
}

/*
 * The L2 edits its own nested translation: npt12's page table is mapped
 * at GPA 0x70000, and PD[1] points at the PD itself (so GPA 2M + j * 4K is
 * the table PD[j] points at). The L2 remaps a leaf, clears one, points
 * PD[2] at the page table (an alias of GPA 0..2M) and clears a leaf
 * through that alias; the L1 flushes (TLB_CONTROL=1, 15.16) before each
 * resume. Nested-table A/D bits are left out of every value (15.25.5: the
 * walk may set them; not what is checked here).
 */
static void test_npt12(void)
{
	const char *who = "npt12 mapped into its L2";

	l2_load(hn_l2_npt, hn_l2_npt_end);
	npt_new();
	for (u32 g = 0; g < 0x20000; g += 4096)
		npt_map(g, L2BASE + g, NPT_RW);
	npt_map(GPA_A, FRAME(4), NPT_RW);
	npt_map(GPA_B, FRAME(6), NPT_RW);
	u64 *pd = npt_pd(), *pt = npt_pt();
	npt_map(GPA_NPT_PT, (u32)pt, NPT_RW);
	pd[1] = (u32)pd | NPT_RW;
	poke32(FRAME(4), VAL_A4);
	poke32(FRAME(5), VAL_A5);
	poke32(FRAME(6), VAL_B6);
	poke32(FRAME(7), VAL_B7);
	poke32(L2BASE + L2_RES + 0x100, FRAME(5) | NPT_RW);
	poke32(L2BASE + L2_RES + 0x104, (u32)pt | NPT_RW);
	vmcb_init(L2_PROT, L2_CODE, 0);

	u64 ec = l2_enter();
	if (!report(ec == EXIT_VMMCALL && (u32)V64(VMCB_RAX) == 1,
		    "%s: VMMCALL 1 exits", who)) {
		show_exit(ec);
		return;
	}
	printf("npt12 in the L2: reads %#x and %#x; its leaf of GPA %#x at GPA %#x: %#llx\n",
	       res(0), res(4), GPA_A, GPA_NPT_PT + (GPA_A >> 12) * 8,
	       (u64)res(8) & AD_MASK);
	printf("npt12 in the L2: that leaf through the PD loop: %#llx; PD[1] flags: %#llx\n",
	       (u64)res(12) & AD_MASK, ((u64)res(16) & AD_MASK) - (u32)pd);
	report(res(0) == VAL_A4 && res(4) == VAL_B6, "%s: GPA %#x and %#x read "
	       "frames 4 and 6", who, GPA_A, GPA_B);
	report((res(8) & ~0x60u) == (FRAME(4) | NPT_RW) &&
	       (res(12) & ~0x60u) == (FRAME(4) | NPT_RW),
	       "%s: it reads its own npt12 leaf directly and through PD[1] -> PD", who);
	report((res(16) & ~0x60u) == ((u32)pd | NPT_RW), "%s: PD[1] reads as the PD "
	       "itself through the loop", who);
	report((pt[GPA_A >> 12] & AD_MASK) == (FRAME(5) | NPT_RW) &&
	       pt[GPA_B >> 12] == 0 && (pd[2] & AD_MASK) == ((u32)pt | NPT_RW),
	       "%s: the L1 sees the L2's three table writes", who);
	V8(VMCB_TLB_CTL) = 1;
	skip_insn(3);

	ec = l2_enter();
	if (!npf_at("its leaf of GPA 0x61000 cleared, flushed: read", ec, NPF_US | NPF_FINAL, GPA_B))
		return;
	npt_map(GPA_B, FRAME(7), NPT_RW); /* not present -> present: no flush */

	ec = l2_enter();
	if (!report(ec == EXIT_VMMCALL && (u32)V64(VMCB_RAX) == 2,
		    "%s: VMMCALL 2 exits", who)) {
		show_exit(ec);
		return;
	}
	printf("npt12 in the L2: after the flush reads %#x at GPA %#x, %#x at GPA %#x\n",
	       res(20), GPA_A, res(32), GPA_B);
	printf("npt12 in the L2: through PD[2] -> PT: %#x at GPA 0x403000, leaf of GPA %#x %#llx\n",
	       res(24), GPA_A, (u64)res(36) & AD_MASK);
	report(res(20) == VAL_A5, "%s: its remapped leaf is seen after TLB_CONTROL=1 "
	       "(frame 5)", who);
	report(res(32) == VAL_B7, "%s: the cleared leaf, mapped again by the L1 on "
	       "#NPF: frame 7", who);
	report(res(24) == VAL_A4 && res(28) == 0x5e1f5e1f,
	       "%s: its PD[2] -> npt12 PT aliases GPA 0..2M (read and write)", who);
	report((res(36) & ~0x60u) == (FRAME(5) | NPT_RW), "%s: the leaf of GPA %#x "
	       "through the alias", who, GPA_A);
	report(pt[GPA_A >> 12] == 0, "%s: its write through the alias cleared the "
	       "leaf in the L1's table", who);
	V8(VMCB_TLB_CTL) = 1;
	skip_insn(3);

	ec = l2_enter();
	if (!npf_at("its leaf of GPA 0x60000 cleared through the alias, flushed: read",
		    ec, NPF_US | NPF_FINAL, GPA_A))
		return;
	npt_map(GPA_A, FRAME(4), NPT_RW);
	ec = l2_enter();
	if (!report(ec == EXIT_HLT, "%s: HLT exits", who)) {
		show_exit(ec);
		return;
	}
	report(res(40) == VAL_A4, "%s: GPA %#x mapped again by the L1 reads frame 4",
	       who, GPA_A);
}

/* ------------------------------------------------------------ maps */

/* Run the L2 to HLT, stepping over IOIO and MSR exits; returns the mask
 * 1 (IOIO exit seen) | 2 (MSR exit seen) | 4 (ended in HLT). */
static int run_io_l2(void)
{
	int seen = 0;
	for (int i = 0; i < 4; i++) {
		u64 ec = l2_enter();
		if (ec == EXIT_IOIO) {
			seen |= 1;
			V64(VMCB_RIP) = V64(VMCB_EXITINFO2);
		} else if (ec == EXIT_MSR) {
			seen |= 2;
			skip_insn(2);
		} else if (ec == EXIT_HLT) {
			return seen | 4;
		} else {
			show_exit(ec);
			return seen;
		}
	}
	return seen;
}

/* IOPM_BASE_PA and MSRPM_BASE_PA below MAXPHYADDR but not RAM: VMRUN
 * accepts them (15.5.1 refuses only maps reaching MAXPHYADDR); what the
 * processor then reads there is the platform's (all ones: every access
 * intercepted; zeros: none). */
static void test_maps(void)
{
	l2_load(hn_l2_io, hn_l2_io_end);
	simple_l2(L2_PROT);
	V64(VMCB_IOPM) = BEYOND;
	int s = run_io_l2();
	report(s & 4, "IOPM at 3 GiB (not RAM): the L2's OUT exits (IOIO) or "
	       "runs, then HLT exit");
	simple_l2(L2_PROT);
	memset(iopm, 0, sizeof(iopm));
	V32(VMCB_ICPT1) |= I1_MSR;
	V64(VMCB_MSRPM) = BEYOND;
	s = run_io_l2();
	report(s & 4, "MSRPM at 3 GiB (not RAM): the L2's RDMSR exits or runs, "
	       "then HLT exit");
	simple_l2(L2_PROT);
	V32(VMCB_ICPT1) |= I1_MSR;
	s = run_io_l2();
	report(s == 4, "IOPM and MSRPM of zeros in RAM: neither exits, HLT exit");
	memset(iopm, 0xff, sizeof(iopm));
	simple_l2(L2_PROT);
	V32(VMCB_ICPT1) |= I1_MSR;
	memset(msrpm, 0xff, sizeof(msrpm));
	s = run_io_l2();
	report(s == 7, "IOPM and MSRPM of ones in RAM: IOIO exit, MSR exit, HLT exit");
	memset(msrpm, 0, sizeof(msrpm));
}

/* ------------------------------------------------------------ gif */

static bool timer_pending(void)
{
	return (lapic_read(LAPIC_IRR + (TIMER_VEC / 32) * 0x10) >> (TIMER_VEC % 32)) & 1;
}

/* One-shot LAPIC timer of @count ticks (divide by 1); if @wait, until
 * the interrupt is pending in the IRR (IF=0: it stays there). */
static bool timer_arm(u32 count, bool wait)
{
	lapic_write(LAPIC_TDCR, 0xb);
	lapic_write(LAPIC_LVT_TIMER, TIMER_VEC);
	lapic_write(LAPIC_TMICT, count);
	if (!wait)
		return true;
	for (u32 i = 0; i < 50000000; i++)
		if (timer_pending())
			return true;
	return false;
}

static void spin_l2(u32 rflags, bool masking, u32 limit)
{
	l2_load(hn_l2_spin, hn_l2_spin_end);
	simple_l2(L2_PROT);
	V32(VMCB_ICPT1) |= I1_INTR;
	V64(VMCB_RFLAGS) = rflags;
	if (masking)
		V32(VMCB_VINTR) |= VINTR_MASKING;
	poke32(L2BASE + L2_RES + 4, limit);
}

/*
 * GIF and physical interrupts around VMRUN (15.17 "Global Interrupt
 * Flag", 15.21.1 "Physical Interrupt Masking"): with V_INTR_MASKING=1 the
 * host's EFLAGS.IF (0 here) masks physical interrupts while the L2 runs;
 * with V_INTR_MASKING=0 the L2's IF does; an intercepted INTR is #VMEXIT
 * 0x60 and leaves the interrupt pending; #VMEXIT clears GIF, and while GIF
 * is 0 the L1 takes no interrupt even with IF=1, until STGI.
 */
static void test_gif(void)
{
	/* only the LAPIC timer: the 8259s (the BIOS left the PIT's IRQ 0
	 * unmasked) and LINT0/LINT1 masked */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_enable();
	lapic_write(0x350, BIT(16));
	lapic_write(0x360, BIT(16));
	if (!report(timer_arm(20000, true), "LAPIC timer interrupt pending in "
		    "the IRR (L1 IF=0)"))
		return;

	spin_l2(0x202, true, 100000);
	u64 ec = l2_enter();
	if (!report(ec == EXIT_HLT && res(0) == 100000, "V_INTR_MASKING=1, L1 IF=0, "
		    "L2 IF=1, INTR intercepted: the L2 spins 100000 rounds to its "
		    "HLT, no INTR exit"))
		show_exit(ec);
	spin_l2(0x2, false, 100000);
	ec = l2_enter();
	if (!report(ec == EXIT_HLT && res(0) == 100000, "V_INTR_MASKING=0, L2 IF=0: "
		    "the L2 spins 100000 rounds to its HLT, no INTR exit"))
		show_exit(ec);
	report(timer_pending(), "the interrupt is still pending");

	spin_l2(0x202, false, 100000);
	ec = l2_enter();
	if (!report(ec == EXIT_INTR && res(0) == 0, "V_INTR_MASKING=0, L2 IF=1: "
		    "INTR exit (0x60) before its first instruction"))
		show_exit(ec);
	report(timer_pending(), "the interrupt is still pending after the INTR exit");

	/* CLGI; the L1 with IF=1 takes nothing while GIF=0 */
	hn_clgi();
	int v = fault_try(hn_sti_spin, NULL);
	report(v == FAULT_NONE && timer_pending(), "GIF=0, L1 IF=1: the interrupt "
	       "stays pending");
	v = fault_try(hn_stgi_sti_spin, NULL);
	if (!report(v == TIMER_VEC, "STGI, IF=1: the L1 takes vector %#x", TIMER_VEC))
		printf("  vector %d\n", v);
	lapic_eoi();
	report(!timer_pending(), "nothing pending after EOI");

	/* The timer fires while the L2 spins (no limit): INTR exit, and the
	 * L1 resumes with GIF=0 (no STGI after VMRUN this time). */
	spin_l2(0x202, false, 0);
	timer_arm(20000000, false);
	hn_vmrun_gif0((u32)vmcb);
	ec = V64(VMCB_EXITCODE);
	if (!report(ec == EXIT_INTR && res(0) > 0, "timer fires while the L2 "
		    "spins with IF=1: INTR exit (0x60)"))
		show_exit(ec);
	v = fault_try(hn_sti_spin, NULL);
	if (!report(v == FAULT_NONE && timer_pending(), "after the #VMEXIT: GIF=0, "
		    "L1 IF=1: the interrupt stays pending"))
		printf("  vector %d, pending %d\n", v, timer_pending());
	v = fault_try(hn_stgi_sti_spin, NULL);
	if (!report(v == TIMER_VEC, "STGI, IF=1: the L1 takes vector %#x", TIMER_VEC))
		printf("  vector %d\n", v);
	lapic_eoi();
	lapic_write(LAPIC_LVT_TIMER, BIT(16)); /* masked */
}

/* ------------------------------------------------------------ kill cases */

/* The L2 reads, writes and reads again GPA 0x80000, whose npt12 leaf
 * points at L1 physical 3 GiB. */
static void attack_npt12beyond(void)
{
	l2_load(hn_l2_beyond, hn_l2_beyond_end);
	simple_l2(L2_PROT);
	npt_map(GPA_BEYOND, BEYOND, NPT_RW);
	printf("npt12 leaf of GPA %#x -> L1 physical %#x (not RAM): the L2 reads "
	       "and writes it\n", GPA_BEYOND, BEYOND);
	u64 ec = l2_enter();
	printf("exit %#llx; the L2 read %#x, then %#x after its write\n", ec,
	       res(0), res(4));
}

static void attack_ncr3(u32 ncr3)
{
	hlt_l2();
	V64(VMCB_NCR3) = ncr3;
	printf("nCR3 = %#x (not RAM): VMRUN\n", ncr3);
	u64 ec = l2_enter();
	show_exit(ec);
}

static void attack_l2svm(void)
{
	l2_load(hn_l2_svm, hn_l2_svm_end);
	simple_l2(L2_PROT);
	printf("the L2 executes CLGI, STGI, VMSAVE, VMLOAD; the L1 intercepts none\n");
	u64 ec = l2_enter();
	show_exit(ec);
}

static void attack_hsaveoverlap(void)
{
	hlt_l2();
	printf("VM_HSAVE_PA = the vmcb12 page: VMRUN\n");
	if (try_wrmsr(MSR_VM_HSAVE_PA, (u32)vmcb) != FAULT_NONE) {
		printf("WRMSR #GP\n");
		return;
	}
	/* The host-save format is the implementation's (15.30.4): the L2
	 * may run from the VMCB as written or from host state stored over
	 * it; only that the L1 resumes is printed. */
	l2_enter();
	try_wrmsr(MSR_VM_HSAVE_PA, (u32)hsave);
	printf("the L1 resumed after VMRUN\n");
	hlt_l2();
	report(hlt_runs(), "VM_HSAVE_PA restored: a legal VMRUN runs (HLT exit)");
}

/* ------------------------------------------------------------ main */

static const struct {
	const char *name;
	void (*fn)(void);
} defined_tests[] = {
	{ "vmrunloop", test_vmrunloop },
	{ "addr", test_addr },
	{ "eventinj", test_eventinj },
	{ "ncr3", test_ncr3 },
	{ "npt12", test_npt12 },
	{ "maps", test_maps },
	{ "gif", test_gif },
};

void guest_main(void)
{
	printf("L1: 32-bit protected mode, PAE paging (EFER.LME=0); npt12 PAE\n");
	if (!svm_setup())
		return;
	maxphy = cpuid(0x80000008, 0).a & 0xff;
	l1_pdpt = pae_new();
	pae_identity(l1_pdpt, 32 * MiB, PTE_P | PTE_W);
	pae_map4k(l1_pdpt, LAPIC_BASE, LAPIC_BASE, PTE_P | PTE_W | PTE_PCD | PTE_PWT);
	l1_pml4 = pt4_new();
	pt4_identity(l1_pml4, 32 * MiB, PTE_P | PTE_W);
	paging_enable_pae(l1_pdpt, true);

	static const char *const kill_cases[] = {
		"npt12beyond", "ncr3beyond", "ncr3mmio", "l2svm", "hsaveoverlap",
	};
	bool any = false;
	for (unsigned i = 0; i < ARRAY_SIZE(defined_tests); i++)
		any |= cmdline_has(defined_tests[i].name);
	for (unsigned i = 0; i < ARRAY_SIZE(kill_cases); i++)
		any |= cmdline_has(kill_cases[i]);
	for (unsigned i = 0; i < ARRAY_SIZE(defined_tests); i++)
		if (!any || cmdline_has(defined_tests[i].name))
			defined_tests[i].fn();

	if (cmdline_has("npt12beyond"))
		attack_npt12beyond();
	if (cmdline_has("ncr3beyond"))
		attack_ncr3(BEYOND);
	if (cmdline_has("ncr3mmio"))
		attack_ncr3(LAPIC_BASE);
	if (cmdline_has("l2svm"))
		attack_l2svm();
	if (cmdline_has("hsaveoverlap"))
		attack_hsaveoverlap();

	report(vmrun_faults == 0, "no legal VMRUN raised an exception");
	report(host_state_bad == 0,
	       "every #VMEXIT restored the L1's CR0, CR3, CR4 and EFER");
	paging_disable();
}
