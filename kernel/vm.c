/*
 * kernel/vm.c - VM creation from a multiboot module, VM end, results.
 */
#include "kernel/vm.h"
#include "kernel/platform.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/fmt.h"
#include "kernel/flightrec.h"
#include "kernel/fpu.h"
#include "kernel/loader.h"
#include "kernel/mmu.h"
#include "kernel/nested.h"
#include "kernel/string.h"
#include "kernel/smp.h"
#include "kernel/timer.h"
#include "kernel/trace.h"
#include "kernel/vcpu_kick.h"
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
	{"vcpus", OPT_UINT, F(vcpus), .min = 1, .max = VM_MAX_VCPUS,
	 .help = "number of vCPUs (vCPU 0 starts the guest; the others wait for INIT/SIPI)"},
	{"affinity", OPT_STRING, F(affinity),
	 .help = "CPU[,CPU...]: the CPU of vCPU i is entry i (cycled); default: spread over all CPUs"},
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

/* affinity=: comma-separated CPU numbers, each online. */
static int parse_affinity(struct vm *vm)
{
	const char *p = vm->cfg.affinity;
	if (!*p)
		return E_OK;
	while (*p) {
		u64 cpu = 0;
		const char *start = p;
		while (*p >= '0' && *p <= '9' && cpu < MAX_CPUS)
			cpu = cpu * 10 + (u64)(*p++ - '0');
		if (p == start || (*p && *p != ',') || vm->nr_affinity >= VM_MAX_VCPUS) {
			kprintf("umbra: VM '%s': affinity=%s: expected up to %u CPU numbers separated by commas; not "
				"started\n", vm->cfg.name, vm->cfg.affinity, VM_MAX_VCPUS);
			return E_INVAL;
		}
		if (cpu >= smp_cpus_online) {
			kprintf("umbra: VM '%s': affinity=%s: CPU %lu is not online (%u online); not started\n",
				vm->cfg.name, vm->cfg.affinity, cpu, smp_cpus_online);
			return E_INVAL;
		}
		vm->affinity[vm->nr_affinity++] = (u32)cpu;
		if (*p == ',')
			p++;
	}
	return E_OK;
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
	if (parse_affinity(vm))
		goto fail;
	/* nested SVM: the backend must offer it; the L2 runs on NPT */
	if (vm->cfg.nested && (!backend->nested_insn || !backend->has_tdp())) {
		kprintf("umbra: VM '%s': nested=on needs AMD SVM with NPT (nested VMX is not supported); not started\n",
			vm->cfg.name);
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
	if ((vm->cfg.paging == PAGING_TDP || vm->cfg.nested) && gmem_map_tdp(&vm->mem, tdp_fmt, tdp_bits, tdp_level, &vm->tdp_root)) {
		kprintf("umbra: VM '%s': out of memory for nested page tables; not started\n", vm->cfg.name);
		goto fail;
	}
	static u32 next_cpu; /* default placement: round-robin over the CPUs */
	for (u32 i = 0; i < vm->cfg.vcpus; i++) {
		struct vcpu *v = kzalloc(sizeof(*v));
		if (!v)
			goto nomem;
		v->vm = vm;
		v->id = i;
		v->cpu = vm->nr_affinity ? vm->affinity[i % vm->nr_affinity] : next_cpu++ % smp_cpus_online;
		v->wait_sipi = i > 0; /* APs wait for INIT/SIPI (SDM §9.4.2) */
		v->pat = 0x0007040600070406ULL;
		vlapic_reset(v);
		vm->vcpu[vm->nr_vcpus++] = v;
		if (fpu_init_vcpu(v) || backend->vcpu_create(v, &bs))
			goto nomem;
		if (vm->cfg.paging == PAGING_SHADOW && mmu_vcpu_init(v, &bs))
			goto nomem;
	}
	vm->start_tick = timer_ticks();
	vm->cpu = vm->vcpu[0]->cpu;
	char where[3 * VM_MAX_VCPUS + 1];
	size_t wl = 0;
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		wl += (size_t)fmt_snprintf(where + wl, sizeof(where) - wl, i ? ",%u" : "%u", vm->vcpu[i]->cpu);
	__atomic_store_n(&vms[nr_vms], vm, __ATOMIC_RELEASE);
	nr_vms++;
	kprintf("umbra: VM '%s' created: %lu MiB RAM, %u vCPU(s), paging=%s, timeout=%lus, CPU %s, cmdline \"%s\"\n",
		vm->cfg.name, vm->cfg.mem / MiB, vm->nr_vcpus, paging_choices[vm->cfg.paging], vm->cfg.timeout_s,
		where, vm->guest_cmdline);
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

u64 vm_exit_count(const struct vm *vm, u32 reason)
{
	u64 n = 0;
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		n += __atomic_load_n(&vm->vcpu[i]->exit_count[reason], __ATOMIC_RELAXED);
	return n;
}

static u64 vm_total_exits(const struct vm *vm)
{
	u64 exits = 0;
	for (u32 i = 0; i < EXIT_NREASONS; i++)
		exits += vm_exit_count(vm, i);
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
	/* Any vCPU, on any CPU, may end its VM: the first one wins. */
	static struct spinlock end_lock = SPINLOCK_INIT;
	spin_lock(&end_lock);
	if (vm->result != VMR_RUNNING) {
		spin_unlock(&end_lock);
		return;
	}
	vm->exit_code = code;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		fmt_vsnprintf(vm->why, sizeof(vm->why), fmt, ap);
		va_end(ap);
	}
	__atomic_store_n(&vm->result, result, __ATOMIC_RELEASE);
	spin_unlock(&end_lock);
	/* the VM's vCPUs on other CPUs leave guest mode and see it ended */
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		vcpu_post(vm->vcpu[i], VREQ_EVENT);
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
		if (vm_exit_count(vm, i))
			kprintf(" %s=%lu", exit_reason_names[i], vm_exit_count(vm, i));
	kprintf(" unknown-ports=%lu\n", vm->unknown_ports);
	mmu_print_stats((struct vm *)vm);
	nested_print_stats((struct vm *)vm);
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
