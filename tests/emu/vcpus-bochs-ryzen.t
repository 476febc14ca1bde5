desc=a 2-vCPU VM on Bochs ryzen with 2 CPUs (SVM, paging=shadow: the AP starts in paged real mode, APM vol. 2 §15.19): INIT/SIPI, IPIs both ways; output identical to bare QEMU -smp 2. One vCPU per CPU: Bochs 2.7 takes the INTR intercept only while the guest has RFLAGS.IF=1 (the APM takes it whatever the guest's IF), so a vCPU spinning with interrupts off is never kicked out, and vCPUs sharing a CPU could starve; ptshare (whose shadow shootdowns must kick the other vCPU out) runs on QEMU and Bochs tigerlake
emu=bochs
cpu=ryzen
mem=512M
smp=2
timeout=400
umbra=exit=emu trace=vm
guest=build/guests/smpwake.elf name=smpwake vcpus=2 mem=32M paging=shadow affinity=0,1
expect=^umbra: VM 'smpwake' created: 32 MiB RAM, 2 vCPU\(s\), paging=shadow, .*CPU 0,1,
expect=^SUMMARY vms=1 passed=1 failed=0
baresmp=2
diff=smpwake build/guests/smpwake.elf 64M full
