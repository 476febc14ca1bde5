/*
 * tests/guests/hostile-tables.c - page tables outside RAM.
 *
 * Argument where=3g (default): a PDE points at guest-physical 3 GiB, beyond
 * RAM; where=vga: at 0xa0000, in the legacy 640K-1M hole; where=cr3: CR3
 * itself (32-bit paging) points at 3 GiB. Then a read through the mapping.
 * Prints "walking page tables at guest-physical X" first. Bare QEMU reads
 * zeros (3 GiB) or VGA memory there and the guest reports what it saw;
 * Umbra may instead end the VM cleanly at the walk (its output is then a
 * prefix of the bare one). Either way, never a panic or harm to other VMs.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

GUEST_NAME("hostile-tables");

#define VA 0x40000000u

void guest_main(void)
{
	char buf[16];
	const char *where = cmdline_get("where", buf, sizeof(buf));
	if (!where)
		where = "3g";
	u32 *pd = pt32_new();
	pt32_identity(pd, image_map_end(), PTE_P | PTE_W);
	u32 table = 0xc0000000u;
	bool cr3 = false;
	if (where[0] == 'v')
		table = 0xa0000u;
	else if (where[0] == 'c')
		cr3 = true;
	pd[VA >> 22] = table | PTE_P | PTE_W;
	paging_enable32(pd, true);
	printf("walking page tables at guest-physical %#x%s\n", table,
	       cr3 ? " (CR3)" : "");
	if (cr3) {
		/* The page directory itself outside RAM: the next fetch walks
		 * it. Bare QEMU reads zeros there: a #PF on the fetch that
		 * cannot be delivered either... it ends as a triple fault. */
		write_cr3(table);
		printf("still running with CR3 outside RAM\n");
		return;
	}
	u32 v = 0;
	int r = try_read32(VA, &v);
	printf("read through it: vector %d\n", r);
	paging_disable();
}
