desc=nested SVM with Umbra shadowing the L1's paging: the four L1 hypervisors under nested=on paging=shadow on QEMU -cpu max, output identical to the bare run
emu=qemu
cpu=max
mem=6G
timeout=240
umbra=exit=emu
include=nested-shadow.inc
