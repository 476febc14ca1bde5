; boot/entry.asm - 32-bit entry from GRUB (multiboot2) or QEMU -kernel
; (multiboot1), and the switch to long mode.
;
; Entry state (Multiboot2 spec §3.3): 32-bit protected mode, paging off,
; EAX = magic, EBX = physical address of the info block, no valid stack.
; Under OVMF, EFER.NXE may already be set and CR0/CR4 carry extra bits.
;
; We check the magic and long-mode support (printing a clear message on
; COM1 when either is missing), clear .bss, build boot page tables that map
; the first 4 GiB both at 0 (identity, for the jump) and at the direct map
; base, and the image at KERNEL_VMA, enter long mode (SDM vol. 3A §10.8.5)
; and call kmain(magic, info_pa) on the boot stack in the higher half.
; mm/hostpt.c replaces these tables with the final ones.

KERNEL_VMA   equ 0xffffffff80000000
MB2_BOOT_MAGIC equ 0x36d76289
MB1_BOOT_MAGIC equ 0x2badb002
COM1         equ 0x3f8

%define PHYS(x) ((x) - KERNEL_VMA)

extern kmain
extern __bss_start, __bss_end
global _start
global boot_stack_top, boot_stack_guard
global boot_pml4

section .boot.text progbits alloc exec nowrite align=16
bits 32
_start:
	cli
	cld
	mov [boot_saved_magic], eax     ; keep magic and info pointer
	mov [boot_saved_info], ebx
	mov edi, eax
	mov esp, PHYS(boot_stack_top)

	cmp edi, MB2_BOOT_MAGIC
	je .magic_ok
	cmp edi, MB1_BOOT_MAGIC
	je .magic_ok
	mov ebx, msg_magic
	jmp early_fail
.magic_ok:
	; CPUID must report long mode (AMD APM vol. 3 / SDM vol. 2A: CPUID
	; 8000_0001h EDX bit 29).
	pushfd
	pop eax
	mov ecx, eax
	xor eax, 1 << 21
	push eax
	popfd
	pushfd
	pop eax
	push ecx
	popfd
	xor eax, ecx
	jz .no_lm
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_lm
	mov eax, 0x80000001
	cpuid
	bt edx, 29
	jnc .no_lm
	mov ebp, edx                    ; remember NX support (bit 20)

	; Bochs' BIOS may leave caching disabled (CR0.CD/NW); clear them.
	mov eax, cr0
	and eax, ~((1 << 30) | (1 << 29))
	mov cr0, eax

	; clear .bss (the boot page tables live there)
	mov edi, PHYS(__bss_start)
	mov ecx, PHYS(__bss_end)
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd

	; PD entries: 2048 x 2 MiB covering 0..4 GiB (P|RW|PS)
	mov edi, PHYS(boot_pd)
	xor ecx, ecx
.fill_pd:
	mov eax, ecx
	shl eax, 21
	or eax, 0x83
	mov [edi + ecx * 8], eax
	mov eax, ecx
	shr eax, 11
	mov [edi + ecx * 8 + 4], eax
	inc ecx
	cmp ecx, 2048
	jb .fill_pd
	; PDPT (low/direct): 4 entries -> the 4 PDs
	mov edi, PHYS(boot_pdpt)
	mov eax, PHYS(boot_pd) + 0x03
	mov [edi + 0], eax
	add eax, 4096
	mov [edi + 8], eax
	add eax, 4096
	mov [edi + 16], eax
	add eax, 4096
	mov [edi + 24], eax
	; PDPT (kernel): entry 510 -> first PD (0..1 GiB at KERNEL_VMA)
	mov edi, PHYS(boot_pdpt_k)
	mov dword [edi + 510 * 8], PHYS(boot_pd) + 0x03
	; PML4: [0] identity, [256] direct map, [511] kernel
	mov edi, PHYS(boot_pml4)
	mov dword [edi + 0], PHYS(boot_pdpt) + 0x03
	mov dword [edi + 256 * 8], PHYS(boot_pdpt) + 0x03
	mov dword [edi + 511 * 8], PHYS(boot_pdpt_k) + 0x03

	mov eax, PHYS(boot_pml4)
	mov cr3, eax
	mov eax, cr4
	or eax, 1 << 5                  ; CR4.PAE
	mov cr4, eax
	mov ecx, 0xc0000080             ; IA32_EFER
	rdmsr
	or eax, 1 << 8                  ; LME
	bt ebp, 20
	jnc .no_nx
	or eax, 1 << 11                 ; NXE (W^X needs it; OVMF may have set it)
.no_nx:
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16) | 1   ; PG | WP | PE
	mov cr0, eax
	lgdt [boot_gdtr]
	jmp 0x08:.long_mode

.no_lm:
	mov ebx, msg_nolm
	jmp early_fail

bits 64
.long_mode:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	xor ebp, ebp
	mov edi, [abs boot_saved_magic]
	mov esi, [abs boot_saved_info]
	mov rax, kmain
	call rax
.hang:
	cli
	hlt
	jmp .hang

bits 32
; early_fail: print the NUL-terminated string at EBX on COM1 and halt.
early_fail:
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov al, [ebx]
	test al, al
	jz .halt
	mov dx, COM1
	out dx, al
	inc ebx
	mov dx, COM1 + 5
	jmp .wait
.halt:
	cli
	hlt
	jmp .halt

section .boot.data progbits alloc noexec write align=16
msg_magic: db "umbra: not started by a multiboot2 or multiboot1 loader (bad magic in EAX); halting", 13, 10, 0
msg_nolm:  db "umbra: this CPU has no long mode (CPUID 80000001h EDX.LM=0); Umbra needs x86_64; halting", 13, 10, 0
align 8
boot_saved_magic: dd 0
boot_saved_info:  dd 0
align 16
boot_gdt:
	dq 0
	dq 0x00af9a000000ffff           ; 0x08: 64-bit code, DPL0
	dq 0x00cf92000000ffff           ; 0x10: data
boot_gdtr:
	dw boot_gdtr - boot_gdt - 1
	dd boot_gdt

section .bss nobits alloc noexec write align=4096
boot_pml4:   resb 4096
boot_pdpt:   resb 4096
boot_pdpt_k: resb 4096
boot_pd:     resb 4 * 4096
boot_stack_guard: resb 4096     ; unmapped by mm/hostpt.c
boot_stack:  resb 16384
boot_stack_top:
