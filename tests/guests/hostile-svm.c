/*
 * tests/guests/hostile-svm.c - virtualization instructions in a VM that was
 * given no nested virtualization, with EFER.SVME = 0 (its state at entry).
 *
 * SVM: VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA must raise #UD
 * (AMD APM vol. 3: #UD when EFER.SVME = 0; QEMU also for SKINIT). VMX:
 * VMXON, VMPTRLD, VMCLEAR, VMPTRST, VMREAD, VMWRITE, VMLAUNCH, VMRESUME,
 * VMXOFF, INVEPT, INVVPID, VMFUNC must raise #UD (no VMX, or CR4.VMXE = 0).
 * VMMCALL/VMCALL are not tried (Umbra's hypercalls). With the argument
 * `ring3`, each also from ring 3, where it must be #UD too (#UD for
 * EFER.SVME=0 comes before the #GP for CPL > 0, as bare QEMU does). Then EFER.SVME: a WRMSR setting it
 * must #GP(0) when CPUID 8000_0001h ECX[2] (SVM) is clear, and succeed
 * when it is set (bare QEMU -cpu max); the printed line is the same.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("hostile-svm");

static u8 scratch[4096] __aligned(4096);

#define INSN(name, bytes)                                                   \
	extern char name[];                                                 \
	asm(".pushsection .text\n" #name ":\n" bytes "\n ret\n.popsection\n");

/* Each stub runs with EAX = ECX = EDX = EBX = ESI = EDI set up by the caller
 * (EAX a scratch physical address); memory operands use (%eax). */
INSN(i_vmrun, ".byte 0x0f,0x01,0xd8")
INSN(i_vmload, ".byte 0x0f,0x01,0xda")
INSN(i_vmsave, ".byte 0x0f,0x01,0xdb")
INSN(i_stgi, ".byte 0x0f,0x01,0xdc")
INSN(i_clgi, ".byte 0x0f,0x01,0xdd")
INSN(i_skinit, ".byte 0x0f,0x01,0xde")
INSN(i_invlpga, ".byte 0x0f,0x01,0xdf")
INSN(i_vmxon, ".byte 0xf3,0x0f,0xc7,0x30")    /* vmxon (%eax) */
INSN(i_vmptrld, ".byte 0x0f,0xc7,0x30")        /* vmptrld (%eax) */
INSN(i_vmclear, ".byte 0x66,0x0f,0xc7,0x30")   /* vmclear (%eax) */
INSN(i_vmptrst, ".byte 0x0f,0xc7,0x38")        /* vmptrst (%eax) */
INSN(i_vmread, ".byte 0x0f,0x78,0xc1")         /* vmread %eax, %ecx */
INSN(i_vmwrite, ".byte 0x0f,0x79,0xc8")        /* vmwrite %eax, %ecx */
INSN(i_vmlaunch, ".byte 0x0f,0x01,0xc2")
INSN(i_vmresume, ".byte 0x0f,0x01,0xc3")
INSN(i_vmxoff, ".byte 0x0f,0x01,0xc4")
INSN(i_invept, ".byte 0x66,0x0f,0x38,0x80,0x08")  /* invept (%eax), %ecx */
INSN(i_invvpid, ".byte 0x66,0x0f,0x38,0x81,0x08") /* invvpid (%eax), %ecx */
INSN(i_vmfunc, ".byte 0x0f,0x01,0xd4")

static const struct { const char *name; char *fn; } insns[] = {
	{ "VMRUN", i_vmrun }, { "VMLOAD", i_vmload }, { "VMSAVE", i_vmsave },
	{ "STGI", i_stgi }, { "CLGI", i_clgi }, { "SKINIT", i_skinit },
	{ "INVLPGA", i_invlpga }, { "VMXON", i_vmxon }, { "VMPTRLD", i_vmptrld },
	{ "VMCLEAR", i_vmclear }, { "VMPTRST", i_vmptrst }, { "VMREAD", i_vmread },
	{ "VMWRITE", i_vmwrite }, { "VMLAUNCH", i_vmlaunch },
	{ "VMRESUME", i_vmresume }, { "VMXOFF", i_vmxoff }, { "INVEPT", i_invept },
	{ "INVVPID", i_invvpid }, { "VMFUNC", i_vmfunc },
};

static void run(void *fn)
{
	asm volatile("call *%%edx"
		     : : "a"((u32)scratch), "c"(0), "d"(fn), "b"(0), "S"(0), "D"(0)
		     : "memory", "cc");
}

struct wr { u32 msr; u64 val; };
static void do_wrmsr(void *a) { wrmsr(((struct wr *)a)->msr, ((struct wr *)a)->val); }

void guest_main(void)
{
	bool ring3 = cmdline_has("ring3");
	report(rdmsr(MSR_EFER) == 0, "EFER is 0 (SVME clear)");
	for (unsigned i = 0; i < ARRAY_SIZE(insns); i++) {
		int v = fault_try(run, insns[i].fn);
		report(v == VEC_UD, "%s with EFER.SVME=0, CR4.VMXE=0, ring 0: #UD",
		       insns[i].name);
		if (v != VEC_UD)
			printf("  got vector %d error %#x at %#x\n", v,
			       last_fault.error_code, last_fault.eip);
		if (!ring3)
			continue;
		v = user_exec((u32)insns[i].fn);
		report(v == VEC_UD, "%s, ring 3: #UD", insns[i].name);
		if (v != VEC_UD)
			printf("  got vector %d error %#x at %#x\n", v,
			       last_fault.error_code, last_fault.eip);
	}
	/* Again, a storm: thousands of them. */
	int bad = 0;
	for (int k = 0; k < 2000; k++)
		bad += fault_try(run, insns[k % ARRAY_SIZE(insns)].fn) != VEC_UD;
	report(bad == 0, "2000 more: all #UD");

	bool svm = cpuid(0x80000001, 0).c & BIT(2);
	struct wr w = { MSR_EFER, 1u << 12 };
	int v = fault_try(do_wrmsr, &w);
	bool ok = svm ? v == FAULT_NONE : v == VEC_GP && last_fault.error_code == 0;
	report(ok, "WRMSR EFER.SVME=1 as CPUID SVM says (#GP(0) without SVM)");
	if (v == FAULT_NONE)
		wrmsr(MSR_EFER, 0);
	report(rdmsr(MSR_EFER) == 0, "EFER is 0 again");
}
