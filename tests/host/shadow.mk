HOST_TESTS += shadow
HOST_SRCS_shadow := mm/shadow.c mm/shadow_page.c mm/shadow_sync.c mm/shadow_fault.c mm/gwalk.c \
	tests/host/shadow_fake.c tests/host/test_shadow.c tests/host/test_shadow_cases.c \
	tests/host/test_shadow_fuzz.c tests/host/shadow_model.c
