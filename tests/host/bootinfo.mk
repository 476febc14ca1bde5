HOST_TESTS += bootinfo
HOST_SRCS_bootinfo := kernel/bootinfo.c kernel/fmt.c tests/host/test_bootinfo.c
