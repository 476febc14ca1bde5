; tests/guests/mmioforms.asm - the 64-bit half of the mmioforms guest:
; mf_run64 (called through long_call) loads the registers, RFLAGS, FS, ES
; and IA32_GS_BASE from mf_ctx, calls one form (f64_*: an instruction and
; RET), and stores the registers and RFLAGS back. mf_alias is a page of the
; image that the guest's 4-level tables map to the local APIC (or, for the
; reference run, to a RAM page), within reach of RIP-relative addressing.

bits 64

MSR_GS_BASE	equ 0xC0000101
SEL_DATA	equ 0x10
TMICT		equ 0x380
TPR		equ 0x080

section .bss
alignb 4096
global mf_alias
mf_alias:	resb 4096

section .data
align 8
global mf_ctx
mf_ctx:				; struct ctx64 in mmioforms.c
ctx_fn:		dq 0
ctx_r:		times 16 dq 0	; rax rcx rdx rbx rsp rbp rsi rdi r8-r15
ctx_fl:		dq 0
ctx_gsbase:	dq 0
ctx_fs:		dq 0
ctx_es:		dq 0
saved_rsp:	dq 0

%define R(n) [rel ctx_r + 8 * n]

section .text
global mf_run64
mf_run64:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov [rel saved_rsp], rsp
	mov ax, [rel ctx_fs]
	mov fs, ax
	mov ax, [rel ctx_es]
	mov es, ax
	mov ecx, MSR_GS_BASE
	mov eax, [rel ctx_gsbase]
	mov edx, [rel ctx_gsbase + 4]
	wrmsr
	push qword [rel ctx_fl]
	popfq
	mov rax, R(0)
	mov rcx, R(1)
	mov rdx, R(2)
	mov rbx, R(3)
	mov rbp, R(5)
	mov rsi, R(6)
	mov rdi, R(7)
	mov r8, R(8)
	mov r9, R(9)
	mov r10, R(10)
	mov r11, R(11)
	mov r12, R(12)
	mov r13, R(13)
	mov r14, R(14)
	mov r15, R(15)
	call [rel ctx_fn]
	pushfq
	pop qword [rel ctx_fl]
	cld
	mov R(0), rax
	mov R(1), rcx
	mov R(2), rdx
	mov R(3), rbx
	mov R(5), rbp
	mov R(6), rsi
	mov R(7), rdi
	mov R(8), r8
	mov R(9), r9
	mov R(10), r10
	mov R(11), r11
	mov R(12), r12
	mov R(13), r13
	mov R(14), r14
	mov R(15), r15
	mov rsp, [rel saved_rsp]
	mov ax, SEL_DATA
	mov es, ax
	mov fs, ax
	mov gs, ax		; base 0 again
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

; ------------------------------------------------------------ the forms

%macro FORM 1
global %1
%1:
%endmacro

FORM f64_rip_load
	mov eax, [rel mf_alias + TMICT]
	ret
FORM f64_rip_store
	mov [rel mf_alias + TMICT], ecx
	ret
FORM f64_rip_add
	add dword [rel mf_alias + TMICT], strict dword 0x01020304
	ret
FORM f64_rip_cmp8
	cmp dword [rel mf_alias + TMICT], byte 0x7f
	ret
FORM f64_rip_bt
	bt dword [rel mf_alias + TMICT], 5
	ret
FORM f64_rip_movimm
	mov dword [rel mf_alias + TPR], 0x5a
	ret
FORM f64_rip_not
	lock not dword [rel mf_alias + TMICT]
	ret
FORM f64_rip_test
	test dword [rel mf_alias + TMICT], 0x80000000
	ret
FORM f64_eip_rel
	a32 mov eax, [rel mf_alias + TMICT]
	ret
FORM f64_rexr_store
	mov [rbx], r9d
	ret
FORM f64_rexb_load
	mov eax, [dword r10 + TMICT]
	ret
FORM f64_rexrx_load
	mov r8d, [rbx + r11 * 4 + 0x10]
	ret
FORM f64_r12_add
	add [r12], ecx
	ret
FORM f64_r13_xadd
	lock xadd [r13], r14d
	ret
FORM f64_movsxd
	movsxd rax, dword [rbx]
	ret
FORM f64_zext
	mov r15d, [rbx]
	ret
FORM f64_r15_or
	or [r15 + rax], r15d
	ret
FORM f64_moffs_load
	mov eax, [qword 0xfee00000 + TMICT]
	ret
FORM f64_moffs_store
	mov [qword 0xfee00000 + TMICT], eax
	ret
FORM f64_a32
	a32 mov eax, [ebx + 0x10]
	ret
FORM f64_gs_wrap
	add dword [gs:rbx], byte 7
	ret
FORM f64_gs_abs
	mov eax, [gs:abs 0x80]
	ret
FORM f64_fs_desc
	mov ecx, [fs:rbx]
	ret
FORM f64_es_ignored
	db 0x26			; ES override (NASM warns about it in 64-bit mode)
	mov eax, [rbx]
	ret
FORM f64_stos
	rep stosd
	ret
FORM f64_movs
	movsd
	ret
FORM f64_lods
	lodsd
	ret
FORM f64_cmpxchg
	lock cmpxchg [rbx], r8d
	ret
FORM f64_xchg_r12
	xchg [dword rbx + TMICT], r12d
	ret
FORM f64_bts_r9
	bts [rbx], r9d
	ret
FORM f64_btr_r9
	lock btr [rbx], r9d
	ret
FORM f64_neg_r8
	neg dword [r8]
	ret
FORM f64_cmov
	cmovz r10d, [rbx]
	ret
