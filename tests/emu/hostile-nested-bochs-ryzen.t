desc=the hostile L1 hypervisor (hostile-nested, nested=on) on Bochs ryzen (SVM with NRIPS) beside a well-behaved neighbour: the defined attacks with shorter VMRUN storms (loops=2000) under paging=tdp and paging=shadow, output identical to bare QEMU; an npt12 leaf outside RAM and unintercepted SVM instructions in the L2 killed cleanly
emu=bochs
cpu=ryzen
mem=512M
timeout=900
umbra=exit=emu
result=fail
guest=build/guests/hello.elf name=neighbour mem=32M -- neighbour
guest=build/guests/hostile-nested.elf name=nestedtdp nested=on paging=tdp mem=64M -- loops=2000
guest=build/guests/hostile-nested.elf name=nestedsh nested=on paging=shadow mem=64M -- loops=2000
guest=build/guests/hostile-nested.elf name=npt12beyond nested=on paging=tdp mem=64M -- npt12beyond
guest=build/guests/hostile-nested.elf name=ncr3mmio nested=on paging=shadow mem=64M -- ncr3mmio
guest=build/guests/hostile-nested.elf name=l2svm nested=on paging=tdp mem=64M -- l2svm
expect=^VM-END name=neighbour result=exit code=0
expect=^VM-END name=nestedtdp result=exit code=0
expect=^VM-END name=nestedsh result=exit code=0
expect=^VM-END name=npt12beyond result=killed reason="L2 guest-physical 0x80000 maps L1 guest-physical 0xc0000000, which is not RAM
expect=^VM-END name=ncr3mmio result=killed reason="L1's nested page tables at 0xfee00000 are not in RAM
expect=^VM-END name=l2svm result=killed reason="the L2 ran an SVM instruction \(exit 0x85\) its L1 does not intercept
expect=^SUMMARY vms=6 passed=3 failed=3
diff=neighbour build/guests/hello.elf neighbour 64M full
diff=nestedtdp build/guests/hostile-nested.elf loops=2000 64M full
diff=nestedsh build/guests/hostile-nested.elf loops=2000 64M full
diff=npt12beyond build/guests/hostile-nested.elf npt12beyond 64M prefix
diff=ncr3mmio build/guests/hostile-nested.elf ncr3mmio 64M prefix
diff=l2svm build/guests/hostile-nested.elf l2svm 64M prefix
