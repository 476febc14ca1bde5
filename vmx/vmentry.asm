; vmx/vmentry.asm - one VM entry into a VMX guest and the VM-exit stub.
;
; int vmx_enter(struct vcpu_regs *regs, int launched)
;
; VM entry loads RSP, RIP and RFLAGS from the VMCS guest-state area; the
; other GPRs are ours to load and save (SDM vol. 3C §27.3.2 loads only the
; state in the VMCS, §28.5 restores only the VMCS host state, which holds
; no GPR but RSP). The host RSP field is written here, on every entry, so
; the exit stub (HOST_RIP) lands on this very stack frame with the regs
; pointer on top.
;
; Returns 0 after a VM exit, 1 on VMfailInvalid (CF=1), 2 on VMfailValid
; (ZF=1, the error number is in the VM-instruction error field) (§31.2).
; A VM exit clears RFLAGS except bit 1 (§28.5.3), so host interrupts stay
; off until the scheduler's sti.

%include "kernel/guest_regs.inc"

HOST_RSP equ 0x6c14

section .text
global vmx_enter
global vmx_exit_stub
vmx_enter:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi                        ; regs, found by the exit stub at [rsp]

	mov rax, HOST_RSP
	vmwrite rax, rsp
	jbe .vmwrite_failed             ; CF or ZF: VMfail

	mov eax, esi                    ; launched?
	test eax, eax
	mov rax, [rdi + R(G_RAX)]
	LOAD_COMMON_GPRS rdi
	mov rsi, [rdi + R(G_RSI)]
	mov rdi, [rdi + R(G_RDI)]      ; MOV leaves the flags of TEST alone
	jnz .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:
	; Only reached when the entry instruction failed: the flags say how.
	mov eax, 1
	jc vmx_enter_out
	mov eax, 2
	jmp vmx_enter_out
.vmwrite_failed:
	mov eax, 1
	jc vmx_enter_out
	mov eax, 2
	jmp vmx_enter_out

vmx_exit_stub:
	push rdi                        ; guest RDI
	mov rdi, [rsp + 8]              ; regs
	mov [rdi + R(G_RAX)], rax
	STORE_COMMON_GPRS rdi
	mov [rdi + R(G_RSI)], rsi
	pop rax
	mov [rdi + R(G_RDI)], rax
	xor eax, eax
vmx_enter_out:
	add rsp, 8                      ; regs
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
