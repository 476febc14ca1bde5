desc=bad guests on Bochs ryzen (no spinning guest: Bochs only delivers the host timer's INTR exit while the guest has IF=1, see docs)
emu=bochs
cpu=ryzen
mem=512M
timeout=240
umbra=exit=emu
result=fail
guest=build/guests/hello.elf name=hello mem=32M -- neighbour
guest=build/guests/triplefault.elf name=triplefault mem=16M
guest=build/guests/beyondram.elf name=beyondram mem=32M
expect=^VM-END name=hello result=exit code=0
expect=^VM-END name=triplefault result=triple-fault
expect=^VM-END name=beyondram result=killed reason=".* of guest-physical 0x[0-9a-f]+ outside RAM
expect=^SUMMARY vms=3 passed=1 failed=2
diff=hello build/guests/hello.elf neighbour 32M full
diff=triplefault build/guests/triplefault.elf 16M full
diff=beyondram build/guests/beyondram.elf 32M prefix
