desc=Umbra boots on QEMU q35 + OVMF (GRUB EFI) and passes
emu=qemu
uefi=1
mem=6G
umbra=exit=emu
timeout=180
expect=^UMBRA-RESULT: PASS
expect=^boot: summary
expect=^boot: loader "GRUB[^"]*", multiboot2, UEFI firmware
