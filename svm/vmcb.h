/*
 * svm/vmcb.h - the VMCB layout and SVM constants (AMD APM vol. 2, rev.
 * pinned in docs/references.md: Appendix B "Layout of VMCB", §15.9-15.12
 * intercepts, Appendix C exit codes).
 *
 * Only svm/ includes this file.
 */
#ifndef UMBRA_SVM_VMCB_H
#define UMBRA_SVM_VMCB_H

#include "kernel/types.h"

struct vmcb_seg {
	u16 sel;
	u16 attr;
	u32 limit;
	u64 base;
} __packed;

struct vmcb_control {
	u32 intercept_cr;   /* 000h: reads 15:0, writes 31:16 */
	u32 intercept_dr;   /* 004h */
	u32 intercept_exc;  /* 008h */
	u32 intercept_misc1; /* 00Ch */
	u32 intercept_misc2; /* 010h */
	u32 intercept_misc3; /* 014h */
	u8 reserved1[0x3c - 0x18];
	u16 pause_filter_thresh; /* 03Ch */
	u16 pause_filter_count;  /* 03Eh */
	u64 iopm_base_pa;   /* 040h */
	u64 msrpm_base_pa;  /* 048h */
	u64 tsc_offset;     /* 050h */
	u32 asid;           /* 058h */
	u8 tlb_control;     /* 05Ch */
	u8 reserved2[3];
	u64 int_ctl;        /* 060h: V_TPR, V_IRQ, V_INTR_MASKING... */
	u64 int_state;      /* 068h: interrupt shadow */
	u64 exitcode;       /* 070h */
	u64 exitinfo1;      /* 078h */
	u64 exitinfo2;      /* 080h */
	u64 exitintinfo;    /* 088h */
	u64 np_enable;      /* 090h */
	u64 avic_apic_bar;  /* 098h */
	u64 ghcb_pa;        /* 0A0h */
	u64 event_inj;      /* 0A8h */
	u64 n_cr3;          /* 0B0h */
	u64 lbr_virt;       /* 0B8h */
	u32 clean;          /* 0C0h */
	u32 reserved3;
	u64 next_rip;       /* 0C8h */
	u8 insn_len;        /* 0D0h */
	u8 insn_bytes[15];  /* 0D1h */
	u8 reserved4[0x400 - 0xe0];
} __packed;

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 400h.. */
	u8 reserved1[0x4cb - 0x4a0];
	u8 cpl;             /* 4CBh */
	u32 reserved2;
	u64 efer;           /* 4D0h */
	u8 reserved3[0x548 - 0x4d8];
	u64 cr4;            /* 548h */
	u64 cr3;            /* 550h */
	u64 cr0;            /* 558h */
	u64 dr7;            /* 560h */
	u64 dr6;            /* 568h */
	u64 rflags;         /* 570h */
	u64 rip;            /* 578h */
	u8 reserved4[0x5d8 - 0x580];
	u64 rsp;            /* 5D8h */
	u8 reserved5[0x5f8 - 0x5e0];
	u64 rax;            /* 5F8h */
	u64 star;           /* 600h */
	u64 lstar;          /* 608h */
	u64 cstar;          /* 610h */
	u64 sfmask;         /* 618h */
	u64 kernel_gs_base; /* 620h */
	u64 sysenter_cs;    /* 628h */
	u64 sysenter_esp;   /* 630h */
	u64 sysenter_eip;   /* 638h */
	u64 cr2;            /* 640h */
	u8 reserved6[0x668 - 0x648];
	u64 g_pat;          /* 668h */
	u64 dbgctl;         /* 670h */
	u8 reserved7[0x1000 - 0x678];
} __packed;

struct vmcb {
	struct vmcb_control ctl;
	struct vmcb_save save;
} __packed;

_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");
_Static_assert(offsetof(struct vmcb, ctl.exitcode) == 0x70, "EXITCODE");
_Static_assert(offsetof(struct vmcb, ctl.n_cr3) == 0xb0, "N_CR3");
_Static_assert(offsetof(struct vmcb, ctl.next_rip) == 0xc8, "nRIP");
_Static_assert(offsetof(struct vmcb, save.cpl) == 0x4cb, "CPL");
_Static_assert(offsetof(struct vmcb, save.efer) == 0x4d0, "EFER");
_Static_assert(offsetof(struct vmcb, save.rflags) == 0x570, "RFLAGS");
_Static_assert(offsetof(struct vmcb, save.rsp) == 0x5d8, "RSP");
_Static_assert(offsetof(struct vmcb, save.rax) == 0x5f8, "RAX");
_Static_assert(offsetof(struct vmcb, save.cr2) == 0x640, "CR2");
_Static_assert(offsetof(struct vmcb, save.g_pat) == 0x668, "G_PAT");

/* Intercept bits (APM vol. 2 Appendix B, Table B-1). */
#define INTERCEPT1_INTR BIT(0)
#define INTERCEPT1_NMI BIT(1)
#define INTERCEPT1_SMI BIT(2)
#define INTERCEPT1_INIT BIT(3)
#define INTERCEPT1_VINTR BIT(4)
#define INTERCEPT1_RDPMC BIT(15)
#define INTERCEPT1_CPUID BIT(18)
#define INTERCEPT1_IRET BIT(20)
#define INTERCEPT1_INVD BIT(22)
#define INTERCEPT1_HLT BIT(24)
#define INTERCEPT1_INVLPG BIT(25)
#define INTERCEPT1_INVLPGA BIT(26)
#define INTERCEPT1_IOIO BIT(27)
#define INTERCEPT1_MSR BIT(28)
#define INTERCEPT1_TASK_SWITCH BIT(29)
#define INTERCEPT1_FERR_FREEZE BIT(30)
#define INTERCEPT1_SHUTDOWN BIT(31)
#define INTERCEPT2_VMRUN BIT(0)
#define INTERCEPT2_VMMCALL BIT(1)
#define INTERCEPT2_VMLOAD BIT(2)
#define INTERCEPT2_VMSAVE BIT(3)
#define INTERCEPT2_STGI BIT(4)
#define INTERCEPT2_CLGI BIT(5)
#define INTERCEPT2_SKINIT BIT(6)
#define INTERCEPT2_RDTSCP BIT(7)
#define INTERCEPT2_ICEBP BIT(8)
#define INTERCEPT2_WBINVD BIT(9)
#define INTERCEPT2_MONITOR BIT(10)
#define INTERCEPT2_MWAIT BIT(11)
#define INTERCEPT2_MWAIT_COND BIT(12)
#define INTERCEPT2_XSETBV BIT(13)

/* VMCB int_ctl (APM vol. 2 Appendix B, §15.21.1-15.21.4). */
#define V_IRQ BIT(8)
#define V_INTR_PRIO_SHIFT 16
#define V_IGN_TPR BIT(20)
#define V_INTR_MASKING BIT(24)
#define TLB_CONTROL_NONE 0
#define TLB_CONTROL_FLUSH_ALL 1
#define TLB_CONTROL_FLUSH_ASID 3
#define TLB_CONTROL_FLUSH_ASID_LOCAL 7 /* this ASID's non-global entries */

#define EVENTINJ_VALID BIT(31)
#define EVENTINJ_EV BIT(11)
#define EVENTINJ_TYPE_INTR (0ULL << 8)
#define EVENTINJ_TYPE_NMI (2ULL << 8)
#define EVENTINJ_TYPE_EXC (3ULL << 8)

/* Exit codes (APM vol. 2 Appendix C). */
#define SVM_EXIT_EXCP_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_RDPMC 0x6f
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_PAUSE 0x77
#define SVM_EXIT_IRET 0x74
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_INVLPG 0x79
#define SVM_EXIT_INVLPGA 0x7a
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_TASK_SWITCH 0x7d
#define SVM_EXIT_FERR_FREEZE 0x7e
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_RDTSCP 0x87
#define SVM_EXIT_ICEBP 0x88
#define SVM_EXIT_WBINVD 0x89
#define SVM_EXIT_MONITOR 0x8a
#define SVM_EXIT_MWAIT 0x8b
#define SVM_EXIT_MWAIT_COND 0x8c
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffu /* compare the low 32 bits (QEMU writes 0x00000000ffffffff) */

/* MSRs. */
#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117
#define VM_CR_SVMDIS BIT(4)

#endif
