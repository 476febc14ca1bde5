desc=2-vCPU VMs under paging=shadow on QEMU -smp 2: the shadow MMU shared by two vCPUs on two CPUs (its lock, cross-CPU TLB shootdown: MMU-STATS tlb-flushes), APs started in paged real mode; output identical to bare QEMU -smp 2
emu=qemu
cpu=max
mem=2G
smp=2
timeout=240
umbra=exit=emu trace=vm
guest=build/guests/smpwake.elf name=smpwake vcpus=2 mem=32M paging=shadow
guest=build/guests/ptshare.elf name=ptshare vcpus=2 mem=32M paging=shadow
guest=build/guests/hello.elf name=hello mem=32M paging=shadow
include=vcpus.inc
