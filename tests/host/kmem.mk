HOST_TESTS += kmem
HOST_SRCS_kmem := mm/kmem.c mm/pmm.c tests/host/test_kmem.c
