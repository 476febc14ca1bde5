; tests/guests/lib/ap_tramp.asm - application-processor start-up for the
; multi-CPU test guests (lib/smp.c), interrupt stubs of the APs' IDT and
; the fault-tolerant probes APs use.
;
; AP start (Intel SDM vol. 3A §9.4 "Multiple-Processor (MP)
; Initialization", §9.4.4.1 the BSP's INIT-SIPI-SIPI sequence): after the
; start-up IPI an AP begins in real mode at CS = vector << 8, IP = 0. The
; real-mode part below (ap_tramp_start .. ap_tramp_end) is copied by
; smp.c to the page the SIPI vector names (0x8000); it loads the BSP's GDT
; (its pseudo-descriptor is patched into the copy), enters 32-bit
; protected mode with CR0.CD/NW cleared (INIT sets them, §9.1.2) and jumps
; to ap_entry32 in the image, which takes the stack and CPU index the BSP
; left in smp_boot_esp / smp_boot_idx, loads the APs' IDT and calls
; smp_ap_entry(idx) in C. The BSP starts one AP at a time, so those two
; variables are never shared by two starting APs.

bits 16

SEL_CODE32	equ 0x08	; lib/entry.asm's GDT
SEL_DATA	equ 0x10

section .text
global ap_tramp_start, ap_tramp_end, ap_tramp_gdtr
ap_tramp_start:
	cli
	cld
	o32 lgdt [cs:ap_tramp_gdtr - ap_tramp_start]
	mov eax, cr0
	and eax, 0x9fffffff	; CD = NW = 0: caches on
	or eax, 1		; PE
	mov cr0, eax
	jmp dword SEL_CODE32:ap_entry32
align 8
ap_tramp_gdtr:			; patched: the BSP's SGDT (limit, 32-bit base)
	dw 0
	dd 0
ap_tramp_end:

bits 32
extern smp_boot_esp, smp_boot_idx, smp_ap_idtr, smp_ap_entry
ap_entry32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	mov esp, [smp_boot_esp]
	lidt [smp_ap_idtr]
	push dword [smp_boot_idx]
	call smp_ap_entry	; does not return
.hang:
	cli
	hlt
	jmp .hang

; ------------------------------------------------------------ interrupts
; One stub per vector (a dummy error code where the CPU pushes none, then
; the vector), a common part that calls smp_isr(frame) in C; smp_isr may
; change the saved EIP (an expected fault resumes at smp_probe_fix).

%macro SMPISR 1
smp_isr_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
%else
	push 0
%endif
	push %1
	jmp smp_isr_common
%endmacro

%assign v 0
%rep 256
SMPISR v
%assign v v + 1
%endrep

extern smp_isr
smp_isr_common:
	pushad
	cld
	push esp
	call smp_isr
	add esp, 4
	popad
	add esp, 8		; vector, error code
	iretd

section .rodata
global smp_isr_stub_table
smp_isr_stub_table:
%assign v 0
%rep 256
	dd smp_isr_ %+ v
%assign v v + 1
%endrep

; ------------------------------------------------------------ probes
; u32 smp_probe_read(u32 addr) / void smp_probe_write(u32 addr, u32 val):
; one access at a known instruction. A fault there (with the CPU's probe
; armed) is recorded by smp_isr, which resumes at smp_probe_fix: the stack
; is the one at entry, so its RET returns to the caller.

section .text
global smp_probe_read, smp_probe_write, smp_probe_fix
global smp_probe_read_insn, smp_probe_write_insn
smp_probe_read:
	mov edx, [esp + 4]
smp_probe_read_insn:
	mov eax, [edx]
	ret
smp_probe_write:
	mov edx, [esp + 4]
	mov eax, [esp + 8]
smp_probe_write_insn:
	mov [edx], eax
	ret
smp_probe_fix:
	xor eax, eax
	ret
