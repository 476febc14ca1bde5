/*
 * bench/kvm-run.c - run one multiboot v1 test guest in a Linux KVM VM, with
 * the platform Umbra gives it (docs/platform.md), for `make bench-kvm`.
 *
 *   kvm-run [-m MIB] GUEST.elf [ARGS...]
 *
 * The guest starts as QEMU -kernel or Umbra start it: 32-bit protected
 * mode, paging off, flat segments (a GDT at 0x500), EAX=0x2BADB002,
 * EBX=0x1000 -> multiboot info (memory fields, memory map, command line
 * "GUEST.elf ARGS"). RAM from 0 (the 640K-1M hole is marked reserved in
 * the map). Ports: COM1 at 0x3f8 (output to stdout; LSR says ready),
 * 0xf4 debug exit (a write ends the run with that code), others read
 * all-ones and ignore writes. At the end it prints
 *   KVM-END code=N exits=E irq-exits=I io-exits=O ...
 * (the vCPU's KVM statistics) and exits with the guest's code (0-255), or
 * 2xx for set-up errors. No in-kernel irqchip: every port access comes
 * here, as with a userspace device model.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MB_MAGIC 0x2BADB002u
#define MBI_PA 0x1000u
#define MMAP_PA 0x1800u
#define CMDLINE_PA 0x2000u
#define GDT_PA 0x500u
#define LOW_END 0x9fc00u

static uint8_t *ram;
static uint64_t ram_size;

static __attribute__((noreturn)) void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "kvm-run: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(200);
}

static void *gpa(uint64_t pa, uint64_t len)
{
	if (pa > ram_size || len > ram_size - pa)
		die("guest-physical range %#llx+%#llx outside RAM", (unsigned long long)pa,
		    (unsigned long long)len);
	return ram + pa;
}

static void put32(uint64_t pa, uint32_t v)
{
	memcpy(gpa(pa, 4), &v, 4);
}

/* ------------------------------------------------------------ ELF32 */

struct elf32_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

static uint32_t load_elf(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st))
		die("%s: %s", path, strerror(errno));
	uint8_t *img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		die("%s: mmap: %s", path, strerror(errno));
	struct elf32_ehdr eh;
	if ((size_t)st.st_size < sizeof(eh))
		die("%s: too small for ELF", path);
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.ident, "\x7f" "ELF", 4) || eh.ident[4] != 1 || eh.machine != 3)
		die("%s: not an ELF32 i386 image (a multiboot v1 ELF is needed)", path);
	for (unsigned i = 0; i < eh.phnum; i++) {
		struct elf32_phdr ph;
		uint64_t off = eh.phoff + (uint64_t)i * eh.phentsize;
		if (off + sizeof(ph) > (uint64_t)st.st_size)
			die("%s: program headers beyond the file", path);
		memcpy(&ph, img + off, sizeof(ph));
		if (ph.type != 1 /* PT_LOAD */ || !ph.memsz)
			continue;
		if ((uint64_t)ph.offset + ph.filesz > (uint64_t)st.st_size || ph.filesz > ph.memsz)
			die("%s: bad PT_LOAD", path);
		if (ph.paddr < CMDLINE_PA + 0x1000)
			die("%s: loads over the boot data at %#x", path, ph.paddr);
		uint8_t *dst = gpa(ph.paddr, ph.memsz);
		memcpy(dst, img + ph.offset, ph.filesz);
		memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
	}
	munmap(img, st.st_size);
	close(fd);
	return eh.entry;
}

/* ------------------------------------------------------------ multiboot */

static void put_mmap(uint32_t *p, uint64_t base, uint64_t len, uint32_t type)
{
	/* size, base, len, type: size counts the 20 bytes after it */
	uint8_t *e = gpa(*p, 24);
	uint32_t size = 20;
	memcpy(e, &size, 4);
	memcpy(e + 4, &base, 8);
	memcpy(e + 12, &len, 8);
	memcpy(e + 20, &type, 4);
	*p += 24;
}

static void boot_info(int argc, char **argv)
{
	char *cl = gpa(CMDLINE_PA, 1024);
	size_t n = 0;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);
		if (n + l + 2 > 1024)
			die("command line too long");
		if (i)
			cl[n++] = ' ';
		memcpy(cl + n, argv[i], l);
		n += l;
	}
	cl[n] = 0;
	uint32_t p = MMAP_PA;
	put_mmap(&p, 0, LOW_END, 1);
	put_mmap(&p, LOW_END, 0xa0000 - LOW_END, 2);
	put_mmap(&p, 0xf0000, 0x10000, 2);
	put_mmap(&p, 0x100000, ram_size - 0x100000, 1);
	memset(gpa(MBI_PA, 88), 0, 88);
	put32(MBI_PA + 0, (1u << 0) | (1u << 2) | (1u << 6)); /* mem, cmdline, mmap */
	put32(MBI_PA + 4, LOW_END / 1024);
	put32(MBI_PA + 8, (uint32_t)((ram_size - 0x100000) / 1024));
	put32(MBI_PA + 16, CMDLINE_PA);
	put32(MBI_PA + 44, p - MMAP_PA);
	put32(MBI_PA + 48, MMAP_PA);
	/* GDT: null, null, 0x10 flat code, 0x18 flat data */
	uint64_t gdt[4] = {0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull};
	memcpy(gpa(GDT_PA, sizeof(gdt)), gdt, sizeof(gdt));
}

/* ------------------------------------------------------------ stats */

/* Print the vCPU's non-zero KVM statistics that count exits. */
static void print_stats(int vcpu, int code)
{
	printf("KVM-END code=%d", code);
	int fd = ioctl(vcpu, KVM_GET_STATS_FD, NULL);
	if (fd < 0) {
		printf(" stats=unavailable\n");
		return;
	}
	struct kvm_stats_header h;
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h)) {
		printf(" stats=unreadable\n");
		return;
	}
	size_t dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	char *descs = malloc(dsz * h.num_desc);
	if (!descs || pread(fd, descs, dsz * h.num_desc, h.desc_offset) != (ssize_t)(dsz * h.num_desc)) {
		printf(" stats=unreadable\n");
		return;
	}
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsz);
		if ((d->flags & KVM_STATS_TYPE_MASK) != KVM_STATS_TYPE_CUMULATIVE || d->size != 1)
			continue;
		if (!strstr(d->name, "exits") && strcmp(d->name, "nested_run") &&
		    strcmp(d->name, "pf_taken") && strcmp(d->name, "tlb_flush"))
			continue;
		uint64_t v;
		if (pread(fd, &v, 8, h.data_offset + d->offset) != 8 || !v)
			continue;
		printf(" %s=%llu", d->name, (unsigned long long)v);
	}
	printf("\n");
	free(descs);
	close(fd);
}

/* ------------------------------------------------------------ devices */

static char line[4096];
static size_t line_len;
static uint8_t uart_lcr, uart_scr, uart_ier, uart_mcr;

static void uart_out(uint8_t c)
{
	if (c == '\r')
		return;
	line[line_len++] = (char)c;
	if (c == '\n' || line_len == sizeof(line)) {
		fwrite(line, 1, line_len, stdout);
		fflush(stdout);
		line_len = 0;
	}
}

/* One port access of @size bytes; returns false when the guest ended. */
static int port_io(uint16_t port, int in, uint8_t *data, int size, int *code)
{
	uint32_t v = 0;
	memcpy(&v, data, size);
	if (port >= 0x3f8 && port < 0x400) {
		unsigned r = port - 0x3f8;
		if (in) {
			uint8_t b = 0;
			switch (r) {
			case 1: b = (uart_lcr & 0x80) ? 0 : uart_ier; break;
			case 2: b = 0x01; break; /* IIR: no interrupt */
			case 3: b = uart_lcr; break;
			case 4: b = uart_mcr; break;
			case 5: b = 0x60; break; /* THRE | TEMT */
			case 7: b = uart_scr; break;
			}
			memset(data, 0, size);
			data[0] = b;
		} else {
			uint8_t b = (uint8_t)v;
			switch (r) {
			case 0: if (!(uart_lcr & 0x80)) uart_out(b); break;
			case 1: if (!(uart_lcr & 0x80)) uart_ier = b; break;
			case 3: uart_lcr = b; break;
			case 4: uart_mcr = b; break;
			case 7: uart_scr = b; break;
			}
		}
		return 1;
	}
	if (port == 0xf4 && !in) {
		*code = (int)(v & (size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffu));
		return 0;
	}
	if (in)
		memset(data, 0xff, size);
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t mib = 64;
	int a = 1;
	if (a + 1 < argc && !strcmp(argv[a], "-m")) {
		mib = strtoull(argv[a + 1], NULL, 0);
		a += 2;
	}
	if (a >= argc || mib < 4 || mib > 3072) {
		fprintf(stderr, "usage: kvm-run [-m MIB] GUEST.elf [ARGS...]\n");
		return 202;
	}
	ram_size = mib << 20;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm: %s", strerror(errno));
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		die("unexpected KVM API version");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM: %s", strerror(errno));
	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE, -1, 0);
	if (ram == MAP_FAILED)
		die("guest RAM: %s", strerror(errno));
	struct kvm_userspace_memory_region mr = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = ram_size, .userspace_addr = (uintptr_t)ram};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr))
		die("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul); /* VMX only; harmless on SVM */

	uint32_t entry = load_elf(argv[a]);
	boot_info(argc - a, argv + a);

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU: %s", strerror(errno));
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("kvm_run: %s", strerror(errno));

	/* CPUID: what KVM supports (KVM's own leaves included). */
	int nent = 256;
	struct kvm_cpuid2 *cp = calloc(1, sizeof(*cp) + nent * sizeof(struct kvm_cpuid_entry2));
	cp->nent = nent;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cp))
		die("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	if (ioctl(vcpu, KVM_SET_CPUID2, cp))
		die("KVM_SET_CPUID2: %s", strerror(errno));

	struct kvm_sregs sr;
	if (ioctl(vcpu, KVM_GET_SREGS, &sr))
		die("KVM_GET_SREGS: %s", strerror(errno));
	struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0xb,
				   .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1};
	struct kvm_segment data = code;
	data.selector = 0x18;
	data.type = 0x3;
	sr.cs = code;
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = data;
	sr.gdt.base = GDT_PA;
	sr.gdt.limit = 31;
	sr.idt.base = 0;
	sr.idt.limit = 0x3ff;
	sr.cr0 = 0x11; /* PE | ET */
	sr.cr4 = 0;
	sr.efer = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sr))
		die("KVM_SET_SREGS: %s", strerror(errno));
	struct kvm_regs r = {.rip = entry, .rax = MB_MAGIC, .rbx = MBI_PA, .rflags = 2};
	if (ioctl(vcpu, KVM_SET_REGS, &r))
		die("KVM_SET_REGS: %s", strerror(errno));

	int code_out = -1;
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) && errno != EINTR)
			die("KVM_RUN: %s", strerror(errno));
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *p = (uint8_t *)run + run->io.data_offset;
			for (uint32_t i = 0; i < run->io.count; i++, p += run->io.size)
				if (!port_io(run->io.port, run->io.direction == KVM_EXIT_IO_IN, p, run->io.size,
					     &code_out))
					goto out;
			break;
		}
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_HLT:
			fprintf(stderr, "kvm-run: the guest halted\n");
			goto out;
		case KVM_EXIT_SHUTDOWN:
			fprintf(stderr, "kvm-run: triple fault\n");
			goto out;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_FAIL_ENTRY:
			die("entry failed (hardware reason %#llx)",
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			die("KVM internal error %u", run->internal.suberror);
		default:
			die("unhandled exit reason %u", run->exit_reason);
		}
	}
out:
	if (line_len)
		uart_out('\n');
	print_stats(vcpu, code_out);
	return code_out < 0 ? 201 : code_out & 0xff;
}
