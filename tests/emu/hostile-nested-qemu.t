desc=a hostile L1 hypervisor (nested=on) beside a well-behaved neighbour on QEMU -cpu max: VMRUN storms, illegal vmcb12 addresses and EVENTINJ, npt12 tables mapped into their own L2 and looping, GIF games under paging=tdp and paging=shadow (output identical to bare); an npt12 leaf and nCR3 outside RAM, SVM instructions the L1 does not intercept (clean kills, output a prefix of bare); never a panic, a hang or harm to the neighbour
emu=qemu
cpu=max
mem=6G
timeout=600
# 8 VMs: QEMU offers 16 ASIDs and each nested=on VM takes two (L1, L2s)
umbra=exit=emu
result=fail
guest=build/guests/hello.elf name=neighbour mem=32M -- neighbour
guest=build/guests/hostile-nested.elf name=nestedtdp nested=on paging=tdp mem=64M
guest=build/guests/hostile-nested.elf name=nestedsh nested=on paging=shadow mem=64M -- vmrunloop addr eventinj ncr3 npt12 maps gif hsaveoverlap
guest=build/guests/hostile-nested.elf name=npt12beyond nested=on paging=tdp mem=64M -- npt12beyond
guest=build/guests/hostile-nested.elf name=npt12beyondsh nested=on paging=shadow mem=64M -- npt12beyond
guest=build/guests/hostile-nested.elf name=ncr3beyond nested=on paging=tdp mem=64M -- ncr3beyond
guest=build/guests/hostile-nested.elf name=ncr3mmio nested=on paging=shadow mem=64M -- ncr3mmio
guest=build/guests/hostile-nested.elf name=l2svm nested=on paging=tdp mem=64M -- l2svm
expect=^VM-END name=neighbour result=exit code=0
expect=^VM-END name=nestedtdp result=exit code=0
expect=^VM-END name=nestedsh result=exit code=0
expect=^VM-END name=npt12beyond result=killed reason="L2 guest-physical 0x80000 maps L1 guest-physical 0xc0000000, which is not RAM
expect=^VM-END name=npt12beyondsh result=killed reason="L2 guest-physical 0x80000 maps L1 guest-physical 0xc0000000, which is not RAM
expect=^VM-END name=ncr3beyond result=killed reason="L1's nested page tables at 0xc0000000 are not in RAM
expect=^VM-END name=ncr3mmio result=killed reason="L1's nested page tables at 0xfee00000 are not in RAM
expect=^VM-END name=l2svm result=killed reason="the L2 ran an SVM instruction \(exit 0x85\) its L1 does not intercept
expect=^SUMMARY vms=8 passed=3 failed=5
diff=neighbour build/guests/hello.elf neighbour 64M full
diff=nestedtdp build/guests/hostile-nested.elf 64M full
diff=nestedsh build/guests/hostile-nested.elf vmrunloop addr eventinj ncr3 npt12 maps gif hsaveoverlap 64M full
diff=npt12beyond build/guests/hostile-nested.elf npt12beyond 64M prefix
diff=npt12beyondsh build/guests/hostile-nested.elf npt12beyond 64M prefix
diff=ncr3beyond build/guests/hostile-nested.elf ncr3beyond 64M prefix
diff=ncr3mmio build/guests/hostile-nested.elf ncr3mmio 64M prefix
diff=l2svm build/guests/hostile-nested.elf l2svm 64M prefix
# the storms reached Umbra's nested code
expect=^NESTED-STATS name=nestedtdp vmrun=[1-9][0-9]{4,} vmexit-invalid=[1-9]
