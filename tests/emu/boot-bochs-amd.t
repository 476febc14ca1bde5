desc=Umbra boots on Bochs ryzen (AMD SVM with NPT, NRIPS) and passes
emu=bochs
cpu=ryzen
mem=512M
umbra=exit=emu
timeout=300
expect=^UMBRA-RESULT: PASS
expect=^boot: summary
