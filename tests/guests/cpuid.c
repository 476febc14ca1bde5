/*
 * tests/guests/cpuid.c - CPUID, MSR and I/O-port behaviour a hypervisor
 * must get right: the feature bits every x86_64 CPU has, the hypervisor
 * bit, TSC reads, EFER, #GP on unimplemented MSRs, all-ones from unknown
 * ports.
 *
 * Prints no vendor, model or timing value, so the output is the same on
 * QEMU -cpu max and under Umbra on QEMU or Bochs (Intel or AMD).
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("cpuid");

/* Unimplemented MSRs: outside every MSR-bitmap range of VMX and SVM, and
 * #GP on real hardware. */
static const u32 bad_msrs[] = { 0x12345678, 0x40000ff0 };
/* Ports nothing answers on QEMU -M pc nor in an Umbra VM. */
static const u16 unknown_ports[] = { 0x2e0, 0x2e8 };

static void check_cpuid(void)
{
	static const struct {
		int bit;
		const char *name;
	} edx1[] = {
		{ 0, "fpu" }, { 3, "pse" },   { 4, "tsc" },   { 5, "msr" },
		{ 6, "pae" }, { 8, "cx8" },   { 13, "pge" },  { 15, "cmov" },
		{ 24, "fxsr" }, { 25, "sse" }, { 26, "sse2" },
	};
	struct cpuid_regs r = cpuid(0, 0);
	report(r.a >= 1, "cpuid.0: max basic leaf >= 1");

	r = cpuid(1, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(edx1); i++)
		report(r.d & BIT(edx1[i].bit), "cpuid.1:edx.%s = 1", edx1[i].name);
	report(r.c & BIT(31), "cpuid.1:ecx.hypervisor = 1");
	report(!(r.c & BIT(5)), "cpuid.1:ecx.vmx = 0");

	r = cpuid(0x80000000, 0);
	report(r.a >= 0x80000001, "cpuid.80000000: max extended leaf >= 0x80000001");
	r = cpuid(0x80000001, 0);
	report(r.d & BIT(29), "cpuid.80000001:edx.lm = 1");
	report(r.d & BIT(20), "cpuid.80000001:edx.nx = 1");

	/* Same answer twice (no state in the filter). */
	struct cpuid_regs a = cpuid(0x80000001, 0), b = cpuid(0x80000001, 0);
	report(a.a == b.a && a.b == b.b && a.c == b.c && a.d == b.d,
	       "cpuid.80000001 is stable");
}

static void spin(unsigned n)
{
	for (volatile unsigned i = 0; i < n; i++)
		;
}

static void check_tsc(void)
{
	/* QEMU 7.2 TCG: RDMSR of IA32_TSC returns 0 (deviation). */
	bool tcg_zero = false;
	u64 m0 = 0, m1 = 0;
	report(try_rdmsr(MSR_TSC, &m0) == FAULT_NONE, "rdmsr IA32_TSC works");
	spin(100000);
	try_rdmsr(MSR_TSC, &m1);
	if (on_qemu_tcg() && m0 == 0 && m1 == 0)
		tcg_zero = true;
	report(m1 > m0 || tcg_zero, "IA32_TSC increases");

	u64 t0 = rdtsc();
	u64 m = rdmsr(MSR_TSC);
	u64 t1 = rdtsc();
	report((t0 <= m && m <= t1) || tcg_zero,
	       "rdtsc <= rdmsr(IA32_TSC) <= rdtsc");
	spin(100000);
	report(rdtsc() > t1, "rdtsc increases");
}

static void check_efer(void)
{
	u64 efer = ~0ull;
	report(try_rdmsr(MSR_EFER, &efer) == FAULT_NONE, "rdmsr EFER works");
	report(efer == 0, "EFER is 0 at entry");
	report(try_wrmsr(MSR_EFER, efer | EFER_NXE) == FAULT_NONE &&
		       rdmsr(MSR_EFER) == (efer | EFER_NXE),
	       "EFER.NXE can be set");
	wrmsr(MSR_EFER, efer);
	report(rdmsr(MSR_EFER) == efer, "EFER.NXE can be cleared");
}

static void check_bad_msrs(void)
{
	bool tcg = on_qemu_tcg();
	for (unsigned i = 0; i < ARRAY_SIZE(bad_msrs); i++) {
		u32 msr = bad_msrs[i];
		u64 val = 1;
		int v = try_rdmsr(msr, &val);
		bool gp = v == VEC_GP && last_fault.error_code == 0;
		/* QEMU 7.2 TCG: reads 0, no #GP (deviation). */
		report(gp || (tcg && v == FAULT_NONE && val == 0),
		       "rdmsr %#x (unimplemented) raises #GP(0)", msr);
		v = try_wrmsr(msr, 0);
		gp = v == VEC_GP && last_fault.error_code == 0;
		/* QEMU 7.2 TCG: the write is dropped (deviation). */
		report(gp || (tcg && v == FAULT_NONE),
		       "wrmsr %#x (unimplemented) raises #GP(0)", msr);
	}

	/* RDMSR at CPL 3 is #GP(0) on every CPU and emulator. */
	static const u8 rdmsr_ret[] = { 0x0f, 0x32, 0xc3 }; /* rdmsr; ret */
	int v = user_exec((u32)rdmsr_ret);
	report(v == VEC_GP && last_fault.error_code == 0,
	       "rdmsr at CPL 3 raises #GP(0)");
}

static void check_ports(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(unknown_ports); i++) {
		u16 p = unknown_ports[i];
		report(inb(p) == 0xff, "inb %#x (unknown port) = 0xff", p);
		report(inw(p) == 0xffff, "inw %#x = 0xffff", p);
		report(inl(p) == 0xffffffff, "inl %#x = 0xffffffff", p);
		outb(p, 0x12);
		outw(p, 0x1234);
		outl(p, 0x12345678);
		report(inb(p) == 0xff && inw(p) == 0xffff && inl(p) == 0xffffffff,
		       "writes to port %#x are ignored", p);
	}
}

static void do_ud2(void *arg)
{
	asm volatile("ud2");
}

void guest_main(void)
{
	report(fault_try(do_ud2, NULL) == VEC_UD, "ud2 raises #UD");
	check_cpuid();
	check_tsc();
	check_efer();
	check_bad_msrs();
	check_ports();
}
