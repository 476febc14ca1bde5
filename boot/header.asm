; boot/header.asm - the multiboot2 and multiboot1 headers.
;
; GRUB's `multiboot2` command finds the first header; QEMU's `-kernel` (with
; the elf32-i386 copy, build/umbra32.elf) finds the second. Both must lie in
; the first 8 KiB of the image: the linker places .mbheader first.
; Multiboot2 spec 1.0 §3.1; Multiboot 0.6.96 §3.1.

MB2_MAGIC    equ 0xe85250d6
MB2_ARCH_I386 equ 0
MB1_MAGIC    equ 0x1badb002
MB1_FLAGS    equ 0x00000003      ; bit 0: page-align modules, bit 1: memory info

section .mbheader progbits alloc noexec nowrite align=8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	; information request: we need the memory map, command line, modules,
	; and want the ACPI RSDP and EFI tags when present (not required).
	align 8
	dw 1, 1                      ; type 1 = information request, flags 1 = optional
	dd 8 + 4 * 6
	dd 1, 3, 6, 14, 15, 12
	align 8
	; module alignment: page-aligned modules, so guest images can be mapped
	dw 6, 0
	dd 8
	align 8
	dw 0, 0                      ; end tag
	dd 8
mb2_header_end:

	align 4
mb1_header:
	dd MB1_MAGIC
	dd MB1_FLAGS
	dd -(MB1_MAGIC + MB1_FLAGS)
