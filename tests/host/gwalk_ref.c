/*
 * tests/host/gwalk_ref.c - reference model of SDM vol. 3A ch. 4 paging
 * (see gwalk_ref.h). Naive on purpose: it re-derives everything from raw
 * registers for every call and spells out each rule as the manual words it.
 */
#include "tests/host/gwalk_ref.h"

#include <string.h>

/* Register bit numbers, spelled out again (SDM §2.5, §2.2.1). */
#define CR0_PG_BIT 31
#define CR0_WP_BIT 16
#define CR4_PSE_BIT 4
#define CR4_PAE_BIT 5
#define CR4_PGE_BIT 7
#define CR4_LA57_BIT 12
#define CR4_SMEP_BIT 20
#define CR4_SMAP_BIT 21
#define CR4_PKE_BIT 22
#define EFER_LME_BIT 8
#define EFER_NXE_BIT 11

enum { MODE_NONE, MODE_32BIT, MODE_PAE, MODE_4LEVEL, MODE_5LEVEL };

/* One paging-structure entry the translation used. */
struct entry {
	uint64_t addr;
	unsigned size;
	uint64_t value;
	bool rights;     /* "controls the translation" for access rights */
	bool has_a;      /* has an accessed flag (PAE PDPTEs have not) */
	bool from_reg;   /* a PDPTE register */
};

enum { CH_PAGE, CH_NOT_PRESENT, CH_RESERVED, CH_UNREADABLE };

struct chain {
	int stop;             /* CH_* */
	uint64_t unreadable;
	int n;                /* entries used, the last being the leaf or the bad one */
	struct entry e[6];
	uint64_t pa, page_size;
	unsigned pkey;
};

/* bits hi..lo of v */
static uint64_t field(uint64_t v, unsigned hi, unsigned lo)
{
	return (v >> lo) & ((hi - lo == 63) ? ~0ULL : ((1ULL << (hi - lo + 1)) - 1));
}

/* true when any bit in hi..lo of v is 1 (nothing if hi < lo) */
static bool any_set(uint64_t v, unsigned hi, unsigned lo)
{
	if (hi < lo)
		return false;
	return field(v, hi, lo) != 0;
}

static bool bit(uint64_t v, unsigned n)
{
	return (v >> n) & 1;
}

/* The walk's view of memory: the fake memory with the A updates this walk
 * has made so far on top (a walk that meets the same entry twice, through
 * a table that maps itself, sees its own update, as hardware does). */
struct view {
	const struct ref_mem *mem;
	struct ref_result *out;
	bool peek;
};

static bool mem_read(const struct view *x, uint64_t addr, unsigned size, uint64_t *v)
{
	for (int i = x->out->nwrites - 1; i >= 0; i--) {
		if (x->out->w[i].addr == addr && x->out->w[i].size == size) {
			*v = x->out->w[i].value;
			return true;
		}
	}
	if (addr >= x->mem->size || x->mem->size - addr < size)
		return false;
	uint64_t r = 0;
	for (unsigned i = 0; i < size; i++)
		r |= (uint64_t)x->mem->bytes[addr + i] << (8 * i);
	*v = r;
	return true;
}

static void add_write(struct ref_result *out, const struct entry *e, uint64_t value)
{
	struct ref_write *w = &out->w[out->nwrites++];
	w->addr = e->addr;
	w->size = e->size;
	w->value = value;
}

/* §4.8 (and our policy): the last entry of @ch referenced another paging
 * structure and passed its checks, so it was used: set its A flag. */
static void used(const struct view *x, struct chain *ch)
{
	struct entry *e = &ch->e[ch->n - 1];
	if (!x->peek && e->has_a && !bit(e->value, 5)) {
		e->value |= 1ULL << 5;
		add_write(x->out, e, e->value);
	}
}

/* Table 4-1. */
static int paging_mode(const struct ref_cpu *c)
{
	if (!bit(c->cr0, CR0_PG_BIT))
		return MODE_NONE;
	if (!bit(c->cr4, CR4_PAE_BIT))
		return MODE_32BIT;
	if (!bit(c->efer, EFER_LME_BIT))
		return MODE_PAE;
	return bit(c->cr4, CR4_LA57_BIT) ? MODE_5LEVEL : MODE_4LEVEL;
}

/* Read one entry into the chain. false when unreadable. */
static bool use_entry(const struct view *x, struct chain *ch, uint64_t addr, unsigned size, bool rights,
		      bool has_a)
{
	struct entry *e = &ch->e[ch->n++];
	e->addr = addr;
	e->size = size;
	e->rights = rights;
	e->has_a = has_a;
	e->from_reg = false;
	if (!mem_read(x, addr, size, &e->value)) {
		ch->stop = CH_UNREADABLE;
		ch->unreadable = addr;
		return false;
	}
	return true;
}

/* §4.3: 32-bit paging. */
static void chain_32bit(const struct view *x, const struct ref_cpu *c, uint64_t la, struct chain *ch)
{
	/* "A 4-KByte naturally aligned page directory is located at the
	 * physical address specified in bits 31:12 of CR3." PDE address:
	 * bits 31:12 from CR3, bits 11:2 are bits 31:22 of the linear
	 * address, bits 1:0 are 0. */
	uint64_t pde_addr = (field(c->cr3, 31, 12) << 12) | (field(la, 31, 22) << 2);
	if (!use_entry(x, ch, pde_addr, 4, true, true))
		return;
	uint64_t pde = ch->e[0].value;
	if (!bit(pde, 0)) {
		ch->stop = CH_NOT_PRESENT;
		return;
	}
	if (bit(c->cr4, CR4_PSE_BIT) && bit(pde, 7)) {
		/* 4-MByte page. Reserved: "If the PSE-36 mechanism is not
		 * supported, bits 21:13 are reserved. If the PSE-36 mechanism
		 * is supported, bits 21:(M-19) are reserved, where M is the
		 * minimum of 40 and MAXPHYADDR." */
		unsigned m = c->maxphyaddr < 40 ? c->maxphyaddr : 40;
		bool rsvd = c->pse36 ? any_set(pde, 21, m - 19) : any_set(pde, 21, 13);
		if (rsvd) {
			ch->stop = CH_RESERVED;
			return;
		}
		/* "Bits 39:32 are bits 20:13 of the PDE. Bits 31:22 are bits
		 * 31:22 of the PDE. Bits 21:0 are from the original linear
		 * address." */
		ch->pa = (field(pde, 20, 13) << 32) | (field(pde, 31, 22) << 22) | field(la, 21, 0);
		ch->page_size = 4ULL << 20;
		ch->stop = CH_PAGE;
		return;
	}
	used(x, ch);
	/* Page table: bits 31:12 from the PDE, 11:2 = linear 21:12. */
	uint64_t pte_addr = (field(pde, 31, 12) << 12) | (field(la, 21, 12) << 2);
	if (!use_entry(x, ch, pte_addr, 4, true, true))
		return;
	uint64_t pte = ch->e[1].value;
	if (!bit(pte, 0)) {
		ch->stop = CH_NOT_PRESENT;
		return;
	}
	/* No reserved bits in a 32-bit PTE. */
	ch->pa = (field(pte, 31, 12) << 12) | field(la, 11, 0);
	ch->page_size = 4096;
	ch->stop = CH_PAGE;
}

/* §4.4: PAE paging. */
static void chain_pae(const struct view *x, const struct ref_cpu *c, uint64_t la, struct chain *ch)
{
	unsigned m = c->maxphyaddr;
	bool nxe = bit(c->efer, EFER_NXE_BIT);
	unsigned i = (unsigned)field(la, 31, 30);
	struct entry *e = &ch->e[ch->n++];

	/* "PDPTEi, where i is the value of bits 31:30 of the linear
	 * address" - from the PDPTE registers. */
	e->addr = (field(c->cr3, 31, 5) << 5) + 8 * i;
	e->size = 8;
	e->rights = false; /* PDPTEs do not control access rights */
	e->has_a = false;  /* bits 8:5 are reserved: no A flag */
	e->from_reg = !c->pdpte_in_memory;
	if (c->pdpte_in_memory) {
		if (!mem_read(x, e->addr, 8, &e->value)) {
			ch->stop = CH_UNREADABLE;
			ch->unreadable = e->addr;
			return;
		}
	} else {
		e->value = c->pdpte[i];
	}
	uint64_t pdpte = e->value;
	if (!bit(pdpte, 0)) {
		ch->stop = CH_NOT_PRESENT;
		return;
	}
	/* Table 4-8: 2:1 reserved, 8:5 reserved, 63:M reserved. */
	if (any_set(pdpte, 2, 1) || any_set(pdpte, 8, 5) || any_set(pdpte, 63, m)) {
		ch->stop = CH_RESERVED;
		return;
	}
	/* PDE: bits 51:12 from PDPTEi, bits 11:3 = linear 29:21. */
	uint64_t pde_addr = (field(pdpte, 51, 12) << 12) | (field(la, 29, 21) << 3);
	if (!use_entry(x, ch, pde_addr, 8, true, true))
		return;
	uint64_t pde = ch->e[ch->n - 1].value;
	if (!bit(pde, 0)) {
		ch->stop = CH_NOT_PRESENT;
		return;
	}
	/* §4.4.2: 62:M reserved; 63 reserved if NXE = 0; PS = 1: 20:13. */
	if (any_set(pde, 62, m) || (!nxe && bit(pde, 63)) || (bit(pde, 7) && any_set(pde, 20, 13))) {
		ch->stop = CH_RESERVED;
		return;
	}
	if (bit(pde, 7)) {
		/* Table 4-9: 2-MByte page at bits (M-1):21. */
		ch->pa = (field(pde, 51, 21) << 21) | field(la, 20, 0);
		ch->page_size = 2ULL << 20;
		ch->stop = CH_PAGE;
		return;
	}
	used(x, ch);
	uint64_t pte_addr = (field(pde, 51, 12) << 12) | (field(la, 20, 12) << 3);
	if (!use_entry(x, ch, pte_addr, 8, true, true))
		return;
	uint64_t pte = ch->e[ch->n - 1].value;
	if (!bit(pte, 0)) {
		ch->stop = CH_NOT_PRESENT;
		return;
	}
	if (any_set(pte, 62, m) || (!nxe && bit(pte, 63))) {
		ch->stop = CH_RESERVED;
		return;
	}
	ch->pa = (field(pte, 51, 12) << 12) | field(la, 11, 0);
	ch->page_size = 4096;
	ch->stop = CH_PAGE;
}

/* §4.5: 4-level and 5-level paging. */
static void chain_ia32e(const struct view *x, const struct ref_cpu *c, uint64_t la, bool five,
			struct chain *ch)
{
	unsigned m = c->maxphyaddr;
	bool nxe = bit(c->efer, EFER_NXE_BIT);
	/* The next table: CR3 bits M-1:12 at first. */
	uint64_t next = field(c->cr3, m - 1, 12) << 12;

	/* PML5E (5-level only) and PML4E: index bits 56:48 and 47:39. "If
	 * the P flag is 1: bits 51:M reserved; bit 63 reserved if NXE = 0;
	 * bit 7 (PS) reserved." AMD also reserves bit 8 (APM §5.3.3). */
	for (int top = five ? 5 : 4; top >= 4; top--) {
		unsigned lo = top == 5 ? 48 : 39;
		uint64_t addr = next | (field(la, lo + 8, lo) << 3);
		if (!use_entry(x, ch, addr, 8, true, true))
			return;
		uint64_t v = ch->e[ch->n - 1].value;
		if (!bit(v, 0)) {
			ch->stop = CH_NOT_PRESENT;
			return;
		}
		if (any_set(v, 51, m) || (!nxe && bit(v, 63)) || bit(v, 7) || (c->amd && bit(v, 8))) {
			ch->stop = CH_RESERVED;
			return;
		}
		used(x, ch);
		next = field(v, 51, 12) << 12;
	}

	/* PDPTE: index bits 38:30. PS = 1 maps a 1-GByte page if supported;
	 * otherwise PS is reserved. 1-GByte page: 29:13 reserved. */
	uint64_t addr = next | (field(la, 38, 30) << 3);
	if (!use_entry(x, ch, addr, 8, true, true))
		return;
	uint64_t pdpte = ch->e[ch->n - 1].value;
	if (!bit(pdpte, 0)) {
		ch->stop = CH_NOT_PRESENT;
		return;
	}
	if (any_set(pdpte, 51, m) || (!nxe && bit(pdpte, 63)) || (bit(pdpte, 7) && !c->gbpages) ||
	    (bit(pdpte, 7) && any_set(pdpte, 29, 13))) {
		ch->stop = CH_RESERVED;
		return;
	}
	if (bit(pdpte, 7)) {
		ch->pa = (field(pdpte, 51, 30) << 30) | field(la, 29, 0);
		ch->page_size = 1ULL << 30;
		ch->stop = CH_PAGE;
		return;
	}

	used(x, ch);
	/* PDE: index 29:21; PS = 1 maps 2 MBytes, 20:13 reserved. */
	addr = (field(pdpte, 51, 12) << 12) | (field(la, 29, 21) << 3);
	if (!use_entry(x, ch, addr, 8, true, true))
		return;
	uint64_t pde = ch->e[ch->n - 1].value;
	if (!bit(pde, 0)) {
		ch->stop = CH_NOT_PRESENT;
		return;
	}
	if (any_set(pde, 51, m) || (!nxe && bit(pde, 63)) || (bit(pde, 7) && any_set(pde, 20, 13))) {
		ch->stop = CH_RESERVED;
		return;
	}
	if (bit(pde, 7)) {
		ch->pa = (field(pde, 51, 21) << 21) | field(la, 20, 0);
		ch->page_size = 2ULL << 20;
		ch->stop = CH_PAGE;
		return;
	}

	used(x, ch);
	/* PTE: index 20:12. */
	addr = (field(pde, 51, 12) << 12) | (field(la, 20, 12) << 3);
	if (!use_entry(x, ch, addr, 8, true, true))
		return;
	uint64_t pte = ch->e[ch->n - 1].value;
	if (!bit(pte, 0)) {
		ch->stop = CH_NOT_PRESENT;
		return;
	}
	if (any_set(pte, 51, m) || (!nxe && bit(pte, 63))) {
		ch->stop = CH_RESERVED;
		return;
	}
	ch->pa = (field(pte, 51, 12) << 12) | field(la, 11, 0);
	ch->page_size = 4096;
	ch->stop = CH_PAGE;
}

/* ---------------------------------------------------- §4.6 access rights */

struct facts {
	bool user_mode_address; /* U/S = 1 in every entry controlling the translation */
	bool rw_everywhere;     /* R/W = 1 in every such entry */
	bool xd_somewhere;      /* XD = 1 in some such entry */
	bool pk_read_ok;        /* protection key permits reads (§4.6.2) */
	bool pk_write_ok;       /* protection key permits writes */
};

static void gather_facts(const struct ref_cpu *c, int mode, const struct chain *ch, bool user_access,
			 struct facts *f)
{
	f->user_mode_address = true;
	f->rw_everywhere = true;
	f->xd_somewhere = false;
	for (int i = 0; i < ch->n; i++) {
		if (!ch->e[i].rights)
			continue;
		if (!bit(ch->e[i].value, 2))
			f->user_mode_address = false;
		if (!bit(ch->e[i].value, 1))
			f->rw_everywhere = false;
		if (ch->e[i].size == 8 && bit(ch->e[i].value, 63))
			f->xd_somewhere = true;
	}
	/* §4.6.2: keys exist with IA32_EFER.LMA = 1 and CR4.PKE = 1, for
	 * user-mode addresses. "If ADi = 1, no data accesses are permitted.
	 * If WDi = 1, write accesses are not permitted if CR0.WP = 1 or the
	 * access is a user-mode access." */
	f->pk_read_ok = true;
	f->pk_write_ok = true;
	bool lma = (mode == MODE_4LEVEL || mode == MODE_5LEVEL);
	if (lma && bit(c->cr4, CR4_PKE_BIT) && f->user_mode_address) {
		unsigned k = ch->pkey;
		bool ad = bit(c->pkru, 2 * k), wd = bit(c->pkru, 2 * k + 1);
		if (ad) {
			f->pk_read_ok = false;
			f->pk_write_ok = false;
		}
		if (wd && (bit(c->cr0, CR0_WP_BIT) || user_access))
			f->pk_write_ok = false;
	}
}

/* §4.6.1, bullet by bullet. */
static bool permitted(const struct ref_cpu *c, int mode, const struct facts *f, const struct ref_access *a,
		      bool supervisor)
{
	bool wp = bit(c->cr0, CR0_WP_BIT), smap = bit(c->cr4, CR4_SMAP_BIT), smep = bit(c->cr4, CR4_SMEP_BIT);
	bool nxe = bit(c->efer, EFER_NXE_BIT);
	bool explicit_access = !a->implicit;
	/* "For 32-bit paging or if IA32_EFER.NXE = 0, instructions may be
	 * fetched from any ... address." */
	bool xd_applies = mode != MODE_32BIT && nxe;

	if (supervisor) {
		if (a->type == REF_READ) {
			/* "Data may be read (implicitly or explicitly) from any
			 * supervisor-mode address." */
			if (!f->user_mode_address)
				return true;
			/* "Data reads from user-mode pages": SMAP. */
			if (!smap)
				return f->pk_read_ok;
			if (c->ac && explicit_access)
				return f->pk_read_ok;
			return false; /* "EFLAGS.AC = 0 or the access is implicit" */
		}
		if (a->type == REF_WRITE) {
			if (!f->user_mode_address) {
				/* "Data writes to supervisor-mode addresses." */
				if (!wp)
					return true;
				return f->rw_everywhere;
			}
			/* "Data writes to user-mode addresses." */
			if (!wp) {
				if (!smap)
					return f->pk_write_ok;
				if (c->ac && explicit_access)
					return f->pk_write_ok;
				return false;
			}
			if (!smap)
				return f->rw_everywhere && f->pk_write_ok;
			if (c->ac && explicit_access)
				return f->rw_everywhere && f->pk_write_ok;
			return false;
		}
		/* Instruction fetches. */
		if (!f->user_mode_address) {
			if (!xd_applies)
				return true;
			return !f->xd_somewhere;
		}
		if (smep)
			return false; /* "may not be fetched from any user-mode address" */
		if (!xd_applies)
			return true;
		return !f->xd_somewhere;
	}

	/* User-mode access. */
	if (!f->user_mode_address)
		return false; /* "may not ... any supervisor-mode address" */
	if (a->type == REF_READ)
		return f->pk_read_ok;
	if (a->type == REF_WRITE)
		return f->rw_everywhere && f->pk_write_ok;
	if (!xd_applies)
		return true;
	return !f->xd_somewhere;
}

void ref_translate(const struct ref_mem *mem, const struct ref_cpu *c, const struct ref_access *a,
		   struct ref_result *out)
{
	struct chain ch;
	struct view x = { mem, out, a->peek };
	int mode = paging_mode(c);
	uint64_t la = a->la;
	/* §4.6: implicit accesses are supervisor-mode "regardless of CPL";
	 * otherwise CPL < 3 is supervisor. */
	bool supervisor = a->implicit || c->cpl < 3;

	memset(out, 0, sizeof(*out));
	memset(&ch, 0, sizeof(ch));

	if (mode == MODE_NONE || mode == MODE_32BIT || mode == MODE_PAE)
		la &= 0xffffffffULL;
	if (mode == MODE_NONE) {
		out->outcome = REF_TRANSLATED;
		out->have_translation = true;
		out->pa = la;
		out->page_size = 4096;
		return;
	}
	if (mode == MODE_4LEVEL || mode == MODE_5LEVEL) {
		/* Canonical: bits 63:47 (63:56) all equal. */
		unsigned top = mode == MODE_4LEVEL ? 47 : 56;
		uint64_t upper = field(la, 63, top);
		if (upper != 0 && upper != field(~0ULL, 63, top)) {
			out->outcome = REF_GP;
			return;
		}
	}

	if (mode == MODE_32BIT)
		chain_32bit(&x, c, la, &ch);
	else if (mode == MODE_PAE)
		chain_pae(&x, c, la, &ch);
	else
		chain_ia32e(&x, c, la, mode == MODE_5LEVEL, &ch);

	/* §4.7 error-code bits that describe the access. */
	uint32_t access_bits = 0;
	if (a->type == REF_WRITE)
		access_bits |= 1u << 1;
	if (!supervisor)
		access_bits |= 1u << 2;
	/* I/D: "the access was an instruction fetch; and either CR4.SMEP = 1;
	 * or both CR4.PAE = 1 and IA32_EFER.NXE = 1". */
	if (a->type == REF_FETCH && (bit(c->cr4, CR4_SMEP_BIT) || (bit(c->cr4, CR4_PAE_BIT) && bit(c->efer, EFER_NXE_BIT))))
		access_bits |= 1u << 4;

	switch (ch.stop) {
	case CH_UNREADABLE:
		out->outcome = REF_UNREADABLE;
		out->unreadable = ch.unreadable;
		return;
	case CH_NOT_PRESENT:
		/* P = 0: "no translation ... because the P flag was 0". */
		out->outcome = REF_PAGE_FAULT;
		out->pfec = access_bits;
		return;
	case CH_RESERVED:
		/* RSVD = 1, and P = 1 since the entry was present. */
		out->outcome = REF_PAGE_FAULT;
		out->pfec = access_bits | (1u << 3) | (1u << 0);
		return;
	}

	struct entry *leaf = &ch.e[ch.n - 1];
	bool lma = (mode == MODE_4LEVEL || mode == MODE_5LEVEL);
	if (lma && bit(c->cr4, CR4_PKE_BIT))
		ch.pkey = (unsigned)field(leaf->value, 62, 59);
	struct facts f;
	gather_facts(c, mode, &ch, !supervisor, &f);

	out->have_translation = true;
	out->pa = ch.pa;
	out->page_size = ch.page_size;
	out->global = bit(c->cr4, CR4_PGE_BIT) && bit(leaf->value, 8);

	if (!permitted(c, mode, &f, a, supervisor)) {
		out->outcome = REF_PAGE_FAULT;
		out->pfec = access_bits | 1u; /* P = 1: a translation existed */
		/* PK: LMA = PKE = 1, data access, user-mode address, and AD = 1
		 * or (WD = 1, a write, and CR0.WP = 1 or a user access). */
		if (lma && bit(c->cr4, CR4_PKE_BIT) && a->type != REF_FETCH && f.user_mode_address) {
			bool ad = bit(c->pkru, 2 * ch.pkey), wd = bit(c->pkru, 2 * ch.pkey + 1);
			if (ad || (wd && a->type == REF_WRITE && (bit(c->cr0, CR0_WP_BIT) || !supervisor)))
				out->pfec |= 1u << 5;
		}
		return;
	}

	out->outcome = REF_TRANSLATED;
	if (!a->peek) {
		uint64_t v = leaf->value | (1ULL << 5);
		if (a->type == REF_WRITE)
			v |= 1ULL << 6;
		if (v != leaf->value)
			add_write(out, leaf, v);
	}
}
