/*
 * tests/guests/bench-exits.c - benchmark guest: what one exit of each kind
 * costs (DESIGN.md §8, §9; run by tools/umbra-bench, `make bench`).
 *
 * Arguments (the guest's multiboot command line):
 *   op=NAME    cpuid | io-in | io-out | msr | hypercall | all (default all)
 *   iters=N    timed iterations per operation (default 1000)
 *   base       set everything up but run the timed loop 0 times: the
 *              harness subtracts such a run's exits from the real one's
 *
 * Per operation it prints (fields separated by blanks; the padding keeps
 * every line the same length whatever the figures, so a base run and a
 * real run print exactly as many bytes, i.e. cause as many COM1 exits):
 *   BENCH name=OP iters=N tsc=T sum=XXXXXXXX
 * T is the TSC delta around the whole loop (the harness divides by N, and
 * by 2^shift under QEMU -icount); sum is a checksum of what the loop
 * computed, which must be the same bare and under any hypervisor. A PASS
 * line checks it against a value derived another way. An operation that
 * cannot run here prints `BENCH-SKIP name=OP reason=...` instead.
 *
 * Runs bare on QEMU (then the TSC counts the instructions of bare
 * execution) and under Umbra. No timing is ever judged here.
 */
#include "tests/guests/lib/guest.h"
#include "kernel/string.h"

GUEST_NAME("bench-exits");

#define UNKNOWN_PORT_IN 0x2e0  /* no device: all-ones, bare and under Umbra */
#define UNKNOWN_PORT_OUT 0x2e8 /* no device: writes ignored */

static u32 iters = 1000;
static bool base;

static void bench_print(const char *name, u32 n, u64 tsc, u32 sum)
{
	printf("BENCH name=%s iters=%-10u tsc=%-20llu sum=%08x\n", name, n,
	       (unsigned long long)tsc, sum);
}

/* ------------------------------------------------------------ the loops
 * Each returns its checksum; the loop body is the operation plus a few
 * instructions of bookkeeping (counted bare too). */

static u32 loop_cpuid(u32 n)
{
	u32 sum = 0;
	for (u32 i = 0; i < n; i++) {
		struct cpuid_regs r = cpuid(0, 0);
		sum += r.a ^ r.b ^ r.c ^ r.d;
	}
	return sum;
}

static u32 loop_io_in(u32 n)
{
	u32 sum = 0;
	for (u32 i = 0; i < n; i++)
		sum += inb(UNKNOWN_PORT_IN);
	return sum;
}

static u32 loop_io_out(u32 n)
{
	u32 sum = 0;
	for (u32 i = 0; i < n; i++) {
		outb(UNKNOWN_PORT_OUT, (u8)i);
		sum += i & 0xff;
	}
	return sum;
}

static u32 loop_msr(u32 n)
{
	u32 sum = 0;
	for (u32 i = 0; i < n; i++) {
		u64 v = rdmsr(MSR_EFER);
		sum = sum * 33 + ((u32)v ^ (u32)(v >> 32)) + 1;
	}
	return sum;
}

static bool use_vmmcall; /* AMD: VMMCALL; Intel: VMCALL */

static u32 loop_hypercall(u32 n)
{
	u32 sum = 0;
	for (u32 i = 0; i < n; i++) {
		u32 ret = 0; /* call number 0: undefined, returns -1 */
		if (use_vmmcall)
			asm volatile("vmmcall" : "+a"(ret) : : "memory");
		else
			asm volatile("vmcall" : "+a"(ret) : : "memory");
		sum += ret;
	}
	return sum;
}

/* ------------------------------------------------------------ models
 * The checksum each loop must produce after @n iterations, derived
 * without executing the operation in the loop. */

static u32 cpuid0_mix;  /* leaf 0 read once before the timed loop */
static u32 efer_mix;    /* EFER read once before the timed loop */

static u32 model_cpuid(u32 n) { return n * cpuid0_mix; }
static u32 model_io_in(u32 n) { return n * 0xff; }
static u32 model_hypercall(u32 n) { return n * 0xffffffffu; }

static u32 model_io_out(u32 n)
{
	/* sum of (i & 0xff) for i < n: full rounds of 0..255, then a tail */
	u32 tail = n % 256;
	return (n / 256) * (255 * 256 / 2) + tail * (tail - 1) / 2;
}

static u32 model_msr(u32 n)
{
	u32 s = 0;
	for (u32 i = 0; i < n; i++)
		s = s * 33 + efer_mix + 1;
	return s;
}

/* ------------------------------------------------------------ driver */

/* The hypercall is Umbra's interface (docs/platform.md): elsewhere (bare
 * QEMU, another hypervisor) VMMCALL/VMCALL is #UD or means something
 * else, so it is skipped there. */
static bool umbra_present(void)
{
	if (!(cpuid(1, 0).c & BIT(31)))
		return false;
	struct cpuid_regs r = cpuid(0x40000000, 0);
	return r.b == 0x72626d55 && r.c == 0x6d55616d && r.d == 0x6d556172;
}

static void run(const char *name, u32 (*loop)(u32), u32 (*model)(u32))
{
	u32 n = base ? 0 : iters;
	u64 t0 = rdtsc();
	u32 sum = loop(n);
	u64 t1 = rdtsc();
	bench_print(name, n, t1 - t0, sum);
	report(sum == model(n), "%s: checksum", name);
}

static bool want(const char *op, const char *name)
{
	return !strcmp(op, "all") || !strcmp(op, name);
}

void guest_main(void)
{
	char buf[32];
	const char *op = cmdline_get("op", buf, sizeof(buf));
	if (!op)
		op = "all";
	char nb[16];
	const char *it = cmdline_get("iters", nb, sizeof(nb));
	if (it) {
		iters = 0;
		for (const char *p = it; *p >= '0' && *p <= '9'; p++)
			iters = iters * 10 + (u32)(*p - '0');
	}
	base = cmdline_has("base");

	bool known = false;
	if (want(op, "cpuid")) {
		struct cpuid_regs r = cpuid(0, 0);
		cpuid0_mix = r.a ^ r.b ^ r.c ^ r.d;
		run("cpuid", loop_cpuid, model_cpuid);
		known = true;
	}
	if (want(op, "io-in")) {
		run("io-in", loop_io_in, model_io_in);
		known = true;
	}
	if (want(op, "io-out")) {
		run("io-out", loop_io_out, model_io_out);
		report(inb(UNKNOWN_PORT_OUT) == 0xff, "io-out: port %#x still reads 0xff",
		       UNKNOWN_PORT_OUT);
		known = true;
	}
	if (want(op, "msr")) {
		u64 efer = rdmsr(MSR_EFER);
		efer_mix = (u32)efer ^ (u32)(efer >> 32);
		run("msr", loop_msr, model_msr);
		known = true;
	}
	if (want(op, "hypercall")) {
		struct cpuid_regs v = cpuid(0, 0);
		use_vmmcall = v.b == 0x68747541; /* "Auth"enticAMD */
		if (umbra_present())
			run("hypercall", loop_hypercall, model_hypercall);
		else
			printf("BENCH-SKIP name=hypercall reason=no-umbra-hypercall-interface\n");
		known = true;
	}
	report(known, "operation '%s' known", op);
}
