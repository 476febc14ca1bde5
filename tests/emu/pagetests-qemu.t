desc=paging test guests (access matrix, fork-like COW workload, large pages) under Umbra with paging=tdp (NPT) and paging=shadow on QEMU -cpu max, output identical to the bare run
emu=qemu
cpu=max
mem=6G
timeout=400
umbra=exit=emu
guest=build/guests/access.elf name=access-tdp paging=tdp mem=32M
guest=build/guests/access.elf name=access-shadow paging=shadow mem=32M
guest=build/guests/forklike.elf name=forklike-tdp paging=tdp mem=32M -- seed=1
guest=build/guests/forklike.elf name=forklike-shadow paging=shadow mem=32M -- seed=1
guest=build/guests/largepages.elf name=largepages-tdp paging=tdp mem=32M
guest=build/guests/largepages.elf name=largepages-shadow paging=shadow mem=32M
expect=^VM-END name=access-tdp result=exit code=0
expect=^VM-END name=access-shadow result=exit code=0
expect=^VM-END name=forklike-tdp result=exit code=0
expect=^VM-END name=forklike-shadow result=exit code=0
expect=^VM-END name=largepages-tdp result=exit code=0
expect=^VM-END name=largepages-shadow result=exit code=0
expect=^SUMMARY vms=6 passed=6 failed=0
diff=access-tdp build/guests/access.elf 64M full
diff=access-shadow build/guests/access.elf 64M full
diff=forklike-tdp build/guests/forklike.elf seed=1 64M full
diff=forklike-shadow build/guests/forklike.elf seed=1 64M full
diff=largepages-tdp build/guests/largepages.elf 64M full
diff=largepages-shadow build/guests/largepages.elf 64M full
expect=^MMU-STATS name=access-shadow created=[1-9]
expect=^MMU-STATS name=forklike-shadow created=[1-9]
expect=^MMU-STATS name=largepages-shadow created=[1-9]
