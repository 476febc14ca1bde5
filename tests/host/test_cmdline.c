/*
 * tests/host/test_cmdline.c - unit tests for kernel/cmdline.c: value
 * parsers, tokenizer, the option table (values, errors, messages, rest
 * after "--"), help rendering, and a random-bytes fuzz loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cmdline.h"

static int failures, checks;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		checks++;                                                  \
		if (!(cond)) {                                             \
			failures++;                                        \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
		}                                                          \
	} while (0)

/* ---------------------------------------------------------- value parsers */

static void t_uint(const char *s, int rc, unsigned long long want)
{
	u64 v = 0xabababab;
	int r = cmdline_parse_uint(s, strlen(s), &v);
	CHECK(r == rc, "parse_uint(\"%s\") = %d, want %d", s, r, rc);
	if (rc == 0)
		CHECK(v == want, "parse_uint(\"%s\") -> %llu, want %llu", s,
		      (unsigned long long)v, want);
	else
		CHECK(v == 0xabababab, "parse_uint(\"%s\") wrote on error", s);
}

static void t_size(const char *s, int rc, unsigned long long want)
{
	u64 v = 0xabababab;
	int r = cmdline_parse_size(s, strlen(s), &v);
	CHECK(r == rc, "parse_size(\"%s\") = %d, want %d", s, r, rc);
	if (rc == 0)
		CHECK(v == want, "parse_size(\"%s\") -> %llu, want %llu", s,
		      (unsigned long long)v, want);
	else
		CHECK(v == 0xabababab, "parse_size(\"%s\") wrote on error", s);
}

static void test_values(void)
{
	t_uint("0", 0, 0);
	t_uint("42", 0, 42);
	t_uint("007", 0, 7);
	t_uint("0x2a", 0, 42);
	t_uint("0X2A", 0, 42);
	t_uint("0xDeadBeef", 0, 0xdeadbeef);
	t_uint("18446744073709551615", 0, ~0ull);
	t_uint("18446744073709551616", E_RANGE, 0);
	t_uint("99999999999999999999", E_RANGE, 0);
	t_uint("0xffffffffffffffff", 0, ~0ull);
	t_uint("0x00000000000000000001", 0, 1);
	t_uint("0x10000000000000000", E_RANGE, 0);
	t_uint("99999999999999999999x", E_INVAL, 0);
	t_uint("", E_INVAL, 0);
	t_uint("x", E_INVAL, 0);
	t_uint("0x", E_INVAL, 0);
	t_uint("-1", E_INVAL, 0);
	t_uint("+1", E_INVAL, 0);
	t_uint("1 ", E_INVAL, 0);
	t_uint(" 1", E_INVAL, 0);
	t_uint("12a", E_INVAL, 0);
	t_uint("0x1g", E_INVAL, 0);
	t_uint("16M", E_INVAL, 0);
	CHECK(cmdline_parse_uint("123", 2, &(u64){ 0 }) == 0, "length respected");
	{
		u64 v;
		cmdline_parse_uint("123", 2, &v);
		CHECK(v == 12, "length respected: %llu", (unsigned long long)v);
	}

	t_size("0", 0, 0);
	t_size("4096", 0, 4096);
	t_size("512B", 0, 512);
	t_size("512b", 0, 512);
	t_size("1K", 0, 1024);
	t_size("1k", 0, 1024);
	t_size("16M", 0, 16ull << 20);
	t_size("16m", 0, 16ull << 20);
	t_size("16MB", 0, 16ull << 20);
	t_size("16MiB", 0, 16ull << 20);
	t_size("16mib", 0, 16ull << 20);
	t_size("16MIB", 0, 16ull << 20);
	t_size("2G", 0, 2ull << 30);
	t_size("3T", 0, 3ull << 40);
	t_size("0x10k", 0, 16 * 1024);
	t_size("0x10KB", 0, 16 * 1024);
	t_size("0x1B", 0, 0x1b);
	t_size("0x1000", 0, 0x1000);
	t_size("16777215T", 0, 16777215ull << 40);
	t_size("16777216T", E_RANGE, 0);
	t_size("18446744073709551615", 0, ~0ull);
	t_size("18446744073709551615B", 0, ~0ull);
	t_size("18446744073709551615K", E_RANGE, 0);
	t_size("18446744073709551616", E_RANGE, 0);
	t_size("99999999999999999999Q", E_INVAL, 0);
	t_size("16iB", E_INVAL, 0);
	t_size("16Q", E_INVAL, 0);
	t_size("12Q", E_INVAL, 0);
	t_size("16MBB", E_INVAL, 0);
	t_size("16MiBx", E_INVAL, 0);
	t_size("16 M", E_INVAL, 0);
	t_size("16KM", E_INVAL, 0);
	t_size("", E_INVAL, 0);
	t_size("M", E_INVAL, 0);
	t_size("B", E_INVAL, 0);
	t_size("0x", E_INVAL, 0);
	t_size("-1M", E_INVAL, 0);

	static const struct { const char *s; int rc; bool v; } bools[] = {
		{ "on", 0, true }, { "ON", 0, true }, { "yes", 0, true },
		{ "Yes", 0, true }, { "true", 0, true }, { "TRUE", 0, true },
		{ "1", 0, true }, { "off", 0, false }, { "Off", 0, false },
		{ "no", 0, false }, { "NO", 0, false }, { "false", 0, false },
		{ "0", 0, false }, { "", E_INVAL, 0 }, { "o", E_INVAL, 0 },
		{ "onn", E_INVAL, 0 }, { "2", E_INVAL, 0 }, { "yess", E_INVAL, 0 },
		{ "01", E_INVAL, 0 }, { "tru", E_INVAL, 0 },
	};
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		bool v = !bools[i].v;
		int r = cmdline_parse_bool(bools[i].s, strlen(bools[i].s), &v);
		CHECK(r == bools[i].rc, "parse_bool(\"%s\") = %d", bools[i].s, r);
		if (!r)
			CHECK(v == bools[i].v, "parse_bool(\"%s\") value", bools[i].s);
	}

	static const struct { unsigned long long v; const char *s; } sizes[] = {
		{ 0, "0" }, { 1, "1" }, { 1024, "1K" }, { 1536, "1536" },
		{ 16ull << 20, "16M" }, { 3ull << 30, "3G" }, { 1ull << 40, "1T" },
		{ 1ull << 50, "1024T" }, { (1ull << 20) + 1024, "1025K" },
		{ ~0ull, "18446744073709551615" },
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char buf[32];
		int n = cmdline_format_size(buf, sizeof(buf), sizes[i].v);
		CHECK(!strcmp(buf, sizes[i].s) && n == (int)strlen(buf),
		      "format_size(%llu) = \"%s\", want \"%s\"", sizes[i].v, buf, sizes[i].s);
		u64 back;
		CHECK(cmdline_parse_size(buf, strlen(buf), &back) == 0 && back == sizes[i].v,
		      "format_size round trip %s", buf);
	}
}

/* ---------------------------------------------------------- tokenizer */

/* Join the words of @line as "key[=val]|..." plus "#rest" when `--`. */
static void tokens(const char *line, size_t len, char *out, size_t size)
{
	struct cmdline_iter it;
	struct cmdline_word w;
	size_t pos = 0;

	out[0] = 0;
	cmdline_iter_init(&it, line, len);
	while (cmdline_next(&it, &w)) {
		pos += snprintf(out + pos, size - pos, "%s%.*s", pos ? "|" : "",
				(int)w.key_len, w.key);
		if (w.val)
			pos += snprintf(out + pos, size - pos, "=%.*s", (int)w.val_len, w.val);
		if (w.bad_quote)
			pos += snprintf(out + pos, size - pos, "!");
	}
	CHECK(!cmdline_next(&it, &w), "next after the end must stay false");
	if (it.rest)
		snprintf(out + pos, size - pos, "#%.*s", (int)it.rest_len, it.rest);
}

static void t_tok(const char *line, const char *want)
{
	char got[512];
	tokens(line, strlen(line), got, sizeof(got));
	CHECK(!strcmp(got, want), "tokens(\"%s\") = \"%s\", want \"%s\"", line, got, want);
}

static void test_tokenizer(void)
{
	t_tok("", "");
	t_tok("   \t ", "");
	t_tok("a", "a");
	t_tok("  a  b=c\td=  ", "a|b=c|d=");
	t_tok("a=b=c", "a=b=c");
	t_tok("=x", "=x");
	t_tok("name=\"a b\" x=1", "name=a b|x=1");
	t_tok("name=\"\"", "name=");
	t_tok("name=\"a b", "name=\"a b!");
	t_tok("name=a\"b c\"", "name=a\"b c\"!");
	t_tok("name=\"a\"b", "name=\"a\"b!");
	t_tok("na\"me\"=x", "na\"me\"=x!");
	t_tok("a -- rest of  line  ", "a#rest of  line");
	t_tok("a --", "a#");
	t_tok("--", "#");
	t_tok("-- \t ", "#");
	t_tok("a --x --=y", "a|--x|--=y");
	t_tok("a \"--\" b", "a|\"--\"!|b"); /* a quoted "--" is a word */
	t_tok("q=\"x -- y\" z", "q=x -- y|z");
	t_tok("a\r\nb", "a|b");

	/* A NUL ends the line; the length bounds it too. */
	char got[64];
	tokens("ab\0cd", 5, got, sizeof(got));
	CHECK(!strcmp(got, "ab"), "NUL ends the line: %s", got);
	tokens("abcdef", 3, got, sizeof(got));
	CHECK(!strcmp(got, "abc"), "length bounds the line: %s", got);
	tokens(NULL, 0, got, sizeof(got));
	CHECK(!strcmp(got, ""), "NULL line");
}

/* ---------------------------------------------------------- options */

struct cfg {
	bool verbose;
	u32 cpus;
	u8 small;
	u64 lowpool;
	u16 level;
	char name[8];
	u64 features;
	u8 tinylist;
	u64 addr;
};

static const char *const levels[] = { "quiet", "info", "debug", NULL };
static const char *const feats[] = { "ept", "vpid", "apic", "smp", NULL };

static const struct opt_desc opts[] = {
	{ "verbose", OPT_BOOL, OPT_FIELD(struct cfg, verbose), .help = "Chatty boot" },
	{ "cpus", OPT_UINT, OPT_FIELD(struct cfg, cpus), .min = 1, .max = 64,
	  .help = "Number of CPUs to start" },
	{ "small", OPT_UINT, OPT_FIELD(struct cfg, small), .help = "A u8 field" },
	{ "lowpool", OPT_SIZE, OPT_FIELD(struct cfg, lowpool), .min = 1 << 20,
	  .max = 1ull << 30, .help = "Low-memory pool size" },
	{ "level", OPT_ENUM, OPT_FIELD(struct cfg, level), .choices = levels,
	  .help = "Log level" },
	{ "name", OPT_STRING, OPT_FIELD(struct cfg, name), .help = "Guest name" },
	{ "features", OPT_LIST, OPT_FIELD(struct cfg, features), .choices = feats,
	  .help = "Enabled features" },
	{ "tiny", OPT_LIST, OPT_FIELD(struct cfg, tinylist), .choices = feats,
	  .help = "List in a u8" },
	{ "addr", OPT_UINT, OPT_FIELD(struct cfg, addr), .min = 0x1000,
	  .help = "Some address" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const struct cfg defaults = {
	.verbose = false, .cpus = 4, .small = 9, .lowpool = 16 << 20,
	.level = 1, .name = "dflt", .features = 0x5, .tinylist = 0,
	.addr = 0x2000,
};

struct errlog {
	char text[8192];
	size_t len;
	int count;
};

static void log_err(void *ctx, const char *msg)
{
	struct errlog *l = ctx;
	l->count++;
	l->len += snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s\n", msg);
	if (l->len >= sizeof(l->text))
		l->len = sizeof(l->text) - 1;
}

static int apply(struct cfg *c, const char *line, struct errlog *l,
		 const char **rest, size_t *rest_len)
{
	memcpy(c, &defaults, sizeof(*c));
	memset(l, 0, sizeof(*l));
	int n = cmdline_apply(opts, NOPTS, c, line, strlen(line), log_err, l,
			      rest, rest_len);
	CHECK(n == l->count, "return %d != callback count %d", n, l->count);
	return n;
}

#define HAS(l, s) CHECK(strstr((l)->text, s), "missing message \"%s\" in:\n%s", s, (l)->text)

static void test_options(void)
{
	struct cfg c;
	struct errlog l;
	const char *rest;
	size_t rest_len;
	int n;

	n = apply(&c, "", &l, &rest, &rest_len);
	CHECK(n == 0 && !memcmp(&c, &defaults, sizeof(c)), "empty line");
	CHECK(rest_len == 0 && rest, "empty rest");

	n = apply(&c, "verbose cpus=8 small=255 lowpool=64M level=DEBUG name=\"a b\" "
		      "features=vpid,smp tiny=all addr=0x1000", &l, &rest, &rest_len);
	CHECK(n == 0, "valid line: %d errors:\n%s", n, l.text);
	CHECK(c.verbose && c.cpus == 8 && c.small == 255 && c.lowpool == 64 << 20 &&
	      c.level == 2 && !strcmp(c.name, "a b") && c.features == 0xa &&
	      c.tinylist == 0xf && c.addr == 0x1000, "valid line values");
	CHECK(rest_len == 0, "no rest");

	n = apply(&c, "verbose=off verbose=yes cpus=2 cpus=3 features=all features=none,ept",
		  &l, NULL, NULL);
	CHECK(n == 0 && c.verbose && c.cpus == 3 && c.features == 1, "last wins");

	n = apply(&c, "cpus=2 -- console=ttyS0  root=/dev/sda -- x ", &l, &rest, &rest_len);
	CHECK(n == 0 && c.cpus == 2, "before --");
	CHECK(rest_len == strlen("console=ttyS0  root=/dev/sda -- x") &&
	      !memcmp(rest, "console=ttyS0  root=/dev/sda -- x", rest_len),
	      "rest = \"%.*s\"", (int)rest_len, rest);

	n = apply(&c, "lowpool=12Q", &l, NULL, NULL);
	CHECK(n == 1 && c.lowpool == defaults.lowpool, "bad size");
	HAS(&l, "option 'lowpool': value '12Q' is not a size (e.g. 16M); keeping the default");

	n = apply(&c, "lowpool=2G lowpool=512K lowpool=99999999999T", &l, NULL, NULL);
	CHECK(n == 3 && c.lowpool == defaults.lowpool, "size range");
	HAS(&l, "option 'lowpool': value '2G' is out of range (1M..1G); keeping the default");
	HAS(&l, "option 'lowpool': value '512K' is out of range (1M..1G)");
	HAS(&l, "option 'lowpool': value '99999999999T' is too large; keeping the default");

	n = apply(&c, "cpus=0 cpus=65 cpus=abc cpus small=256 small=0x100 addr=0xfff",
		  &l, NULL, NULL);
	CHECK(n == 7 && c.cpus == 4 && c.small == 9 && c.addr == 0x2000, "uint errors: %d", n);
	HAS(&l, "option 'cpus': value '0' is out of range (1..64); keeping the default");
	HAS(&l, "option 'cpus': value '65' is out of range (1..64)");
	HAS(&l, "option 'cpus': value 'abc' is not a number (e.g. 42 or 0x2a); keeping the default");
	HAS(&l, "option 'cpus': missing value (use cpus=...); keeping the default");
	HAS(&l, "option 'small': value '256' is out of range (0..255)");
	HAS(&l, "option 'small': value '0x100' is out of range (0..255)");
	HAS(&l, "option 'addr': value '0xfff' is out of range (4096..18446744073709551615)");

	n = apply(&c, "cpus= verbose=maybe level=loud name=toolongname features=ept,bogus "
		      "features=ept,,smp features=ept, frobnicate frob=1 tiny=",
		  &l, NULL, NULL);
	CHECK(n == 10, "misc errors: %d\n%s", n, l.text);
	CHECK(!memcmp(&c, &defaults, sizeof(c)), "defaults kept after errors");
	HAS(&l, "option 'cpus': missing value");
	HAS(&l, "option 'verbose': value 'maybe' is not a boolean (on/off, yes/no, true/false, 1/0); keeping the default");
	HAS(&l, "option 'level': value 'loud' is not one of: quiet, info, debug; keeping the default");
	HAS(&l, "option 'name': value 'toolongname' is too long (at most 7 characters); keeping the default");
	HAS(&l, "option 'features': item 'bogus' is not one of: ept, vpid, apic, smp, all, none; keeping the default");
	HAS(&l, "option 'features': empty item in list 'ept,,smp'");
	HAS(&l, "option 'features': empty item in list 'ept,'");
	HAS(&l, "unknown option 'frobnicate'; ignored");
	HAS(&l, "unknown option 'frob'; ignored");
	HAS(&l, "option 'tiny': missing value");

	n = apply(&c, "name=\"unterminated value -- x=1", &l, &rest, &rest_len);
	CHECK(n == 1 && !strcmp(c.name, "dflt") && rest_len == 0, "unterminated quote");
	HAS(&l, "option 'name': unterminated or misplaced quote in 'name=\"unterminated value -- x=1'; keeping the default");

	n = apply(&c, "name=1234567 name=\"\" cpus=5", &l, NULL, NULL);
	CHECK(n == 0 && c.name[0] == 0 && c.cpus == 5, "empty string value allowed");
	n = apply(&c, "name=1234567", &l, NULL, NULL);
	CHECK(n == 0 && !strcmp(c.name, "1234567"), "string exactly fits");

	/* Unprintable and long values are shown safely. */
	n = apply(&c, "level=\x01\x7f""abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ", &l, NULL, NULL);
	CHECK(n == 1, "unprintable");
	HAS(&l, "value '??abcdefghijklmnopqrstuvwxyz0123456789AB...'");

	/* A NULL callback still counts. */
	c = defaults;
	n = cmdline_apply(opts, NOPTS, &c, "x y z", 5, NULL, NULL, NULL, NULL);
	CHECK(n == 3, "NULL callback count %d", n);

	/* Broken table entries are reported, never written through. */
	static const char *const none[] = { NULL };
	static const struct opt_desc bad[] = {
		{ "odd", OPT_UINT, 0, 3, .help = "" },
		{ "noch", OPT_ENUM, 0, 4, .choices = none },
		{ "nolist", OPT_LIST, 0, 4, .help = "" },
		{ "zero", OPT_STRING, 0, 0, .help = "" },
		{ "big", OPT_LIST, 0, 1, .choices = feats }, /* fits: 4 <= 8 */
	};
	u64 scratch = 77;
	n = cmdline_apply(bad, 5, &scratch, "odd=1 noch=a nolist=a zero=x big=all", 36,
			  NULL, NULL, NULL, NULL);
	CHECK(n == 4 && scratch == 15, "bad table: n=%d scratch=%llu",
	      n, (unsigned long long)scratch);
}

/* ---------------------------------------------------------- rendering */

struct sink {
	char buf[4096];
	size_t len;
};

static void sink_putc(void *ctx, char ch)
{
	struct sink *s = ctx;
	if (s->len + 1 < sizeof(s->buf))
		s->buf[s->len++] = ch;
	s->buf[s->len] = 0;
}

static void test_render(void)
{
	char buf[128];
	struct cfg c = defaults;

	struct { int i; const char *want; } vals[] = {
		{ 0, "off" }, { 1, "4" }, { 3, "16M" }, { 4, "info" },
		{ 5, "\"dflt\"" }, { 6, "ept,apic" }, { 7, "none" }, { 8, "8192" },
	};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int n = cmdline_format_value(&opts[vals[i].i], &c, buf, sizeof(buf));
		CHECK(!strcmp(buf, vals[i].want) && n == (int)strlen(buf),
		      "format_value(%s) = \"%s\", want \"%s\"", opts[vals[i].i].name, buf, vals[i].want);
	}
	c.features = 0xf;
	cmdline_format_value(&opts[6], &c, buf, sizeof(buf));
	CHECK(!strcmp(buf, "all"), "list all: %s", buf);
	c.level = 9;
	cmdline_format_value(&opts[4], &c, buf, sizeof(buf));
	CHECK(!strcmp(buf, "9"), "enum out of range: %s", buf);
	CHECK(cmdline_format_value(&opts[6], &c, buf, 3) == 3 && !strcmp(buf, "al"),
	      "format_value truncates: %s", buf);

	struct sink s = { .len = 0 };
	cmdline_print_help(opts, NOPTS, &defaults, sink_putc, &s);
	printf("%s", s.buf);
	CHECK(strstr(s.buf, "  verbose[=on|off]  Chatty boot (default off)\n"), "help verbose");
	CHECK(strstr(s.buf, "  lowpool=<size>    Low-memory pool size (range 1M..1G; default 16M)\n"),
	      "help lowpool");
	CHECK(strstr(s.buf, "  level=<choice>    Log level (one of: quiet, info, debug; default info)\n"),
	      "help level");
	CHECK(strstr(s.buf, "features=<list>   Enabled features (comma-separated: ept, vpid, apic, smp, all, none; default ept,apic)\n"),
	      "help features");
	CHECK(strstr(s.buf, "  name=<text>       Guest name (at most 7 characters; default \"dflt\")\n"),
	      "help name");
	CHECK(strstr(s.buf, "  addr=<n>          Some address (at least 4096; default 8192)\n"),
	      "help addr");
	s.len = 0;
	cmdline_print_help(opts, 1, NULL, sink_putc, &s);
	CHECK(!strcmp(s.buf, "  verbose[=on|off]  Chatty boot\n"), "help without defaults: %s", s.buf);
}

/* ---------------------------------------------------------- fuzz */

static unsigned long long rng = 0x2545f4914f6cdd1dull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void test_fuzz(int iters)
{
	static const char *frags[] = {
		"cpus", "lowpool", "name", "features", "level", "verbose", "tiny",
		"small", "addr", "=", "\"", ",", " ", "\t", "--", "0x", "M", "K",
		"all", "none", "ept", "1", "99999999999999999999", "\xff", "\0",
	};
	char line[256];

	for (int it = 0; it < iters; it++) {
		size_t len = 0, cap = 1 + rnd(sizeof(line));
		while (len < cap) {
			if (rnd(3) == 0) {
				line[len++] = (char)rnd(256);
			} else {
				const char *f = frags[rnd(sizeof(frags) / sizeof(frags[0]))];
				size_t fl = f[0] ? strlen(f) : 1;
				for (size_t i = 0; i < fl && len < cap; i++)
					line[len++] = f[i];
			}
		}
		/* Exact-size heap copy so ASan sees any read past the end. */
		char *heap = malloc(len);
		memcpy(heap, line, len);
		struct { u64 pre; struct cfg c; u64 post; } *box = malloc(sizeof(*box));
		box->pre = box->post = 0x5a5a5a5a5a5a5a5aull;
		box->c = defaults;
		struct errlog *l = calloc(1, sizeof(*l));
		const char *rest = NULL;
		size_t rest_len = 99;
		int n = cmdline_apply(opts, NOPTS, &box->c, heap, len, log_err, l,
				      &rest, &rest_len);
		CHECK(n == l->count, "fuzz count");
		CHECK(box->pre == 0x5a5a5a5a5a5a5a5aull && box->post == box->pre, "fuzz canary");
		CHECK(memchr(box->c.name, 0, sizeof(box->c.name)), "fuzz name NUL");
		CHECK(rest >= heap && rest + rest_len <= heap + len, "fuzz rest bounds");
		CHECK(box->c.cpus >= 1 && box->c.cpus <= 64, "fuzz cpus range");
		CHECK(box->c.lowpool >= (1 << 20) && box->c.lowpool <= (1ull << 30), "fuzz lowpool range");
		CHECK(box->c.level <= 2 && box->c.features <= 0xf, "fuzz enum/list range");
		char buf[64];
		for (size_t i = 0; i < NOPTS; i++)
			cmdline_format_value(&opts[i], &box->c, buf, 1 + rnd(sizeof(buf)));
		u64 v;
		bool b;
		size_t sl = rnd((unsigned)len + 1);
		cmdline_parse_size(heap, sl, &v);
		cmdline_parse_uint(heap, sl, &v);
		cmdline_parse_bool(heap, sl, &b);
		free(l);
		free(box);
		free(heap);
		if (failures > 20)
			break;
	}

	/* Digits-only strings: parse_uint agrees with strtoull. */
	for (int it = 0; it < iters; it++) {
		char s[32];
		size_t n = 1 + rnd(25);
		for (size_t i = 0; i < n; i++)
			s[i] = (char)('0' + rnd(10));
		s[n] = 0;
		u64 v = 0;
		int r = cmdline_parse_uint(s, n, &v);
		errno = 0;
		unsigned long long ref = strtoull(s, NULL, 10);
		if (errno == ERANGE)
			CHECK(r == E_RANGE, "overflow of %s not detected", s);
		else
			CHECK(r == 0 && v == ref, "parse_uint(%s)", s);
	}
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 50000;

	test_values();
	test_tokenizer();
	test_options();
	test_render();
	test_fuzz(iters);
	printf("cmdline: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
