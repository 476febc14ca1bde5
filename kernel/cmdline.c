/*
 * kernel/cmdline.c - command-line tokenizer, value parsers and the
 * table-driven option parser.
 *
 * Owns only syntax: what the options mean belongs to the callers' tables.
 * Must not allocate, panic, or trust the line: every byte is untrusted
 * (bootloader config, guest module lines), so every path is bounded.
 */
#include "kernel/cmdline.h"
#include "kernel/string.h"

#define SHOW_MAX 40  /* longest value quoted in an error message */
#define MSG_MAX 320

/* ------------------------------------------------------------ helpers */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* s[0..len) equals the C string @word, ignoring ASCII case. */
static bool eq_nocase(const char *s, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!word[i] || lower(s[i]) != lower(word[i]))
			return false;
	return word[i] == '\0';
}

/* Growing string in a fixed buffer; len counts what did not fit too. */
struct sbuf {
	char *buf;
	size_t size, len;
};

static void sb_init(struct sbuf *b, char *buf, size_t size)
{
	b->buf = buf;
	b->size = size;
	b->len = 0;
	if (size)
		buf[0] = '\0';
}

static void sb_putc(void *ctx, char c)
{
	struct sbuf *b = ctx;

	if (b->len + 1 < b->size) {
		b->buf[b->len] = c;
		b->buf[b->len + 1] = '\0';
	}
	b->len++;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __printf(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vcbprintf(sb_putc, b, fmt, ap);
	va_end(ap);
}

/* Printable, bounded copy of untrusted bytes for messages. */
static const char *show(char out[SHOW_MAX + 4], const char *s, size_t len)
{
	size_t n = len > SHOW_MAX ? SHOW_MAX : len;

	for (size_t i = 0; i < n; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (len > n)
		memcpy(out + n, "...", 3), n += 3;
	out[n] = '\0';
	return out;
}

static u64 field_cap(size_t size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static void field_store(void *p, size_t size, u64 v)
{
	u8 b1 = (u8)v;
	u16 b2 = (u16)v;
	u32 b4 = (u32)v;

	switch (size) {
	case 1: memcpy(p, &b1, 1); break;
	case 2: memcpy(p, &b2, 2); break;
	case 4: memcpy(p, &b4, 4); break;
	case 8: memcpy(p, &v, 8); break;
	}
}

static u64 field_load(const void *p, size_t size)
{
	u8 b1;
	u16 b2;
	u32 b4;
	u64 b8;

	switch (size) {
	case 1: memcpy(&b1, p, 1); return b1;
	case 2: memcpy(&b2, p, 2); return b2;
	case 4: memcpy(&b4, p, 4); return b4;
	case 8: memcpy(&b8, p, 8); return b8;
	}
	return 0;
}

static size_t count_choices(const struct opt_desc *o)
{
	size_t n = 0;

	while (o->choices && o->choices[n])
		n++;
	return n;
}

/* ------------------------------------------------------------ tokenizer */

void cmdline_iter_init(struct cmdline_iter *it, const char *line, size_t len)
{
	size_t n = 0;

	if (!line)
		line = "", len = 0;
	while (n < len && line[n])
		n++;
	it->p = line;
	it->end = line + n;
	it->rest = NULL;
	it->rest_len = 0;
}

static void split_word(struct cmdline_word *w, bool unterminated)
{
	const char *eq = NULL;

	for (size_t i = 0; i < w->raw_len && !eq; i++)
		if (w->raw[i] == '=')
			eq = w->raw + i;
	w->key = w->raw;
	w->key_len = eq ? (size_t)(eq - w->raw) : w->raw_len;
	w->val = eq ? eq + 1 : NULL;
	w->val_len = eq ? w->raw_len - w->key_len - 1 : 0;
	w->bad_quote = unterminated;
	for (size_t i = 0; i < w->key_len; i++)
		if (w->key[i] == '"')
			w->bad_quote = true;
	if (!w->val)
		return;
	size_t quotes = 0;
	for (size_t i = 0; i < w->val_len; i++)
		quotes += w->val[i] == '"';
	if (quotes == 0 || w->bad_quote)
		return;
	if (quotes == 2 && w->val_len >= 2 && w->val[0] == '"' &&
	    w->val[w->val_len - 1] == '"') {
		w->val++;
		w->val_len -= 2;
	} else {
		w->bad_quote = true;
	}
}

bool cmdline_next(struct cmdline_iter *it, struct cmdline_word *w)
{
	const char *p = it->p, *end = it->end, *start;
	bool in_quote = false;

	while (p < end && is_blank(*p))
		p++;
	if (p == end) {
		it->p = p;
		return false;
	}
	start = p;
	while (p < end && (in_quote || !is_blank(*p))) {
		if (*p == '"')
			in_quote = !in_quote;
		p++;
	}
	it->p = p;
	if (p - start == 2 && start[0] == '-' && start[1] == '-') {
		while (p < end && is_blank(*p))
			p++;
		while (end > p && is_blank(end[-1]))
			end--;
		it->rest = p;
		it->rest_len = (size_t)(end - p);
		it->p = it->end;
		return false;
	}
	w->raw = start;
	w->raw_len = (size_t)(p - start);
	split_word(w, in_quote);
	return true;
}

/* ------------------------------------------------------------ values */

/* Scan digits (decimal or 0x hex) at the start of s[0..len). Sets *used to
 * the bytes consumed; E_INVAL when there are none, E_RANGE on overflow. */
static int scan_uint(const char *s, size_t len, size_t *used, u64 *out)
{
	size_t i = 0, first;
	u64 v = 0;
	bool hex = false, overflow = false;

	if (len > 2 && s[0] == '0' && lower(s[1]) == 'x')
		hex = true, i = 2;
	first = i;
	for (; i < len; i++) {
		char c = lower(s[i]);
		u32 d;
		if (c >= '0' && c <= '9')
			d = (u32)(c - '0');
		else if (hex && c >= 'a' && c <= 'f')
			d = (u32)(c - 'a' + 10);
		else
			break;
		if (hex) {
			if (v >> 60)
				overflow = true;
			v = (v << 4) | d;
		} else {
			if (v > 0x1999999999999999ULL ||
			    (v == 0x1999999999999999ULL && d > 5))
				overflow = true;
			v = v * 10 + d;
		}
	}
	*used = i;
	if (i == first)
		return E_INVAL;
	*out = v;
	return overflow ? E_RANGE : 0;
}

int cmdline_parse_uint(const char *s, size_t len, u64 *out)
{
	size_t used = 0;
	u64 v = 0;
	int r;

	if (!s)
		return E_INVAL;
	r = scan_uint(s, len, &used, &v);
	if (r == E_INVAL || used != len)
		return E_INVAL;
	if (r)
		return r;
	*out = v;
	return 0;
}

int cmdline_parse_size(const char *s, size_t len, u64 *out)
{
	size_t i = 0;
	unsigned shift = 0;
	u64 v = 0;
	int r;

	if (!s)
		return E_INVAL;
	r = scan_uint(s, len, &i, &v);
	if (r == E_INVAL)
		return E_INVAL;
	if (i < len) {
		switch (lower(s[i])) {
		case 'k': shift = 10; break;
		case 'm': shift = 20; break;
		case 'g': shift = 30; break;
		case 't': shift = 40; break;
		}
		if (shift)
			i++;
	}
	if (shift && len - i == 2 && lower(s[i]) == 'i' && lower(s[i + 1]) == 'b')
		i += 2;
	else if (len - i == 1 && lower(s[i]) == 'b')
		i++;
	if (i != len)
		return E_INVAL;
	if (r || v > (~0ULL >> shift))
		return E_RANGE;
	*out = v << shift;
	return 0;
}

int cmdline_parse_bool(const char *s, size_t len, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };

	if (!s)
		return E_INVAL;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (eq_nocase(s, len, yes[i])) {
			*out = true;
			return 0;
		}
		if (eq_nocase(s, len, no[i])) {
			*out = false;
			return 0;
		}
	}
	return E_INVAL;
}

int cmdline_format_size(char *buf, size_t size, u64 v)
{
	static const char sfx[] = "KMGT";

	for (int i = 3; i >= 0; i--) {
		unsigned shift = 10 * (unsigned)(i + 1);
		if (v && !(v & ((1ULL << shift) - 1)))
			return fmt_snprintf(buf, size, "%llu%c",
					    (unsigned long long)(v >> shift), sfx[i]);
	}
	return fmt_snprintf(buf, size, "%llu", (unsigned long long)v);
}

/* ------------------------------------------------------------ options */

struct reporter {
	cmdline_err_fn fn;
	void *ctx;
	int count;
};

static void report(struct reporter *r, const char *fmt, ...) __printf(2, 3);
static void report(struct reporter *r, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->count++;
	if (r->fn)
		r->fn(r->ctx, msg);
}

/* "a, b, c" (plus ", all, none" for lists) into @b. */
static void join_choices(struct sbuf *b, const struct opt_desc *o)
{
	for (size_t i = 0; o->choices && o->choices[i]; i++)
		sb_printf(b, "%s%s", i ? ", " : "", o->choices[i]);
	if (o->type == OPT_LIST)
		sb_printf(b, ", all, none");
}

static bool desc_ok(const struct opt_desc *o)
{
	size_t nc = count_choices(o);

	if (o->type == OPT_STRING)
		return o->size >= 1;
	if (o->size != 1 && o->size != 2 && o->size != 4 && o->size != 8)
		return false;
	if (o->type == OPT_ENUM)
		return nc >= 1 && nc - 1 <= field_cap(o->size);
	if (o->type == OPT_LIST)
		return nc >= 1 && nc <= 8 * o->size;
	return o->type == OPT_BOOL || o->type == OPT_UINT || o->type == OPT_SIZE;
}

/* Parse an OPT_UINT/OPT_SIZE value; returns a problem description or NULL. */
static const char *parse_number(const struct opt_desc *o, const char *s,
				size_t len, u64 *v, char *range, size_t rsize)
{
	bool is_size = o->type == OPT_SIZE;
	u64 cap = field_cap(o->size);
	u64 max = (o->max == 0 || o->max > cap) ? cap : o->max;
	int r = is_size ? cmdline_parse_size(s, len, v) :
			  cmdline_parse_uint(s, len, v);
	char lo[24], hi[24];

	if (r == E_INVAL)
		return is_size ? "is not a size (e.g. 16M)" :
				 "is not a number (e.g. 42 or 0x2a)";
	if (r == E_RANGE)
		return "is too large";
	if (*v >= o->min && *v <= max)
		return NULL;
	if (is_size) {
		cmdline_format_size(lo, sizeof(lo), o->min);
		cmdline_format_size(hi, sizeof(hi), max);
	} else {
		fmt_snprintf(lo, sizeof(lo), "%llu", (unsigned long long)o->min);
		fmt_snprintf(hi, sizeof(hi), "%llu", (unsigned long long)max);
	}
	fmt_snprintf(range, rsize, "is out of range (%s..%s)", lo, hi);
	return range;
}

/* Find @s among the choices (case-insensitive); -1 if absent. */
static long find_choice(const struct opt_desc *o, const char *s, size_t len)
{
	for (size_t i = 0; o->choices[i]; i++)
		if (eq_nocase(s, len, o->choices[i]))
			return (long)i;
	return -1;
}

static void apply_list(struct reporter *r, const struct opt_desc *o,
		       void *field, const char *s, size_t len)
{
	size_t nc = count_choices(o);
	u64 all = nc >= 64 ? ~0ULL : (1ULL << nc) - 1;
	u64 mask = 0;
	size_t i = 0;
	char v[SHOW_MAX + 4], names[MSG_MAX / 2];
	struct sbuf b;

	while (i <= len) {
		size_t j = i;
		while (j < len && s[j] != ',')
			j++;
		long c = find_choice(o, s + i, j - i);
		if (c >= 0) {
			mask |= 1ULL << c;
		} else if (eq_nocase(s + i, j - i, "all")) {
			mask = all;
		} else if (eq_nocase(s + i, j - i, "none")) {
			mask = 0;
		} else {
			sb_init(&b, names, sizeof(names));
			join_choices(&b, o);
			if (i == j)
				report(r, "option '%s': empty item in list '%s'; keeping the default",
				       o->name, show(v, s, len));
			else
				report(r, "option '%s': item '%s' is not one of: %s; keeping the default",
				       o->name, show(v, s + i, j - i), names);
			return;
		}
		i = j + 1;
	}
	field_store(field, o->size, mask);
}

static void apply_one(struct reporter *r, const struct opt_desc *o, void *dst,
		      const struct cmdline_word *w)
{
	char *field = (char *)dst + o->offset;
	char v[SHOW_MAX + 4], why[96], names[MSG_MAX / 2];
	const char *problem;
	struct sbuf b;
	bool bv;
	u64 n;

	if (!desc_ok(o)) {
		report(r, "option '%s': bad option table entry (type %d, size %zu); ignored",
		       o->name, (int)o->type, o->size);
		return;
	}
	if (w->bad_quote) {
		report(r, "option '%s': unterminated or misplaced quote in '%s'; keeping the default",
		       o->name, show(v, w->raw, w->raw_len));
		return;
	}
	if (!w->val && o->type == OPT_BOOL) {
		field_store(field, o->size, 1);
		return;
	}
	if (!w->val || (w->val_len == 0 && o->type != OPT_STRING)) {
		report(r, "option '%s': missing value (use %s=...); keeping the default",
		       o->name, o->name);
		return;
	}
	show(v, w->val, w->val_len);
	switch (o->type) {
	case OPT_BOOL:
		if (cmdline_parse_bool(w->val, w->val_len, &bv)) {
			report(r, "option '%s': value '%s' is not a boolean (on/off, yes/no, true/false, 1/0); keeping the default",
			       o->name, v);
			return;
		}
		field_store(field, o->size, bv);
		return;
	case OPT_UINT:
	case OPT_SIZE:
		problem = parse_number(o, w->val, w->val_len, &n, why, sizeof(why));
		if (problem) {
			report(r, "option '%s': value '%s' %s; keeping the default",
			       o->name, v, problem);
			return;
		}
		field_store(field, o->size, n);
		return;
	case OPT_ENUM: {
		long c = find_choice(o, w->val, w->val_len);
		if (c < 0) {
			sb_init(&b, names, sizeof(names));
			join_choices(&b, o);
			report(r, "option '%s': value '%s' is not one of: %s; keeping the default",
			       o->name, v, names);
			return;
		}
		field_store(field, o->size, (u64)c);
		return;
	}
	case OPT_STRING:
		if (w->val_len >= o->size) {
			report(r, "option '%s': value '%s' is too long (at most %zu characters); keeping the default",
			       o->name, v, o->size - 1);
			return;
		}
		memcpy(field, w->val, w->val_len);
		field[w->val_len] = '\0';
		return;
	case OPT_LIST:
		apply_list(r, o, field, w->val, w->val_len);
		return;
	}
}

static const struct opt_desc *find_opt(const struct opt_desc *opts, size_t n,
				       const char *key, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (opts[i].name && strlen(opts[i].name) == len &&
		    !memcmp(opts[i].name, key, len))
			return &opts[i];
	return NULL;
}

int cmdline_apply(const struct opt_desc *opts, size_t n, void *dst,
		  const char *line, size_t len, cmdline_err_fn err,
		  void *err_ctx, const char **rest, size_t *rest_len)
{
	struct reporter r = { err, err_ctx, 0 };
	struct cmdline_iter it;
	struct cmdline_word w;
	char k[SHOW_MAX + 4];

	cmdline_iter_init(&it, line, len);
	while (cmdline_next(&it, &w)) {
		const struct opt_desc *o = find_opt(opts, n, w.key, w.key_len);
		if (o)
			apply_one(&r, o, dst, &w);
		else
			report(&r, "unknown option '%s'; ignored",
			       show(k, w.key, w.key_len));
	}
	if (rest)
		*rest = it.rest ? it.rest : it.end;
	if (rest_len)
		*rest_len = it.rest_len;
	return r.count;
}

/* ------------------------------------------------------------ rendering */

int cmdline_format_value(const struct opt_desc *o, const void *src, char *buf,
			 size_t size)
{
	const char *field = (const char *)src + o->offset;
	size_t nc = count_choices(o);
	struct sbuf b;
	u64 v;

	sb_init(&b, buf, size);
	if (!desc_ok(o)) {
		sb_printf(&b, "?");
		return (int)b.len;
	}
	if (o->type == OPT_STRING) {
		sb_printf(&b, "\"%.*s\"", (int)strnlen(field, o->size), field);
		return (int)b.len;
	}
	v = field_load(field, o->size);
	switch (o->type) {
	case OPT_BOOL:
		sb_printf(&b, "%s", v ? "on" : "off");
		break;
	case OPT_UINT:
		sb_printf(&b, "%llu", (unsigned long long)v);
		break;
	case OPT_SIZE:
		b.len = (size_t)cmdline_format_size(buf, size, v);
		break;
	case OPT_ENUM:
		if (v < nc)
			sb_printf(&b, "%s", o->choices[v]);
		else
			sb_printf(&b, "%llu", (unsigned long long)v);
		break;
	case OPT_LIST: {
		u64 all = nc >= 64 ? ~0ULL : (1ULL << nc) - 1;
		if ((v & all) == 0) {
			sb_printf(&b, "none");
		} else if ((v & all) == all && nc > 1) {
			sb_printf(&b, "all");
		} else {
			const char *sep = "";
			for (size_t i = 0; i < nc; i++) {
				if (v & (1ULL << i)) {
					sb_printf(&b, "%s%s", sep, o->choices[i]);
					sep = ",";
				}
			}
		}
		break;
	}
	default:
		break;
	}
	return (int)b.len;
}

static void opt_usage(const struct opt_desc *o, char *buf, size_t size)
{
	static const char *const ph[] = {
		[OPT_BOOL] = "[=on|off]", [OPT_UINT] = "=<n>",
		[OPT_SIZE] = "=<size>", [OPT_ENUM] = "=<choice>",
		[OPT_STRING] = "=<text>", [OPT_LIST] = "=<list>",
	};
	unsigned t = (unsigned)o->type;

	fmt_snprintf(buf, size, "%s%s", o->name ? o->name : "?",
		     t < ARRAY_SIZE(ph) ? ph[t] : "");
}

void cmdline_print_help(const struct opt_desc *opts, size_t n,
			const void *defaults, fmt_putc_fn putc, void *ctx)
{
	char usage[64], extra[MSG_MAX], val[96], lo[24], hi[24];
	int col = 0;

	for (size_t i = 0; i < n; i++) {
		opt_usage(&opts[i], usage, sizeof(usage));
		col = MAX(col, (int)strlen(usage));
	}
	col = MIN(col, 28);
	for (size_t i = 0; i < n; i++) {
		const struct opt_desc *o = &opts[i];
		struct sbuf b;
		const char *sep = "";

		opt_usage(o, usage, sizeof(usage));
		sb_init(&b, extra, sizeof(extra));
		if (o->type == OPT_ENUM || o->type == OPT_LIST) {
			sb_printf(&b, "%s", o->type == OPT_ENUM ? "one of: " :
				  "comma-separated: ");
			join_choices(&b, o);
			sep = "; ";
		} else if ((o->type == OPT_UINT || o->type == OPT_SIZE) &&
			   (o->min || o->max)) {
			bool sz = o->type == OPT_SIZE;
			if (sz)
				cmdline_format_size(lo, sizeof(lo), o->min);
			else
				fmt_snprintf(lo, sizeof(lo), "%llu", (unsigned long long)o->min);
			if (sz)
				cmdline_format_size(hi, sizeof(hi), o->max);
			else
				fmt_snprintf(hi, sizeof(hi), "%llu", (unsigned long long)o->max);
			if (o->max)
				sb_printf(&b, "range %s..%s", lo, hi);
			else
				sb_printf(&b, "at least %s", lo);
			sep = "; ";
		} else if (o->type == OPT_STRING && o->size > 1) {
			sb_printf(&b, "at most %zu characters", o->size - 1);
			sep = "; ";
		}
		if (defaults) {
			cmdline_format_value(o, defaults, val, sizeof(val));
			sb_printf(&b, "%sdefault %s", sep, val);
		}
		fmt_cbprintf(putc, ctx, "  %-*s  %s%s%s%s\n", col, usage,
			     o->help ? o->help : "", b.len ? " (" : "", extra,
			     b.len ? ")" : "");
	}
}
