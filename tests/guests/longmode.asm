; tests/guests/longmode.asm - the 64-bit half of the longmode guest.
; Called through long_call() (System V: argument in RDI, result in RAX).

bits 64

HIGH_LOW	equ 0x0000008000000000	; PML4 entry 1
HIGH_HALF	equ 0xffff800000001000	; PML4 entry 256
ABOVE_4G	equ 0x0000000100000000	; PML4 entry 0, PDPT entry 4
MSR_EFER	equ 0xC0000080

section .text

; void lm_main(struct lm_results *r): fills r (see longmode.c).
global lm_main
lm_main:
	; 64-bit arithmetic
	mov rax, 0x123456789
	mov rcx, 0x10001
	imul rax, rcx
	shl rax, 4
	mov rcx, 0xfedcba9876543210
	xor rax, rcx
	ror rax, 20
	mov [rdi + 0], rax
	; RIP-relative addressing agrees with the absolute address
	lea rax, [rel lm_marker]
	mov ecx, lm_marker
	xor edx, edx
	cmp rax, rcx
	sete dl
	mov [rdi + 8], rdx
	mov rax, [rel lm_data]
	mov [rdi + 16], rax
	; memory above 4 GiB (virtual), three aliases of one low page
	mov rax, HIGH_LOW
	mov rcx, 0xdeadbeefcafef00d
	mov [rax + 8], rcx
	mov rdx, HIGH_HALF
	mov rcx, [rdx + 8]
	mov [rdi + 24], rcx
	mov rcx, [rax + 16]		; written by the 32-bit side
	mov [rdi + 32], rcx
	mov rdx, ABOVE_4G
	mov rcx, [rdx + 8]
	mov [rdi + 40], rcx
	; mode state
	mov ecx, MSR_EFER
	rdmsr
	shl rdx, 32
	or rax, rdx
	mov [rdi + 48], rax
	mov ax, cs
	movzx eax, ax
	mov [rdi + 56], rax
	ret

; u64 lm_not(u64 x): returns ~x (checks argument and result passing).
global lm_not
lm_not:
	mov rax, rdi
	not rax
	ret

; u64 lm_read(u64 va): returns [va] (for expected faults).
global lm_read
lm_read:
	mov rax, [rdi]
	ret

section .data
lm_marker:	dq 0
lm_data:	dq 0x1122334455667788
