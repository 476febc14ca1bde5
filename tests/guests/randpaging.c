/*
 * tests/guests/randpaging.c - seeded random paging scenarios (DESIGN.md
 * §5: guest paging must behave as on bare metal, with paging=tdp and
 * paging=shadow alike).
 *
 * From `seed=N` (default 1) the guest builds, for 32-bit paging and then
 * PAE, `rounds=R` (default 6) random sets of page tables over 8 slots of
 * one large page each (4 MiB / 2 MiB; PAE: two PDPT entries, the second
 * sometimes not present): each slot's PDE is randomly not present, a large
 * page, a new page table, or an alias of an earlier slot's table; PTEs are
 * randomly not present or point at one of 32 data frames (aliases); large
 * pages cover those frames too. Entry bits are only P, R/W, U/S, PS, A
 * and D (no reserved bits: QEMU TCG reports reserved-bit faults without P).
 * CR0.WP is random per round. Then `accesses=N` (default 200) random
 * accesses, no fetches: ring-0 and ring-3 reads and writes of random words,
 * and now and then a PTE rewritten with paging on (through a supervisor
 * identity map of the table area) followed by INVLPG of every alias of
 * that PTE or by a CR3 reload.
 * Each access's outcome (vector, #PF error code, CR2, data read), then the
 * A/D bits of every entry an access went through successfully and the data
 * frames' contents are folded into an FNV-1a hash per paging mode, printed
 * with the counts. Bare QEMU, paging=tdp and paging=shadow must agree.
 *
 * Memory: tables at 8 MiB, data frames and large pages at 16-24 MiB.
 */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"
#include "kernel/string.h"

GUEST_NAME("randpaging");

#define NSLOTS 8
#define NPOS 16		/* pages used per slot */
#define NDATA 32	/* 4K data frames */
#define DATA_BASE 0x1000000u
#define TABLE_BASE 0x800000u
#define TABLE_MAX 64
#define ENTRY_BITS (PTE_P | PTE_W | PTE_U | PTE_A | PTE_D)

static u32 rng;

static u32 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

#define FNV_OFFSET 0x811c9dc5u
#define FNV_PRIME 0x01000193u

static u32 fnv(u32 h, u32 v)
{
	for (int i = 0; i < 4; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= FNV_PRIME;
	}
	return h;
}

static bool pae;
static u32 tables_used;
static u32 large_size;	/* 4 MiB or 2 MiB */
static int nlarge;	/* large frames at DATA_BASE + i * large_size */

/* Per slot: what its PDE is, for the A/D pass. */
enum slot_kind { S_NONE, S_LARGE, S_TABLE };
static enum slot_kind kind[NSLOTS];
static u32 table_of[NSLOTS];		/* table physical address (S_TABLE) */
static bool used_ok[NSLOTS][NPOS];	/* a successful access went through */

static u32 slot_va(int s)
{
	if (!pae)
		return 0x40000000u + (u32)s * 4 * (u32)MiB;
	return (s < NSLOTS / 2 ? 0x40000000u : 0x80000000u) + (u32)(s % (NSLOTS / 2)) * 2 * (u32)MiB;
}

static u32 table_alloc(void)
{
	if (tables_used == TABLE_MAX) {
		report(false, "table area exhausted");
		report_summary();
	}
	u32 t = TABLE_BASE + tables_used++ * 4096;
	memset((void *)t, 0, 4096);
	return t;
}

/* Entry @i of the table at @t (32-bit or 64-bit entries). */
static u64 ent_get(u32 t, int i)
{
	return pae ? ((volatile u64 *)t)[i] : ((volatile u32 *)t)[i];
}
static void ent_set(u32 t, int i, u64 v)
{
	if (pae)
		((volatile u64 *)t)[i] = v;
	else
		((volatile u32 *)t)[i] = (u32)v;
}

static u32 data_frame(int i)
{
	return DATA_BASE + (u32)i * 4096;
}

/* The page directory entry slot @s lives in: (table, index). */
static u32 root;
static u32 pd_of_slot(int s, int *idx)
{
	if (!pae) {
		*idx = (int)(slot_va(s) >> 22);
		return root;
	}
	u32 va = slot_va(s);
	*idx = (int)((va >> 21) & 511);
	return (u32)(ent_get(root, (int)(va >> 30)) & ~0xfffull);
}

static u32 random_pte(void)
{
	u32 e = rnd();
	if (e % 8 == 0)
		return e & (ENTRY_BITS & ~PTE_P) & ~0xf0u;
	return data_frame((int)((e >> 8) % NDATA)) | PTE_P | (e & (PTE_W | PTE_U | PTE_A | PTE_D));
}

static void build_tables(void)
{
	tables_used = 0;
	root = table_alloc();
	u32 idflags = PTE_P | PTE_W | PTE_U | PTE_PS;
	if (!pae) {
		ent_set(root, 0, 0 | idflags); /* the image: 4 MiB identity */
		ent_set(root, 2, TABLE_BASE | PTE_P | PTE_W | PTE_PS); /* the tables */
	} else {
		u32 pd0 = table_alloc();
		ent_set(root, 0, pd0 | PTE_P);
		ent_set(pd0, 0, 0 | idflags);
		ent_set(pd0, 1, (2 * MiB) | idflags);
		ent_set(pd0, 4, TABLE_BASE | PTE_P | PTE_W | PTE_PS); /* the tables */
		ent_set(root, 1, table_alloc() | PTE_P);
		u32 pd2 = table_alloc();
		/* the second window's PDPTE is sometimes not present */
		ent_set(root, 2, (rnd() % 5) ? (pd2 | PTE_P) : 0);
	}
	for (int s = 0; s < NSLOTS; s++) {
		int idx;
		u32 pd = pd_of_slot(s, &idx);
		for (int p = 0; p < NPOS; p++)
			used_ok[s][p] = false;
		kind[s] = S_NONE;
		if (pae && !(ent_get(root, (int)(slot_va(s) >> 30)) & PTE_P))
			continue; /* behind a not-present PDPTE */
		u32 r = rnd() % 10;
		if (r < 2) {
			ent_set(pd, idx, rnd() & (ENTRY_BITS & ~PTE_P));
		} else if (r < 5) {
			kind[s] = S_LARGE;
			u32 f = DATA_BASE + (rnd() % (u32)nlarge) * large_size;
			ent_set(pd, idx, f | PTE_P | PTE_PS | (rnd() & (PTE_W | PTE_U | PTE_A | PTE_D)));
		} else {
			kind[s] = S_TABLE;
			int alias = -1;
			if (rnd() % 4 == 0)
				for (int o = 0; o < s; o++)
					if (kind[o] == S_TABLE)
						alias = o;
			u32 t;
			if (alias >= 0) {
				t = table_of[alias];
			} else {
				t = table_alloc();
				for (int p = 0; p < NPOS; p++)
					ent_set(t, p, random_pte());
			}
			table_of[s] = t;
			ent_set(pd, idx, t | PTE_P | (rnd() & (PTE_W | PTE_U | PTE_A)));
		}
	}
}

/* Every page an access can reach: the data frames, and the first NPOS
 * pages of each large frame (those of the first are data frames). */
static void for_each_page(void (*fn)(u32 pa))
{
	for (int i = 0; i < NDATA; i++)
		fn(data_frame(i));
	for (int l = 1; l < nlarge; l++)
		for (int p = 0; p < NPOS; p++)
			fn(DATA_BASE + (u32)l * large_size + (u32)p * 4096);
}

static void fill_page(u32 pa)
{
	for (u32 o = 0; o < 4096; o += 4)
		poke32(pa + o, rnd());
}

static u32 hash;
static void hash_page(u32 pa)
{
	for (u32 o = 0; o < 4096; o += 4)
		hash = fnv(hash, peek32(pa + o));
}

struct tally {
	u32 accesses, faults, edits, pf_by_err[8];
};

/* With paging on: rewrite one PTE of a random table slot, then INVLPG
 * every slot's view of it (aliases) or reload CR3. */
static void edit_pte(struct tally *t)
{
	int s = (int)(rnd() % NSLOTS), p = (int)(rnd() % NPOS);
	if (kind[s] != S_TABLE)
		return;
	u32 tab = table_of[s];
	ent_set(tab, p, random_pte());
	bool reload = rnd() & 1;
	for (int o = 0; o < NSLOTS; o++) {
		if (kind[o] != S_TABLE || table_of[o] != tab)
			continue;
		used_ok[o][p] = false;
		if (!reload)
			invlpg(slot_va(o) + (u32)p * 4096);
	}
	if (reload)
		write_cr3(read_cr3());
	t->edits++;
	hash = fnv(hash, (u32)ent_get(tab, p));
}

static void run_accesses(struct tally *t, int n)
{
	for (int i = 0; i < n; i++) {
		if (rnd() % 12 == 0)
			edit_pte(t);
		int s = (int)(rnd() % NSLOTS);
		int p = (int)(rnd() % NPOS);
		u32 va = slot_va(s) + (u32)p * 4096 + (rnd() % 1024) * 4;
		u32 op = rnd() % 4, val = rnd(), got = 0;
		int v;
		switch (op) {
		case 0: v = try_read32(va, &got); break;
		case 1: v = try_write32(va, val); break;
		case 2: v = user_read32(va, &got); break;
		default: v = user_write32(va, val); break;
		}
		t->accesses++;
		hash = fnv(hash, op);
		hash = fnv(hash, va);
		hash = fnv(hash, (u32)v);
		if (v == FAULT_NONE) {
			used_ok[s][p] = true;
			hash = fnv(hash, got);
			continue;
		}
		t->faults++;
		hash = fnv(hash, last_fault.error_code);
		hash = fnv(hash, last_fault.cr2);
		if (v == VEC_PF && last_fault.error_code < 8)
			t->pf_by_err[last_fault.error_code]++;
		else
			report(false, "access %d: vector %d error %#x at %#x", i, v, last_fault.error_code, va);
	}
}

/* A/D of each entry a successful access went through. */
static void hash_ad(void)
{
	for (int s = 0; s < NSLOTS; s++) {
		int idx;
		if (kind[s] == S_NONE)
			continue;
		u32 pd = pd_of_slot(s, &idx);
		u64 pde = ent_get(pd, idx);
		bool any = false;
		for (int p = 0; p < NPOS; p++) {
			if (!used_ok[s][p])
				continue;
			any = true;
			if (kind[s] == S_TABLE)
				hash = fnv(hash, (u32)ent_get(table_of[s], p) & (PTE_A | PTE_D));
		}
		if (any)
			hash = fnv(hash, (u32)pde & (kind[s] == S_LARGE ? (PTE_A | PTE_D) : PTE_A));
	}
}

static void run_mode(bool use_pae, int rounds, int accesses)
{
	pae = use_pae;
	large_size = pae ? 2 * (u32)MiB : 4 * (u32)MiB;
	nlarge = (int)((8 * (u32)MiB) / large_size);
	struct tally t = { 0 };
	hash = FNV_OFFSET;
	for (int r = 0; r < rounds; r++) {
		for_each_page(fill_page);
		build_tables();
		bool wp = rnd() & 1;
		hash = fnv(hash, wp);
		if (pae)
			paging_enable_pae((u64 *)root, wp);
		else
			paging_enable32((u32 *)root, wp);
		run_accesses(&t, accesses);
		paging_disable();
		hash_ad();
		for_each_page(hash_page);
	}
	const char *m = pae ? "PAE" : "32-bit";
	printf("%s: %d rounds, %u accesses, %u PTE edits, %u faults, #PF by error code:", m, rounds, t.accesses,
	       t.edits, t.faults);
	for (int e = 0; e < 8; e++)
		printf(" %u", t.pf_by_err[e]);
	printf("\n%s: hash %08x\n", m, hash);
	report(t.faults < t.accesses && t.faults > 0, "%s: some accesses fault, some do not", m);
}

static int arg_int(const char *key, int def)
{
	char buf[16];
	const char *v = cmdline_get(key, buf, sizeof(buf));
	if (!v || !*v)
		return def;
	int n = 0;
	for (; *v >= '0' && *v <= '9'; v++)
		n = n * 10 + (*v - '0');
	return n;
}

void guest_main(void)
{
	u32 seed = (u32)arg_int("seed", 1);
	int rounds = arg_int("rounds", 6), accesses = arg_int("accesses", 200);
	printf("seed %u\n", seed);
	rng = seed * 2654435761u + 0x9e3779b9u;
	if (!rng)
		rng = 1;
	run_mode(false, rounds, accesses);
	run_mode(true, rounds, accesses);
}
