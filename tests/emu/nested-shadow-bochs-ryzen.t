desc=nested SVM on Bochs ryzen with Umbra shadowing the L1's paging: the four L1 hypervisors under nested=on paging=shadow, output identical to the bare QEMU run
emu=bochs
cpu=ryzen
mem=512M
timeout=300
umbra=exit=emu
include=nested-shadow.inc
