desc=the virtual local APIC (IA32_APIC_BASE, registers, LAPIC timer one-shot and periodic, IRR/ISR/EOI, TPR, self-IPIs) under Umbra with paging=tdp on Bochs tigerlake (VMX: interrupt-window exiting), output identical to bare QEMU -m 64M
emu=bochs
cpu=tigerlake
mem=512M
timeout=300
umbra=exit=emu
include=lapic.inc
