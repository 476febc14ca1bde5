HOST_TESTS += pmm
HOST_SRCS_pmm := mm/pmm.c tests/host/test_pmm.c
