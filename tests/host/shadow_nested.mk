HOST_TESTS += shadow_nested
HOST_SRCS_shadow_nested := mm/shadow.c mm/shadow_page.c mm/shadow_sync.c mm/shadow_fault.c mm/gwalk.c \
	tests/host/shadow_fake.c tests/host/test_shadow_nested.c
