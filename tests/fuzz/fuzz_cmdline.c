/*
 * tests/fuzz/fuzz_cmdline.c - libFuzzer target for kernel/cmdline.c.
 *
 * Input: a command line (any bytes). It goes through:
 *  - cmdline_apply() with a table covering every option type and field
 *    size (BOOL in bool and u32, UINT in 1/2/4/8 bytes with and without a
 *    range, SIZE in 8 and 4 bytes, ENUM in 1 and 4, STRING of 1, 8 and 32
 *    bytes, LIST in u8 and u64) plus one invalid table entry. The
 *    destination struct (in an exact-size heap block, padding and guards
 *    included) must equal, byte for byte, what a model written from
 *    kernel/cmdline.h gives; so must the error count and the text after
 *    "--". Every error message must be printable one-line ASCII.
 *  - a round trip: each option's cmdline_format_value() text applied to a
 *    fresh struct gives back the same field, with no error.
 *  - cmdline_print_help(), the tokenizer on its own (words inside the
 *    line, no blank outside quotes), and cmdline_parse_uint/size/bool on
 *    the whole input against the model; cmdline_format_size() of the first
 *    8 bytes parses back to the same number.
 */
#include "kernel/cmdline.h"
#include "tests/fuzz/fuzz_common.h"

struct cfg {
	u8 guard0[8];
	bool b;
	u32 b4;
	u8 u1;
	u16 u2;
	u32 u4;
	u64 u8v;
	u64 sz;
	u32 sz4;
	u8 e1;
	u32 e4;
	char s1[1];
	char s8[8];
	char s32[32];
	u8 l1;
	u64 l8;
	u16 bad;
	u8 guard1[8];
};

static const char *const colors[] = { "red", "green", "blue", NULL };
static const char *const modes[] = { "auto", "halt", "emu", "reboot", "off", NULL };
static const char *const cats[] = { "exit", "mmu", "nested", "io", "vm", "irq", "pf", "x", NULL };
static const char *const few[] = { "a", "bb", "CcC", NULL };

#define F(field) OPT_FIELD(struct cfg, field)
static const struct opt_desc opts[] = {
	{ "b", OPT_BOOL, F(b), .help = "bool" },
	{ "b4", OPT_BOOL, F(b4), .help = "bool in a u32" },
	{ "u1", OPT_UINT, F(u1), .help = "byte" },
	{ "u2", OPT_UINT, F(u2), .min = 10, .max = 1000, .help = "ranged u16" },
	{ "u4", OPT_UINT, F(u4), .max = 0x1ffffffffULL, .help = "max above the field" },
	{ "u8", OPT_UINT, F(u8v), .min = 1, .help = "u64 at least 1" },
	{ "sz", OPT_SIZE, F(sz), .min = 4096, .max = 1ULL << 40, .help = "size" },
	{ "sz4", OPT_SIZE, F(sz4), .help = "size in a u32" },
	{ "e1", OPT_ENUM, F(e1), .choices = colors, .help = "enum byte" },
	{ "e4", OPT_ENUM, F(e4), .choices = modes, .help = "enum u32" },
	{ "s1", OPT_STRING, F(s1), .help = "empty only" },
	{ "s8", OPT_STRING, F(s8), .help = "short string" },
	{ "s32", OPT_STRING, F(s32), .help = "string" },
	{ "l1", OPT_LIST, F(l1), .choices = cats, .help = "8 choices in a byte" },
	{ "l8", OPT_LIST, F(l8), .choices = few, .help = "list in a u64" },
	{ "bad", OPT_UINT, offsetof(struct cfg, bad), 3, .help = "invalid entry: size 3" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void defaults(struct cfg *c)
{
	memset(c, 0xa5, sizeof(*c)); /* padding included */
	c->b = false;
	c->b4 = 1;
	c->u1 = 7;
	c->u2 = 100;
	c->u4 = 0;
	c->u8v = 1;
	c->sz = 16 << 20;
	c->sz4 = 0;
	c->e1 = 1;
	c->e4 = 0;
	c->s1[0] = 0;
	strcpy(c->s8, "dflt");
	strcpy(c->s32, "default value");
	c->l1 = 0x5;
	c->l8 = 0;
	c->bad = 0x1234;
}

/* ------------------------------------------------------------ the model */

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char low(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool same_ci(const char *s, size_t len, const char *w)
{
	if (strlen(w) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (low(s[i]) != low(w[i]))
			return false;
	return true;
}

static int digit(char c, bool hex)
{
	c = low(c);
	if (c >= '0' && c <= '9')
		return c - '0';
	if (hex && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Leading digits of s[0..len) (decimal, or hex after 0x when something
 * follows the prefix): count consumed (0: none), value, overflow. */
static size_t m_digits(const char *s, size_t len, u64 *v, bool *ovf)
{
	bool hex = len > 2 && s[0] == '0' && low(s[1]) == 'x';
	size_t i = hex ? 2 : 0, first = i;

	*v = 0;
	*ovf = false;
	for (; i < len && digit(s[i], hex) >= 0; i++) {
		u64 m;
		if (__builtin_mul_overflow(*v, hex ? 16 : 10, &m) ||
		    __builtin_add_overflow(m, (u64)digit(s[i], hex), v))
			*ovf = true;
	}
	return i == first ? 0 : i;
}

static int m_uint(const char *s, size_t len, u64 *out)
{
	u64 v;
	bool ovf;
	size_t n = m_digits(s, len, &v, &ovf);

	if (!n || n != len)
		return E_INVAL;
	if (ovf)
		return E_RANGE;
	*out = v;
	return 0;
}

static int m_size(const char *s, size_t len, u64 *out)
{
	u64 v;
	bool ovf;
	size_t i = m_digits(s, len, &v, &ovf);
	unsigned shift = 0;

	if (!i)
		return E_INVAL;
	if (i < len) {
		const char *sfx = strchr("kmgt", low(s[i]));
		if (sfx && *sfx) {
			shift = 10 * (unsigned)(sfx - "kmgt" + 1);
			i++;
		}
	}
	if (shift && same_ci(s + i, len - i, "ib"))
		i = len;
	else if (same_ci(s + i, len - i, "b"))
		i = len;
	if (i != len)
		return E_INVAL;
	if (ovf || (shift && v > (~0ULL >> shift)))
		return E_RANGE;
	*out = v << shift;
	return 0;
}

static int m_bool(const char *s, size_t len, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" }, *const no[] = { "off", "no", "false", "0" };

	for (int i = 0; i < 4; i++) {
		if (same_ci(s, len, yes[i]))
			return *out = true, 0;
		if (same_ci(s, len, no[i]))
			return *out = false, 0;
	}
	return E_INVAL;
}

static void store(void *p, size_t size, u64 v)
{
	memcpy(p, &v, size); /* little-endian host */
}

static u64 cap(size_t size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static size_t nchoices(const struct opt_desc *o)
{
	size_t n = 0;
	while (o->choices && o->choices[n])
		n++;
	return n;
}

/* Apply one word (key and value already split; val NULL: no '='). Returns
 * 1 for an error, 0 when applied. */
static int m_apply(struct cfg *c, const struct opt_desc *o, const char *val, size_t vlen, bool badq)
{
	char *field = (char *)c + o->offset;
	u64 v;
	bool bv;

	if (o->size == 3)
		return 1; /* the invalid table entry */
	if (badq)
		return 1;
	if (!val && o->type == OPT_BOOL)
		return store(field, o->size, 1), 0;
	if (!val || (!vlen && o->type != OPT_STRING))
		return 1;
	switch (o->type) {
	case OPT_BOOL:
		if (m_bool(val, vlen, &bv))
			return 1;
		store(field, o->size, bv);
		return 0;
	case OPT_UINT:
	case OPT_SIZE: {
		u64 max = (!o->max || o->max > cap(o->size)) ? cap(o->size) : o->max;
		if ((o->type == OPT_SIZE ? m_size(val, vlen, &v) : m_uint(val, vlen, &v)) || v < o->min || v > max)
			return 1;
		store(field, o->size, v);
		return 0;
	}
	case OPT_ENUM:
		for (size_t i = 0; o->choices[i]; i++)
			if (same_ci(val, vlen, o->choices[i]))
				return store(field, o->size, i), 0;
		return 1;
	case OPT_STRING:
		if (vlen >= o->size)
			return 1;
		memcpy(field, val, vlen);
		field[vlen] = 0;
		return 0;
	case OPT_LIST: {
		size_t nc = nchoices(o);
		u64 mask = 0, all = nc >= 64 ? ~0ULL : (1ULL << nc) - 1;
		for (size_t i = 0; i <= vlen;) {
			size_t j = i;
			while (j < vlen && val[j] != ',')
				j++;
			size_t k;
			for (k = 0; k < nc && !same_ci(val + i, j - i, o->choices[k]); k++)
				;
			if (k < nc)
				mask |= 1ULL << k;
			else if (same_ci(val + i, j - i, "all"))
				mask = all;
			else if (same_ci(val + i, j - i, "none"))
				mask = 0;
			else
				return 1;
			i = j + 1;
		}
		store(field, o->size, mask);
		return 0;
	}
	}
	return 1;
}

/* The whole line; returns the error count, sets the rest after "--". */
static int m_line(struct cfg *c, const char *line, size_t len, const char **rest, size_t *rest_len)
{
	size_t end = 0, p = 0;
	int errors = 0;

	while (end < len && line[end])
		end++;
	*rest = line + end;
	*rest_len = 0;
	for (;;) {
		while (p < end && blank(line[p]))
			p++;
		if (p == end)
			return errors;
		size_t start = p;
		bool inq = false;
		while (p < end && (inq || !blank(line[p]))) {
			if (line[p] == '"')
				inq = !inq;
			p++;
		}
		const char *w = line + start;
		size_t wl = p - start;
		if (wl == 2 && w[0] == '-' && w[1] == '-') {
			size_t a = p, b = end;
			while (a < b && blank(line[a]))
				a++;
			while (b > a && blank(line[b - 1]))
				b--;
			*rest = line + a;
			*rest_len = b - a;
			return errors;
		}
		const char *eq = memchr(w, '=', wl);
		size_t klen = eq ? (size_t)(eq - w) : wl;
		const char *val = eq ? eq + 1 : NULL;
		size_t vlen = eq ? wl - klen - 1 : 0;
		bool badq = inq || memchr(w, '"', klen);
		if (val && !badq) {
			size_t q = 0;
			for (size_t i = 0; i < vlen; i++)
				q += val[i] == '"';
			if (q == 2 && val[0] == '"' && val[vlen - 1] == '"')
				val++, vlen -= 2;
			else if (q)
				badq = true;
		}
		const struct opt_desc *o = NULL;
		for (size_t i = 0; i < NOPTS && !o; i++)
			if (strlen(opts[i].name) == klen && !memcmp(opts[i].name, w, klen))
				o = &opts[i];
		errors += o ? m_apply(c, o, val, vlen, badq) : 1;
	}
}

/* ------------------------------------------------------------ the target */

static int nerr;

static void on_err(void *ctx, const char *msg)
{
	size_t n = strlen(msg);

	nerr++;
	FZ_CHECK(n > 0 && n < 320, "message length %zu", n);
	for (size_t i = 0; i < n; i++)
		FZ_CHECK(msg[i] >= 0x20 && msg[i] < 0x7f, "unprintable byte %#x in message '%s'", (u8)msg[i], msg);
}

/* Help with the compiled-in defaults is printable text. (With parsed
 * values it may not be: cmdline_format_value() copies strings as they
 * are, so it is only used for trusted defaults.) */
static bool help_printable;

static void help_putc(void *ctx, char ch)
{
	FZ_CHECK(!help_printable || (ch >= 0x20 && ch < 0x7f) || ch == '\n', "help prints byte %#x", (u8)ch);
	(*(int *)ctx) += ch == '\n';
}

static void round_trip(const struct cfg *c)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_desc *o = &opts[i];
		char val[96], line[128];
		int n = cmdline_format_value(o, c, val, sizeof(val));
		FZ_CHECK(n >= 0 && (size_t)n == strlen(val), "format_value of '%s' returned %d for '%s'", o->name, n,
			 val);
		if (o->size == 3) {
			FZ_CHECK(!strcmp(val, "?"), "invalid entry formatted as '%s'", val);
			continue;
		}
		snprintf(line, sizeof(line), "%s=%s", o->name, val);
		struct cfg *d = malloc(sizeof(*d));
		memset(d, 0x5a, sizeof(*d));
		nerr = 0;
		int e = cmdline_apply(opts, NOPTS, d, line, strlen(line), on_err, NULL, NULL, NULL);
		FZ_CHECK(e == 0 && nerr == 0, "'%s' (formatted) gave %d errors", line, e);
		FZ_CHECK(!memcmp((const char *)d + o->offset, (const char *)c + o->offset,
				 o->type == OPT_STRING ? strlen((const char *)c + o->offset) + 1 : o->size),
			 "'%s' does not read back", line);
		free(d);
	}
}

static void check_values(const char *s, size_t len)
{
	u64 v = 0x1111, mv = 0x2222;
	int r = cmdline_parse_uint(s, len, &v), mr = m_uint(s, len, &mv);
	FZ_CHECK(r == mr && (r || v == mv), "parse_uint: %d/%llu, model %d/%llu", r, (unsigned long long)v, mr,
		 (unsigned long long)mv);
	FZ_CHECK(r == 0 || v == 0x1111, "parse_uint wrote on error");
	v = 0x1111;
	r = cmdline_parse_size(s, len, &v);
	mr = m_size(s, len, &mv);
	FZ_CHECK(r == mr && (r || v == mv), "parse_size: %d/%llu, model %d/%llu", r, (unsigned long long)v, mr,
		 (unsigned long long)mv);
	FZ_CHECK(r == 0 || v == 0x1111, "parse_size wrote on error");
	bool b = false, mb = false;
	r = cmdline_parse_bool(s, len, &b);
	mr = m_bool(s, len, &mb);
	FZ_CHECK(r == mr && (r || b == mb), "parse_bool: %d, model %d", r, mr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct cfg *c = malloc(sizeof(*c));
	static struct cfg m, m0;
	const char *rest = (const char *)1, *mrest;
	size_t rest_len = 12345, mrest_len;

	/* the options */
	defaults(c);
	defaults(&m);
	defaults(&m0);
	nerr = 0;
	int e = cmdline_apply(opts, NOPTS, c, size ? line : NULL, size, on_err, NULL, &rest, &rest_len);
	int me = m_line(&m, line, size, &mrest, &mrest_len);
	FZ_CHECK(e == nerr, "returned %d errors, reported %d", e, nerr);
	FZ_CHECK(e == me, "%d errors, model %d", e, me);
	if (size) {
		FZ_CHECK(rest == mrest && rest_len == mrest_len, "rest at %td+%zu, model %td+%zu", rest - line,
			 rest_len, mrest - line, mrest_len);
	} else {
		FZ_CHECK(rest && rest_len == 0, "empty line: rest");
	}
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_desc *o = &opts[i];
		FZ_CHECK(!memcmp((char *)c + o->offset, (char *)&m + o->offset, o->size), "option '%s' differs",
			 o->name);
	}
	FZ_CHECK(!memcmp(c, &m, sizeof(m)), "bytes outside the options changed");
	round_trip(c);
	/* help is slow (all printf): with the parsed values for one input in
	 * eight, with the defaults once */
	static bool help_done;
	int lines = 0;
	if (size % 8 == 1) {
		/* (parsed strings may hold any byte, newlines included) */
		help_printable = false;
		cmdline_print_help(opts, NOPTS, c, help_putc, &lines);
	}
	if (!help_done) {
		lines = 0;
		help_printable = true;
		cmdline_print_help(opts, NOPTS, &m0, help_putc, &lines);
		FZ_CHECK(lines == (int)NOPTS, "help printed %d lines", lines);
		help_done = true;
	}
	free(c);

	/* the tokenizer alone */
	struct cmdline_iter it;
	struct cmdline_word w;
	size_t words = 0;
	cmdline_iter_init(&it, size ? line : NULL, size);
	while (cmdline_next(&it, &w)) {
		FZ_CHECK(++words <= size, "more words than bytes");
		FZ_CHECK(w.raw >= line && w.raw_len > 0 && w.raw + w.raw_len <= line + size, "word outside the line");
		FZ_CHECK(w.key == w.raw && w.key_len <= w.raw_len, "key");
		FZ_CHECK(!w.val || (w.val >= w.raw && w.val + w.val_len <= w.raw + w.raw_len), "value outside word");
		bool inq = false;
		for (size_t i = 0; i < w.raw_len; i++) {
			FZ_CHECK(w.raw[i] != 0, "NUL inside a word");
			inq ^= w.raw[i] == '"';
			FZ_CHECK(inq || !blank(w.raw[i]), "blank outside quotes in a word");
		}
	}
	FZ_CHECK(!it.rest || (it.rest >= line && it.rest + it.rest_len <= line + size), "rest outside the line");

	/* the value parsers */
	check_values(line, size);
	u64 v = 0;
	memcpy(&v, data, size < 8 ? size : 8);
	char buf[32];
	int n = cmdline_format_size(buf, sizeof(buf), v);
	FZ_CHECK(n > 0 && (size_t)n == strlen(buf), "format_size returned %d", n);
	u64 back = ~v;
	FZ_CHECK(cmdline_parse_size(buf, strlen(buf), &back) == 0 && back == v, "'%s' does not parse back to %llu",
		 buf, (unsigned long long)v);
	return 0;
}
