desc=every well-behaved test guest under Umbra (paging=tdp, EPT) on Bochs tigerlake (Intel VMX with EPT), output identical to the bare run
emu=bochs
cpu=tigerlake
mem=512M
timeout=240
umbra=exit=emu
include=guests.inc
