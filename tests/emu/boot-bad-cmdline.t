desc=Bad command-line options are reported by name, the defaults kept, and Umbra still passes
emu=qemu
mem=6G
umbra=exit=emu lowpool=12Q bogus=1 console=com9 baud=7
expect=^umbra: command line: option 'lowpool': value '12Q' is not a size.*keeping the default
expect=^umbra: command line: unknown option 'bogus'
expect=^umbra: command line: option 'baud'.*keeping the default
expect=^umbra: command line: option 'console': value 'com9' is not com1..com4, 0xPORT or none; keeping the default com1
expect=^boot: lowpool .* 4096 KiB free, below 4 GiB
expect=^UMBRA-RESULT: PASS
