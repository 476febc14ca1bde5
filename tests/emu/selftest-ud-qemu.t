desc=a deliberate #UD in Umbra prints vector, error code, registers, CR2 and a symbolized backtrace, then stops
emu=qemu
cpu=max
mem=1G
timeout=60
umbra=exit=emu selftest=ud
result=fail
panic=expected
reject=^UMBRA-RESULT: PASS
expect=^PANIC on CPU 0: unexpected exception #UD \(vector 6\) error code 0x0
expect=^RIP: [0-9a-f]{16} selftest_trigger_ud\+0x
expect=^RAX: [0-9a-f]{16} RBX
expect=^CR0: [0-9a-f]{16} CR2
expect=^  [0-9a-f]{16} kmain\+0x
expect=^UMBRA-RESULT: FAIL panic
