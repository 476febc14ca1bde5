desc=every well-behaved test guest under Umbra (paging=tdp, EPT) on Bochs corei7_skylake_x (Intel VMX with EPT), output identical to the bare run
emu=bochs
cpu=corei7_skylake_x
mem=512M
timeout=240
umbra=exit=emu
include=guests.inc
