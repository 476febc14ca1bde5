desc=seeded random paging scenarios (tests/guests/randpaging.c): random 32-bit and PAE tables and ring-0/ring-3 accesses for a fixed set of seeds, each under paging=tdp and paging=shadow; per-mode hashes identical to the bare run
emu=qemu
cpu=max
mem=1G
timeout=300
umbra=exit=emu
guest=build/guests/randpaging.elf name=rp1-tdp paging=tdp mem=32M -- seed=1
guest=build/guests/randpaging.elf name=rp1-shadow paging=shadow mem=32M -- seed=1
guest=build/guests/randpaging.elf name=rp2-tdp paging=tdp mem=32M -- seed=2
guest=build/guests/randpaging.elf name=rp2-shadow paging=shadow mem=32M -- seed=2
guest=build/guests/randpaging.elf name=rp3-tdp paging=tdp mem=32M -- seed=3
guest=build/guests/randpaging.elf name=rp3-shadow paging=shadow mem=32M -- seed=3
guest=build/guests/randpaging.elf name=rp4-tdp paging=tdp mem=32M -- seed=4
guest=build/guests/randpaging.elf name=rp4-shadow paging=shadow mem=32M -- seed=4
expect=^VM-END name=rp1-tdp result=exit code=0
expect=^VM-END name=rp1-shadow result=exit code=0
expect=^VM-END name=rp2-tdp result=exit code=0
expect=^VM-END name=rp2-shadow result=exit code=0
expect=^VM-END name=rp3-tdp result=exit code=0
expect=^VM-END name=rp3-shadow result=exit code=0
expect=^VM-END name=rp4-tdp result=exit code=0
expect=^VM-END name=rp4-shadow result=exit code=0
expect=^SUMMARY vms=8 passed=8 failed=0
diff=rp1-tdp build/guests/randpaging.elf seed=1 64M full
diff=rp1-shadow build/guests/randpaging.elf seed=1 64M full
diff=rp2-tdp build/guests/randpaging.elf seed=2 64M full
diff=rp2-shadow build/guests/randpaging.elf seed=2 64M full
diff=rp3-tdp build/guests/randpaging.elf seed=3 64M full
diff=rp3-shadow build/guests/randpaging.elf seed=3 64M full
diff=rp4-tdp build/guests/randpaging.elf seed=4 64M full
diff=rp4-shadow build/guests/randpaging.elf seed=4 64M full
