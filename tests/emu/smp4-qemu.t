desc=SMP: QEMU -smp 4: three APs start (INIT-SIPI-SIPI through the trampoline below 1 MiB), enables SVM, and runs their share of the VMs (tdp and shadow) while the boot CPU runs the others; outputs identical to bare
emu=qemu
cpu=max
mem=6G
smp=4
timeout=240
umbra=exit=emu trace=vm
guest=build/guests/hello.elf name=hello mem=32M -- seed=7 verbose
guest=build/guests/pae.elf name=pae paging=shadow mem=32M
guest=build/guests/cpuid.elf name=cpuid mem=32M
guest=build/guests/longmode.elf name=longmode paging=shadow mem=64M
expect=^smp: CPU 1 \(APIC 1\) online
expect=^smp: 4 CPU\(s\) online
expect=^smp: CPU 3 \(APIC 3\) online
expect=^umbra: VM 'pae' created: .* CPU 1,
expect=^umbra: VM 'longmode' created: .* CPU 3,
expect=^T cpu=1 vm=pae
expect=^SUMMARY vms=4 passed=4 failed=0
diff=hello build/guests/hello.elf seed=7 verbose 64M full
diff=pae build/guests/pae.elf 64M full
diff=cpuid build/guests/cpuid.elf 64M full
diff=longmode build/guests/longmode.elf 64M full
