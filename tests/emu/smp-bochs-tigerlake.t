desc=SMP: Bochs tigerlake with 2 CPUs: the AP starts (INIT-SIPI-SIPI through the trampoline below 1 MiB), enables VMX, and runs half of the VMs (tdp and shadow) while the boot CPU runs the others; outputs identical to bare
emu=bochs
cpu=tigerlake
mem=512M
smp=2
timeout=240
umbra=exit=emu trace=vm
guest=build/guests/hello.elf name=hello mem=32M -- seed=7 verbose
guest=build/guests/pae.elf name=pae paging=shadow mem=32M
guest=build/guests/cpuid.elf name=cpuid mem=32M
guest=build/guests/longmode.elf name=longmode paging=shadow mem=64M
expect=^smp: CPU 1 \(APIC 1\) online
expect=^smp: 2 CPU\(s\) online
expect=^umbra: VM 'pae' created: .* CPU 1,
expect=^umbra: VM 'longmode' created: .* CPU 1,
expect=^T cpu=1 vm=pae
expect=^SUMMARY vms=4 passed=4 failed=0
diff=hello build/guests/hello.elf seed=7 verbose 64M full
diff=pae build/guests/pae.elf 64M full
diff=cpuid build/guests/cpuid.elf 64M full
diff=longmode build/guests/longmode.elf 64M full
