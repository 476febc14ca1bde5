desc=a killed VM prints this CPU's flight recorder (oldest exit first, the fatal exit last) and its VMCB; the neighbour passes
emu=qemu
cpu=max
mem=6G
timeout=120
umbra=exit=emu
result=fail
guest=build/guests/hello.elf name=hello mem=32M -- neighbour
guest=build/guests/beyondram.elf name=beyondram mem=64M
expect=^VM-END name=hello result=exit code=0
expect=^VM-END name=beyondram result=killed reason=".* of guest-physical 0xc0000000 outside RAM
expect=^FR cpu=0 exits=[0-9]+ shown=32 \(oldest first\)$
expect=^FR cpu=0 seq=[0-9]+ tsc=[0-9]+ vm=beyondram vcpu=0 exit=tdp-fault raw=0x400 rip=0x[0-9a-f]+ info1=0x[0-9a-f]+ info2=0xc0000000$
expect=^VMCB of vCPU 0 
expect=^SUMMARY vms=2 passed=1 failed=1
diff=hello build/guests/hello.elf neighbour 64M full
diff=beyondram build/guests/beyondram.elf 64M prefix
