desc=every well-behaved test guest under Umbra with paging=shadow (Umbra builds the page tables the hardware walks) on Bochs tigerlake, output identical to the bare run
emu=bochs
cpu=tigerlake
mem=512M
timeout=240
umbra=exit=emu
guest=build/guests/hello.elf name=hello paging=shadow mem=32M -- seed=7 verbose
guest=build/guests/cpuid.elf name=cpuid paging=shadow mem=32M
guest=build/guests/longmode.elf name=longmode paging=shadow mem=64M
guest=build/guests/paging32.elf name=paging32 paging=shadow mem=32M
guest=build/guests/pae.elf name=pae paging=shadow mem=32M
guest=build/guests/strio.elf name=strio paging=shadow mem=32M
guest=build/guests/ctxswitch.elf name=ctxswitch paging=shadow mem=32M
expect=^VM-END name=hello result=exit code=0
expect=^VM-END name=cpuid result=exit code=0
expect=^VM-END name=longmode result=exit code=0
expect=^VM-END name=paging32 result=exit code=0
expect=^VM-END name=pae result=exit code=0
expect=^VM-END name=strio result=exit code=0
expect=^VM-END name=ctxswitch result=exit code=0
expect=^SUMMARY vms=7 passed=7 failed=0
diff=hello build/guests/hello.elf seed=7 verbose 64M full
diff=cpuid build/guests/cpuid.elf 64M full
diff=longmode build/guests/longmode.elf 64M full
diff=paging32 build/guests/paging32.elf 64M full
diff=pae build/guests/pae.elf 64M full
diff=strio build/guests/strio.elf 64M full
diff=ctxswitch build/guests/ctxswitch.elf 64M full
expect=^MMU-STATS name=pae created=[1-9]
expect=^MMU-STATS name=paging32 .*private-roots=[1-9]
