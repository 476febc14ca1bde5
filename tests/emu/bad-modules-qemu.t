desc=bad module options and a bad ELF give clear messages; that VM is not started, the others run
emu=qemu
cpu=max
mem=2G
timeout=120
umbra=exit=emu
result=fail
guest=build/guests/hello.elf name=good mem=32M
guest=build/guests/hello.elf name=badopt mem=12Q vcpus=0 frobnicate=1
guest=build/umbra.elf name=notmb mem=32M
guest=build/guests/hello.elf name=huge mem=60G
guest=build/guests/hello.elf name=badpaging paging=nested shadow_pages=5
expect=^umbra: module 1: option 'mem': value '12Q' is not a size
expect=^umbra: module 1: option 'vcpus'
expect=^umbra: module 1: unknown option 'frobnicate'
expect=VM 'badopt' not started
expect=^umbra: VM 'notmb': bad guest image: .*not started
expect=^umbra: VM 'huge': cannot allocate 61440 MiB of guest RAM; not started
expect=^umbra: module 4: option 'paging'
expect=^umbra: module 4: option 'shadow_pages'
expect=^VM-END name=good result=exit code=0
expect=^SUMMARY vms=1 passed=1 failed=0 not-started=4
