desc=paging test guests (access matrix, fork-like COW workload, large pages) under Umbra with paging=tdp (AMD SVM: NPT) and paging=shadow on Bochs ryzen, output identical to the bare run; forklike with fewer rounds and writes than on QEMU (Bochs is slower)
emu=bochs
cpu=ryzen
mem=512M
timeout=600
umbra=exit=emu
include=pagetests.inc
