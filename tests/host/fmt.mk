HOST_TESTS += fmt
HOST_SRCS_fmt := kernel/fmt.c tests/host/test_fmt.c
