desc=every well-behaved test guest under Umbra with paging=shadow (Umbra builds the page tables the hardware walks) on QEMU -cpu max, output identical to the bare run
emu=qemu
cpu=max
mem=6G
timeout=240
umbra=exit=emu
include=shadow-guests.inc
