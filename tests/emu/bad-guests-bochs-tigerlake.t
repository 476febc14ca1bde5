desc=bad guests under VMX on Bochs tigerlake: triple fault, a spinning guest with IF=0 (stopped by its timeout: the VMX-preemption timer bounds every run, since Bochs gives external-interrupt exits only at IF=1), memory beyond RAM; the neighbour passes
emu=bochs
cpu=tigerlake
mem=512M
timeout=240
umbra=exit=emu
result=fail
guest=build/guests/hello.elf name=hello mem=32M -- neighbour
guest=build/guests/triplefault.elf name=triplefault mem=16M
guest=build/guests/spin.elf name=spin mem=16M timeout=3
guest=build/guests/beyondram.elf name=beyondram mem=64M
expect=^vmx: .*EPT
expect=^VM-END name=hello result=exit code=0
expect=^VM-END name=triplefault result=triple-fault
expect=^VM-END name=spin result=killed reason="timeout after 3 s"
expect=^VM-END name=beyondram result=killed reason=".* of guest-physical 0x[0-9a-f]+ outside RAM
expect=^SUMMARY vms=4 passed=1 failed=3
diff=hello build/guests/hello.elf neighbour 64M full
diff=triplefault build/guests/triplefault.elf 64M full
diff=beyondram build/guests/beyondram.elf 64M prefix
