; svm/vmrun.asm - one world switch into an SVM guest and back.
;
; void svm_vmrun(u64 vmcb_pa, struct vcpu_regs *regs, u64 host_vmcb_pa)
;
; VMRUN loads RAX, RSP, RIP, RFLAGS and the rest of the save area from the
; VMCB; the other GPRs are ours to load and save (APM vol. 2 §15.5). VMLOAD
; and VMSAVE move the state VMRUN leaves alone (FS, GS, TR, LDTR and their
; hidden parts, KernelGsBase, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*), so the
; host's GS base (per-CPU data) comes back through host_vmcb_pa (§15.5.2).
; GIF is cleared around the switch; host IF=1 during VMRUN lets physical
; interrupts end the guest's run (INTR intercept, V_INTR_MASKING=1), and
; they are taken by the host once GIF and IF are set again.

; struct vcpu_regs: gpr[16] in x86 encoding order, then rip, rflags
%define R(n) (n * 8)
G_RAX equ 0
G_RCX equ 1
G_RDX equ 2
G_RBX equ 3
G_RSP equ 4
G_RBP equ 5
G_RSI equ 6
G_RDI equ 7

section .text
global svm_vmrun
svm_vmrun:
	push rbp
	mov rbp, rsp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rsi                        ; regs
	push rdx                        ; host_vmcb_pa
	push rdi                        ; vmcb_pa

	clgi
	mov rax, rdx
	vmsave                          ; host FS/GS/TR/... state
	mov rax, rdi
	vmload

	mov rcx, [rsi + R(G_RCX)]
	mov rdx, [rsi + R(G_RDX)]
	mov rbx, [rsi + R(G_RBX)]
	mov rbp, [rsi + R(G_RBP)]
	mov rdi, [rsi + R(G_RDI)]
	mov r8,  [rsi + R(8)]
	mov r9,  [rsi + R(9)]
	mov r10, [rsi + R(10)]
	mov r11, [rsi + R(11)]
	mov r12, [rsi + R(12)]
	mov r13, [rsi + R(13)]
	mov r14, [rsi + R(14)]
	mov r15, [rsi + R(15)]
	mov rsi, [rsi + R(G_RSI)]

	sti
	; The STI shadow must end before VMRUN: QEMU TCG (and Bochs) carry
	; the host's interrupt inhibition into the guest's first
	; instruction, which then never takes a virtual interrupt (V_IRQ)
	; there. GIF=0 still holds physical interrupts off here.
	nop
	vmrun
	cli

	push rsi                        ; guest RSI
	mov rsi, [rsp + 24]             ; regs
	mov [rsi + R(G_RCX)], rcx
	mov [rsi + R(G_RDX)], rdx
	mov [rsi + R(G_RBX)], rbx
	mov [rsi + R(G_RBP)], rbp
	mov [rsi + R(G_RDI)], rdi
	mov [rsi + R(8)], r8
	mov [rsi + R(9)], r9
	mov [rsi + R(10)], r10
	mov [rsi + R(11)], r11
	mov [rsi + R(12)], r12
	mov [rsi + R(13)], r13
	mov [rsi + R(14)], r14
	mov [rsi + R(15)], r15
	pop rax
	mov [rsi + R(G_RSI)], rax

	pop rax                         ; vmcb_pa
	vmsave
	pop rax                         ; host_vmcb_pa
	vmload
	stgi                            ; IF is still 0: pending IRQs wait

	pop rsi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
