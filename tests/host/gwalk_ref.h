/*
 * tests/host/gwalk_ref.h - a reference model of x86 linear-address
 * translation, written straight from Intel SDM vol. 3A ch. 4 for checking
 * mm/gwalk.c. Deliberately naive and structured differently: one function
 * per paging mode that follows the section's prose step by step, access
 * rights transcribed bullet by bullet from §4.6.1, the error code bullet by
 * bullet from §4.7. It takes raw register values, not a gwalk_mode.
 *
 * It never writes memory: it returns the A/D updates it would make, in
 * order, so the test can compare them with the walker's cmpxchg calls
 * (its own reads see those updates, as a real walk sees its own).
 * A/D policy (same decision as mm/gwalk.c, see there): A of an entry that
 * references a table is set once the entry passed its P and reserved-bit
 * checks; the leaf's A/D only when the access is permitted.
 */
#ifndef UMBRA_TESTS_GWALK_REF_H
#define UMBRA_TESTS_GWALK_REF_H

#include <stdbool.h>
#include <stdint.h>

struct ref_cpu {
	uint64_t cr0, cr3, cr4, efer;
	uint32_t pkru;
	unsigned cpl;          /* 0..3 */
	bool ac;               /* EFLAGS.AC */
	uint64_t pdpte[4];     /* PAE PDPTE registers */
	bool pdpte_in_memory;  /* PAE without registers: read PDPTEs on each walk */
	/* CPUID */
	unsigned maxphyaddr;
	bool gbpages, la57, pse36, amd;
};

enum { REF_READ, REF_WRITE, REF_FETCH };

struct ref_access {
	uint64_t la;
	int type;      /* REF_READ, REF_WRITE, REF_FETCH */
	bool implicit; /* implicit supervisor-mode access */
	bool peek;     /* no A/D updates */
};

struct ref_mem {
	const uint8_t *bytes;
	uint64_t size;
};

enum { REF_TRANSLATED, REF_PAGE_FAULT, REF_GP, REF_UNREADABLE };

struct ref_write {
	uint64_t addr;
	unsigned size;
	uint64_t value;
};

struct ref_result {
	int outcome;            /* REF_* */
	uint32_t pfec;          /* REF_PAGE_FAULT */
	uint64_t unreadable;    /* REF_UNREADABLE: the address */
	bool have_translation;  /* a valid translation exists (maybe denied) */
	uint64_t pa, page_size;
	bool global;
	int nwrites;
	struct ref_write w[8];
};

void ref_translate(const struct ref_mem *mem, const struct ref_cpu *cpu, const struct ref_access *acc,
		   struct ref_result *out);

#endif
