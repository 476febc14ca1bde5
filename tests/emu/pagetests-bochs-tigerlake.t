desc=paging test guests (access matrix, fork-like COW workload, large pages) under Umbra with paging=tdp (Intel VMX: EPT) and paging=shadow on Bochs tigerlake, output identical to the bare run; forklike with fewer rounds and writes than on QEMU (Bochs is slower)
emu=bochs
cpu=tigerlake
mem=512M
timeout=600
umbra=exit=emu
guest=build/guests/access.elf name=access-tdp paging=tdp mem=32M
guest=build/guests/access.elf name=access-shadow paging=shadow mem=32M
guest=build/guests/forklike.elf name=forklike-tdp paging=tdp mem=32M -- seed=2 rounds=2 children=16 writes=16
guest=build/guests/forklike.elf name=forklike-shadow paging=shadow mem=32M -- seed=2 rounds=2 children=16 writes=16
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
diff=forklike-tdp build/guests/forklike.elf seed=2 rounds=2 children=16 writes=16 64M full
diff=forklike-shadow build/guests/forklike.elf seed=2 rounds=2 children=16 writes=16 64M full
diff=largepages-tdp build/guests/largepages.elf 64M full
diff=largepages-shadow build/guests/largepages.elf 64M full
expect=^MMU-STATS name=access-shadow created=[1-9]
expect=^MMU-STATS name=forklike-shadow created=[1-9]
expect=^MMU-STATS name=largepages-shadow created=[1-9]
