/*
 * tests/guests/lib/guest.h - the test-guest library: output, reports,
 * expected faults, multiboot info, CPU helpers.
 *
 * Every guest is a multiboot v1 kernel that runs bare on QEMU and under
 * Umbra and must print the same in both. Output protocol (COM1, lines end in
 * "\n"):
 *   guest NAME start           first line, printed by the library
 *   PASS: text / FAIL: text    one line per check (report())
 *   SKIP: text                 a check that does not apply (report_skip())
 *   anything else              informational, must still be identical
 *   SUMMARY: N tests, M failures
 * then the guest writes 0 (no failure) or 1 to the debug-exit port 0xf4.
 *
 * A guest defines GUEST_NAME("name") once and a `void guest_main(void)`;
 * when guest_main returns the library prints the summary and exits.
 */
#ifndef UMBRA_GUEST_LIB_GUEST_H
#define UMBRA_GUEST_LIB_GUEST_H

#include "kernel/types.h"

#define GUEST_NAME(s) const char guest_name[] = s
extern const char guest_name[];
void guest_main(void);

/* ------------------------------------------------------------ output */

/* printf to COM1 (kernel/fmt.c conversions). */
int printf(const char *fmt, ...) __printf(1, 2);
void serial_putc(char c);

/* Print "PASS: ..." or "FAIL: ..." and count it. Returns @ok. */
bool report(bool ok, const char *fmt, ...) __printf(2, 3);
/* Print "SKIP: ..." (counted as neither). */
void report_skip(const char *fmt, ...) __printf(1, 2);
/* Print the SUMMARY line and exit with 0 (no failure) or 1. */
__noreturn void report_summary(void);
/* Number of FAIL lines so far. */
int report_failures(void);

/* Write @code to the debug-exit port 0xf4; halts forever if that returns. */
__noreturn void guest_exit(u8 code);

/* ------------------------------------------------------------ multiboot */

#define MB_MAGIC 0x2BADB002u
#define MB_INFO_MEM (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP (1u << 6)
#define MB_MMAP_AVAILABLE 1

struct mb_region {
	u64 base, len;
	u32 type;
};

/* A copy of the multiboot info taken at entry (the original may live in
 * memory a guest later reuses). */
struct mb_facts {
	u32 magic;	/* EAX at entry */
	u32 flags;
	u32 mem_lower_kib, mem_upper_kib;
	char cmdline[256]; /* as given, NUL-terminated, possibly truncated */
	int nregions;
	struct mb_region regions[32];
};
extern struct mb_facts mb;

/* The guest's own arguments: the words of the command line, minus a first
 * word that names the kernel image (QEMU and GRUB pass "path/x.elf args";
 * a leading word containing '/' or ending in ".elf" is dropped). */
int cmdline_argc(void);
const char *cmdline_arg(int i, char *buf, size_t size); /* NULL if none */
/* Value of "key=value" (copied to @buf), or NULL. A bare "key" gives "". */
const char *cmdline_get(const char *key, char *buf, size_t size);
bool cmdline_has(const char *key);

/* Bytes of available RAM in [@base, @base + @len) according to the
 * multiboot memory map (0 if there is no map). */
u64 mb_available_bytes(u64 base, u64 len);

/* ------------------------------------------------------------ faults */

#define FAULT_NONE (-1)

/* What the last caught exception looked like. */
struct fault_info {
	int vector;
	u32 error_code; /* 0 for vectors without one */
	u32 eip;
	u32 cr2;	/* read at the fault, meaningful for #PF */
};
extern struct fault_info last_fault;

/*
 * Call @fn(@arg); if it raises an exception (in ring 0 or ring 3), abandon
 * it and return the vector (details in last_fault). Returns FAULT_NONE when
 * @fn returns normally. Not nestable. Exceptions outside fault_try print a
 * FAIL line with the vector and end the guest.
 */
int fault_try(void (*fn)(void *arg), void *arg);

int try_rdmsr(u32 msr, u64 *val);
int try_wrmsr(u32 msr, u64 val);
int try_read32(u32 addr, u32 *val);
int try_write32(u32 addr, u32 val);
int try_exec(u32 addr); /* call @addr (which should hold a RET) */

/* The same accesses from ring 3 (CPL 3, flat user segments, IOPL 0).
 * The code and stack used are inside the image, so under paging the image
 * must be mapped with U=1. */
int user_read32(u32 addr, u32 *val);
int user_write32(u32 addr, u32 val);
int user_exec(u32 addr);

enum access_who { RING0, RING3 };
enum access_op { ACC_READ, ACC_WRITE, ACC_EXEC };

/*
 * Perform @op at @va from @who (a write stores 0x5a5a5a5a, an execute
 * calls @va) and report "@what: no fault" (@pf_err < 0) or "@what: #PF
 * error E, CR2" (a #PF with exactly error code @pf_err and CR2 = @va).
 * On a mismatch an extra line shows what happened instead.
 */
bool report_access(const char *what, enum access_who who, enum access_op op,
		   u32 va, int pf_err);

/* A table row for report_access(). */
struct access_case {
	const char *what;
	enum access_who who;
	enum access_op op;
	u32 va;
	int pf_err; /* NOFAULT or the #PF error code */
};
#define NOFAULT (-1)

void report_access_cases(const struct access_case *c, size_t n);

/* ------------------------------------------------------------ long mode */

/*
 * Switch to long mode with @cr3_pml4 (a 4-level root; it must identity-map
 * the image), call the 64-bit function @fn64 (System V: arg in RDI, result
 * in RAX) and come back to 32-bit protected mode without paging. Returns
 * FAULT_NONE and *@result, or the vector of an exception raised in 64-bit
 * mode (then last_fault holds it; CR2 and RIP truncated to 32 bits).
 * EFER.NXE is left as found.
 */
int long_call(u32 cr3_pml4, void *fn64, u64 arg, u64 *result);

/* ------------------------------------------------------------ CPU */

#define CR0_PE BIT(0)
#define CR0_WP BIT(16)
#define CR0_PG BIT(31)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_PGE BIT(7)
#define MSR_TSC 0x10
#define MSR_EFER 0xC0000080
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14

#define PF_P BIT(0)
#define PF_W BIT(1)
#define PF_U BIT(2)
#define PF_RSVD BIT(3)
#define PF_ID BIT(4)

struct cpuid_regs {
	u32 a, b, c, d;
};

static inline struct cpuid_regs cpuid(u32 leaf, u32 sub)
{
	struct cpuid_regs r;
	asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d)
		     : "a"(leaf), "c"(sub));
	return r;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
		     : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

#define DEFINE_CR(n)                                                        \
	static inline u32 read_cr##n(void)                                  \
	{                                                                   \
		u32 v;                                                      \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));               \
		return v;                                                   \
	}                                                                   \
	static inline void write_cr##n(u32 v)                               \
	{                                                                   \
		asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");      \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void invlpg(u32 va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(u16 port, u16 v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline u8 inb(u16 port)
{
	u8 v;
	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u16 inw(u16 port)
{
	u16 v;
	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u32 inl(u16 port)
{
	u32 v;
	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Volatile physical/virtual memory access by integer address. */
static inline u32 peek32(u32 addr) { return *(volatile u32 *)addr; }
static inline void poke32(u32 addr, u32 v) { *(volatile u32 *)addr = v; }

/*
 * True when CPUID leaf 0x40000000 carries QEMU TCG's own signature
 * ("TCGTCGTCGTCG"), i.e. the guest runs bare on QEMU TCG. Only then may a
 * check accept a documented QEMU TCG deviation from the manuals (listed
 * in tests/guests/README.md); the printed text never depends on it.
 * A hypervisor (Umbra) presents its own leaf 0x40000000.
 */
bool on_qemu_tcg(void);

/* Symbols from the link script. */
extern char _image_start[], _image_end[];

#endif
