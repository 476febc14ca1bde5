/*
 * tests/host/shadow_fake.h - the world the shadow MMU tests run in:
 *  - a fake guest (RAM below 16 MiB with a legacy MMIO hole, a few MiB of
 *    RAM at 4 GiB; guest page tables built in it, walked by mm/gwalk.c as
 *    the reference);
 *  - a fake env: host frames from a "high" pool above 4 GiB and a low pool
 *    below it, each frame a separate malloc so ASan sees any overrun; every
 *    frame handed out is counted so a leak fails the test;
 *  - simulated hardware: a walker over the SHADOW tables in hardware PAE /
 *    4-level / 5-level format (checking every reserved bit) and a tagged
 *    TLB per vCPU that keeps each translation until env->flush_tlb is
 *    called for that vCPU - the one thing the emulators cannot check.
 */
#ifndef UMBRA_TESTS_SHADOW_FAKE_H
#define UMBRA_TESTS_SHADOW_FAKE_H

#include <stdint.h>
#include <stdio.h>

#include "mm/gwalk.h"
#include "kernel/x86_regs.h"
#include "mm/shadow.h"

/* Failures and checks. SHADOW_ABORT=1 in the environment aborts at the
 * first failure (for a backtrace under gdb or ASan). */
extern int g_failures;
extern long g_checks;
void fail_hook(void);
#define FAIL(...)                                                            \
	do {                                                                 \
		g_failures++;                                                \
		fail_hook();                                                 \
		if (g_failures <= 30) {                                      \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)
#define CHECK(cond, ...)                   \
	do {                               \
		g_checks++;                \
		if (!(cond))               \
			FAIL(__VA_ARGS__); \
	} while (0)

/* ---------------------------------------------------------------- guest */
#define G_RAM_SIZE (16 * MiB)       /* RAM at 0 */
#define G_HOLE_LO 0xa0000ULL        /* not RAM: legacy MMIO */
#define G_HOLE_HI 0xc0000ULL
#define G_HIGH_BASE (4 * GiB)       /* more RAM here (PSE-36, PAE) */
#define G_HIGH_SIZE (4 * MiB)
#define G_HPA_BASE (1ULL << 40)     /* host frame of guest gpa X: base + X */
#define HOST_MAXPHY 46
#define SIM_MAX_VCPUS 4

struct fake {
	/* Guest memory. */
	uint8_t *ram, *high;
	uint64_t ram_size;          /* may be raised before fake_init */
	/* Frame pools. */
	uint64_t high_frames, low_frames;  /* capacity */
	uint8_t **high_mem, **low_mem;     /* per frame, NULL when free */
	uint64_t high_used, low_used, high_peak;
	long alloc_fail_after;      /* >= 0: fail once it reaches 0 */
	unsigned long flushes[SIM_MAX_VCPUS];
	unsigned long flush_calls;
	struct shadow_env env;
	struct sim_cpu *cpus[SIM_MAX_VCPUS];
};

#define HIGH_POOL_BASE (8 * GiB)
#define LOW_POOL_BASE (256 * MiB)

extern struct fake *g_fake;

void fake_init(struct fake *f, uint64_t high_frames, uint64_t low_frames);
void fake_free(struct fake *f);
/* Nothing left allocated in either pool. */
void fake_check_no_leaks(struct fake *f, const char *what);

bool g_is_ram(gpa_t gpa);
uint8_t *g_ptr(gpa_t gpa);                 /* NULL if not RAM */
uint64_t g_get(gpa_t gpa, unsigned size);
void g_put(gpa_t gpa, unsigned size, uint64_t v);
extern const struct gwalk_ops g_ops;       /* guest memory for gwalk */
hpa_t g_hpa(gpa_t gpa);                    /* host address of guest RAM */

/* ---------------------------------------------------------------- guest tables */
/* Guest table frames come from [G_TBL_BASE, G_TBL_BASE + G_TBL_FRAMES). */
#define G_TBL_BASE 0x100000ULL
#define G_TBL_FRAMES 192u
#define G_DATA_BASE 0x400000ULL
#define G_DATA_FRAMES 64u

struct gworld {
	gpa_t base;                 /* table pool: G_TBL_BASE unless set */
	unsigned nframes;           /* G_TBL_FRAMES unless set */
	unsigned next_tbl;
	gpa_t pdpt_frame;           /* PAE: frame being filled with PDPTs */
	unsigned pdpt_used;
};

gpa_t gb_table(struct gworld *w);
/* Map @gva -> @gpa in the tables of (fmt, cr3): leaf of @size (4 KiB,
 * 2 MiB, 4 MiB, 1 GiB) with @leaf_flags (P added); missing tables are
 * created with @tbl_flags (P added; PDPTEs get P only). Returns the gpa of
 * the leaf entry. */
gpa_t gb_map(struct gworld *w, int fmt, uint64_t cr3, uint64_t gva, uint64_t gpa, uint64_t size,
	     uint64_t leaf_flags, uint64_t tbl_flags);
/* A fresh address space's CR3 for @fmt (PAE: a 32-byte PDPT). */
uint64_t gb_new_as(struct gworld *w, int fmt);

/* ---------------------------------------------------------------- CPU state */
struct gstate {
	int fmt;
	uint64_t cr0, cr4, efer, cr3;
};

struct gwalk_caps g_caps(void);
/* Registers for @fmt with WP, NXE (where it exists), PSE; @cr3. */
struct gstate g_state(int fmt, uint64_t cr3);

/* ---------------------------------------------------------------- hardware */
#define TLB_SIZE 512

struct tlb_entry {
	bool valid;
	uint64_t gva_page;
	uint64_t hpa_page;
	uint8_t perm;               /* GWALK_P_* view of the hardware */
};

struct sim_cpu {
	unsigned id;
	struct shadow_vcpu *sv;
	struct shadow_hw hw;
	bool have_hw;
	struct gwalk_env genv;      /* the guest's view (reference walks) */
	struct gstate gs;
	uint64_t pdpte_regs[4];     /* hardware PDPTE registers (PAE) */
	struct tlb_entry tlb[TLB_SIZE];
	unsigned long tlb_hits, tlb_fills;
};

/* Set the guest's paging state: gwalk_mode_init, PDPTE load (E_INVAL /
 * E_FAULT returned like the MOV would fault), shadow_set_mode. */
int sim_set_state(struct sim_cpu *c, const struct gstate *gs);
/* VM entry: shadow_reload, PDPTE registers from the PAE root. */
void sim_enter(struct sim_cpu *c);
void sim_tlb_flush(struct sim_cpu *c);

/* Walk the shadow tables for @gva as the hardware would: the translation
 * and rights (GWALK_P_*) of the hardware with CR0.WP = 1, EFER.NXE = 1
 * and hw's SMEP/SMAP. False when not present. Fails the test on any
 * reserved bit or missing A/D. */
bool sim_hw_walk(struct sim_cpu *c, uint64_t gva, uint64_t *hpa_page, uint8_t *perm);
/* Would an access with GWALK_* flags be allowed by rights @perm? */
bool perm_allows(uint8_t perm, uint32_t access);
/* Every access kind allowed by @a also allowed by @b? */
bool perm_subset(uint8_t a, uint8_t b);

enum sim_outcome { SIM_OK, SIM_GUEST_FAULT, SIM_EMULATE, SIM_KILL, SIM_LIVELOCK };
struct sim_result {
	int outcome;
	uint64_t hpa;               /* SIM_OK: host address accessed */
	bool via_tlb;
	uint32_t error;             /* SIM_GUEST_FAULT */
	gpa_t gpa;                  /* SIM_EMULATE / SIM_KILL */
	unsigned faults;            /* shadow page faults taken */
};
/* One access by the guest: TLB, else hardware walk of the shadow (cached
 * on success), else #PF to shadow_page_fault and retry while SPF_FIXED. A
 * TLB entry that denies the access is dropped (SDM §4.10.4.1: a page
 * fault invalidates the entries for the faulting address). */
void sim_access(struct sim_cpu *c, uint64_t gva, uint32_t access, struct sim_result *r);

/* Enumerate present shadow leaves reachable from c's root: fn(gva, hpa,
 * perm, level-1 page's hpa). */
void sim_for_each_leaf(struct sim_cpu *c, void (*fn)(void *ctx, struct sim_cpu *c, uint64_t gva, uint64_t hpa,
						      uint8_t perm, hpa_t pt_hpa),
		       void *ctx);


/* ---------------------------------------------------------------- a test world */
struct tworld {
	struct fake f;
	struct gworld w;
	struct shadow_vm *svm;
	struct sim_cpu cpu[SIM_MAX_VCPUS];
	unsigned ncpu;
};

/* Guest RAM of @ram_size (0: G_RAM_SIZE), a VM with @max_pages and
 * @ncpu vCPUs. Returns a calloc'ed world. */
struct tworld *tw_new(uint32_t max_pages, unsigned ncpu, uint64_t ram_size);
/* Destroy vCPUs and VM, check that every frame came back, free. */
void tw_free(struct tworld *t, const char *what);
struct shadow_stats tw_stats(struct tworld *t);

#endif
