/*
 * tests/host/test_x86_emu.h - shared by the emulator's host tests
 * (test_x86_emu.c: flags against the host CPU and main;
 * test_x86_emu_cases.c: modes, faults, I/O on a fake guest;
 * test_x86_emu_native.c: random instructions against the host CPU).
 */
#ifndef UMBRA_TESTS_HOST_TEST_X86_EMU_H
#define UMBRA_TESTS_HOST_TEST_X86_EMU_H

#include <stdio.h>

#include "kernel/x86_emu.h"

extern int failures;
extern long checks;

#define FAIL(...)                                                            \
	do {                                                                 \
		failures++;                                                  \
		if (failures < 40) {                                         \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

u64 rnd(void);

/* Random value with a bias toward edge cases (0, 1, -1, sign bits). */
u64 rnd_operand(void);

/* Host vendor is AMD (decode with AMD rules). */
bool host_is_amd(void);

/* Hand-checked cases on a fake guest (test_x86_emu_cases.c). */
void test_real_mode(void);
void test_segmentation(void);
void test_rep_and_faults(void);
void test_lock_races(void);
void test_io(void);
void test_legacy_modes(void);
void test_fetch_and_unsupported(void);

/* @count random byte strings through x86_emu_step in every mode. */
void test_random_steps(long count);

/* The native differential test; returns the number of cases run. */
long native_tests(long count);

#endif
