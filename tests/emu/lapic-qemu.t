desc=the virtual local APIC (IA32_APIC_BASE, registers, LAPIC timer one-shot and periodic, IRR/ISR/EOI, TPR, self-IPIs) under Umbra with paging=tdp on QEMU -cpu max, output identical to bare QEMU -m 64M
emu=qemu
cpu=max
mem=1G
timeout=240
umbra=exit=emu
include=lapic.inc
