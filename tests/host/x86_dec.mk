HOST_TESTS += x86_dec
HOST_SRCS_x86_dec := kernel/x86_dec.c kernel/x86_dec_tables.c tests/host/test_x86_dec.c
