HOST_TESTS += nested_check
HOST_SRCS_nested_check := svm/nested_check.c tests/host/test_nested_check.c
