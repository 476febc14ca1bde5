/*
 * kernel/main.c - kmain: from the long-mode switch to the end of the run.
 *
 * Order matters: per-CPU pointer and exception tables first (so a bug in
 * anything later gets a full dump), then boot information (copied before
 * low memory is reused), the command line, frames, host page tables, object
 * caches, and finally the VMs.
 */
#include "kernel/bootinfo.h"
#include "kernel/canary.h"
#include "kernel/backend.h"
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/flightrec.h"
#include "kernel/fpu.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/timer.h"
#include "kernel/vcpu_kick.h"
#include "kernel/vm.h"
#include "kernel/selftest.h"
#include "kernel/shutdown.h"
#include "kernel/x86.h"
#include "mm/hostpt.h"
#include "mm/kmem.h"
#include "mm/pmm.h"

#define MB2_BOOT_MAGIC 0x36d76289u
#define MB1_BOOT_MAGIC 0x2badb002u

extern u8 __image_phys_start[], __image_phys_end[];

static struct boot_info boot_info;
const struct backend_ops *backend;

static void __noreturn run_guests(void);

static const void *boot_phys(u64 pa, size_t len)
{
	/* the boot tables map the first 4 GiB at the direct-map base */
	if (pa + len < pa || pa + len > 4 * GiB)
		return NULL;
	return phys_to_virt(pa);
}

static void __noreturn boot_fail(const char *what)
{
	kprintf("umbra: cannot continue: %s\n", what);
	shutdown_finish(false, what);
}

static void parse_boot_info(u32 magic, u32 info_pa)
{
	char err[160];
	int r;
	if (magic == MB2_BOOT_MAGIC) {
		const u32 *hdr = boot_phys(info_pa, 8);
		r = mb2_parse(boot_phys(info_pa, hdr ? hdr[0] : 8), info_pa, &boot_info, err, sizeof(err));
	} else {
		r = mb1_parse(boot_phys(info_pa, 116), info_pa, boot_phys, &boot_info, err, sizeof(err));
	}
	if (r == E_OK && err[0])
		kprintf("umbra: boot information: %s\n", err);
	if (r) {
		kprintf("umbra: bad boot information block at %#x: %s\n", info_pa, err);
		boot_fail("malformed multiboot information");
	}
	bootinfo_sanitize_mmap(&boot_info);
}

static void init_frames(void)
{
	static struct pmm_range usable[BOOT_MAX_MMAP];
	static struct pmm_range reserved[BOOT_MAX_MODULES + 2];
	size_t nu = 0, nr = 0;
	for (u32 i = 0; i < boot_info.mmap_count; i++)
		if (boot_info.mmap[i].type == MEM_USABLE)
			usable[nu++] = (struct pmm_range){boot_info.mmap[i].base, boot_info.mmap[i].len};
	u64 img = (u64)__image_phys_start;
	reserved[nr++] = (struct pmm_range){img, (u64)__image_phys_end - img};
	reserved[nr++] = (struct pmm_range){boot_info.info_pa, boot_info.info_len};
	for (u32 i = 0; i < boot_info.module_count; i++)
		reserved[nr++] = (struct pmm_range){boot_info.modules[i].start,
						    boot_info.modules[i].end - boot_info.modules[i].start};
	struct pmm_report rep;
	int r = pmm_init(usable, nu, reserved, nr, umbra_config.lowpool, phys_to_virt, &rep);
	if (r) {
		kprintf("umbra: frame allocator: %s\n", err_name(r));
		boot_fail("no usable memory");
	}
	if (rep.low_bytes < umbra_config.lowpool)
		kprintf("umbra: warning: low pool is %lu KiB, less than the %lu KiB asked (lowpool=)\n",
			rep.low_bytes / KiB, umbra_config.lowpool / KiB);
}

static void print_summary(void)
{
	struct pmm_stats st;
	pmm_stats(&st);
	u64 above4g = 0;
	kprintf("boot: summary\n");
	kprintf("boot: loader \"%s\", multiboot%u, %s firmware\n", boot_info.loader_name, boot_info.proto,
		(boot_info.has_efi64 || boot_info.has_efi32) ? "UEFI" : "BIOS");
	kprintf("boot: command line \"%s\"\n", boot_info.cmdline);
	for (u32 i = 0; i < boot_info.mmap_count; i++) {
		const struct mem_range *m = &boot_info.mmap[i];
		static const char *const names[] = {"?", "usable", "reserved", "ACPI", "ACPI NVS", "bad"};
		kprintf("boot: ram [0x%012lx, 0x%012lx) %s\n", m->base, m->base + m->len,
			m->type < ARRAY_SIZE(names) ? names[m->type] : "reserved");
		if (m->type == MEM_USABLE && m->base + m->len > 4 * GiB)
			above4g += m->base + m->len - MAX(m->base, 4 * GiB);
	}
	kprintf("boot: usable RAM %lu MiB managed, %lu MiB above 4 GiB, direct map %lu MiB (%s pages)\n",
		st.total_bytes / MiB, above4g / MiB, hostpt_direct_bytes() / MiB,
		hostpt_uses_1g() ? "1 GiB" : "2 MiB");
	kprintf("boot: image [%#lx, %#lx) %lu KiB\n", (u64)__image_phys_start, (u64)__image_phys_end,
		((u64)__image_phys_end - (u64)__image_phys_start) / KiB);
	for (u32 i = 0; i < boot_info.module_count; i++) {
		const struct boot_module *m = &boot_info.modules[i];
		kprintf("boot: module %u [%#lx, %#lx) %lu bytes \"%s\"\n", i, m->start, m->end, m->end - m->start,
			m->cmdline);
	}
	if (boot_info.has_rsdp)
		kprintf("boot: ACPI RSDP revision %u\n", boot_info.rsdp_rev);
	kprintf("boot: lowpool [%#lx, %#lx) %lu KiB free, %s 4 GiB\n", st.low_base, st.low_end,
		st.free_low / KiB, st.low_end <= 4 * GiB ? "below" : "NOT below");
	hpa_t probe;
	if (pmm_alloc(0, PMM_NORMAL, &probe) == E_OK) {
		kprintf("boot: normal allocations start at %#lx (%s 4 GiB)\n", probe,
			probe >= 4 * GiB ? "above" : "below");
		pmm_free(probe, 0);
	}
}

void __noreturn kmain(u32 magic, u32 info_pa)
{
	cpu_early_init_bsp();
	console_init_early();
	cpu_init_tables(&cpu_bsp, &cpu_bsp_stacks);
	kprintf("\nUmbra hypervisor starting (%s entry)\n", magic == MB2_BOOT_MAGIC ? "multiboot2" : "multiboot1");

	parse_boot_info(magic, info_pa);
	/* Multiboot1 loaders put the kernel's own path first. */
	const char *cmdline = boot_info.cmdline;
	if (boot_info.proto == 1) {
		while (*cmdline && *cmdline != ' ')
			cmdline++;
	}
	config_parse(cmdline);
	config_apply_console();

	init_frames();
	if (hostpt_init(boot_info.mmap, boot_info.mmap_count))
		boot_fail("cannot build host page tables");
	kmem_init(phys_to_virt, virt_to_phys);
	print_summary();
	canary_init();

	flightrec_init();
	if (boot_info.module_count == 0)
		selftest_run(umbra_config.selftest);
	run_guests();
}

/* Choose the backend from CPUID: SVM on AMD, VMX on Intel. */
static const struct backend_ops *choose_backend(void)
{
	struct cpuid_regs r = cpuid(0);
	bool amd = r.ebx == 0x68747541;   /* "Auth" */
	bool intel = r.ebx == 0x756e6547; /* "Genu" */
	const struct backend_ops *ops = amd ? &svm_backend_ops : intel ? &vmx_backend_ops : NULL;
	if (!ops) {
		kprintf("umbra: CPU vendor is neither AMD nor Intel: no virtualization backend\n");
		return NULL;
	}
	return ops->probe() == E_OK ? ops : NULL;
}

static void __noreturn run_guests(void)
{
	if (boot_info.module_count == 0) {
		kprintf("umbra: no guest modules; nothing to run\n");
		shutdown_finish(true, NULL);
	}
	backend = choose_backend();
	if (!backend)
		boot_fail("no usable virtualization extensions (see above)");
	if (backend->cpu_enable(this_cpu()))
		boot_fail("cannot enable virtualization on the boot CPU");
	fpu_cpu_init();
	vcpu_kick_init();
	smp_start_aps(&boot_info, (u32)umbra_config.cpus);
	selftest_run(umbra_config.selftest); /* with every CPU up */
	timer_init();
	for (u32 i = 0; i < boot_info.module_count; i++) {
		const struct boot_module *m = &boot_info.modules[i];
		vm_create_from_module(i, m->start, m->end, m->cmdline);
	}
	u32 created = nr_vms, failed_create = boot_info.module_count - nr_vms;
	for (u32 i = 0; i < nr_vms; i++)
		for (u32 j = 0; j < vms[i]->nr_vcpus && backend->vcpu_release; j++)
			if (vms[i]->vcpu[j]->cpu != this_cpu()->id)
				backend->vcpu_release(vms[i]->vcpu[j]);
	smp_release();
	sched_run();
	sched_wait_all();
	u32 passed = 0;
	for (u32 i = 0; i < nr_vms; i++)
		if (vms[i]->result == VMR_EXIT && vms[i]->exit_code == 0)
			passed++;
	kprintf("SUMMARY vms=%u passed=%u failed=%u not-started=%u\n", created, passed, created - passed,
		failed_create);
	if (passed == created && failed_create == 0)
		shutdown_finish(true, NULL);
	shutdown_finish(false, "not every VM exited with code 0");
}
