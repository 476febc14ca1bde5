desc=a stack overflow into the guard page ends in #DF on its IST stack with a readable dump
emu=qemu
cpu=max
mem=1G
timeout=60
umbra=exit=emu selftest=stack
result=fail
panic=expected
expect=^PANIC on CPU 0: unexpected exception #DF \(vector 8\)
expect=^UMBRA-RESULT: FAIL panic
