/*
 * tests/guests/hostile-spaces.c - 10 000 address spaces.
 *
 * 32-bit paging. Space i takes page directory i % 96 and page table
 * (i * 7) % 80 from two small pools (so frames that were page tables of an
 * earlier space are rewritten while another CR3 is loaded), maps the image
 * with 4 MiB pages and one 4 KiB page at 0x40000000 + slot * 4K to data
 * frame i % 16, switches CR3 to it and writes and reads the word there
 * once, checking it against the physical frame. Under Umbra with
 * paging=shadow and a small shadow_pages= limit this forces shadow-page
 * reclaim; the output (a checksum) is the same bare and under Umbra.
 * Argument: spaces=N (default 10000).
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

GUEST_NAME("hostile-spaces");

#define NPD 96
#define NPT 80
#define NDATA 16
#define VA 0x40000000u

static u32 pds[NPD][1024] __aligned(4096);
static u32 pts[NPT][1024] __aligned(4096);
static u32 data[NDATA][1024] __aligned(4096);

static u32 parse(const char *s, u32 def)
{
	if (!s || !*s)
		return def;
	u32 v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (u32)(*s++ - '0');
	return v;
}

void guest_main(void)
{
	char buf[16];
	u32 n = parse(cmdline_get("spaces", buf, sizeof(buf)), 10000);
	u32 end = image_map_end();
	u32 sum = 2166136261u, ok = 0;
	for (u32 i = 0; i < n; i++) {
		u32 *pd = pds[i % NPD], *pt = pts[(i * 7) % NPT];
		u32 slot = (i * 13) % 1024, d = i % NDATA;
		for (u32 j = 0; j < 1024; j++)
			pd[j] = 0;
		for (u32 va = 0; va < end; va += 4 * (u32)MiB)
			pd[va >> 22] = va | PTE_P | PTE_W | PTE_PS;
		pt[slot] = (u32)data[d] | PTE_P | PTE_W;
		pt[(slot + 1) % 1024] = 0;
		pd[VA >> 22] = (u32)pt | PTE_P | PTE_W;
		if (i == 0)
			paging_enable32(pd, true);
		else
			write_cr3((u32)pd);
		u32 off = (i >> 4) % 1024;
		poke32(VA + slot * 4096 + 4 * off, i * 2654435761u);
		u32 v = data[d][off];
		u32 w = peek32(VA + slot * 4096 + 4 * off);
		ok += v == i * 2654435761u && w == v;
		sum = (sum ^ v ^ (pd[VA >> 22] & 0x60) ^ (pt[slot] & 0x60)) * 16777619u;
	}
	paging_disable();
	report(ok == n, "%u address spaces, each switched to and touched once", n);
	printf("checksum %#x\n", sum);
}
