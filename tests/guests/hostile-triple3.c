/*
 * tests/guests/hostile-triple3.c - triple faults from rings 3, 2 and 1,
 * under PAE paging: ring 0 loads an empty IDT, drops to ring N and
 * executes UD2 there (#UD cannot be delivered: #GP, then #DF, then
 * shutdown; AMD APM vol. 2, 8.2.9 "Double-Fault Exception (#DF)").
 *
 * Arguments: `ring=1|2|3` (default 3) and `triple`. Without `triple`
 * (make check-guests-bare) the IDT stays and the #UD is caught and checked
 * (in rings 1, 2 and 3 without `ring=`). With it, bare QEMU with -no-reboot
 * exits with status 0 after the line; Umbra must end this VM as
 * triple-faulted and let the others run on.
 *
 * Rings 1 and 2 need segments the library's GDT lacks: the GDT is copied
 * into a larger one with 32-bit flat code and data segments of DPL 1 and
 * 2; the loaded TSS stays (its ESP0/SS0 bring an exception to ring 0).
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

GUEST_NAME("hostile-triple3");

static const u8 ud2[] = { 0x0f, 0x0b };

struct __packed gdtr {
	u16 limit;
	u32 base;
};

#define GDT_LIB 7 /* the library's entries: null ... TSS */
static u64 gdt[GDT_LIB + 4] __aligned(8);
static u8 ring_stack[4096] __aligned(16);

/* CS and SS of ring @n (1 or 2): entries 7/8 (DPL 1), 9/10 (DPL 2). */
static u32 ring_cs(int n) { return (GDT_LIB + 2 * (n - 1)) << 3 | n; }
static u32 ring_ss(int n) { return (GDT_LIB + 2 * (n - 1) + 1) << 3 | n; }

static void gdt_extend(void)
{
	struct gdtr old, gnew;
	asm volatile("sgdt %0" : "=m"(old));
	for (int i = 0; i < GDT_LIB; i++)
		gdt[i] = ((const u64 *)old.base)[i];
	for (int n = 1; n <= 2; n++) {
		/* flat 4 GiB, 32-bit, G: code 0x9a | DPL, data 0x92 | DPL */
		gdt[GDT_LIB + 2 * (n - 1)] = 0x00CF9A000000FFFFull | (u64)n << 45;
		gdt[GDT_LIB + 2 * (n - 1) + 1] = 0x00CF92000000FFFFull | (u64)n << 45;
	}
	gnew.limit = sizeof(gdt) - 1;
	gnew.base = (u32)gdt;
	asm volatile("lgdt %0" : : "m"(gnew));
}

/* The ring-1/2 code: UD2 (nothing comes back from it). */
asm(".text\n.globl ring_ud2\nring_ud2:\n\tud2\n\tjmp ring_ud2\n");
extern char ring_ud2[];

/* As fault_try's fn: IRET to ring *@arg at ring_ud2, on ring_stack. */
static void enter_ring(void *arg)
{
	int n = *(int *)arg;
	asm volatile("pushl %0\n\t"
		     "pushl %1\n\t"
		     "pushl $2\n\t"
		     "pushl %2\n\t"
		     "pushl %3\n\t"
		     "iret"
		     :
		     : "r"(ring_ss(n)), "r"((u32)(ring_stack + sizeof(ring_stack))),
		       "r"(ring_cs(n)), "r"((u32)ring_ud2)
		     : "memory");
}

static int ud2_in_ring(int n)
{
	if (n == 3)
		return user_exec((u32)ud2);
	return fault_try(enter_ring, &n);
}

void guest_main(void)
{
	static const struct __packed {
		u16 limit;
		u32 base;
	} empty_idt = { 0, 0 };
	char buf[8];
	int ring = 3;

	if (cmdline_get("ring", buf, sizeof(buf))) {
		ring = buf[0] - '0';
		if (ring < 1 || ring > 3 || buf[1]) {
			report(false, "ring=%s: want 1, 2 or 3", buf);
			return;
		}
	}
	gdt_extend();
	u64 *pdpt = pae_new();
	pae_identity(pdpt, image_map_end(), PTE_P | PTE_W | PTE_U);
	paging_enable_pae(pdpt, true);
	if (!cmdline_has("triple")) {
		for (int n = 3; n >= 1; n--) {
			if (cmdline_has("ring") && n != ring)
				continue;
			int v = ud2_in_ring(n);
			if (n == 3)
				report(v == VEC_UD, "PAE paging, UD2 in ring 3 with an IDT: #UD");
			else
				report(v == VEC_UD && last_fault.eip == (u32)ring_ud2,
				       "PAE paging, UD2 in ring %d with an IDT: #UD at it", n);
		}
		return;
	}
	printf("PAE paging on, loading an empty IDT, UD2 in ring %d: expect a triple fault\n",
	       ring);
	asm volatile("lidt %0" : : "m"(empty_idt));
	ud2_in_ring(ring);
	printf("still running after the triple fault\n");
}
