desc=trace=all: every event category on; the guests still pass and print what they print bare, the stats hypercall prints VM-STATS mid-run, and tools/umbra-trace finds the trace equal to every VM-STATS line
emu=qemu
cpu=max
mem=6G
timeout=240
umbra=exit=emu trace=all
guest=build/guests/hello.elf name=hello mem=32M -- seed=7 verbose
guest=build/guests/cpuid.elf name=cpuid mem=32M
guest=build/guests/longmode.elf name=longmode mem=64M
guest=build/guests/hypercall.elf name=hypercall mem=32M
expect=^VM-END name=hello result=exit code=0
expect=^VM-END name=cpuid result=exit code=0
expect=^VM-END name=longmode result=exit code=0
expect=^VM-END name=hypercall result=exit code=0
expect=^SUMMARY vms=4 passed=4 failed=0
expect=^T cpu=0 vm=hello tsc=[0-9]+ vm-create id=0 mem=33554432 vcpus=1 paging=tdp timeout=0$
expect=^T cpu=0 vm=cpuid vcpu=0 tsc=[0-9]+ exit=cpuid raw=0x72 rip=0x[0-9a-f]+ info1=[0-9a-fx]+ info2=[0-9a-fx]+$
expect=^T cpu=0 vm=cpuid vcpu=0 tsc=[0-9]+ inject vector=13 error=0$
expect=^T cpu=0 vm=cpuid vcpu=0 tsc=[0-9]+ io-unknown port=0x2e0 size=1 dir=in val=0$
expect=^T cpu=0 vm=hypercall vcpu=0 tsc=[0-9]+ exit=hypercall
expect=^T cpu=0 vm=hello tsc=[0-9]+ vm-end result=exit code=0 exits=[0-9]+$
# the stats hypercall, twice, while the VM runs
expect=^VM-STATS name=hypercall .*hypercall=1 
expect=^VM-STATS name=hypercall .*hypercall=4 
diff=hello build/guests/hello.elf seed=7 verbose 64M full
diff=cpuid build/guests/cpuid.elf 64M full
diff=longmode build/guests/longmode.elf 64M full
diff=hypercall build/guests/hypercall.elf 64M full
post=tools/umbra-trace --check
