desc=the legacy platform (PIC, PIT, PCI config, POST port, fw_cfg, ACPI tables and PM timer) under Umbra with paging=tdp on Bochs ryzen, output identical to bare QEMU -m 64M
emu=bochs
cpu=ryzen
mem=512M
timeout=240
umbra=exit=emu
include=platform.inc
