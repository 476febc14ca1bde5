HOST_TESTS += pt
HOST_SRCS_pt := mm/pt.c tests/host/test_pt.c
