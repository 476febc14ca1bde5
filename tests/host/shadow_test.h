/*
 * tests/host/shadow_test.h - helpers shared by the shadow MMU test files
 * (test_shadow.c, test_shadow_cases.c, test_shadow_fuzz.c).
 */
#ifndef UMBRA_TESTS_SHADOW_TEST_H
#define UMBRA_TESTS_SHADOW_TEST_H

#include "tests/host/shadow_fake.h"

/* The access must succeed and reach guest-physical @gpa. */
void expect_ok(struct sim_cpu *c, uint64_t gva, uint32_t access, gpa_t gpa, const char *what);
/* The access must end with @outcome; @val is the error code
 * (SIM_GUEST_FAULT) or gpa (SIM_EMULATE, SIM_KILL). */
void expect_outcome(struct sim_cpu *c, uint64_t gva, uint32_t access, int outcome, uint64_t val, const char *what);
void set_state(struct sim_cpu *c, const struct gstate *gs, const char *what);
uint64_t data_gpa(unsigned i);

void shadow_test_cases(void);
void shadow_test_fuzz(unsigned long seeds);

#endif
