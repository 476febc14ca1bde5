desc=a CPU without unrestricted guest (Bochs corei5_lynnfield_750) refuses guests that start with paging off, with a clear message
emu=bochs
cpu=corei5_lynnfield_750
mem=512M
timeout=180
umbra=exit=emu
result=fail
guest=build/guests/hello.elf name=hello mem=32M
expect=unrestricted guest
