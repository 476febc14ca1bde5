HOST_TESTS += shootdown
HOST_SRCS_shootdown := mm/shadow.c mm/shadow_page.c mm/shadow_sync.c mm/shadow_fault.c mm/gwalk.c \
	tests/host/shadow_fake.c tests/host/test_shootdown.c -pthread
