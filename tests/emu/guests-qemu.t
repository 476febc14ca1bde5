desc=every well-behaved test guest under Umbra (paging=tdp, NPT) on QEMU -cpu max, output identical to the bare run
emu=qemu
cpu=max
mem=6G
timeout=240
umbra=exit=emu
include=guests.inc
