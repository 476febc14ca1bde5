; kernel/isr.asm - interrupt and exception entry stubs.
;
; Every vector gets a stub that pushes a uniform frame (a dummy error code
; where the CPU pushes none, then the vector) and jumps to the common path,
; which saves all GPRs as a struct trap_frame (kernel/trap.h) and calls
; trap_entry(frame). Vectors with a CPU error code: SDM vol. 3A §6.13.

extern trap_entry
global isr_stub_table

section .text
%macro STUB 1
isr_stub_%1:
%if (%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
	push qword %1
%else
	push qword 0
	push qword %1
%endif
	jmp isr_common
%endmacro

%assign i 0
%rep 256
	align 16
	STUB i
%assign i i + 1
%endrep

isr_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	cld
	mov rdi, rsp
	call trap_entry
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16                     ; vector and error code
	iretq

section .rodata
align 8
isr_stub_table:
%assign i 0
%rep 256
	dq isr_stub_ %+ i
%assign i i + 1
%endrep
