; boot/trampoline.asm - where application processors start (SDM vol. 3A
; §9.4.4: a SIPI starts the AP in real mode at CS = page >> 4, IP = 0).
;
; kernel/smp.c copies this blob to a page below 1 MiB, fills the
; parameter block at its end, and sends INIT-SIPI-SIPI. The AP goes
; real mode -> 32-bit protected mode -> long mode on Umbra's own page
; tables (CR3 below 4 GiB; the page itself is identity-mapped while APs
; start) and jumps to ap_entry(arg) in the higher half on its own stack.
; Position independent: every absolute address is computed from CS.

global trampoline_start, trampoline_end, trampoline_params

section .rodata
align 16
bits 16
trampoline_start:
	cli
	cld
	xor ebx, ebx
	mov bx, cs
	shl ebx, 4                      ; EBX = linear base of this page
	mov ds, bx                      ; (bx >> 4 was CS: reload DS = CS)
	mov ax, cs
	mov ds, ax
	; patch the GDT pointer and the far-jump targets with the base
	lea eax, [ebx + (tr_gdt - trampoline_start)]
	mov [tr_gdtr + 2 - trampoline_start], eax
	lea eax, [ebx + (tr_pm32 - trampoline_start)]
	mov [tr_far32 - trampoline_start], eax
	lea eax, [ebx + (tr_lm64 - trampoline_start)]
	mov [tr_far64 - trampoline_start], eax
	lgdt [tr_gdtr - trampoline_start]
	mov eax, cr0
	or eax, 1                       ; PE
	mov cr0, eax
	jmp dword far [tr_far32 - trampoline_start]

bits 32
tr_pm32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, (1 << 5) | (1 << 7)     ; PAE, PGE
	mov cr4, eax
	mov eax, [ebx + (tp_cr3 - trampoline_start)]
	mov cr3, eax
	mov ecx, 0xc0000080             ; EFER
	rdmsr
	or eax, [ebx + (tp_efer - trampoline_start)] ; LME (+ NXE as on the BSP)
	wrmsr
	mov eax, cr0
	and eax, ~((1 << 30) | (1 << 29)) ; caches on (CD, NW off)
	or eax, (1 << 31) | (1 << 16)   ; PG, WP
	mov cr0, eax
	jmp far [ebx + (tr_far64 - trampoline_start)]

bits 64
tr_lm64:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov rsp, [rbx + (tp_stack - trampoline_start)]
	mov rdi, [rbx + (tp_arg - trampoline_start)]
	mov rax, [rbx + (tp_entry - trampoline_start)]
	xor ebp, ebp
	push 0                          ; a null return address ends backtraces
	jmp rax

align 8
tr_gdt:
	dq 0
	dq 0x00cf9a000000ffff           ; 0x08: 32-bit code
	dq 0x00cf92000000ffff           ; 0x10: data
	dq 0x00af9a000000ffff           ; 0x18: 64-bit code
tr_gdtr:
	dw 4 * 8 - 1
	dd 0                            ; patched: linear address of tr_gdt
tr_far32:
	dd 0                            ; patched: linear address of tr_pm32
	dw 0x08
tr_far64:
	dd 0                            ; patched: linear address of tr_lm64
	dw 0x18

align 8
trampoline_params:                  ; filled by kernel/smp.c
tp_cr3:   dq 0
tp_efer:  dq 0
tp_stack: dq 0
tp_arg:   dq 0
tp_entry: dq 0
trampoline_end:
