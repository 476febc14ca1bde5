/*
 * vmx/vmcs.h - Intel VMX constants: capability MSRs, VMCS field encodings,
 * control bits, exit reasons and the VMREAD/VMWRITE/VMX-instruction
 * wrappers. Everything here is from the Intel SDM vol. 3C (chapters 24-31
 * and appendices A-C, numbering of the combined 3C volume of 2023).
 */
#ifndef UMBRA_VMX_VMCS_H
#define UMBRA_VMX_VMCS_H

#include "kernel/types.h"

/* Capability MSRs (SDM vol. 3C appendix A). */
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_DEBUGCTL 0x1d9

/* IA32_FEATURE_CONTROL (SDM vol. 3C §24.7 "Enabling and entering VMX operation") */
#define FEATCTL_LOCK BIT(0)
#define FEATCTL_VMX_IN_SMX BIT(1)
#define FEATCTL_VMX_OUTSIDE_SMX BIT(2)

/* IA32_VMX_BASIC (§A.1) */
#define VMX_BASIC_REVISION(b) ((u32)(b) & 0x7fffffff)
#define VMX_BASIC_SIZE(b) (((b) >> 32) & 0x1fff)
#define VMX_BASIC_32BIT_PA BIT(48)
#define VMX_BASIC_MEMTYPE(b) (((b) >> 50) & 0xf)
#define VMX_BASIC_TRUE_CTLS BIT(55)

/* IA32_VMX_MISC (§A.6) */
#define VMX_MISC_LMA_SAVED BIT(5)

/* IA32_VMX_EPT_VPID_CAP (§A.10) */
#define EPT_CAP_WALK4 BIT(6)
#define EPT_CAP_WB BIT(14)
#define EPT_CAP_2M BIT(16)
#define EPT_CAP_1G BIT(17)
#define EPT_CAP_INVEPT BIT(20)
#define EPT_CAP_AD BIT(21)
#define EPT_CAP_INVEPT_SINGLE BIT(25)
#define EPT_CAP_INVEPT_ALL BIT(26)
#define VPID_CAP_INVVPID BIT(32)
#define VPID_CAP_INVVPID_SINGLE BIT(41)
#define VPID_CAP_INVVPID_ALL BIT(42)

/* Pin-based controls (§25.6.1, table 25-5) */
#define PIN_EXT_INTR_EXIT BIT(0)
#define PIN_NMI_EXIT BIT(3)
#define PIN_VIRTUAL_NMI BIT(5)
#define PIN_PREEMPT_TIMER BIT(6)

/* Primary processor-based controls (§25.6.2, table 25-6) */
#define PROC_INTR_WINDOW BIT(2)
#define PROC_TSC_OFFSET BIT(3)
#define PROC_HLT_EXIT BIT(7)
#define PROC_INVLPG_EXIT BIT(9)
#define PROC_MWAIT_EXIT BIT(10)
#define PROC_RDPMC_EXIT BIT(11)
#define PROC_RDTSC_EXIT BIT(12)
#define PROC_CR3_LOAD_EXIT BIT(15)
#define PROC_CR3_STORE_EXIT BIT(16)
#define PROC_CR8_LOAD_EXIT BIT(19)
#define PROC_CR8_STORE_EXIT BIT(20)
#define PROC_TPR_SHADOW BIT(21)
#define PROC_NMI_WINDOW BIT(22)
#define PROC_MOV_DR_EXIT BIT(23)
#define PROC_UNCOND_IO_EXIT BIT(24)
#define PROC_IO_BITMAPS BIT(25)
#define PROC_MTF BIT(27)
#define PROC_MSR_BITMAPS BIT(28)
#define PROC_MONITOR_EXIT BIT(29)
#define PROC_PAUSE_EXIT BIT(30)
#define PROC_SECONDARY BIT(31)

/* Secondary processor-based controls (§25.6.2, table 25-7) */
#define PROC2_VIRT_APIC BIT(0)
#define PROC2_EPT BIT(1)
#define PROC2_DESC_EXIT BIT(2)
#define PROC2_RDTSCP BIT(3)
#define PROC2_VPID BIT(5)
#define PROC2_WBINVD_EXIT BIT(6)
#define PROC2_UNRESTRICTED BIT(7)
#define PROC2_INVPCID BIT(12)
#define PROC2_VMFUNC BIT(13)
#define PROC2_VMCS_SHADOW BIT(14)
#define PROC2_PML BIT(17)
#define PROC2_XSAVES BIT(20)

/* VM-exit controls (§25.7.1, table 25-13) */
#define EXIT_SAVE_DEBUG BIT(2)
#define EXIT_HOST_64 BIT(9)
#define EXIT_LOAD_PERF_GLOBAL BIT(12)
#define EXIT_ACK_INTR BIT(15)
#define EXIT_SAVE_PAT BIT(18)
#define EXIT_LOAD_PAT BIT(19)
#define EXIT_SAVE_EFER BIT(20)
#define EXIT_LOAD_EFER BIT(21)
#define EXIT_SAVE_PREEMPT BIT(22)

/* VM-entry controls (§25.8.1, table 25-15) */
#define ENTRY_LOAD_DEBUG BIT(2)
#define ENTRY_IA32E BIT(9)
#define ENTRY_SMM BIT(10)
#define ENTRY_DUAL_MONITOR BIT(11)
#define ENTRY_LOAD_PERF_GLOBAL BIT(13)
#define ENTRY_LOAD_PAT BIT(14)
#define ENTRY_LOAD_EFER BIT(15)

/* Interruption-information format: VM-entry (§25.8.3, table 25-17),
 * VM-exit and IDT-vectoring (§25.9.2, tables 25-19/25-20). */
#define INTR_INFO_VECTOR(x) ((x) & 0xff)
#define INTR_INFO_TYPE(x) (((x) >> 8) & 7)
#define INTR_INFO_ERROR BIT(11)
#define INTR_INFO_NMI_UNBLOCK BIT(12)
#define INTR_INFO_VALID BIT(31)
#define INTR_TYPE_EXT 0
#define INTR_TYPE_NMI 2
#define INTR_TYPE_HW_EXC 3
#define INTR_TYPE_SW_INT 4
#define INTR_TYPE_PRIV_SW_EXC 5
#define INTR_TYPE_SW_EXC 6

/* Segment access rights in the VMCS (§25.4.1, table 25-2) */
#define AR_UNUSABLE BIT(16)

/* EPT (§29.3.2, tables 29-1..29-6) and the EPT pointer (§25.6.11, table 25-9) */
#define EPT_R BIT(0)
#define EPT_W BIT(1)
#define EPT_X BIT(2)
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MT_WB (6ULL << 3)
#define EPT_LARGE BIT(7)
#define EPTP_WB 6ULL
#define EPTP_WALK4 (3ULL << 3)
#define EPTP_AD BIT(6)

/* VMCS field encodings (SDM vol. 3C appendix B) */
enum vmcs_field {
	/* 16-bit (§B.1) */
	VMCS_VPID = 0x0000,
	GUEST_ES_SEL = 0x0800, GUEST_CS_SEL = 0x0802, GUEST_SS_SEL = 0x0804, GUEST_DS_SEL = 0x0806,
	GUEST_FS_SEL = 0x0808, GUEST_GS_SEL = 0x080a, GUEST_LDTR_SEL = 0x080c, GUEST_TR_SEL = 0x080e,
	HOST_ES_SEL = 0x0c00, HOST_CS_SEL = 0x0c02, HOST_SS_SEL = 0x0c04, HOST_DS_SEL = 0x0c06,
	HOST_FS_SEL = 0x0c08, HOST_GS_SEL = 0x0c0a, HOST_TR_SEL = 0x0c0c,
	/* 64-bit (§B.2) */
	IO_BITMAP_A = 0x2000, IO_BITMAP_B = 0x2002, MSR_BITMAP = 0x2004,
	EXIT_MSR_STORE_ADDR = 0x2006, EXIT_MSR_LOAD_ADDR = 0x2008, ENTRY_MSR_LOAD_ADDR = 0x200a,
	TSC_OFFSET = 0x2010, EPT_POINTER = 0x201a,
	GUEST_PHYS_ADDR = 0x2400,
	VMCS_LINK_POINTER = 0x2800, GUEST_DEBUGCTL = 0x2802, GUEST_PAT = 0x2804, GUEST_EFER = 0x2806,
	GUEST_PDPTE0 = 0x280a, GUEST_PDPTE1 = 0x280c, GUEST_PDPTE2 = 0x280e, GUEST_PDPTE3 = 0x2810,
	HOST_PAT = 0x2c00, HOST_EFER = 0x2c02,
	/* 32-bit (§B.3) */
	PIN_CONTROLS = 0x4000, PROC_CONTROLS = 0x4002, EXCEPTION_BITMAP = 0x4004,
	PF_ERROR_MASK = 0x4006, PF_ERROR_MATCH = 0x4008, CR3_TARGET_COUNT = 0x400a,
	EXIT_CONTROLS = 0x400c, EXIT_MSR_STORE_COUNT = 0x400e, EXIT_MSR_LOAD_COUNT = 0x4010,
	ENTRY_CONTROLS = 0x4012, ENTRY_MSR_LOAD_COUNT = 0x4014, ENTRY_INTR_INFO = 0x4016,
	ENTRY_EXC_ERROR = 0x4018, ENTRY_INSN_LEN = 0x401a, TPR_THRESHOLD = 0x401c, PROC2_CONTROLS = 0x401e,
	VM_INSN_ERROR = 0x4400, EXIT_REASON = 0x4402, EXIT_INTR_INFO = 0x4404, EXIT_INTR_ERROR = 0x4406,
	IDT_VECT_INFO = 0x4408, IDT_VECT_ERROR = 0x440a, EXIT_INSN_LEN = 0x440c, EXIT_INSN_INFO = 0x440e,
	GUEST_ES_LIMIT = 0x4800, GUEST_CS_LIMIT = 0x4802, GUEST_SS_LIMIT = 0x4804, GUEST_DS_LIMIT = 0x4806,
	GUEST_FS_LIMIT = 0x4808, GUEST_GS_LIMIT = 0x480a, GUEST_LDTR_LIMIT = 0x480c, GUEST_TR_LIMIT = 0x480e,
	GUEST_GDTR_LIMIT = 0x4810, GUEST_IDTR_LIMIT = 0x4812,
	GUEST_ES_AR = 0x4814, GUEST_CS_AR = 0x4816, GUEST_SS_AR = 0x4818, GUEST_DS_AR = 0x481a,
	GUEST_FS_AR = 0x481c, GUEST_GS_AR = 0x481e, GUEST_LDTR_AR = 0x4820, GUEST_TR_AR = 0x4822,
	GUEST_INTERRUPTIBILITY = 0x4824, GUEST_ACTIVITY = 0x4826, GUEST_SYSENTER_CS = 0x482a,
	GUEST_PREEMPT_TIMER = 0x482e,
	HOST_SYSENTER_CS = 0x4c00,
	/* natural width (§B.4) */
	CR0_MASK = 0x6000, CR4_MASK = 0x6002, CR0_SHADOW = 0x6004, CR4_SHADOW = 0x6006,
	EXIT_QUALIFICATION = 0x6400, GUEST_LINEAR_ADDR = 0x640a,
	GUEST_CR0 = 0x6800, GUEST_CR3 = 0x6802, GUEST_CR4 = 0x6804,
	GUEST_ES_BASE = 0x6806, GUEST_CS_BASE = 0x6808, GUEST_SS_BASE = 0x680a, GUEST_DS_BASE = 0x680c,
	GUEST_FS_BASE = 0x680e, GUEST_GS_BASE = 0x6810, GUEST_LDTR_BASE = 0x6812, GUEST_TR_BASE = 0x6814,
	GUEST_GDTR_BASE = 0x6816, GUEST_IDTR_BASE = 0x6818, GUEST_DR7 = 0x681a, GUEST_RSP = 0x681c,
	GUEST_RIP = 0x681e, GUEST_RFLAGS = 0x6820, GUEST_PENDING_DBG = 0x6822,
	GUEST_SYSENTER_ESP = 0x6824, GUEST_SYSENTER_EIP = 0x6826,
	HOST_CR0 = 0x6c00, HOST_CR3 = 0x6c02, HOST_CR4 = 0x6c04, HOST_FS_BASE = 0x6c06, HOST_GS_BASE = 0x6c08,
	HOST_TR_BASE = 0x6c0a, HOST_GDTR_BASE = 0x6c0c, HOST_IDTR_BASE = 0x6c0e,
	HOST_SYSENTER_ESP = 0x6c10, HOST_SYSENTER_EIP = 0x6c12, HOST_RSP = 0x6c14, HOST_RIP = 0x6c16,
};

/* Basic exit reasons (SDM vol. 3C appendix C, table C-1) */
enum {
	VMX_EXIT_EXC_NMI = 0, VMX_EXIT_EXT_INTR = 1, VMX_EXIT_TRIPLE_FAULT = 2, VMX_EXIT_INIT = 3,
	VMX_EXIT_SIPI = 4, VMX_EXIT_IO_SMI = 5, VMX_EXIT_OTHER_SMI = 6, VMX_EXIT_INTR_WINDOW = 7,
	VMX_EXIT_NMI_WINDOW = 8, VMX_EXIT_TASK_SWITCH = 9, VMX_EXIT_CPUID = 10, VMX_EXIT_GETSEC = 11,
	VMX_EXIT_HLT = 12, VMX_EXIT_INVD = 13, VMX_EXIT_INVLPG = 14, VMX_EXIT_RDPMC = 15,
	VMX_EXIT_RDTSC = 16, VMX_EXIT_RSM = 17, VMX_EXIT_VMCALL = 18, VMX_EXIT_VMCLEAR = 19,
	VMX_EXIT_VMLAUNCH = 20, VMX_EXIT_VMPTRLD = 21, VMX_EXIT_VMPTRST = 22, VMX_EXIT_VMREAD = 23,
	VMX_EXIT_VMRESUME = 24, VMX_EXIT_VMWRITE = 25, VMX_EXIT_VMXOFF = 26, VMX_EXIT_VMXON = 27,
	VMX_EXIT_CR_ACCESS = 28, VMX_EXIT_DR_ACCESS = 29, VMX_EXIT_IO = 30, VMX_EXIT_RDMSR = 31,
	VMX_EXIT_WRMSR = 32, VMX_EXIT_BAD_GUEST = 33, VMX_EXIT_BAD_MSR_LOAD = 34, VMX_EXIT_MWAIT = 36,
	VMX_EXIT_MTF = 37, VMX_EXIT_MONITOR = 39, VMX_EXIT_PAUSE = 40, VMX_EXIT_MACHINE_CHECK = 41,
	VMX_EXIT_EPT_VIOLATION = 48, VMX_EXIT_EPT_MISCONFIG = 49, VMX_EXIT_INVEPT = 50,
	VMX_EXIT_RDTSCP = 51, VMX_EXIT_PREEMPT_TIMER = 52, VMX_EXIT_INVVPID = 53, VMX_EXIT_WBINVD = 54,
	VMX_EXIT_XSETBV = 55, VMX_EXIT_INVPCID = 58, VMX_EXIT_VMFUNC = 59,
};
#define VMX_EXIT_ENTRY_FAILURE BIT(31)

/*
 * VMX instruction wrappers. Every VMX instruction reports through RFLAGS
 * (SDM vol. 3C §31.2 "Conventions"): CF=1 VMfailInvalid (no current VMCS
 * or bad operand), ZF=1 VMfailValid (error number in VM_INSN_ERROR).
 * Return 0 on success, 1 on VMfailInvalid, 2 on VMfailValid.
 */
#define VMX_OK 0
#define VMX_FAIL_INVALID 1
#define VMX_FAIL_VALID 2

static inline int vmx_flags_result(u8 cf, u8 zf)
{
	return cf ? VMX_FAIL_INVALID : zf ? VMX_FAIL_VALID : VMX_OK;
}

static inline int vmx_on(hpa_t pa)
{
	u8 cf, zf;
	__asm__ volatile("vmxon %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
	return vmx_flags_result(cf, zf);
}

static inline int vmx_clear(hpa_t pa)
{
	u8 cf, zf;
	__asm__ volatile("vmclear %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
	return vmx_flags_result(cf, zf);
}

static inline int vmx_ptrld(hpa_t pa)
{
	u8 cf, zf;
	__asm__ volatile("vmptrld %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
	return vmx_flags_result(cf, zf);
}

static inline int vmx_write(u64 field, u64 val)
{
	u8 cf, zf;
	__asm__ volatile("vmwrite %3, %2; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "r"(field), "rm"(val)
			 : "cc", "memory");
	return vmx_flags_result(cf, zf);
}

static inline int vmx_read(u64 field, u64 *val)
{
	u8 cf, zf;
	u64 v = 0;
	__asm__ volatile("vmread %3, %2; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf), "=rm"(v)
			 : "r"(field)
			 : "cc", "memory");
	*val = v;
	return vmx_flags_result(cf, zf);
}

struct vmx_inv_desc {
	u64 lo, hi;
};

/* INVEPT (SDM vol. 3C §31.3 "INVEPT"): type 1 single-context, 2 all-context. */
static inline int vmx_invept(u64 type, u64 eptp)
{
	struct vmx_inv_desc d = {eptp, 0};
	u8 cf, zf;
	__asm__ volatile("invept %2, %3; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return vmx_flags_result(cf, zf);
}

/* INVVPID (§31.3 "INVVPID"): type 1 single-context, 2 all-context. */
static inline int vmx_invvpid(u64 type, u16 vpid)
{
	struct vmx_inv_desc d = {vpid, 0};
	u8 cf, zf;
	__asm__ volatile("invvpid %2, %3; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return vmx_flags_result(cf, zf);
}

#endif
