desc=secrecy canary (issue "Containment"): Umbra keeps a tagged canary in its .data and heap; guests scan all the guest-physical memory they can read (paging off, 32-bit, PAE) with paging=tdp and paging=shadow, VMs of different sizes side by side, and never find it; output identical to the bare run
emu=qemu
cpu=max
mem=1G
timeout=240
umbra=exit=emu
guest=build/guests/canary.elf name=canary-tdp mem=32M
guest=build/guests/canary.elf name=canary-shadow paging=shadow mem=48M
guest=build/guests/canary.elf name=canary-small paging=shadow shadow_pages=64 mem=40M
expect=^umbra: secrecy canary at 0x[0-9a-f]+ \(heap copy at 0x[0-9a-f]+\)
expect=^VM-END name=canary-tdp result=exit code=0
expect=^VM-END name=canary-shadow result=exit code=0
expect=^VM-END name=canary-small result=exit code=0
expect=^SUMMARY vms=3 passed=3 failed=0
expect=^MMU-STATS name=canary-shadow .* in-use=[0-9]+ max=4096
expect=^MMU-STATS name=canary-small .* in-use=([0-9]|[1-5][0-9]|6[0-4]) max=64 reclaims=[1-9]
reject=canary found: YES
diff=canary-tdp build/guests/canary.elf 64M full
diff=canary-shadow build/guests/canary.elf 64M full
diff=canary-small build/guests/canary.elf 64M full
