desc=4-vCPU VMs on QEMU -smp 4: smpwake under paging=tdp and paging=shadow wakes three APs with INIT-SIPI-SIPI, IPIs among four vCPUs spread over four CPUs; output identical to bare QEMU -smp 4
emu=qemu
cpu=max
mem=2G
smp=4
timeout=240
umbra=exit=emu trace=vm
guest=build/guests/smpwake.elf name=wake-tdp vcpus=4 mem=32M
guest=build/guests/smpwake.elf name=wake-shadow vcpus=4 mem=32M paging=shadow
expect=^umbra: VM 'wake-tdp' created: 32 MiB RAM, 4 vCPU\(s\), paging=tdp, .*CPU 0,1,2,3,
expect=^T cpu=3 vm=wake-tdp vcpu=3 .*vcpu-sipi vector=0x8
expect=^SUMMARY vms=2 passed=2 failed=0
baresmp=4
diff=wake-tdp build/guests/smpwake.elf 64M full
diff=wake-shadow build/guests/smpwake.elf 64M full
