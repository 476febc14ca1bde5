/*
 * kernel/madt.c - find the CPUs in the ACPI tables (see madt.h).
 *
 * Tables are read through uncached mappings made for the purpose: they
 * may sit in memory the firmware marked reserved, which the direct map
 * does not cover. Every length and checksum is checked (ACPI 6.x §5.2.5
 * RSDP, §5.2.6 system description table header); a broken table means
 * "boot CPU only", never a crash.
 */
#include "kernel/madt.h"
#include "kernel/bootinfo.h"
#include "kernel/console.h"
#include "kernel/string.h"
#include "mm/hostpt.h"

struct sdt_header {
	char sig[4];
	u32 length;
	u8 revision, checksum;
	char oem[6], oem_table[8];
	u32 oem_rev, creator, creator_rev;
} __packed;

static bool checksum_ok(const u8 *p, u32 len)
{
	u8 sum = 0;
	for (u32 i = 0; i < len; i++)
		sum += p[i];
	return sum == 0;
}

/* Map a table at @pa and check its header; NULL when bad. */
static const struct sdt_header *map_table(u64 pa)
{
	const struct sdt_header *h = hostpt_map_mmio(pa, sizeof(*h));
	if (!h || h->length < sizeof(*h) || h->length > (1u << 20))
		return NULL;
	h = hostpt_map_mmio(pa, h->length);
	if (!h || !checksum_ok((const u8 *)h, h->length))
		return NULL;
	return h;
}

static const struct sdt_header *find_madt(const struct boot_info *bi)
{
	const u8 *rsdp = bi->rsdp;
	u64 root;
	bool xsdt = bi->rsdp_rev >= 2;
	if (xsdt)
		memcpy(&root, rsdp + 24, 8);
	else {
		u32 r32;
		memcpy(&r32, rsdp + 16, 4);
		root = r32;
	}
	const struct sdt_header *rt = map_table(root);
	if (!rt)
		return NULL;
	u32 esize = xsdt ? 8 : 4;
	u32 n = (rt->length - sizeof(*rt)) / esize;
	const u8 *ents = (const u8 *)(rt + 1);
	for (u32 i = 0; i < n; i++) {
		u64 pa = 0;
		memcpy(&pa, ents + i * esize, esize);
		const struct sdt_header *t = map_table(pa);
		if (t && !memcmp(t->sig, "APIC", 4))
			return t;
	}
	return NULL;
}

u32 madt_cpus(const struct boot_info *bi, u32 *apic_ids, u32 max)
{
	if (!bi->has_rsdp) {
		kprintf("smp: no ACPI RSDP from the loader: running on the boot CPU only\n");
		return 0;
	}
	const struct sdt_header *m = find_madt(bi);
	if (!m) {
		kprintf("smp: no valid ACPI MADT: running on the boot CPU only\n");
		return 0;
	}
	/* after the header: local APIC address (4) and flags (4) */
	const u8 *p = (const u8 *)m + sizeof(*m) + 8, *end = (const u8 *)m + m->length;
	u32 n = 0;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		u8 type = p[0], len = p[1];
		if (type == 0 && len >= 8) {
			u32 flags;
			memcpy(&flags, p + 4, 4);
			if ((flags & 3) && n < max) /* enabled or online-capable */
				apic_ids[n++] = p[3];
		} else if (type == 9 && len >= 16) {
			u32 id, flags;
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
			if ((flags & 3) && n < max)
				apic_ids[n++] = id;
		}
		p += len;
	}
	return n;
}
