/*
 * tests/guests/hypercall.c - Umbra's hypercall interface (docs/platform.md):
 * VMMCALL (AMD) / VMCALL (Intel) with the call number in EAX.
 *
 * Under Umbra (CPUID leaf 0x40000000 says "UmbraUmbraUm"): 0x554d0001
 * prints the VM's counters (a VM-STATS line on Umbra's console) and
 * returns 0; unknown numbers return -1; the other registers are kept.
 * Bare, without a hypervisor, the instruction raises #UD. Each check
 * accepts exactly the behaviour of the platform it runs on, with the same
 * text, so the output is identical bare and under Umbra.
 */
#include "tests/guests/lib/guest.h"

GUEST_NAME("hypercall");

#define HC_PRINT_STATS 0x554d0001u
#define VEC_UD 6

struct call {
	u32 nr;
	u32 ret;
	u32 ebx, ecx, edx, esi, edi;
};

static bool amd;

static void do_call(void *arg)
{
	struct call *c = arg;
	u32 a = c->nr, b = 0x11111111, cx = 0x22222222, d = 0x33333333, si = 0x44444444, di = 0x55555555;
	if (amd)
		__asm__ volatile("vmmcall" : "+a"(a), "+b"(b), "+c"(cx), "+d"(d), "+S"(si), "+D"(di) : : "memory");
	else
		__asm__ volatile("vmcall" : "+a"(a), "+b"(b), "+c"(cx), "+d"(d), "+S"(si), "+D"(di) : : "memory");
	c->ret = a;
	c->ebx = b;
	c->ecx = cx;
	c->edx = d;
	c->esi = si;
	c->edi = di;
}

static bool under_umbra(void)
{
	struct cpuid_regs r = cpuid(0x40000000, 0);
	return r.b == 0x72626d55 && r.c == 0x6d55616d && r.d == 0x6d556172; /* "UmbraUmbraUm" */
}

static void check(u32 nr, u32 want, const char *what)
{
	struct call c = {.nr = nr};
	int vec = fault_try(do_call, &c);
	bool ok;
	if (under_umbra())
		ok = vec == FAULT_NONE && c.ret == want && c.ebx == 0x11111111 && c.ecx == 0x22222222 &&
		     c.edx == 0x33333333 && c.esi == 0x44444444 && c.edi == 0x55555555;
	else
		ok = vec == VEC_UD;
	report(ok, "hypercall %#x (%s): returns %d, other registers kept (#UD without a hypervisor)", nr, what,
	       (int)want);
}

void guest_main(void)
{
	struct cpuid_regs v = cpuid(0, 0);
	amd = v.b == 0x68747541; /* "Auth" */
	check(HC_PRINT_STATS, 0, "print the VM's counters");
	check(0, (u32)-1, "unknown");
	check(0x554dffffu, (u32)-1, "unknown");
	check(HC_PRINT_STATS, 0, "print the VM's counters");
}
