desc=every well-behaved test guest under Umbra with paging=shadow (Umbra builds the page tables the hardware walks) on Bochs tigerlake, output identical to the bare run
emu=bochs
cpu=tigerlake
mem=512M
timeout=240
umbra=exit=emu
include=shadow-guests.inc
