desc=Umbra boots on Bochs tigerlake (Intel VMX with EPT) and passes
emu=bochs
cpu=tigerlake
mem=512M
umbra=exit=emu
timeout=300
expect=^UMBRA-RESULT: PASS
expect=^boot: summary
