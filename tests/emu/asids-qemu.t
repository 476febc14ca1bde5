desc=more vCPUs than the CPU has ASIDs (QEMU: 16): 12 single-vCPU VMs and 4 nested=on VMs (two ASIDs each) on one CPU; the CPU starts new ASID generations (TLB flush of every ASID) and every guest still prints what it prints bare
emu=qemu
cpu=max
mem=2G
timeout=240
umbra=exit=emu
guest=build/guests/hello.elf name=h1 mem=32M -- seed=1
guest=build/guests/hello.elf name=h2 mem=32M -- seed=2
guest=build/guests/hello.elf name=h3 mem=32M -- seed=3
guest=build/guests/hello.elf name=h4 mem=32M -- seed=4
guest=build/guests/hello.elf name=h5 mem=32M -- seed=5
guest=build/guests/hello.elf name=h6 mem=32M -- seed=6
guest=build/guests/hello.elf name=h7 mem=32M -- seed=7
guest=build/guests/hello.elf name=h8 mem=32M -- seed=8
guest=build/guests/hello.elf name=h9 mem=32M -- seed=9
guest=build/guests/hello.elf name=h10 mem=32M -- seed=10
guest=build/guests/hello.elf name=h11 mem=32M -- seed=11
guest=build/guests/hello.elf name=h12 mem=32M -- seed=12
guest=build/guests/nested64.elf name=n1 nested=on mem=64M
guest=build/guests/nested64.elf name=n2 nested=on mem=64M
guest=build/guests/nested64.elf name=n3 nested=on mem=64M
guest=build/guests/nested64.elf name=n4 nested=on mem=64M
expect=^SUMMARY vms=16 passed=16 failed=0
diff=h1 build/guests/hello.elf seed=1 64M full
diff=h12 build/guests/hello.elf seed=12 64M full
diff=n1 build/guests/nested64.elf 64M full
diff=n4 build/guests/nested64.elf 64M full
