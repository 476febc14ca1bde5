/*
 * kernel/x86_regs.h - architectural bit and MSR numbers (SDM vol. 3A §2.5
 * control registers, vol. 4 MSRs; APM vol. 2 §3.1): definitions only, so
 * pure code (mm/gwalk.c, host tests) shares them with the kernel.
 */
#ifndef UMBRA_KERNEL_X86_REGS_H
#define UMBRA_KERNEL_X86_REGS_H

#include "kernel/types.h"

#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_AM BIT(18)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)

#define CR4_VME BIT(0)
#define CR4_PVI BIT(1)
#define CR4_TSD BIT(2)
#define CR4_DE BIT(3)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_MCE BIT(6)
#define CR4_PGE BIT(7)
#define CR4_PCE BIT(8)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_UMIP BIT(11)
#define CR4_LA57 BIT(12)
#define CR4_VMXE BIT(13)
#define CR4_SMXE BIT(14)
#define CR4_FSGSBASE BIT(16)
#define CR4_PCIDE BIT(17)
#define CR4_OSXSAVE BIT(18)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define CR4_PKE BIT(22)

#define MSR_IA32_TSC 0x10
#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_PAT 0x277
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103

#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
#define EFER_SVME BIT(12)

#define RFLAGS_CF BIT(0)
#define RFLAGS_FIXED BIT(1)
#define RFLAGS_ZF BIT(6)
#define RFLAGS_TF BIT(8)
#define RFLAGS_IF BIT(9)
#define RFLAGS_DF BIT(10)
#define RFLAGS_VM BIT(17)

#endif
