; tests/guests/hostile-nested.asm - the assembly of hostile-nested.c: SVM
; instructions with a chosen rAX (32- and 64-bit), a VMRUN that leaves GIF
; clear, and the L2 code blobs (32-bit protected mode, flat, paging off),
; which the L1 copies to guest-physical 0x1000. The blobs use only relative
; jumps and the fixed L2 addresses below (the layout is hostile-nested.c's).

bits 32

L2_RES		equ 0x3000	; results the L1 reads back
GPA_A		equ 0x60000	; npt12 leaf the L2 rewrites through its map
GPA_B		equ 0x61000	; npt12 leaf the L2 clears through its map
GPA_NPT_PT	equ 0x70000	; -> the npt12 page table (L1's own table)
LOOP_PT		equ 0x200000	; PD[1] -> the PD itself: GPA 2M + j*4K -> PD[j]'s table
ALIAS		equ 0x400000	; PD[2], written by the L2 -> the npt12 PT
GPA_BEYOND	equ 0x80000	; npt12 leaf -> L1 physical 3 GiB (kill case)

section .text

; void hn_vmrun_gif0(u32 vmcb) - CLGI, VMRUN, and no STGI after the
; #VMEXIT: the L1 goes on with GIF = 0 (AMD APM vol. 2, 15.17 "Global
; Interrupt Flag"). Only for L2s that change no GPR (hn_l2_spin): VMRUN
; restores only rAX, rSP, rIP and RFLAGS of the host (15.5.1).
global hn_vmrun_gif0
hn_vmrun_gif0:
	push ebp
	push ebx
	push esi
	push edi
	mov eax, [esp + 20]
	clgi
	vmrun
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

; void hn_vmsave32(u32 rax), hn_vmload32(u32 rax): VMSAVE/VMLOAD with
; EAX = rax (15.5.2 "VMSAVE and VMLOAD Instructions").
global hn_vmsave32, hn_vmload32
hn_vmsave32:
	mov eax, [esp + 4]
	vmsave
	ret
hn_vmload32:
	mov eax, [esp + 4]
	vmload
	ret

; void hn_stgi(void), hn_clgi(void)
global hn_stgi, hn_clgi
hn_stgi:
	stgi
	ret
hn_clgi:
	clgi
	ret

; void hn_sti_spin(void *) - as fault_try's fn: STI, about 20000 loop
; iterations, CLI. A pending interrupt that may be taken is taken here (the
; library's stub for its vector returns from fault_try with the vector).
global hn_sti_spin, hn_stgi_sti_spin
hn_sti_spin:
	sti
	mov ecx, 20000
.l:	nop
	dec ecx
	jnz .l
	cli
	ret
hn_stgi_sti_spin:
	stgi
	jmp hn_sti_spin

; 64-bit (through long_call, RDI = rAX): VMRUN, VMSAVE, VMLOAD with a
; 64-bit rAX. Only for values that must raise #GP(0) (never a VMRUN that
; runs: no GPR is saved around it).
bits 64
global hn_vmrun64, hn_vmsave64, hn_vmload64
hn_vmrun64:
	mov rax, rdi
	vmrun
	xor eax, eax
	ret
hn_vmsave64:
	mov rax, rdi
	vmsave
	xor eax, eax
	ret
hn_vmload64:
	mov rax, rdi
	vmload
	xor eax, eax
	ret

; ------------------------------------------------------------ L2 code

section .rodata
bits 32

; VMMCALL in a loop, counting in [L2_RES]: the L1 skips the VMMCALL (3
; bytes) and VMRUNs again each time.
global hn_l2_vmmcall, hn_l2_vmmcall_end
hn_l2_vmmcall:
.l:	inc dword [L2_RES]
	vmmcall
	jmp .l
hn_l2_vmmcall_end:

; The L2 executes VMRUN (EAX = its GPA 0x5000) EBX times, counting in
; [L2_RES]; its L1 intercepts VMRUN (exit 0x80) and skips it; then HLT.
global hn_l2_vmrun, hn_l2_vmrun_end
hn_l2_vmrun:
	mov eax, 0x5000
.l:	inc dword [L2_RES]
	vmrun
	cmp [L2_RES], ebx
	jb .l
	hlt
hn_l2_vmrun_end:

; Spins: [L2_RES] counts up and [L2_RES + 4] (set by the L1) counts down
; to 0, then HLT (a start of 0 is 2^32 rounds: forever, for a test). It
; changes no GPR (hn_vmrun_gif0).
global hn_l2_spin, hn_l2_spin_end
hn_l2_spin:
.l:	inc dword [L2_RES]
	dec dword [L2_RES + 4]
	jnz .l
	hlt
hn_l2_spin_end:

; The npt12 editor: the L2 sees its own npt12 page table at GPA_NPT_PT
; (entry i maps GPA i * 4K) and the PD through the PD's loop entry at
; LOOP_PT + 0x1000. VMMCALL n (EAX = n) after each step; the L1 flushes
; (TLB_CONTROL=1) before resuming it.
global hn_l2_npt, hn_l2_npt_end
hn_l2_npt:
	mov eax, [GPA_A]			; frame 4
	mov [L2_RES + 0], eax
	mov eax, [GPA_B]			; frame 6
	mov [L2_RES + 4], eax
	mov eax, [GPA_NPT_PT + (GPA_A >> 12) * 8] ; its npt12 leaf (read)
	mov [L2_RES + 8], eax
	mov eax, [LOOP_PT + (GPA_A >> 12) * 8]	; the same through PD[1] -> PD
	mov [L2_RES + 12], eax			; (GPA 2M -> PD[0]'s table)
	mov eax, [LOOP_PT + 0x1000 + 8]		; PD[1] itself, via the loop
	mov [L2_RES + 16], eax
	; leaf of GPA_A: frame 4 -> frame 5 (the L1 put frame 5 at [L2_RES + 0x100])
	mov eax, [L2_RES + 0x100]
	mov [GPA_NPT_PT + (GPA_A >> 12) * 8], eax
	; leaf of GPA_B: not present
	mov dword [GPA_NPT_PT + (GPA_B >> 12) * 8], 0
	; PD[2] (GPA 4M..6M) -> the npt12 PT (an alias of GPA 0..2M), through
	; the loop; the L1 put the PT's entry at [L2_RES + 0x104]
	mov eax, [L2_RES + 0x104]
	mov [LOOP_PT + 0x1000 + 2 * 8], eax
	mov dword [LOOP_PT + 0x1000 + 2 * 8 + 4], 0
	mov eax, 1
	vmmcall					; L1: TLB_CONTROL=1
	mov eax, [GPA_A]			; frame 5 now
	mov [L2_RES + 20], eax
	mov eax, [ALIAS + L2_RES]		; = [L2_RES]
	mov [L2_RES + 24], eax
	mov dword [ALIAS + L2_RES + 28], 0x5e1f5e1f ; lands at [L2_RES + 28]
	mov eax, [GPA_B]			; #NPF not present; L1 maps it
	mov [L2_RES + 32], eax			; to frame 7
	mov eax, [ALIAS + GPA_NPT_PT + (GPA_A >> 12) * 8] ; leaf via the alias
	mov [L2_RES + 36], eax
	; make GPA_A not present through the alias of the PT, then read it
	mov dword [ALIAS + GPA_NPT_PT + (GPA_A >> 12) * 8], 0
	mov eax, 2
	vmmcall					; L1: TLB_CONTROL=1
	mov eax, [GPA_A]			; #NPF; the L1 restores frame 4
	mov [L2_RES + 40], eax
	hlt
hn_l2_npt_end:

; The L2 reads GPA_BEYOND, whose npt12 leaf points at L1 physical 3 GiB.
global hn_l2_beyond, hn_l2_beyond_end
hn_l2_beyond:
	mov eax, [GPA_BEYOND]
	mov [L2_RES], eax
	mov dword [GPA_BEYOND], 0x12345678
	mov eax, [GPA_BEYOND]
	mov [L2_RES + 4], eax
	hlt
hn_l2_beyond_end:

; OUT to port 0x5a0, RDMSR of STAR (0xc0000081), then HLT: for the IOPM and
; MSRPM tests (an exit at either, or none).
global hn_l2_io, hn_l2_io_end
hn_l2_io:
	mov dx, 0x5a0
	mov al, 0x42
	out dx, al
	mov ecx, 0xc0000081
	rdmsr
	hlt
hn_l2_io_end:

; CLGI, STGI, VMSAVE and VMLOAD of its own GPA 0x5000 in the L2, none of
; them intercepted by the L1, then HLT.
global hn_l2_svm, hn_l2_svm_end
hn_l2_svm:
	clgi
	stgi
	mov eax, 0x5000
	vmsave
	vmload
	hlt
hn_l2_svm_end:
