; tests/guests/bench-nested.asm - the assembly of bench-nested.c: the L1's
; VMRUN loop with its minimal CPUID handler (plain, and with the handler
; timed by RDTSC), and the L2 code blob (32-bit protected mode, flat,
; paging off under npt12), which the L1 copies to guest-physical 0x1000.

bits 32

L2_RES		equ 0x3000	; results the L1 reads back (nested-common layout)
L2_N		equ 0x3040	; iterations, written by the L1

VMCB_EXITCODE	equ 0x070
VMCB_RIP	equ 0x578
VMCB_RAX	equ 0x5f8
EXIT_CPUID	equ 0x72

; What the L1's CPUID emulation returns, whatever the leaf (bench-nested.c
; has the same values: BN_MIX).
BN_A		equ 0x4e425655	; "UVBN"
BN_B		equ 0x6e656220	; " ben"
BN_C		equ 0x64657473	; "sted"
BN_D		equ 0x00324c20	; " L2"

section .bss
alignb 8
bn_vmcb:	resd 1
bn_t:		resq 1		; TSC right after the last #VMEXIT
global bn_handler_tsc
bn_handler_tsc:	resq 1		; sum of the timed handlers' TSC deltas

section .text

; u32 bn_run(u32 vmcb, u32 timed) - VMRUN the L2 until an exit other than
; CPUID; returns that exit code (low 32 bits). Each CPUID exit is handled
; in place: EAX in the VMCB, EBX/ECX/EDX in the registers (VMRUN neither
; saves nor loads them: the L2's values are live in the L1's registers,
; AMD APM vol. 2, 15.5.1), RIP += 2 (CPUID is 0f a2), VMRUN again. The
; handler leaves ESI, EDI and EBP alone: they are the L2's. GIF is clear
; from the CLGI to the STGI (each #VMEXIT clears it again, 15.17).
; timed != 0: the same handler with RDTSC right after each #VMEXIT and
; right before the next VMRUN, the deltas summed in bn_handler_tsc.
global bn_run
bn_run:
	push ebp
	push ebx
	push esi
	push edi
	mov eax, [esp + 20]
	mov [bn_vmcb], eax
	cmp dword [esp + 24], 0
	jne .timed
	clgi
.plain:
	vmrun
	cmp dword [eax + VMCB_EXITCODE], EXIT_CPUID
	jne .out
	mov dword [eax + VMCB_RAX], BN_A
	add dword [eax + VMCB_RIP], 2
	mov ebx, BN_B
	mov ecx, BN_C
	mov edx, BN_D
	jmp .plain

.timed:
	clgi
.t:
	vmrun
	rdtsc
	mov [bn_t], eax
	mov [bn_t + 4], edx
	mov eax, [bn_vmcb]
	cmp dword [eax + VMCB_EXITCODE], EXIT_CPUID
	jne .out
	mov dword [eax + VMCB_RAX], BN_A
	add dword [eax + VMCB_RIP], 2
	rdtsc
	sub eax, [bn_t]
	sbb edx, [bn_t + 4]
	add [bn_handler_tsc], eax
	adc [bn_handler_tsc + 4], edx
	mov ebx, BN_B
	mov ecx, BN_C
	mov edx, BN_D
	mov eax, [bn_vmcb]
	jmp .t

.out:
	mov eax, [bn_vmcb]
	mov eax, [eax + VMCB_EXITCODE]
	stgi
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

; ------------------------------------------------------------ L2 code

section .rodata

; The L2: CPUID leaf 0 [L2_N] times between two RDTSCs (the loop of
; bench-exits' `cpuid`: sum += EAX ^ EBX ^ ECX ^ EDX), then HLT. Results:
; L2_RES +0 TSC before, +8 TSC after, +16 the checksum. It writes its
; results page before the first RDTSC, so no first-touch work of a
; hypervisor below lands in the timed loop.
global bn_l2_cpuid, bn_l2_cpuid_end
bits 32
bn_l2_cpuid:
	mov ebp, [L2_N]
	xor edi, edi
	mov [L2_RES + 16], edi
	rdtsc
	mov [L2_RES + 0], eax
	mov [L2_RES + 4], edx
	test ebp, ebp
	jz .done
.loop:
	xor eax, eax
	xor ecx, ecx
	cpuid				; exit 0x72, handled by the L1
	xor eax, ebx
	xor eax, ecx
	xor eax, edx
	add edi, eax
	dec ebp
	jnz .loop
.done:
	rdtsc
	mov [L2_RES + 8], eax
	mov [L2_RES + 12], edx
	mov [L2_RES + 16], edi
	hlt
bn_l2_cpuid_end:
