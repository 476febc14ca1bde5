HOST_TESTS += cmdline
HOST_SRCS_cmdline := kernel/cmdline.c kernel/fmt.c tests/host/test_cmdline.c
