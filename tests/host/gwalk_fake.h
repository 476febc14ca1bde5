/*
 * tests/host/gwalk_fake.h - fake guest memory for the walker tests, and
 * the differential check of mm/gwalk.c against the reference model.
 *
 * The memory is one malloc'ed block of exactly its size, so ASan reports
 * any access outside it; the callbacks also insist on natural alignment
 * and on 4- or 8-byte entries. Every successful cmpxchg is logged (to
 * compare with the reference's A/D updates, and to undo them).
 */
#ifndef UMBRA_TESTS_GWALK_FAKE_H
#define UMBRA_TESTS_GWALK_FAKE_H

#include <stdint.h>
#include <stdio.h>

#include "mm/gwalk.h"
#include "tests/host/gwalk_ref.h"

struct fm_log {
	uint64_t gpa;
	unsigned size;
	uint64_t old, new;
};

struct fmem {
	uint8_t *bytes;
	uint64_t size;
	int nlog;
	struct fm_log log[64];
	unsigned long reads, cmpxchgs;
	/* Called by cmpxchg before it compares (simulates another CPU). */
	void (*interfere)(struct fmem *fm, uint64_t gpa, unsigned size);
	void *interfere_ctx;
	int cmpxchg_error; /* nonzero: every cmpxchg returns this */
};

extern const struct gwalk_ops fm_ops;

void fm_init(struct fmem *fm, uint64_t size);
void fm_free(struct fmem *fm);
void fm_clear(struct fmem *fm);
void fm_put(struct fmem *fm, uint64_t gpa, unsigned size, uint64_t v);
uint64_t fm_get(const struct fmem *fm, uint64_t gpa, unsigned size);
/* Revert logged writes (newest first) and clear the log. */
void fm_undo(struct fmem *fm);

/* Failures and checks, shared by the test files. */
extern int g_failures;
extern long g_checks;
#define FAIL(...)                                                          \
	do {                                                               \
		g_failures++;                                              \
		if (g_failures <= 40) {                                    \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
		}                                                          \
	} while (0)
#define CHECK(cond, ...)                   \
	do {                               \
		g_checks++;                \
		if (!(cond))               \
			FAIL(__VA_ARGS__); \
	} while (0)

/* The walker's view of @cpu. Returns gwalk_mode_init's result. */
int fm_env_from_cpu(const struct ref_cpu *cpu, struct gwalk_env *env);
struct gwalk_caps fm_caps(const struct ref_cpu *cpu);
u32 fm_access_flags(const struct ref_cpu *cpu, const struct ref_access *acc);

/* Run walker and reference on @fm for (@cpu, @acc), compare outcome,
 * error code, translation and A/D updates, then undo the walker's writes.
 * @what names the case in failure messages. Returns true when they agree.
 * If @res is not NULL the walker's result is copied there. */
bool fm_differential(struct fmem *fm, const struct ref_cpu *cpu, const struct ref_access *acc, const char *what,
		     struct gwalk_result *res);

/* Check res->perm against the reference run for each of the six views
 * (user/supervisor x read/write/fetch, PKRU = 0, explicit, EFLAGS.AC = 1). */
void fm_check_perm_view(struct fmem *fm, const struct ref_cpu *cpu, uint64_t la, const struct gwalk_result *res,
			const char *what);

#endif
