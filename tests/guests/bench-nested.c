/*
 * tests/guests/bench-nested.c - benchmark guest for the nested target of
 * DESIGN.md §9 ("L2 CPUID exit handled by L1 (nested) <= 2 x (L1's own
 * handler + one L0 round trip)"; run by tools/umbra-bench, `make bench`).
 *
 * A small L1 hypervisor: the body of nestedpae (32-bit L1 on PAE paging,
 * PAE npt12; tests/guests/nested-common.c, included with its guest_main
 * renamed and not run, as hostile-nested.c does: svm_setup, the VMCB,
 * npt12 and L2 loader are reused unchanged). Its VMRUN loop and CPUID
 * handler, and the L2, are in bench-nested.asm: the L2 runs CPUID N times
 * between two RDTSCs, each CPUID intercepted and emulated by a minimal L1
 * handler (EAX in the VMCB, EBX..EDX in the registers, RIP += 2, VMRUN).
 *
 * Arguments: op=l2cpuid (the only one; default), iters=N (default 1000),
 * base (everything set up, the l2cpuid loop run 0 times; the l1handler
 * run, which exits/op does not count, runs N times in both, so that the
 * harness's exits - base exits is the l2cpuid loop's alone). Output, in
 * the format of bench-exits (blank-padded: a base run prints as many bytes):
 *
 *   BENCH name=l2cpuid iters=N tsc=T sum=XXXXXXXX
 *       T: the L2's TSC delta around its loop: per iteration one L2 CPUID
 *       round trip through the L1 (the L2's loop, the #VMEXIT, the L1's
 *       handler, its VMRUN, and whatever a hypervisor below adds)
 *   BENCH name=l1handler iters=N tsc=T sum=XXXXXXXX
 *       T: the L1's own handler, summed over the N exits of a second run
 *       of the same L2: the L1's TSC right after each #VMEXIT to right
 *       before its next VMRUN (bare, the handler alone)
 *
 * TSC offsets do not matter: each figure is a difference of two reads by
 * the same level (the L2's TSC is the L1's plus the vmcb12 TSC_OFFSET, 0
 * here, plus what a hypervisor below adds; constant within a loop).
 * Both checksums must be N x (the mix of the L1's CPUID values).
 */
#define NESTED_MODE NM_PAE
#define guest_main nestedpae_main
#define guest_name nestedpae_guest_name
#include "tests/guests/nested-common.c"
#undef guest_main
#undef guest_name

GUEST_NAME("bench-nested");

/* bench-nested.asm's BN_A ^ BN_B ^ BN_C ^ BN_D */
#define BN_MIX (0x4e425655u ^ 0x6e656220u ^ 0x64657473u ^ 0x00324c20u)
#define L2_N 0x40u /* offset in the results page: the iteration count */

u32 bn_run(u32 vmcb_pa, u32 timed);
extern u64 bn_handler_tsc;
extern char bn_l2_cpuid[], bn_l2_cpuid_end[];

static void bench_print(const char *name, u32 n, u64 tsc, u32 sum)
{
	printf("BENCH name=%s iters=%-10u tsc=%-20llu sum=%08x\n", name, n,
	       (unsigned long long)tsc, sum);
}

static u64 res64(u32 off)
{
	return res(off) | (u64)res(off + 4) << 32;
}

/* One run of the L2 (a fresh VMCB, npt12 of all its memory); @timed: the
 * handler with its RDTSCs. Returns false if it did not end in HLT. */
static bool run_l2(u32 n, bool timed)
{
	l2_load(bn_l2_cpuid, bn_l2_cpuid_end);
	poke32(L2BASE + L2_RES + L2_N, n);
	simple_l2(L2_PROT);
	V8(VMCB_TLB_CTL) = 0; /* ASID 1's first use here: nothing to flush */
	bn_handler_tsc = 0;
	u32 ec = bn_run((u32)vmcb, timed);
	if (ec != EXIT_HLT) {
		show_exit(V64(VMCB_EXITCODE));
		return false;
	}
	return true;
}

void guest_main(void)
{
	char buf[32];
	const char *op = cmdline_get("op", buf, sizeof(buf));
	char nb[16];
	u32 iters = 1000;
	const char *it = cmdline_get("iters", nb, sizeof(nb));
	if (it) {
		iters = 0;
		for (const char *p = it; *p >= '0' && *p <= '9'; p++)
			iters = iters * 10 + (u32)(*p - '0');
	}
	u32 n = cmdline_has("base") ? 0 : iters;
	if (!report(!op || !strcmp(op, "l2cpuid") || !strcmp(op, "all"),
		    "operation '%s' known", op ? op : "l2cpuid"))
		return;
	if (!svm_setup()) {
		printf("BENCH-SKIP name=l2cpuid reason=no-nested-svm\n");
		return;
	}
	u64 *pdpt = pae_new();
	pae_identity(pdpt, 32 * MiB, PTE_P | PTE_W);
	paging_enable_pae(pdpt, true);

	if (report(run_l2(n, false), "l2cpuid: the L2 ran its loop and halted")) {
		u32 sum = res(16);
		bench_print("l2cpuid", n, res64(8) - res64(0), sum);
		report(sum == n * BN_MIX, "l2cpuid: checksum");
	}
	if (report(run_l2(iters, true), "l1handler: the L2 ran its loop and halted")) {
		u32 sum = res(16);
		bench_print("l1handler", iters, bn_handler_tsc, sum);
		report(sum == iters * BN_MIX, "l1handler: checksum");
	}
	paging_disable();
}
