desc=the legacy platform and MMIO through every emulated instruction form (mmioforms) (PIC, PIT, PCI config, POST port, fw_cfg, ACPI tables and PM timer) under Umbra with paging=tdp on QEMU -cpu max, output identical to bare QEMU -m 64M; the BIOS-area ROM is MMIO, unclaimed non-RAM still kills
emu=qemu
cpu=max
mem=1G
timeout=240
umbra=exit=emu
guest=build/guests/platform.elf name=platform mem=64M
guest=build/guests/beyondram.elf name=beyondram mem=32M
expect=^VM-END name=platform result=exit code=0
expect=^VM-END name=beyondram result=killed reason=".* of guest-physical 0x[0-9a-f]+ outside RAM
guest=build/guests/mmioforms.elf name=mmioforms mem=64M
expect=^VM-END name=mmioforms result=exit code=0
diff=mmioforms build/guests/mmioforms.elf 64M full
expect=^SUMMARY vms=3 passed=2 failed=1
result=fail
diff=platform build/guests/platform.elf 64M full
