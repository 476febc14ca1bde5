desc=paging test guests (access matrix, fork-like COW workload, large pages) under Umbra with paging=tdp (Intel VMX: EPT) and paging=shadow on Bochs tigerlake, output identical to the bare run; forklike with fewer rounds and writes than on QEMU (Bochs is slower)
emu=bochs
cpu=tigerlake
mem=512M
timeout=600
umbra=exit=emu
include=pagetests.inc
