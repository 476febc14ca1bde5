desc=a guest touching memory beyond its RAM is killed cleanly on Bochs ryzen while its neighbour passes. Not here: the spinning guest (Bochs only delivers the host timer's INTR exit while the guest has IF=1) and the triple-faulting guest (Bochs 2.7 panics, and aborts, before checking the SVM SHUTDOWN intercept: see docs/platform.md)
emu=bochs
cpu=ryzen
mem=512M
timeout=240
umbra=exit=emu
result=fail
guest=build/guests/hello.elf name=hello mem=32M -- neighbour
guest=build/guests/beyondram.elf name=beyondram mem=64M
expect=^VM-END name=hello result=exit code=0
expect=^VM-END name=beyondram result=killed reason=".* of guest-physical 0x[0-9a-f]+ outside RAM
expect=^SUMMARY vms=2 passed=1 failed=1
diff=hello build/guests/hello.elf neighbour 64M full
diff=beyondram build/guests/beyondram.elf 64M prefix
