desc=nested SVM on Bochs ryzen (SVM with NRIPS and flush-by-ASID: nRIP from the hardware): the four L1 hypervisors under nested=on paging=tdp, output identical to the bare QEMU run
emu=bochs
cpu=ryzen
mem=512M
timeout=300
umbra=exit=emu
include=nested.inc
