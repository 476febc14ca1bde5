/*
 * kernel/vcpu_mp.c - INIT, SIPI and NMI delivery to vCPUs (see vcpu_mp.h).
 *
 * Multiprocessor start-up as the Intel SDM vol. 3A §9.4 describes it (and
 * AMD's APM vol. 2 §16.5 for the same ICR messages): vCPU 0 is the
 * bootstrap processor and starts at the multiboot entry; the others are
 * application processors that start in the wait-for-SIPI state. An INIT
 * puts an AP (back) into wait-for-SIPI, with its local APIC reset
 * (§11.4.7.3: the APIC ID kept); a SIPI to an AP in wait-for-SIPI starts it
 * in real mode at CS:IP = VV00:0000 (VV = the SIPI vector), in the state of
 * §9.1.1 table 9-1; a SIPI to any other vCPU is ignored (§9.4.4.1). An
 * INIT to the bootstrap vCPU would restart the firmware, which Umbra does
 * not have: the VM is ended with a reason.
 *
 * Senders (a vLAPIC ICR write, on any CPU) set event bits atomically and
 * post VREQ_EVENT; the vCPU's own CPU takes them before its next entry,
 * so the backend state is only ever touched on that CPU.
 */
#include "kernel/vcpu_mp.h"
#include "kernel/backend.h"
#include "kernel/mmu.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "kernel/vcpu_kick.h"
#include "kernel/vlapic.h"
#include "kernel/vm.h"
#include "kernel/x86.h"

void vcpu_notify(struct vcpu *v)
{
	__atomic_fetch_add(&v->vm->wake_seq, 1, __ATOMIC_SEQ_CST);
	vcpu_post(v, VREQ_EVENT);
}

static void post_event(struct vcpu *v, u32 ev)
{
	__atomic_fetch_or(&v->events, ev, __ATOMIC_SEQ_CST);
	vcpu_notify(v);
}

void vcpu_send_init(struct vcpu *v)
{
	post_event(v, VEV_INIT);
}

void vcpu_send_sipi(struct vcpu *v, u8 vector)
{
	__atomic_store_n(&v->sipi_vector, vector, __ATOMIC_RELAXED);
	post_event(v, VEV_SIPI);
}

void vcpu_send_nmi(struct vcpu *v)
{
	post_event(v, VEV_NMI);
}

static void seg(struct seg_desc *d, u16 sel, u16 attr, u64 base)
{
	d->sel = sel;
	d->attr = attr;
	d->limit = 0xffff;
	d->base = base;
}

/* SDM vol. 3A §9.1.1 table 9-1 ("Following INIT"), then the SIPI's
 * CS:IP (§9.4.4.1 / APM vol. 2 §16.5: CS selector VV00h, base VV000h).
 * Attributes in the VMCB layout (kernel/backend.h): 0x93 = present,
 * read/write, accessed data; 0x9b = present, execute/read, accessed code;
 * 0x82 LDT; 0x8b busy TSS. */
static void sipi_state(struct vcpu_boot_state *bs, u8 vector)
{
	memset(bs, 0, sizeof(*bs));
	bs->cr0 = CR0_CD | CR0_NW | CR0_ET;
	seg(&bs->seg[SEG_CS], (u16)(vector << 8), 0x9b, (u64)vector << 12);
	seg(&bs->seg[SEG_DS], 0, 0x93, 0);
	seg(&bs->seg[SEG_ES], 0, 0x93, 0);
	seg(&bs->seg[SEG_SS], 0, 0x93, 0);
	seg(&bs->seg[SEG_FS], 0, 0x93, 0);
	seg(&bs->seg[SEG_GS], 0, 0x93, 0);
	seg(&bs->seg[SEG_LDTR], 0, 0x82, 0);
	seg(&bs->seg[SEG_TR], 0, 0x8b, 0);
	seg(&bs->seg[SEG_GDTR], 0, 0, 0);
	seg(&bs->seg[SEG_IDTR], 0, 0, 0);
	bs->regs.rip = 0;
	bs->regs.rflags = 0x2;
	/* EDX holds the processor signature (CPUID.01H:EAX) after INIT */
	bs->regs.gpr[GPR_RDX] = cpuid(1).eax;
}

static void take_init(struct vcpu *v)
{
	struct vm *vm = v->vm;
	if (v->id == 0) {
		vm_end(vm, VMR_KILLED, 0, "INIT IPI to the bootstrap vCPU (restarts the firmware: not modelled)");
		return;
	}
	TRACE_VCPU(TRACE_VM, v, "vcpu-init");
	v->wait_sipi = true;
	v->halted = false;
	v->nmi_pending = false;
	vlapic_reset(v);
}

static void take_sipi(struct vcpu *v)
{
	u8 vector = __atomic_load_n(&v->sipi_vector, __ATOMIC_RELAXED);
	if (!v->wait_sipi) {
		TRACE_VCPU(TRACE_VM, v, "vcpu-sipi-ignored vector=%#x (not waiting for SIPI)", vector);
		return;
	}
	struct vcpu_boot_state bs;
	sipi_state(&bs, vector);
	int r = backend->vcpu_set_state(v, &bs);
	if (r == E_OK && v->mmu)
		r = mmu_vcpu_reset(v, &bs);
	if (r) {
		vm_end(v->vm, VMR_KILLED, 0, "vCPU %u: cannot start it in real mode at %#x:0 (%s)", v->id,
		       vector << 8, r == E_NOTSUP ? "this CPU cannot run real mode here: see docs/platform.md"
						 : "out of memory");
		return;
	}
	v->wait_sipi = false;
	TRACE_VCPU(TRACE_VM, v, "vcpu-sipi vector=%#x cs=%#x", vector, vector << 8);
}

void vcpu_service(struct vcpu *v)
{
	if (!__atomic_load_n(&v->sync.requests, __ATOMIC_RELAXED))
		return;
	u32 req = vcpu_take_requests(v);
	if (req & VREQ_TLB_FLUSH)
		backend->flush_tlb(v);
	if (!(req & VREQ_EVENT))
		return;
	u32 ev = __atomic_exchange_n(&v->events, 0, __ATOMIC_ACQ_REL);
	/* an INIT before a SIPI sent with it, as the sender ordered them */
	if (ev & VEV_INIT)
		take_init(v);
	if ((ev & VEV_SIPI) && vm_running(v->vm))
		take_sipi(v);
	if ((ev & VEV_NMI) && !v->wait_sipi)
		v->nmi_pending = true; /* one NMI may be pending (SDM §6.7.1) */
}
