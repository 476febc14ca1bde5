; tests/guests/nested-common.asm - the assembly shared by the nested-SVM
; guests (nested64, nestedpae, nested32, nestednonpt; see nested-common.c):
; the L1's VMRUN stubs (32-bit and 64-bit host) and the L2 code blobs, which
; the L1 copies to guest-physical (or, without NPT, guest-virtual) 0x1000.
;
; The blobs use no absolute address of their own: only relative jumps and
; the fixed L2 addresses below (the layout is nested-common.c's).

bits 32

L2_RES		equ 0x3000	; results the L1 reads back
VA_REMAP	equ 0x400000	; -> GPA 0x20000 (its npt12 leaf is remapped)
VA_WALK		equ 0x800000	; its page table is at GPA 0x50000 (not in npt12)
GPA_DEMAND	equ 0x40000	; not in npt12 at first
GPA_RO		equ 0x30000	; npt12 leaf read-only
GPA_FETCH	equ 0x60000	; not in npt12 at first, holds code
MSR_EFER	equ 0xC0000080

; struct nsvm_ctx (nested-common.c)
CTX_VMCB	equ 0
CTX_RBX		equ 8
CTX_RCX		equ 16
CTX_RDX		equ 24
CTX_RSI		equ 32
CTX_RDI		equ 40
CTX_RBP		equ 48
CTX_PRE		equ 56		; CR0, CR3, CR4, EFER before VMRUN
CTX_POST	equ 88		; the same after #VMEXIT

section .text

; void nsvm_vmrun32(struct nsvm_ctx *c) - one VMRUN from 32-bit protected
; mode. VMRUN saves and restores only the host's rAX, rSP, rIP (and the
; state in the host save area); every other GPR comes back holding the
; guest's value (APM vol. 2, 15.5.1 "Basic Operation", 15.6 "#VMEXIT"), so
; the guest's RBX..RBP are loaded from and stored back to the context.
; GIF is cleared around the world switch (15.17 "Global Interrupt Flag").
global nsvm_vmrun32
nsvm_vmrun32:
	push ebp
	push ebx
	push esi
	push edi
	mov edi, [esp + 20]
	mov eax, cr0
	mov [edi + CTX_PRE + 0], eax
	mov eax, cr3
	mov [edi + CTX_PRE + 8], eax
	mov eax, cr4
	mov [edi + CTX_PRE + 16], eax
	mov ecx, MSR_EFER
	rdmsr
	mov [edi + CTX_PRE + 24], eax
	mov [edi + CTX_PRE + 28], edx
	push edi			; found again after #VMEXIT
	mov eax, [edi + CTX_VMCB]
	mov ebx, [edi + CTX_RBX]
	mov ecx, [edi + CTX_RCX]
	mov edx, [edi + CTX_RDX]
	mov esi, [edi + CTX_RSI]
	mov ebp, [edi + CTX_RBP]
	mov edi, [edi + CTX_RDI]
	clgi
	vmrun
	xchg edi, [esp]			; EDI = context, [ESP] = guest's EDI
	mov [edi + CTX_RBX], ebx
	mov [edi + CTX_RCX], ecx
	mov [edi + CTX_RDX], edx
	mov [edi + CTX_RSI], esi
	mov [edi + CTX_RBP], ebp
	pop eax
	mov [edi + CTX_RDI], eax
	stgi
	mov eax, cr0
	mov [edi + CTX_POST + 0], eax
	mov eax, cr3
	mov [edi + CTX_POST + 8], eax
	mov eax, cr4
	mov [edi + CTX_POST + 16], eax
	mov ecx, MSR_EFER
	rdmsr
	mov [edi + CTX_POST + 24], eax
	mov [edi + CTX_POST + 28], edx
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

; u64 nsvm_vmrun64(struct nsvm_ctx *c) - the same from 64-bit mode, called
; through long_call() (RDI = c). The host is in long mode at VMRUN, so the
; nested page tables are 4-level (15.25.4 "Nested Paging and VMRUN/#VMEXIT").
bits 64
global nsvm_vmrun64
nsvm_vmrun64:
	push rbp
	push rbx
	mov rax, cr0
	mov [rdi + CTX_PRE + 0], rax
	mov rax, cr3
	mov [rdi + CTX_PRE + 8], rax
	mov rax, cr4
	mov [rdi + CTX_PRE + 16], rax
	mov ecx, MSR_EFER
	rdmsr
	mov [rdi + CTX_PRE + 24], eax
	mov [rdi + CTX_PRE + 28], edx
	push rdi
	mov rax, [rdi + CTX_VMCB]
	mov rbx, [rdi + CTX_RBX]
	mov rcx, [rdi + CTX_RCX]
	mov rdx, [rdi + CTX_RDX]
	mov rsi, [rdi + CTX_RSI]
	mov rbp, [rdi + CTX_RBP]
	mov rdi, [rdi + CTX_RDI]
	clgi
	vmrun
	xchg rdi, [rsp]
	mov [rdi + CTX_RBX], rbx
	mov [rdi + CTX_RCX], rcx
	mov [rdi + CTX_RDX], rdx
	mov [rdi + CTX_RSI], rsi
	mov [rdi + CTX_RBP], rbp
	pop rax
	mov [rdi + CTX_RDI], rax
	stgi
	mov rax, cr0
	mov [rdi + CTX_POST + 0], rax
	mov rax, cr3
	mov [rdi + CTX_POST + 8], rax
	mov rax, cr4
	mov [rdi + CTX_POST + 16], rax
	mov ecx, MSR_EFER
	rdmsr
	mov [rdi + CTX_POST + 24], eax
	mov [rdi + CTX_POST + 28], edx
	pop rbx
	pop rbp
	xor eax, eax
	ret

; ------------------------------------------------------------ L2 code

section .rodata

; The exits L2, assembled for real mode, 32-bit and 64-bit code: each
; instruction below exits to the L1 (CPUID, IN/OUT/INS/OUTS through the
; IOPM, VMMCALL, HLT), which emulates it; results go to L2_RES.
%macro EXITS_BODY 0
	mov eax, 0x4e535600
	xor ecx, ecx
	cpuid				; exit 0x72
	mov [L2_RES + 0], eax
	mov [L2_RES + 4], ebx
	mov [L2_RES + 8], ecx
	mov [L2_RES + 12], edx
	mov dx, 0x5a0
	mov al, 0x42
	out dx, al			; port 0x5a0, 8 bits, out
	in ax, dx			; port 0x5a0, 16 bits, in
	mov [L2_RES + 16], eax
	mov eax, 0xcafe1234
	out 0xe0, eax			; port 0xe0, 32 bits, out
	mov dword [L2_RES + 0x100], 0x00006968
	mov esi, L2_RES + 0x100
	mov ecx, 2
	rep outsb			; port 0x5a0, string, REP, 8 bits
	mov [L2_RES + 20], esi
	mov [L2_RES + 24], ecx
	mov edi, L2_RES + 0x200
	mov dx, 0x5a2
	insw				; port 0x5a2, string, 16 bits, in
	mov [L2_RES + 28], edi
	mov eax, 0x12345678
	mov ebx, 0x9abcdef0
	vmmcall				; exit 0x81
	mov [L2_RES + 32], eax
	mov [L2_RES + 36], ebx
	hlt				; exit 0x78
%endmacro

global l2_exits16, l2_exits16_end
bits 16
l2_exits16:
	EXITS_BODY
l2_exits16_end:

global l2_exits32, l2_exits32_end
bits 32
l2_exits32:
	EXITS_BODY
l2_exits32_end:

global l2_exits64, l2_exits64_end
bits 64
l2_exits64:
	EXITS_BODY
l2_exits64_end:

; The paging L2 (with NPT): its own page tables (CR3 = EBX), remapped
; npt12 leaves, #NPF at the final translation and during its table walk,
; a read-only npt12 leaf, and (EDX != 0) a fetch from an unmapped page.
; %1: the register for `call` (eax or rax).
%macro PAGING_BODY 1
	mov eax, [VA_REMAP]		; GPA 0x20000 -> frame 1
	mov [L2_RES + 0], eax
	mov eax, 1
	vmmcall				; L1: npt12 leaf -> frame 2, TLB_CONTROL=1
	mov eax, [VA_REMAP]
	mov [L2_RES + 4], eax
	mov eax, 2
	vmmcall				; L1: npt12 leaf -> frame 3, new ASID
	mov eax, [VA_REMAP]
	mov [L2_RES + 8], eax
	mov eax, [GPA_DEMAND + 0x10]	; #NPF, final translation
	mov [L2_RES + 12], eax
	mov eax, [VA_WALK]		; #NPF reading the PTE at GPA 0x50000
	mov [L2_RES + 16], eax
	mov eax, [GPA_RO]
	mov [L2_RES + 20], eax
	mov dword [GPA_RO], 0x600df00d	; #NPF, write to a read-only leaf
	test edx, edx
	jz %%nofetch
	mov eax, GPA_FETCH
	call %1				; #NPF, instruction fetch
	mov [L2_RES + 24], eax
%%nofetch:
	hlt
%endmacro

; 32-bit: enables its own paging (CR4 = ECX: PSE or PAE, CR3 = EBX).
global l2_paging32, l2_paging32_end
bits 32
l2_paging32:
	mov cr4, ecx
	mov cr3, ebx
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax
	PAGING_BODY eax
l2_paging32_end:

; 64-bit: started in long mode on these tables; reloads CR3 = RBX.
global l2_paging64, l2_paging64_end
bits 64
l2_paging64:
	mov cr3, rbx
	PAGING_BODY rax
l2_paging64_end:

; The L2 without NPT (32-bit PAE paging on tables the L1 owns): #PF
; intercepted and served by the L1, a remapped PTE flushed with INVLPGA,
; a MOV to CR3 intercepted and emulated by switching tables.
global l2_demand32, l2_demand32_end
bits 32
l2_demand32:
	mov dword [VA_REMAP], 0x11112222	; #PF (write, not present)
	mov eax, [VA_REMAP]
	mov [L2_RES + 0], eax
	mov eax, 1
	vmmcall				; L1: PTE -> frame 2, INVLPGA
	mov eax, [VA_REMAP]
	mov [L2_RES + 4], eax
	mov eax, 0x7e57c000
	mov cr3, eax			; intercepted: L1 loads its second table
	mov eax, [VA_REMAP]
	mov [L2_RES + 8], eax
	mov eax, [0x500000]		; #PF (read, not present)
	mov [L2_RES + 12], eax
	hlt
l2_demand32_end:

; A lone HLT: the L2 of the consistency checks.
global l2_hlt, l2_hlt_end
l2_hlt:
	hlt
l2_hlt_end:
