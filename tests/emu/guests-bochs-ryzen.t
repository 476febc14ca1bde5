desc=every well-behaved test guest under Umbra (paging=tdp, NPT) on Bochs ryzen (SVM with NRIPS, flush-by-ASID), output identical to the bare run
emu=bochs
cpu=ryzen
mem=512M
timeout=240
umbra=exit=emu
include=guests.inc
