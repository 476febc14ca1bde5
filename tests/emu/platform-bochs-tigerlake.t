desc=the legacy platform (PIC, PIT, PCI config, POST port, fw_cfg, ACPI tables and PM timer) under Umbra with paging=tdp on Bochs tigerlake, output identical to bare QEMU -m 64M
emu=bochs
cpu=tigerlake
mem=512M
timeout=240
umbra=exit=emu
guest=build/guests/platform.elf name=platform mem=64M
expect=^VM-END name=platform result=exit code=0
expect=^SUMMARY vms=1 passed=1 failed=0
diff=platform build/guests/platform.elf 64M full
