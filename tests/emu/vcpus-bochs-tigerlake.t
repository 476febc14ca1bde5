desc=2-vCPU VMs on Bochs tigerlake with 2 CPUs (VMX, EPT, unrestricted guest for the AP's real mode): INIT/SIPI, IPIs, concurrent page-table edits with shootdowns; output identical to bare QEMU -smp 2. paging=shadow is not run here: VMX without EPT has no unrestricted guest, so a SIPI's real mode cannot run (the VM is killed with that reason; docs/platform.md)
emu=bochs
cpu=tigerlake
mem=512M
smp=2
timeout=400
umbra=exit=emu trace=vm
guest=build/guests/smpwake.elf name=smpwake vcpus=2 mem=32M
guest=build/guests/ptshare.elf name=ptshare vcpus=2 mem=32M
guest=build/guests/hello.elf name=hello mem=32M
include=vcpus.inc
