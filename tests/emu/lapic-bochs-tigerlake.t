desc=the virtual local APIC (IA32_APIC_BASE, registers, LAPIC timer one-shot and periodic, IRR/ISR/EOI, TPR, self-IPIs) under Umbra with paging=tdp on Bochs tigerlake (VMX: interrupt-window exiting), output identical to bare QEMU -m 64M
emu=bochs
cpu=tigerlake
mem=512M
timeout=300
umbra=exit=emu
guest=build/guests/lapic.elf name=lapic mem=64M
expect=^VM-END name=lapic result=exit code=0
expect=^SUMMARY vms=1 passed=1 failed=0
diff=lapic build/guests/lapic.elf 64M full
