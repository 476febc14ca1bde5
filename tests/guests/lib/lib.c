/*
 * tests/guests/lib/lib.c - start-up, COM1 output, reports, IDTs, expected
 * faults and multiboot facts for the test guests.
 *
 * Must not print anything that differs between bare QEMU and Umbra (CPU
 * vendor, exact memory map, timing): guests print derived facts only.
 */
#include "tests/guests/lib/guest.h"
#include "kernel/fmt.h"
#include "kernel/string.h"

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define VEC_USER_DONE 0x81

struct mb_facts mb;
struct fault_info last_fault;

static int tests, failures;

/* ------------------------------------------------------------ serial */

static void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* IER: no interrupts */
	outb(COM1 + 3, 0x80); /* LCR: DLAB */
	outb(COM1 + 0, 0x01); /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

void serial_putc(char c)
{
	/* Wait for THRE (bounded: a missing UART reads 0xff anyway). */
	for (int i = 0; i < 1000000 && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (u8)c);
}

static void putc_cb(void *ctx, char c)
{
	(void)ctx;
	serial_putc(c);
}

static int vprintf_serial(const char *fmt, va_list ap)
{
	return fmt_vcbprintf(putc_cb, NULL, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf_serial(fmt, ap);
	va_end(ap);
	return n;
}

/* ------------------------------------------------------------ reports */

__noreturn void guest_exit(u8 code)
{
	outb(DEBUG_EXIT_PORT, code);
	for (;;)
		asm volatile("cli; hlt");
}

bool report(bool ok, const char *fmt, ...)
{
	va_list ap;
	tests++;
	if (!ok)
		failures++;
	printf("%s: ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf_serial(fmt, ap);
	va_end(ap);
	serial_putc('\n');
	return ok;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;
	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf_serial(fmt, ap);
	va_end(ap);
	serial_putc('\n');
}

int report_failures(void)
{
	return failures;
}

__noreturn void report_summary(void)
{
	printf("SUMMARY: %d tests, %d failures\n", tests, failures);
	guest_exit(failures ? 1 : 0);
}

/* ------------------------------------------------------------ IDTs */

extern const u32 isr32_stub_table[256];
extern const u32 isr64_stub_table[32];

static u64 idt32[256] __aligned(8);
static u64 idt64[2 * 32] __aligned(16);

struct __packed idt_ptr32 {
	u16 limit;
	u32 base;
};
static struct idt_ptr32 idt32_ptr;
struct idt_ptr32 idt64_ptr; /* loaded by long_call_raw in 32-bit code */

static void idt_init(void)
{
	for (int v = 0; v < 256; v++) {
		u32 off = isr32_stub_table[v];
		/* interrupt gate (IF cleared), DPL 0; DPL 3 for `int 0x81` */
		u64 type = v == VEC_USER_DONE ? 0xEE00 : 0x8E00;
		idt32[v] = (off & 0xffff) | (0x08ull << 16) | (type << 32) |
			   ((u64)(off >> 16) << 48);
	}
	for (int v = 0; v < 32; v++) {
		u32 off = isr64_stub_table[v];
		idt64[2 * v] = (off & 0xffff) | (0x18ull << 16) |
			       (0x8E00ull << 32) | ((u64)(off >> 16) << 48);
		idt64[2 * v + 1] = 0;
	}
	idt32_ptr.limit = sizeof(idt32) - 1;
	idt32_ptr.base = (u32)idt32;
	idt64_ptr.limit = sizeof(idt64) - 1;
	idt64_ptr.base = (u32)idt64;
	asm volatile("lidt %0" : : "m"(idt32_ptr));
}

/* Frame built by isr32_common. */
struct isr_frame {
	u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
	u32 vector, error_code, eip, cs, eflags;
};

__noreturn void isr_unexpected(struct isr_frame *f);
__noreturn void isr_unexpected(struct isr_frame *f)
{
	report(false, "unexpected exception vector %u error %#x at eip %#x "
		      "(cr2 %#x)", f->vector, f->error_code, f->eip,
	       read_cr2());
	report_summary();
}

/* ------------------------------------------------------------ faults */

void user_enter(void *args);
extern u32 user_result;

struct access {
	u32 kind; /* 0 read, 1 write, 2 exec: the order user_stub expects */
	u32 addr;
	u32 val;
	u64 val64;
};

static void do_rdmsr(void *p)
{
	struct access *a = p;
	a->val64 = rdmsr(a->addr);
}

static void do_wrmsr(void *p)
{
	struct access *a = p;
	wrmsr(a->addr, a->val64);
}

static void do_access(void *p)
{
	struct access *a = p;
	if (a->kind == 0)
		a->val = peek32(a->addr);
	else if (a->kind == 1)
		poke32(a->addr, a->val);
	else
		((void (*)(void))a->addr)();
}

int try_rdmsr(u32 msr, u64 *val)
{
	struct access a = { .addr = msr };
	int v = fault_try(do_rdmsr, &a);
	if (v == FAULT_NONE && val)
		*val = a.val64;
	return v;
}

int try_wrmsr(u32 msr, u64 val)
{
	struct access a = { .addr = msr, .val64 = val };
	return fault_try(do_wrmsr, &a);
}

int try_read32(u32 addr, u32 *val)
{
	struct access a = { .kind = 0, .addr = addr };
	int v = fault_try(do_access, &a);
	if (v == FAULT_NONE && val)
		*val = a.val;
	return v;
}

int try_write32(u32 addr, u32 val)
{
	struct access a = { .kind = 1, .addr = addr, .val = val };
	return fault_try(do_access, &a);
}

int try_exec(u32 addr)
{
	struct access a = { .kind = 2, .addr = addr };
	return fault_try(do_access, &a);
}

int user_read32(u32 addr, u32 *val)
{
	struct access a = { .kind = 0, .addr = addr };
	int v = fault_try(user_enter, &a);
	if (v == FAULT_NONE && val)
		*val = user_result;
	return v;
}

int user_write32(u32 addr, u32 val)
{
	struct access a = { .kind = 1, .addr = addr, .val = val };
	return fault_try(user_enter, &a);
}

int user_exec(u32 addr)
{
	struct access a = { .kind = 2, .addr = addr };
	return fault_try(user_enter, &a);
}

bool report_access(const char *what, enum access_who who, enum access_op op,
		   u32 va, int pf_err)
{
	static const u32 pattern = 0x5a5a5a5a;
	int v;
	if (who == RING0)
		v = op == ACC_READ    ? try_read32(va, NULL)
		    : op == ACC_WRITE ? try_write32(va, pattern)
				      : try_exec(va);
	else
		v = op == ACC_READ    ? user_read32(va, NULL)
		    : op == ACC_WRITE ? user_write32(va, pattern)
				      : user_exec(va);
	bool ok;
	if (pf_err < 0)
		ok = report(v == FAULT_NONE, "%s: no fault", what);
	else
		ok = report(v == VEC_PF && last_fault.error_code == (u32)pf_err &&
				    last_fault.cr2 == va,
			    "%s: #PF error %#x, CR2", what, pf_err);
	if (!ok && v == FAULT_NONE)
		printf("  got no fault\n");
	else if (!ok)
		printf("  got vector %d error %#x cr2 %#x\n", v,
		       last_fault.error_code, last_fault.cr2);
	return ok;
}

void report_access_cases(const struct access_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		report_access(c[i].what, c[i].who, c[i].op, c[i].va, c[i].pf_err);
}

/* ------------------------------------------------------------ long mode */

int long_call_raw(u32 cr3, u32 fn64, u32 arg_lo, u32 arg_hi);
extern u64 lc_result;

int long_call(u32 cr3_pml4, void *fn64, u64 arg, u64 *result)
{
	int v = long_call_raw(cr3_pml4, (u32)fn64, (u32)arg, (u32)(arg >> 32));
	if (v == FAULT_NONE && result)
		*result = lc_result;
	return v;
}

/* ------------------------------------------------------------ CPU */

bool on_qemu_tcg(void)
{
	/* The emulator, not the hypervisor above it, decides these
	 * behaviours (under Umbra with NPT the guest's walks are still
	 * TCG's), so look at what the CPU model calls itself: QEMU's "max"
	 * model under TCG has the brand string "QEMU TCG CPU version ...".
	 * Umbra passes the brand string through and answers leaf 40000000h
	 * itself. */
	if (cpuid(0x80000000, 0).a < 0x80000004)
		return false;
	struct cpuid_regs r = cpuid(0x80000002, 0);
	return r.a == 0x554d4551 /* "QEMU" */ && r.b == 0x47435420 /* " TCG" */;
}

/* ------------------------------------------------------------ multiboot */

struct __packed mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
	u32 mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

struct __packed mb_mmap_entry {
	u32 size;
	u64 base, len;
	u32 type;
};

static void mb_copy(u32 magic, const struct mb_info *mbi)
{
	mb.magic = magic;
	if (magic != MB_MAGIC)
		return;
	mb.flags = mbi->flags;
	if (mbi->flags & MB_INFO_MEM) {
		mb.mem_lower_kib = mbi->mem_lower;
		mb.mem_upper_kib = mbi->mem_upper;
	}
	if ((mbi->flags & MB_INFO_CMDLINE) && mbi->cmdline) {
		const char *s = (const char *)mbi->cmdline;
		size_t i;
		for (i = 0; i < sizeof(mb.cmdline) - 1 && s[i]; i++)
			mb.cmdline[i] = s[i];
		mb.cmdline[i] = 0;
	}
	if (mbi->flags & MB_INFO_MMAP) {
		u32 p = mbi->mmap_addr, end = p + mbi->mmap_length;
		while (p + 4 <= end && mb.nregions < (int)ARRAY_SIZE(mb.regions)) {
			const struct mb_mmap_entry *e = (const void *)p;
			struct mb_region *r = &mb.regions[mb.nregions++];
			r->base = e->base;
			r->len = e->len;
			r->type = e->type;
			p += e->size + 4;
		}
	}
}

u64 mb_available_bytes(u64 base, u64 len)
{
	u64 total = 0, end = base + len;
	for (int i = 0; i < mb.nregions; i++) {
		const struct mb_region *r = &mb.regions[i];
		if (r->type != MB_MMAP_AVAILABLE)
			continue;
		u64 lo = MAX(base, r->base), hi = MIN(end, r->base + r->len);
		if (hi > lo)
			total += hi - lo;
	}
	return total;
}

/* Word @i of the command line (all words), or NULL. */
static const char *cmd_word(int i, size_t *len)
{
	const char *p = mb.cmdline;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return NULL;
		const char *w = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (i-- == 0) {
			*len = (size_t)(p - w);
			return w;
		}
	}
}

/* Index of the first argument word: skip the image path if present. */
static int first_arg(void)
{
	size_t len;
	const char *w = cmd_word(0, &len);
	if (!w)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (w[i] == '/')
			return 1;
	if (len >= 4 && !strncmp(w + len - 4, ".elf", 4))
		return 1;
	return 0;
}

int cmdline_argc(void)
{
	size_t len;
	int n = 0;
	while (cmd_word(first_arg() + n, &len))
		n++;
	return n;
}

const char *cmdline_arg(int i, char *buf, size_t size)
{
	size_t len;
	const char *w = cmd_word(first_arg() + i, &len);
	if (!w || size == 0)
		return NULL;
	len = MIN(len, size - 1);
	memcpy(buf, w, len);
	buf[len] = 0;
	return buf;
}

const char *cmdline_get(const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key), len;
	for (int i = first_arg();; i++) {
		const char *w = cmd_word(i, &len);
		if (!w)
			return NULL;
		if (len < klen || strncmp(w, key, klen))
			continue;
		if (len == klen) {
			if (!buf || !size)
				return "";
			buf[0] = 0;
			return buf;
		}
		if (w[klen] != '=')
			continue;
		if (!buf || !size)
			return "";
		len = MIN(len - klen - 1, size - 1);
		memcpy(buf, w + klen + 1, len);
		buf[len] = 0;
		return buf;
	}
}

bool cmdline_has(const char *key)
{
	return cmdline_get(key, NULL, 0) != NULL;
}

/* ------------------------------------------------------------ start */

__noreturn void lib_start(u32 magic, u32 mbi);
__noreturn void lib_start(u32 magic, u32 mbi)
{
	serial_init();
	idt_init();
	mb_copy(magic, (const struct mb_info *)mbi);
	printf("guest %s start\n", guest_name);
	if (magic != MB_MAGIC)
		report(false, "multiboot magic in EAX: %#x", magic);
	guest_main();
	report_summary();
}
