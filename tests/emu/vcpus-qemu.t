desc=2-vCPU VMs under paging=tdp on QEMU -smp 2 (NPT): AP start by INIT/SIPI through the virtual LAPIC, IPIs both ways, concurrent page-table edits with guest TLB shootdowns; output identical to bare QEMU -smp 2
emu=qemu
cpu=max
mem=2G
smp=2
timeout=240
umbra=exit=emu trace=vm
guest=build/guests/smpwake.elf name=smpwake vcpus=2 mem=32M paging=tdp
guest=build/guests/ptshare.elf name=ptshare vcpus=2 mem=32M paging=tdp
guest=build/guests/hello.elf name=hello mem=32M paging=tdp
include=vcpus.inc
expect=^T cpu=1 vm=smpwake vcpu=1 .*vcpu-sipi vector=0x8
