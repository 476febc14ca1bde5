; tests/guests/lib/entry.asm - multiboot v1 header, 32-bit entry, GDT/TSS,
; exception stubs, fault_try (catching expected exceptions), the ring-3
; trampoline and the 32-bit <-> long-mode switch of every test guest.
;
; Owns all segment and mode changes; the C side (lib/*.c) only fills the
; IDTs from the stub tables exported here. Interrupts stay disabled (IF=0)
; for the whole life of a guest.

bits 32

MB_MAGIC	equ 0x1BADB002
MB_FLAGS	equ 0x00000003	; page-align modules, want mem_* and mmap
SEL_CODE32	equ 0x08
SEL_DATA	equ 0x10
SEL_CODE64	equ 0x18
SEL_UCODE	equ 0x20 | 3
SEL_UDATA	equ 0x28 | 3
SEL_TSS		equ 0x30
VEC_USER_DONE	equ 0x81	; `int 0x81`: ring-3 code finished normally
CR0_PG		equ 0x80000000
CR4_PAE		equ 0x20
MSR_EFER	equ 0xC0000080
EFER_LME	equ 0x100

extern lib_start, isr_unexpected, last_fault
extern _bss_start, _bss_end

section .multiboot
align 4
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)

section .data
align 16
gdt:
	dq 0
	dq 0x00CF9A000000FFFF	; 0x08 code, 32-bit, ring 0
	dq 0x00CF92000000FFFF	; 0x10 data, ring 0
	dq 0x00AF9A000000FFFF	; 0x18 code, 64-bit (L=1), ring 0
	dq 0x00CFFA000000FFFF	; 0x20 code, 32-bit, ring 3
	dq 0x00CFF2000000FFFF	; 0x28 data, ring 3
tss_desc:			; 0x30 32-bit TSS, base patched at entry
	dw tss_end - tss - 1, 0
	db 0, 0x89, 0x00, 0
gdt_end:
gdt_ptr:
	dw gdt_end - gdt - 1
	dd gdt

align 16
tss:				; only SS0:ESP0 matter (ring 3 -> 0)
	dd 0
	dd exc_stack_top	; esp0
	dd SEL_DATA		; ss0
	times 22 dd 0
	dw 0
	dw tss_end - tss	; I/O bitmap base beyond the limit: no bitmap
tss_end:

global fault_armed, fault_result, user_result
fault_armed:	dd 0
fault_result:	dd 0
user_result:	dd 0
fault_saved_esp: dd 0

global lc_result, lc_fault
lc_result:	dq 0
lc_fault:	dd 0
lc_saved_esp:	dd 0
lc_saved_cr4:	dd 0
lc_saved_efer:	dd 0, 0
lc_saved_idtr:	dw 0
		dd 0

section .bss
align 4096
stack:		resb 16384
stack_top:
exc_stack:	resb 4096	; ring-0 stack for exceptions from ring 3
exc_stack_top:
user_stack:	resb 4096
user_stack_top:

section .text
global _start
_start:
	cli
	cld
	mov esi, eax		; multiboot magic
	mov ebp, ebx		; multiboot info
	lgdt [gdt_ptr]
	jmp SEL_CODE32:.reload
.reload:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	mov edi, _bss_start	; the loader need not zero .bss
	mov ecx, _bss_end
	sub ecx, edi
	xor eax, eax
	rep stosb
	mov esp, stack_top
	mov eax, tss
	mov [tss_desc + 2], ax
	shr eax, 16
	mov [tss_desc + 4], al
	mov [tss_desc + 7], ah
	mov ax, SEL_TSS
	ltr ax
	push ebp
	push esi
	call lib_start		; does not return
.hang:
	cli
	hlt
	jmp .hang

; ------------------------------------------------------------ exceptions
; Every vector gets a stub that pushes a dummy error code where the CPU
; pushes none, then the vector number.

%macro ISR32 1
isr32_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
%else
	push 0
%endif
	push %1
	jmp isr32_common
%endmacro

%assign v 0
%rep 256
ISR32 v
%assign v v + 1
%endrep

section .rodata
global isr32_stub_table
isr32_stub_table:
%assign v 0
%rep 256
	dd isr32_ %+ v
%assign v v + 1
%endrep

section .text
; Stack: edi esi ebp esp ebx edx ecx eax (pushad), vector, error, eip, cs,
; eflags [, esp, ss from ring 3].
isr32_common:
	pushad
	cld
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	cmp dword [fault_armed], 0
	je .unexpected
	mov dword [fault_armed], 0
	mov eax, [esp + 32]
	cmp eax, VEC_USER_DONE
	jne .fault
	mov ecx, [esp + 24]	; ring-3 code's ECX: the value it read
	mov [user_result], ecx
	mov dword [fault_result], -1
	jmp fault_landing
.fault:
	mov [fault_result], eax
	mov [last_fault + 0], eax
	mov ecx, [esp + 36]
	mov [last_fault + 4], ecx
	mov ecx, [esp + 40]
	mov [last_fault + 8], ecx
	mov ecx, cr2
	mov [last_fault + 12], ecx
	jmp fault_landing
.unexpected:
	push esp
	call isr_unexpected	; prints, ends the guest
	jmp _start.hang

; int fault_try(void (*fn)(void *), void *arg)
global fault_try
fault_try:
	push ebp
	push ebx
	push esi
	push edi
	mov [fault_saved_esp], esp
	mov dword [fault_armed], 1
	mov eax, [esp + 20]
	push dword [esp + 24]
	call eax
	add esp, 4
	mov dword [fault_armed], 0
	mov eax, -1
	jmp fault_out
fault_landing:			; from isr32_common, on any stack, ring 0
	mov esp, [fault_saved_esp]
	mov eax, [fault_result]
fault_out:
	mov cx, SEL_DATA
	mov ds, cx
	mov es, cx
	mov fs, cx
	mov gs, cx
	mov ss, cx
	cld
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

; void user_enter(struct { u32 kind, addr, val; } *) - run as the fn of
; fault_try: drops to ring 3 at user_stub, which performs one access and
; leaves through `int 0x81` (or faults).
global user_enter
user_enter:
	mov edx, [esp + 4]
	mov eax, [edx]
	mov ebx, [edx + 4]
	mov ecx, [edx + 8]
	mov si, SEL_UDATA
	mov ds, si
	mov es, si
	mov fs, si
	mov gs, si
	push SEL_UDATA
	push user_stack_top
	push 0x002		; EFLAGS: IF=0, IOPL=0
	push SEL_UCODE
	push user_stub
	iretd

; Ring 3: EAX = 0 read [EBX] into ECX, 1 write ECX to [EBX], 2 call EBX.
user_stub:
	cmp eax, 0
	je .read
	cmp eax, 1
	je .write
	call ebx
	jmp .done
.read:
	mov ecx, [ebx]
	jmp .done
.write:
	mov [ebx], ecx
.done:
	int VEC_USER_DONE
	jmp .done

; ------------------------------------------------------------ long mode

; int long_call_raw(u32 cr3, u32 fn64, u32 arg_lo, u32 arg_hi)
; Returns -1 (result in lc_result) or the vector of a 64-bit exception.
global long_call_raw
extern idt64_ptr
long_call_raw:
	push ebp
	push ebx
	push esi
	push edi
	mov [lc_saved_esp], esp
	sidt [lc_saved_idtr]
	mov ebx, cr4
	mov [lc_saved_cr4], ebx
	or ebx, CR4_PAE
	mov cr4, ebx
	mov eax, [esp + 20]
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	mov [lc_saved_efer], eax
	mov [lc_saved_efer + 4], edx
	or eax, EFER_LME
	wrmsr
	lidt [idt64_ptr]
	mov eax, cr0
	or eax, CR0_PG
	mov cr0, eax		; now IA-32e compatibility mode
	jmp SEL_CODE64:lm_entry

bits 64
lm_entry:
	mov esp, esp		; zero the upper halves we rely on
	mov edi, [rsp + 28]
	mov eax, [rsp + 32]
	shl rax, 32
	or rdi, rax
	mov eax, [rsp + 24]
	and rsp, -16
	call rax
	mov [rel lc_result], rax
	mov dword [rel lc_fault], -1
lm_exit:
	mov esp, [rel lc_saved_esp]
	push SEL_CODE32
	mov eax, compat_back
	push rax
	retfq			; to 32-bit compatibility mode

bits 32
compat_back:
	mov eax, cr0
	and eax, ~CR0_PG
	mov cr0, eax		; leaves IA-32e mode (LMA=0)
	jmp .flushed
.flushed:
	mov ecx, MSR_EFER
	mov eax, [lc_saved_efer]
	mov edx, [lc_saved_efer + 4]
	wrmsr
	mov eax, [lc_saved_cr4]
	mov cr4, eax
	lidt [lc_saved_idtr]
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, [lc_fault]
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

; 64-bit exception stubs: record the fault and leave long mode.
bits 64
%macro ISR64 1
isr64_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
%else
	push 0
%endif
	push %1
	jmp isr64_common
%endmacro

%assign v 0
%rep 32
ISR64 v
%assign v v + 1
%endrep

isr64_common:			; [rsp] vector, +8 error, +16 rip
	mov eax, [rsp]
	mov [rel last_fault + 0], eax
	mov [rel lc_fault], eax
	mov eax, [rsp + 8]
	mov [rel last_fault + 4], eax
	mov eax, [rsp + 16]
	mov [rel last_fault + 8], eax
	mov rax, cr2
	mov [rel last_fault + 12], eax
	jmp lm_exit

section .rodata
global isr64_stub_table
isr64_stub_table:
%assign v 0
%rep 32
	dd isr64_ %+ v
%assign v v + 1
%endrep
