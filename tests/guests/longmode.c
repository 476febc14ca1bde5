/*
 * tests/guests/longmode.c - 32-bit protected mode -> PAE -> long mode with
 * the guest's own GDT and 4-level tables, 64-bit code (longmode.asm) and
 * back, repeatedly: 64-bit arithmetic, RIP-relative addressing, memory
 * above 4 GiB and in the higher half aliasing one low page, A/D bits of
 * 4-level entries, #PF and #GP taken in 64-bit mode.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

GUEST_NAME("longmode");

#define HIGH_LOW 0x0000008000000000ull
#define HIGH_HALF 0xffff800000001000ull
#define ABOVE_4G 0x0000000100000000ull
#define UNMAPPED 0x00007fff12345000ull
#define NONCANONICAL 0x8000000000000000ull

struct lm_results {
	u64 arith, rip_ok, data, high_half, from32, above_4g, efer, cs;
};

extern char lm_main[], lm_not[], lm_read[];

void guest_main(void)
{
	u64 *pml4 = pt4_new();
	u8 *page = pg_alloc();
	static struct lm_results r;
	u64 res = 0;

	pt4_identity(pml4, image_map_end(), PTE_P | PTE_W);
	pt4_map4k(pml4, HIGH_LOW, (u32)page, PTE_P | PTE_W);
	pt4_map4k(pml4, HIGH_HALF, (u32)page, PTE_P | PTE_W);
	pt4_map4k(pml4, ABOVE_4G, (u32)page, PTE_P | PTE_W);
	*(volatile u64 *)(page + 16) = 0x0123456789abcdefull;

	int v = long_call((u32)pml4, lm_main, (u32)&r, NULL);
	if (!report(v == FAULT_NONE, "64-bit code runs and returns")) {
		printf("exception %d error %#x rip %#x\n", v,
		       last_fault.error_code, last_fault.eip);
		return;
	}
	u64 want = (0x123456789ull * 0x10001ull) << 4;
	want ^= 0xfedcba9876543210ull;
	want = (want >> 20) | (want << 44);
	printf("64-bit arithmetic result: %#llx\n", r.arith);
	report(r.arith == want, "64-bit arithmetic (imul, shl, xor, ror)");
	report(r.rip_ok == 1, "RIP-relative LEA equals the absolute address");
	report(r.data == 0x1122334455667788ull, "RIP-relative load");
	report(*(volatile u64 *)(page + 8) == 0xdeadbeefcafef00dull,
	       "write at 512 GiB reached the low page");
	report(r.high_half == 0xdeadbeefcafef00dull,
	       "higher-half alias reads it back");
	report(r.above_4g == 0xdeadbeefcafef00dull,
	       "alias at 4 GiB reads it back");
	report(r.from32 == 0x0123456789abcdefull,
	       "64-bit code reads what 32-bit code wrote");
	report((r.efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	       "EFER.LME and EFER.LMA set in 64-bit mode");
	report(r.cs == 0x18, "CS is the guest's 64-bit selector");

	volatile u64 *pte = pt4_leaf(pml4, HIGH_LOW);
	report((*pte & (PTE_A | PTE_D)) == (PTE_A | PTE_D),
	       "4-level PTE written through: A and D set");
	pte = pt4_leaf(pml4, HIGH_HALF);
	report((*pte & (PTE_A | PTE_D)) == PTE_A,
	       "4-level PTE read through: A set, D clear");
	report(pml4[256] & PTE_A, "PML4E of the higher half: A set");

	report(!(rdmsr(MSR_EFER) & (EFER_LME | EFER_LMA)) &&
		       !(read_cr0() & CR0_PG) && !(read_cr4() & CR4_PAE),
	       "back in 32-bit mode: paging, PAE, LME and LMA off");

	v = long_call((u32)pml4, lm_not, 0xfedcba9800000001ull, &res);
	report(v == FAULT_NONE && res == 0x01234567fffffffeull,
	       "second entry: 64-bit argument and result");

	v = long_call((u32)pml4, lm_read, UNMAPPED, &res);
	report(v == VEC_PF && last_fault.error_code == 0 &&
		       last_fault.cr2 == (u32)UNMAPPED,
	       "read of an unmapped address in 64-bit mode: #PF, error 0");
	v = long_call((u32)pml4, lm_read, NONCANONICAL, &res);
	report(v == VEC_GP && last_fault.error_code == 0,
	       "read of a non-canonical address: #GP(0)");
	v = long_call((u32)pml4, lm_read, HIGH_HALF + 8, &res);
	report(v == FAULT_NONE && res == 0xdeadbeefcafef00dull,
	       "long mode works again after exceptions");
}
