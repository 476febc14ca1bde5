desc=paging=shadow on Bochs tigerlake with 6 GiB: every private PAE root (hardware CR3 of a 32-bit or PAE guest) comes from the low pool below 4 GiB while other allocations land above 4 GiB; a tiny shadow_pages= limit still passes through reclaim
emu=bochs
cpu=tigerlake
mem=6G
timeout=600
umbra=exit=emu trace=mmu
guest=build/guests/paging32.elf name=paging32 paging=shadow mem=32M shadow_pages=16
guest=build/guests/pae.elf name=pae paging=shadow mem=32M
expect=^boot: lowpool \[0x[0-9a-f]+, 0x[0-9a-f]+\) [0-9]+ KiB free, below 4 GiB
expect=^boot: normal allocations start at 0x[0-9a-f]{9,} \(above 4 GiB\)
expect=^T cpu=0 vm=paging32 vcpu=0 .*mmu=root-load hpa=0x[0-9a-f]{1,8} pae=1
expect=^T cpu=0 vm=pae vcpu=0 .*mmu=root-load hpa=0x[0-9a-f]{1,8} pae=1
reject=mmu=root-load hpa=0x[0-9a-f]{9,} pae=1
expect=^VM-END name=paging32 result=exit code=0
expect=^VM-END name=pae result=exit code=0
expect=^MMU-STATS name=paging32 .*max=16 reclaims=[1-9]
diff=paging32 build/guests/paging32.elf 64M full
diff=pae build/guests/pae.elf 64M full
