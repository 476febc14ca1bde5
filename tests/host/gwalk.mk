HOST_TESTS += gwalk
HOST_SRCS_gwalk := mm/gwalk.c tests/host/gwalk_ref.c tests/host/gwalk_fake.c tests/host/gwalk_path.c \
	tests/host/test_gwalk.c tests/host/test_gwalk_cases.c tests/host/test_gwalk_cases2.c \
	tests/host/test_gwalk_fuzz.c
