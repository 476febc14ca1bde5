desc=Umbra boots on QEMU/SeaBIOS (TCG, -cpu max: SVM) with 6 GiB and passes
emu=qemu
mem=6G
umbra=exit=emu
expect=^UMBRA-RESULT: PASS
expect=^boot: summary
expect=^boot: loader "GRUB[^"]*", multiboot2, BIOS firmware
