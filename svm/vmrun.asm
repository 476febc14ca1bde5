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

%include "kernel/guest_regs.inc"

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

	LOAD_COMMON_GPRS rsi
	mov rdi, [rsi + R(G_RDI)]
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
	STORE_COMMON_GPRS rsi
	mov [rsi + R(G_RDI)], rdi
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
