desc=SMP: Bochs tigerlake with 2 CPUs: the AP starts (INIT-SIPI-SIPI through the trampoline below 1 MiB), enables VMX, and runs half of the VMs (tdp and shadow) while the boot CPU runs the others; outputs identical to bare
emu=bochs
cpu=tigerlake
mem=512M
smp=2
timeout=240
umbra=exit=emu trace=vm
include=smp.inc
