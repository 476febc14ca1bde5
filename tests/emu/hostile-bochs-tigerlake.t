desc=hostile guests under VMX on Bochs tigerlake beside a well-behaved neighbour: self-mapping tables (EPT and shadow), reserved bits, tables outside RAM, VMX/SVM instructions in a VM without nested virtualization (VM exits under VMX: must be #UD), ring-3, ring-1 and ring-2 triple faults
emu=bochs
cpu=tigerlake
mem=512M
timeout=600
umbra=exit=emu
result=fail
guest=build/guests/hello.elf name=neighbour mem=32M -- neighbour
guest=build/guests/hostile-selfmap.elf name=selfmap paging=tdp mem=32M
guest=build/guests/hostile-selfmap.elf name=selfmapsh paging=shadow mem=32M
guest=build/guests/hostile-rsvd.elf name=rsvd paging=shadow mem=32M
guest=build/guests/hostile-tables.elf name=tables3g paging=tdp mem=32M -- where=3g
guest=build/guests/hostile-tables.elf name=tablesvga paging=shadow mem=32M -- where=vga
guest=build/guests/hostile-svm.elf name=svm paging=tdp mem=32M -- ring3
guest=build/guests/hostile-triple3.elf name=triple3 paging=shadow mem=32M -- triple
guest=build/guests/hostile-triple3.elf name=triple1 paging=tdp mem=32M -- ring=1 triple
guest=build/guests/hostile-triple3.elf name=triple2 paging=shadow mem=32M -- ring=2 triple
expect=^VM-END name=neighbour result=exit code=0
expect=^VM-END name=selfmap result=exit code=0
expect=^VM-END name=selfmapsh result=exit code=0
expect=^VM-END name=rsvd result=exit code=0
expect=^VM-END name=svm result=exit code=0
expect=^VM-END name=triple3 result=triple-fault
expect=^VM-END name=triple1 result=triple-fault
expect=^VM-END name=triple2 result=triple-fault
expect=^VM-END name=tables3g result=killed reason="(guest page tables at 0xc0000000 are not in RAM|.* of guest-physical 0xc0000000 outside RAM)
expect=^VM-END name=tablesvga result=killed reason="(guest page tables at 0xa0000 are not in RAM|.* of guest-physical 0xa0000 outside RAM)
expect=^SUMMARY vms=10 passed=5 failed=5
diff=neighbour build/guests/hello.elf neighbour 64M full
diff=selfmap build/guests/hostile-selfmap.elf 64M full
diff=selfmapsh build/guests/hostile-selfmap.elf 64M full
diff=rsvd build/guests/hostile-rsvd.elf 64M full
diff=svm build/guests/hostile-svm.elf ring3 64M full
diff=triple3 build/guests/hostile-triple3.elf triple 64M full
diff=triple1 build/guests/hostile-triple3.elf ring=1 triple 64M full
diff=triple2 build/guests/hostile-triple3.elf ring=2 triple 64M full
