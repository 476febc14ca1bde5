desc=hostile guests (paging=shadow) beside a well-behaved neighbour on QEMU -cpu max: each ends architecturally (exit 0, same output as bare), triple-faults or is killed cleanly; never a panic, a hang or harm to the neighbour
emu=qemu
cpu=max
mem=6G
timeout=300
umbra=exit=emu
result=fail
guest=build/guests/hello.elf name=neighbour mem=32M -- neighbour
guest=build/guests/hostile-selfmap.elf name=selfmap paging=shadow mem=32M
guest=build/guests/hostile-rsvd.elf name=rsvd paging=shadow mem=32M
guest=build/guests/hostile-tables.elf name=tables3g paging=shadow mem=32M -- where=3g
guest=build/guests/hostile-tables.elf name=tablesvga paging=shadow mem=32M -- where=vga
guest=build/guests/hostile-tables.elf name=tablescr3 paging=shadow mem=32M -- where=cr3
guest=build/guests/hostile-spaces.elf name=spaces paging=shadow mem=32M shadow_pages=64
guest=build/guests/hostile-svm.elf name=svm paging=shadow mem=32M -- ring3
guest=build/guests/hostile-ports.elf name=ports paging=shadow mem=32M
guest=build/guests/hostile-triple3.elf name=triple3 paging=shadow mem=32M -- triple
guest=build/guests/hostile-triple3.elf name=triple1 paging=shadow mem=32M -- ring=1 triple
guest=build/guests/hostile-triple3.elf name=triple2 paging=shadow mem=32M -- ring=2 triple
expect=^VM-END name=neighbour result=exit code=0
expect=^VM-END name=selfmap result=exit code=0
expect=^VM-END name=rsvd result=exit code=0
expect=^VM-END name=spaces result=exit code=0
expect=^VM-END name=svm result=exit code=0
expect=^VM-END name=ports result=exit code=0
expect=^VM-END name=triple3 result=triple-fault
expect=^VM-END name=triple1 result=triple-fault
expect=^VM-END name=triple2 result=triple-fault
expect=^VM-END name=tables3g result=killed reason="(guest page tables at 0xc0000000 are not in RAM|.* of guest-physical 0xc0000000 outside RAM)
expect=^VM-END name=tablesvga result=killed reason="(guest page tables at 0xa0000 are not in RAM|.* of guest-physical 0xa0000 outside RAM)
expect=^VM-END name=tablescr3 result=killed reason="(guest page tables at 0xc0000000 are not in RAM|.* of guest-physical 0xc0000000 outside RAM)
expect=^SUMMARY vms=12 passed=6 failed=6
diff=neighbour build/guests/hello.elf neighbour 64M full
diff=selfmap build/guests/hostile-selfmap.elf 64M full
diff=rsvd build/guests/hostile-rsvd.elf 64M full
diff=spaces build/guests/hostile-spaces.elf 64M full
diff=svm build/guests/hostile-svm.elf ring3 64M full
diff=ports build/guests/hostile-ports.elf 64M full
diff=triple3 build/guests/hostile-triple3.elf triple 64M full
diff=triple1 build/guests/hostile-triple3.elf ring=1 triple 64M full
diff=triple2 build/guests/hostile-triple3.elf ring=2 triple 64M full
diff=tables3g build/guests/hostile-tables.elf where=3g 64M prefix
diff=tablesvga build/guests/hostile-tables.elf where=vga 64M prefix
diff=tablescr3 build/guests/hostile-tables.elf where=cr3 64M prefix
expect=^MMU-STATS name=spaces .*max=64 reclaims=[1-9]
