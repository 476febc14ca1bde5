desc=With 6 GiB, the low pool sits below 4 GiB while normal allocations come from above 4 GiB
emu=qemu
mem=6G
umbra=exit=emu lowpool=8M
expect=^UMBRA-RESULT: PASS
expect=^boot: lowpool \[0x[0-9a-f]+, 0x[0-9a-f]+\) 8192 KiB free, below 4 GiB
expect=^boot: usable RAM [0-9]+ MiB managed, [1-9][0-9]* MiB above 4 GiB
expect=^boot: normal allocations start at 0x[0-9a-f]{9,} \(above 4 GiB\)
expect=^boot: ram \[0x000100000000, 0x0001[0-9a-f]+\) usable
