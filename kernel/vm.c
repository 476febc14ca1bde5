/*
 * kernel/vm.c - VM creation from a multiboot module, VM end, results.
 */
#include "kernel/vm.h"
#include "kernel/platform.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/fmt.h"
#include "kernel/flightrec.h"
#include "kernel/fpu.h"
#include "kernel/loader.h"
#include "kernel/mmu.h"
#include "kernel/string.h"
#include "kernel/smp.h"
#include "kernel/timer.h"
#include "kernel/trace.h"
#include "mm/hostpt.h"
#include "mm/kmem.h"
#include "mm/pt.h"

struct vm *vms[VM_MAX];
u32 nr_vms;

static const char *const paging_choices[] = {"tdp", "shadow", NULL};

#define F(field) OPT_FIELD(struct vm_config, field)
static const struct opt_desc vm_options[] = {
	{"name", OPT_STRING, F(name), .help = "the VM's name (console prefix, results)"},
	{"paging", OPT_ENUM, F(paging), .choices = paging_choices,
	 .help = "tdp (NPT/EPT) or shadow (Umbra builds the page tables)"},
	{"mem", OPT_SIZE, F(mem), .min = 2 * MiB, .max = 64 * GiB, .help = "guest RAM"},
	{"vcpus", OPT_UINT, F(vcpus), .min = 1, .max = 1, .help = "number of vCPUs (1 until SMP guests land)"},
	{"timeout", OPT_UINT, F(timeout_s), .min = 0, .max = 86400,
	 .help = "seconds before the VM is killed (0 = never)"},
	{"nested", OPT_BOOL, F(nested), .help = "expose SVM to the guest (nested virtualization)"},
	{"shadow_pages", OPT_UINT, F(shadow_pages), .min = 16, .max = 1 << 20,
	 .help = "paging=shadow: most shadow page-table pages the VM may use (LRU reclaim beyond)"},
};
#undef F

struct err_ctx {
	u32 index;
};

static void vm_opt_error(void *ctx, const char *msg)
{
	struct err_ctx *c = ctx;
	kprintf("umbra: module %u: %s\n", c->index, msg);
}

static bool memchr_slash(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/')
			return true;
	return false;
}

static const char *basename_of(const char *path, size_t len, size_t *out_len)
{
	const char *b = path;
	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			b = path + i + 1;
	*out_len = len - (size_t)(b - path);
	return b;
}

int vm_create_from_module(u32 index, hpa_t start, hpa_t end, const char *cmdline)
{
	if (nr_vms >= VM_MAX) {
		kprintf("umbra: module %u: too many VMs (at most %u); not started\n", index, VM_MAX);
		return E_RANGE;
	}
	struct vm *vm = kzalloc(sizeof(*vm));
	if (!vm) {
		kprintf("umbra: module %u: out of memory for the VM object; not started\n", index);
		return E_NOMEM;
	}
	vm->id = nr_vms;
	vm->cfg.paging = PAGING_TDP;
	vm->cfg.mem = 64 * MiB;
	vm->cfg.vcpus = 1;
	vm->cfg.shadow_pages = 4096;
	fmt_snprintf(vm->cfg.name, sizeof(vm->cfg.name), "vm%u", index);

	/* The module command line: GRUB gives "ARGS" (module2). A first word
	 * that is a path (contains '/') is the module's file name: skip it,
	 * and use its base name as the default VM name. */
	const char *line = cmdline;
	size_t len = strlen(line);
	while (len && *line == ' ')
		line++, len--;
	size_t w = 0;
	while (w < len && line[w] != ' ')
		w++;
	const char *path = NULL;
	size_t path_len = 0;
	if (w && memchr_slash(line, w)) {
		path = line;
		path_len = w;
		size_t bl;
		const char *b = basename_of(line, w, &bl);
		size_t n = 0;
		while (n < bl && b[n] != '.' && n + 1 < sizeof(vm->cfg.name)) {
			vm->cfg.name[n] = b[n];
			n++;
		}
		vm->cfg.name[n] = 0;
		line += w;
		len -= w;
	}
	const char *rest;
	size_t rest_len;
	struct err_ctx ec = {index};
	int errs = cmdline_apply(vm_options, ARRAY_SIZE(vm_options), &vm->cfg, line, len, vm_opt_error, &ec, &rest,
				 &rest_len);
	if (errs) {
		kprintf("umbra: module %u: %d bad option(s); VM '%s' not started\n", index, errs, vm->cfg.name);
		goto fail;
	}
	/* The guest's multiboot command line: "PATH ARGS", like GRUB and
	 * QEMU -kernel give a multiboot kernel. */
	if (!path) {
		/* GRUB's module2 passes no file name: "/guests/NAME" stands
		 * in for it (where tools/umbra-iso puts modules), so the
		 * guest's arguments still start at word 1. */
		path = "/guests/";
		path_len = 8;
	}
	fmt_snprintf(vm->guest_cmdline, sizeof(vm->guest_cmdline), "%.*s%s%s%.*s", (int)path_len, path,
		     path[path_len - 1] == '/' ? vm->cfg.name : "", rest_len ? " " : "", (int)rest_len, rest);

	if (vm->cfg.paging == PAGING_SHADOW && !backend->set_hw_paging) {
		kprintf("umbra: VM '%s': the %s backend has no shadow paging; not started\n", vm->cfg.name,
			backend->name);
		goto fail;
	}
	if (vm->cfg.paging == PAGING_TDP && !backend->has_tdp()) {
		kprintf("umbra: VM '%s': paging=tdp needs NPT/EPT, which this CPU lacks; not started\n",
			vm->cfg.name);
		goto fail;
	}
	if (vm->cfg.nested) {
		kprintf("umbra: VM '%s': nested=on is not implemented yet; not started\n", vm->cfg.name);
		goto fail;
	}
	if (gmem_alloc(&vm->mem, vm->cfg.mem)) {
		kprintf("umbra: VM '%s': cannot allocate %lu MiB of guest RAM; not started\n", vm->cfg.name,
			vm->cfg.mem / MiB);
		goto fail;
	}
	struct vcpu_boot_state bs;
	char err[160];
	if (loader_load_multiboot(&vm->mem, phys_to_virt(start), end - start, vm->guest_cmdline, &bs, err,
				  sizeof(err))) {
		kprintf("umbra: VM '%s': bad guest image: %s; not started\n", vm->cfg.name, err);
		goto fail;
	}
	if (platform_init(vm)) {
		kprintf("umbra: VM '%s': out of memory for its platform devices; not started\n", vm->cfg.name);
		goto fail;
	}
	const struct pt_format *tdp_fmt;
	u64 tdp_bits;
	int tdp_level;
	backend->tdp_format(&tdp_fmt, &tdp_bits, &tdp_level);
	if (vm->cfg.paging == PAGING_SHADOW && mmu_vm_init(vm)) {
		kprintf("umbra: VM '%s': out of memory for its shadow MMU; not started\n", vm->cfg.name);
		goto fail;
	}
	if (vm->cfg.paging == PAGING_TDP && gmem_map_tdp(&vm->mem, tdp_fmt, tdp_bits, tdp_level, &vm->tdp_root)) {
		kprintf("umbra: VM '%s': out of memory for nested page tables; not started\n", vm->cfg.name);
		goto fail;
	}
	for (u32 i = 0; i < vm->cfg.vcpus; i++) {
		struct vcpu *v = kzalloc(sizeof(*v));
		if (!v)
			goto nomem;
		v->vm = vm;
		v->id = i;
		v->pat = 0x0007040600070406ULL;
		vlapic_reset(v);
		vm->vcpu[vm->nr_vcpus++] = v;
		if (fpu_init_vcpu(v) || backend->vcpu_create(v, &bs))
			goto nomem;
		if (vm->cfg.paging == PAGING_SHADOW && mmu_vcpu_init(v, &bs))
			goto nomem;
	}
	vm->start_tick = timer_ticks();
	/* placement: round-robin over the online CPUs */
	vm->cpu = nr_vms % smp_cpus_online;
	vms[nr_vms++] = vm;
	kprintf("umbra: VM '%s' created: %lu MiB RAM, %u vCPU(s), paging=%s, timeout=%lus, CPU %u, cmdline \"%s\"\n",
		vm->cfg.name, vm->cfg.mem / MiB, vm->nr_vcpus, paging_choices[vm->cfg.paging], vm->cfg.timeout_s,
		vm->cpu, vm->guest_cmdline);
	TRACE_VM_EVENT(TRACE_VM, vm, "vm-create id=%u mem=%lu vcpus=%u paging=%s timeout=%lu", vm->id, vm->cfg.mem,
		       vm->nr_vcpus, paging_choices[vm->cfg.paging], vm->cfg.timeout_s);
	return E_OK;
nomem:
	kprintf("umbra: VM '%s': out of memory for its vCPUs; not started\n", vm->cfg.name);
fail:
	vm_destroy(vm);
	return E_INVAL;
}

static const char *const vm_result_names[] = {"running", "exit", "triple-fault", "killed"};

static u64 vm_total_exits(const struct vm *vm)
{
	u64 exits = 0;
	for (u32 i = 0; i < EXIT_NREASONS; i++)
		exits += vm->exit_count[i];
	return exits;
}

static void trace_vm_end(const struct vm *vm)
{
	if (vm->result == VMR_KILLED)
		trace_emit(vm, NULL, 0, "vm-end result=killed code=%u exits=%lu reason=\"%s\"", vm->exit_code,
			   vm_total_exits(vm), vm->why);
	else
		trace_emit(vm, NULL, 0, "vm-end result=%s code=%u exits=%lu", vm_result_names[vm->result],
			   vm->exit_code, vm_total_exits(vm));
}

void vm_end(struct vm *vm, enum vm_result result, u32 code, const char *fmt, ...)
{
	if (vm->result != VMR_RUNNING)
		return;
	vm->result = result;
	vm->exit_code = code;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		fmt_vsnprintf(vm->why, sizeof(vm->why), fmt, ap);
		va_end(ap);
	}
	vuart_flush(vm);
	if (trace_on(TRACE_VM))
		trace_vm_end(vm);
	vm_print_result(vm);
	if (result == VMR_KILLED)
		flightrec_vm_killed(vm);
}

void vm_print_result(const struct vm *vm)
{
	u64 exits = vm_total_exits(vm);
	switch (vm->result) {
	case VMR_EXIT:
		kprintf("VM-END name=%s result=exit code=%u exits=%lu\n", vm->cfg.name, vm->exit_code, exits);
		break;
	case VMR_TRIPLE_FAULT:
		kprintf("VM-END name=%s result=triple-fault exits=%lu\n", vm->cfg.name, exits);
		break;
	case VMR_KILLED:
		kprintf("VM-END name=%s result=killed reason=\"%s\" exits=%lu\n", vm->cfg.name, vm->why, exits);
		break;
	default:
		kprintf("VM-END name=%s result=running\n", vm->cfg.name);
		return;
	}
	vm_print_stats(vm);
}

void vm_print_stats(const struct vm *vm)
{
	kprintf("VM-STATS name=%s", vm->cfg.name);
	for (u32 i = 0; i < EXIT_NREASONS; i++)
		if (vm->exit_count[i])
			kprintf(" %s=%lu", exit_reason_names[i], vm->exit_count[i]);
	kprintf(" unknown-ports=%lu\n", vm->unknown_ports);
	mmu_print_stats((struct vm *)vm);
}

void vm_destroy(struct vm *vm)
{
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpu[i];
		mmu_vcpu_destroy(v);
		if (v->arch)
			backend->vcpu_destroy(v);
		fpu_free_vcpu(v);
		kfree(v);
	}
	if (vm->tdp_root) {
		const struct pt_format *f;
		u64 bits;
		int level;
		backend->tdp_format(&f, &bits, &level);
		gmem_unmap_tdp(f, vm->tdp_root);
	}
	mmu_vm_destroy(vm);
	platform_destroy(vm);
	gmem_free(&vm->mem);
	kfree(vm);
}
