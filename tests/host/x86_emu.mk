HOST_TESTS += x86_emu
HOST_SRCS_x86_emu := kernel/x86_dec.c kernel/x86_dec_tables.c kernel/x86_emu.c kernel/x86_emu_alu.c \
	kernel/x86_emu_str.c kernel/x86_emu_mem.c tests/host/test_x86_emu.c \
	tests/host/test_x86_emu_cases.c tests/host/test_x86_emu_native.c
