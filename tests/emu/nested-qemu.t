desc=nested SVM: four L1 hypervisors (64-bit/4-level NPT, PAE/PAE NPT, 32-bit/2-level NPT, no NPT) under Umbra with nested=on paging=tdp on QEMU -cpu max, output identical to the bare run
emu=qemu
cpu=max
mem=6G
timeout=240
umbra=exit=emu
include=nested.inc
