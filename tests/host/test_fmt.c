/*
 * tests/host/test_fmt.c - unit tests for kernel/fmt.c against host snprintf.
 *
 * A table of hand-picked formats plus a seeded random loop that builds
 * formats (flags, width, precision, length, conversion) and values, and
 * requires byte-identical output and return values, including truncation.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/fmt.h"

static int failures;
static int checks;

#define FAIL(...)                                                  \
	do {                                                       \
		failures++;                                        \
		if (failures < 30) {                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);              \
			fputc('\n', stderr);                       \
		}                                                  \
	} while (0)

/* Formats go through a volatile pointer so the compiler does not check
 * them: the tables use odd flag mixes and NULL strings on purpose. */
static const char *NOCHECK(const char *s)
{
	__asm__("" : "+r"(s));
	return s;
}

/* Compare libc and fmt for one format, at full and small sizes. */
#define SAME(fmt_, ...)                                                    \
	do {                                                               \
		const char *f = NOCHECK(fmt_);                             \
		char want[512], got[512];                                  \
		int wn = snprintf(want, sizeof(want), f, __VA_ARGS__);     \
		int gn = fmt_snprintf(got, sizeof(got), f, __VA_ARGS__);   \
		checks++;                                                  \
		if (wn != gn || strcmp(want, got))                         \
			FAIL("format \"%s\": want \"%s\" (%d), got \"%s\" (%d)", \
			     f, want, wn, got, gn);                        \
		for (size_t sz = 0; sz < 6; sz++) {                        \
			memset(want, 'Z', 8);                              \
			memset(got, 'Z', 8);                               \
			wn = snprintf(want, sz, f, __VA_ARGS__);           \
			gn = fmt_snprintf(got, sz, f, __VA_ARGS__);        \
			if (wn != gn || memcmp(want, got, 8))              \
				FAIL("format \"%s\" size %zu differs", f, sz); \
		}                                                          \
	} while (0)

#define EXPECT(want, fmt_, ...)                                            \
	do {                                                               \
		const char *f = NOCHECK(fmt_);                             \
		char got[512];                                             \
		int gn = fmt_snprintf(got, sizeof(got), f, __VA_ARGS__);   \
		checks++;                                                  \
		if (gn != (int)strlen(want) || strcmp(want, got))          \
			FAIL("format \"%s\": want \"%s\", got \"%s\" (%d)", \
			     f, want, got, gn);                            \
	} while (0)

static void test_table(void)
{
	const char *nul = NULL;

	SAME("%s", "plain text");
	SAME("%d %i %u", 0, -1, 0u);
	SAME("%d|%d|%d", INT_MIN, INT_MAX, -42);
	SAME("%ld|%ld", LONG_MIN, LONG_MAX);
	SAME("%lld|%llu", LLONG_MIN, ULLONG_MAX);
	SAME("%x|%X|%o", 0xdeadbeefu, 0xdeadbeefu, 0755u);
	SAME("%#x|%#X|%#o", 0xabcu, 0xabcu, 8u);
	SAME("%#x|%#o|%#.0o|%#.0x|%.0d|%.0u", 0u, 0u, 0u, 0u, 0, 0u);
	SAME("%#5.0o|%#5.3o|%#08x|%#-8x|", 0u, 1u, 0x1fu, 0x1fu);
	SAME("[%5d][%-5d][%05d][%-05d]", 42, 42, 42, 42);
	SAME("[%+d][% d][%+ d][%+d][% d]", 5, 5, 5, -5, -5);
	SAME("[%+u][% u][%+x]", 5u, 5u, 5u);
	SAME("[%.5d][%8.5d][%-8.5d][%08.5d][%+.3d]", -42, -42, -42, -42, 7);
	SAME("[%010d][%010x][%-010d][%+010d][% 010d]", -123, 0x123u, -123, 123, 123);
	SAME("[%*d][%-*d][%*d]", 6, 1, 6, 2, -6, 3);
	SAME("[%.*d][%.*d][%*.*d]", 4, 9, -1, 9, 7, 3, 9);
	SAME("[%s][%10s][%-10s][%.2s][%10.2s][%-10.2s]", "abc", "abc", "abc", "abc", "abc", "abc");
	SAME("[%.*s][%.*s]", 3, "abcdef", -1, "abcdef");
	SAME("[%c][%3c][%-3c]", 'a', 'b', 'c');
	SAME("[%c]", 0);
	SAME("100%% [%%] %d%%", 5);
	SAME("%hhd|%hhu|%hhx|%hd|%hu|%hx", 300, 300, -1, 70000, 70000, -1);
	SAME("%hhd|%hd", -129, -32769);
	SAME("%zu|%zx|%zd", (size_t)-1, (size_t)12345, (size_t)-5);
	SAME("%td|%tu|%tx", (ptrdiff_t)-77, (ptrdiff_t)77, (ptrdiff_t)-1);
	SAME("%jd|%ju|%jx", INTMAX_MIN, UINTMAX_MAX, (uintmax_t)0x1234);
	SAME("%lx|%lo|%#lX", ULONG_MAX, ULONG_MAX, ULONG_MAX);
	SAME("%llx|%#llo", 0x8000000000000000ull, 0x8000000000000000ull);
	SAME("%s", nul);
	SAME("%10s|%-8s|", nul, nul);
	SAME("%.10s", nul);
	SAME("%d%s%x%c%u", 1, "two", 3u, '4', 5u);
	SAME("%0*d|%-0*d", 5, 3, 5, 3);
}

static void test_special(void)
{
	const char *nul = NULL;
	char buf[64];
	int n;

	/* %p: 0x plus 16 hex digits, flags limited to width and '-'. */
	EXPECT("0x0000000000000000", "%p", (void *)0);
	EXPECT("0x00000000deadbeef", "%p", (void *)0xdeadbeefUL);
	EXPECT("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
	EXPECT("[  0x0000000000001000]", "[%20p]", (void *)0x1000);
	EXPECT("[0x0000000000001000  ]", "[%-20p]", (void *)0x1000);
	/* NULL strings: "(null)" truncated by precision (glibc prints ""). */
	EXPECT("(nu", "%.3s", nul);
	EXPECT("(null)", "%s", nul);
	/* Unknown conversions print as written and consume nothing. */
	EXPECT("%q 5", "%q %d", 5);
	EXPECT("%-5.3w 5", "%-5.3w %d", 5);
	EXPECT("%n 7", "%n %d", 7);
	EXPECT("%lq 1", "%lq %d", 1);
	/* Truncated specification at the end of the format. */
	n = fmt_snprintf(buf, sizeof(buf), NOCHECK("abc%"));
	if (n != 4 || strcmp(buf, "abc%"))
		FAIL("trailing %%: got \"%s\" (%d)", buf, n);
	n = fmt_snprintf(buf, sizeof(buf), NOCHECK("abc%-0"));
	if (n != 6 || strcmp(buf, "abc%-0"))
		FAIL("trailing spec: got \"%s\" (%d)", buf, n);
	/* size 0 with NULL buffer returns the length. */
	n = fmt_snprintf(NULL, 0, "%d-%s", 12345, "xyz");
	if (n != 9)
		FAIL("size 0: got %d", n);
	/* %c of NUL is stored and counted. */
	memset(buf, 'Z', sizeof(buf));
	n = fmt_snprintf(buf, sizeof(buf), "a%cb", 0);
	if (n != 3 || memcmp(buf, "a\0b\0", 4))
		FAIL("%%c NUL");
	/* Huge width on a small buffer: length reported, buffer filled. */
	n = fmt_snprintf(buf, 8, NOCHECK("%100000d"), 1);
	if (n != 100000 || strcmp(buf, "       "))
		FAIL("huge width: %d \"%s\"", n, buf);
}

/* Callback path: count and content. */
struct cb_ctx {
	char buf[128];
	int n;
};

static void cb_putc(void *ctx, char c)
{
	struct cb_ctx *s = ctx;
	if (s->n < (int)sizeof(s->buf) - 1)
		s->buf[s->n] = c;
	s->n++;
}

static int vcb(struct cb_ctx *c, const char *f, ...) __attribute__((format(printf, 2, 3)));
static int vcb(struct cb_ctx *c, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int a = fmt_vcbprintf(cb_putc, c, f, ap);
	/* The engine works on a copy: ap still points at the first arg. */
	char tmp[128];
	int b = fmt_vsnprintf(tmp, sizeof(tmp), f, ap);
	va_end(ap);
	if (a != b || strncmp(tmp, c->buf, (size_t)a))
		FAIL("va_list reuse: \"%s\" vs \"%.*s\"", tmp, a, c->buf);
	return a;
}

static void test_callback(void)
{
	struct cb_ctx c = { .n = 0 };
	int n = vcb(&c, "x=%d y=%s z=%#x", -3, "hi", 255u);
	c.buf[c.n < 127 ? c.n : 127] = 0;
	if (n != c.n || strcmp(c.buf, "x=-3 y=hi z=0xff"))
		FAIL("callback: \"%s\" n=%d cnt=%d", c.buf, n, c.n);
	c.n = 0;
	n = fmt_cbprintf(cb_putc, &c, "[%5s|%-3c]", "ab", 'z');
	c.buf[c.n] = 0;
	if (n != 11 || strcmp(c.buf, "[   ab|z  ]"))
		FAIL("fmt_cbprintf: \"%s\" %d", c.buf, n);
}

/* ---- random formats ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static uint64_t rnd_value(void)
{
	static const uint64_t edge[] = {
		0, 1, 2, 7, 8, 9, 10, 15, 16, 99, 100, 127, 128, 255, 256,
		0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
		0xffffffff, 0x100000000ull, 999999999999ull,
		0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, ~0ull - 1,
	};
	switch (rnd_below(4)) {
	case 0: return edge[rnd_below(sizeof(edge) / sizeof(edge[0]))];
	case 1: return (uint64_t)0 - edge[rnd_below(sizeof(edge) / sizeof(edge[0]))];
	case 2: return rnd() >> rnd_below(64);
	default: return rnd();
	}
}

#define CALL(fn, buf, sz, f, nstar, a1, a2, v)                     \
	((nstar) == 0 ? fn(buf, sz, f, v)                          \
	 : (nstar) == 1 ? fn(buf, sz, f, a1, v)                    \
			: fn(buf, sz, f, a1, a2, v))

#define BOTH(v)                                                             \
	do {                                                                \
		wn = CALL(snprintf, want, sz, f, nstar, a1, a2, v);         \
		gn = CALL(fmt_snprintf, got, sz, f, nstar, a1, a2, v);      \
	} while (0)

static void random_case(void)
{
	static const char convs[] = "diuxXocs";
	static const char *lens[] = { "", "hh", "h", "l", "ll", "z", "t", "j" };
	static const char *strs[] = { "", "a", "hello", "with space", "0123456789abcdefghij" };
	char f[64], want[256], got[256];
	int pos = 0, nstar = 0, a1 = 0, a2 = 0, wn, gn;
	char conv = convs[rnd_below(sizeof(convs) - 1)];
	const char *len = (conv == 'c' || conv == 's') ? "" : lens[rnd_below(8)];
	uint64_t v = rnd_value();

	f[pos++] = '<';
	f[pos++] = '%';
	for (int i = rnd_below(4); i > 0; i--)
		f[pos++] = "-0+ #"[rnd_below(5)];
	switch (rnd_below(3)) {
	case 1: pos += sprintf(f + pos, "%u", rnd_below(30)); break;
	case 2:
		f[pos++] = '*';
		a1 = (int)rnd_below(61) - 30;
		nstar++;
		break;
	}
	switch (rnd_below(4)) {
	case 1: f[pos++] = '.'; break;
	case 2: pos += sprintf(f + pos, ".%u", rnd_below(26)); break;
	case 3: {
		int p = (int)rnd_below(31) - 5;
		pos += sprintf(f + pos, ".*");
		if (nstar)
			a2 = p;
		else
			a1 = p;
		nstar++;
		break;
	}
	}
	pos += sprintf(f + pos, "%s%c>", len, conv);

	size_t sz = rnd_below(4) ? sizeof(want) : rnd_below(12);
	memset(want, 'Z', sizeof(want));
	memset(got, 'Z', sizeof(got));
	if (conv == 's') {
		BOTH(strs[v % 5]);
	} else if (conv == 'c') {
		BOTH((int)(' ' + v % 95));
	} else if (conv == 'd' || conv == 'i') {
		switch (len[0] ? len[0] + len[1] : 0) {
		case 'l': BOTH((long)v); break;
		case 'l' + 'l': BOTH((long long)v); break;
		case 'z': BOTH((size_t)v); break;
		case 't': BOTH((ptrdiff_t)v); break;
		case 'j': BOTH((intmax_t)v); break;
		default: BOTH((int)v); break;
		}
	} else {
		switch (len[0] ? len[0] + len[1] : 0) {
		case 'l': BOTH((unsigned long)v); break;
		case 'l' + 'l': BOTH((unsigned long long)v); break;
		case 'z': BOTH((size_t)v); break;
		case 't': BOTH((ptrdiff_t)v); break;
		case 'j': BOTH((uintmax_t)v); break;
		default: BOTH((unsigned)v); break;
		}
	}
	checks++;
	if (wn != gn || memcmp(want, got, sizeof(want)))
		FAIL("random \"%s\" (args %d %d, v=0x%llx, size %zu): want \"%.*s\" (%d) got \"%.*s\" (%d)",
		     f, a1, a2, (unsigned long long)v, sz, (int)(sz ? sz : 1), want, wn,
		     (int)(sz ? sz : 1), got, gn);
}

int main(int argc, char **argv)
{
	int iters = 200000;

	if (argc > 1)
		rng_state = strtoull(argv[1], NULL, 0) | 1;
	if (argc > 2)
		iters = atoi(argv[2]);
	test_table();
	test_special();
	test_callback();
	for (int i = 0; i < iters; i++)
		random_case();
	printf("fmt: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
