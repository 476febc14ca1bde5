desc=SMP: a panic on the boot CPU stops the other CPUs (NMI) and prints every CPU's flight recorder
emu=qemu
cpu=max
mem=2G
smp=2
timeout=120
umbra=exit=emu selftest=panic
result=fail
panic=expected
expect=^smp: 2 CPU\(s\) online
expect=^PANIC on CPU 0: selftest: deliberate panic
expect=^FR cpu=0 
expect=^UMBRA-RESULT: FAIL panic
guest=build/guests/hello.elf name=hello mem=32M
