/*
 * kernel/fmt.c - the printf engine behind kprintf and fmt_snprintf.
 *
 * Owns format parsing and number rendering. Must not call anything outside
 * this file (not even kernel/string.c): the 32-bit test guest links it
 * alone, and it must not need libgcc either, so 64-bit division is done by
 * hand with 32-bit operations.
 */
#include "kernel/fmt.h"

#define FMT_MAX_FIELD 100000000 /* width/precision saturate here */

struct fmt_out {
	fmt_putc_fn putc;
	void *ctx;
	int count;
};

struct fmt_spec {
	bool left, zero, plus, space, alt;
	int width;
	int prec; /* -1: none */
	char len; /* 0, 'H' (hh), 'h', 'l', 'L' (ll), 'z', 't', 'j' */
};

static void out_c(struct fmt_out *o, char c)
{
	o->putc(o->ctx, c);
	if (o->count < 0x7fffffff)
		o->count++;
}

static void out_rep(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		out_c(o, c);
}

/* v / 10 without a 64-bit divide instruction or libgcc helper. */
static u64 div10(u64 v, u32 *rem)
{
#if __SIZEOF_POINTER__ == 8
	*rem = (u32)(v % 10);
	return v / 10;
#else
	u64 q = 0;
	u32 r = 0;
	for (int shift = 48; shift >= 0; shift -= 16) {
		u32 cur = (r << 16) | (u32)((v >> shift) & 0xffff);
		q = (q << 16) | (cur / 10);
		r = cur % 10;
	}
	*rem = r;
	return q;
#endif
}

/* Digits of @v in @base (8, 10, 16), least significant first; none for 0. */
static int to_digits(u64 v, unsigned base, bool upper, char *buf)
{
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	while (v) {
		u32 d;
		if (base == 10) {
			v = div10(v, &d);
		} else {
			d = (u32)v & (base - 1);
			v >>= base == 16 ? 4 : 3;
		}
		buf[n++] = dig[d];
	}
	return n;
}

/* Render one integer: [spaces][sign][prefix][zeros][digits][spaces]. */
static void emit_int(struct fmt_out *o, const struct fmt_spec *s, u64 mag,
		     char sign, unsigned base, bool upper, const char *prefix)
{
	char digits[24];
	int n = to_digits(mag, base, upper, digits);
	int prec = s->prec < 0 ? 1 : s->prec;
	int zeros = prec > n ? prec - n : 0;
	int plen = 0;

	if (base == 8 && s->alt && zeros == 0)
		zeros = 1; /* '#' with octal: first digit must be 0 */
	while (prefix && prefix[plen])
		plen++;

	int total = (sign ? 1 : 0) + plen + zeros + n;
	int pad = s->width > total ? s->width - total : 0;

	if (!s->left && !(s->zero && s->prec < 0))
		out_rep(o, ' ', pad);
	if (sign)
		out_c(o, sign);
	for (int i = 0; i < plen; i++)
		out_c(o, prefix[i]);
	if (!s->left && s->zero && s->prec < 0)
		out_rep(o, '0', pad);
	out_rep(o, '0', zeros);
	while (n > 0)
		out_c(o, digits[--n]);
	if (s->left)
		out_rep(o, ' ', pad);
}

static void emit_str(struct fmt_out *o, const struct fmt_spec *s,
		     const char *str, int len)
{
	int pad = s->width > len ? s->width - len : 0;

	if (!s->left)
		out_rep(o, ' ', pad);
	for (int i = 0; i < len; i++)
		out_c(o, str[i]);
	if (s->left)
		out_rep(o, ' ', pad);
}

static u64 fetch_unsigned(va_list *ap, char len)
{
	switch (len) {
	case 'H': return (unsigned char)va_arg(*ap, unsigned int);
	case 'h': return (unsigned short)va_arg(*ap, unsigned int);
	case 'l': return va_arg(*ap, unsigned long);
	case 'L': return va_arg(*ap, unsigned long long);
	case 'z': return va_arg(*ap, size_t);
	case 't': return (size_t)va_arg(*ap, ptrdiff_t);
	case 'j': return va_arg(*ap, uintmax_t);
	default: return va_arg(*ap, unsigned int);
	}
}

static s64 fetch_signed(va_list *ap, char len)
{
	switch (len) {
	case 'H': return (signed char)va_arg(*ap, int);
	case 'h': return (short)va_arg(*ap, int);
	case 'l': return va_arg(*ap, long);
	case 'L': return va_arg(*ap, long long);
	case 'z': return (ptrdiff_t)va_arg(*ap, size_t);
	case 't': return va_arg(*ap, ptrdiff_t);
	case 'j': return va_arg(*ap, intmax_t);
	default: return va_arg(*ap, int);
	}
}

/* Parse a decimal field (width or precision), saturating. */
static int parse_num(const char **pp)
{
	const char *p = *pp;
	int v = 0;

	while (*p >= '0' && *p <= '9') {
		if (v < FMT_MAX_FIELD)
			v = v * 10 + (*p - '0');
		p++;
	}
	*pp = p;
	return v;
}

/* Parse flags, width, precision and length at *pp (just after '%'). */
static void parse_spec(const char **pp, struct fmt_spec *s, va_list *ap)
{
	const char *p = *pp;

	for (;; p++) {
		if (*p == '-') s->left = true;
		else if (*p == '0') s->zero = true;
		else if (*p == '+') s->plus = true;
		else if (*p == ' ') s->space = true;
		else if (*p == '#') s->alt = true;
		else break;
	}
	if (*p == '*') {
		int w = va_arg(*ap, int);
		p++;
		if (w < 0) {
			s->left = true;
			w = w < -FMT_MAX_FIELD ? FMT_MAX_FIELD : -w;
		}
		s->width = w > FMT_MAX_FIELD ? FMT_MAX_FIELD : w;
	} else {
		s->width = parse_num(&p);
	}
	if (*p == '.') {
		p++;
		if (*p == '*') {
			int pr = va_arg(*ap, int);
			p++;
			s->prec = pr < 0 ? -1 : (pr > FMT_MAX_FIELD ? FMT_MAX_FIELD : pr);
		} else {
			s->prec = parse_num(&p);
		}
	}
	if (p[0] == 'h' && p[1] == 'h') { s->len = 'H'; p += 2; }
	else if (p[0] == 'l' && p[1] == 'l') { s->len = 'L'; p += 2; }
	else if (*p == 'h' || *p == 'l' || *p == 'z' || *p == 't' || *p == 'j')
		s->len = *p++;
	*pp = p;
}

/* Handle one conversion character @c; returns false if it is unknown. */
static bool convert(struct fmt_out *o, struct fmt_spec *s, char c, va_list *ap)
{
	switch (c) {
	case 'd':
	case 'i': {
		s64 v = fetch_signed(ap, s->len);
		u64 mag = v < 0 ? (u64)0 - (u64)v : (u64)v;
		char sign = v < 0 ? '-' : s->plus ? '+' : s->space ? ' ' : 0;
		emit_int(o, s, mag, sign, 10, false, NULL);
		return true;
	}
	case 'u':
		emit_int(o, s, fetch_unsigned(ap, s->len), 0, 10, false, NULL);
		return true;
	case 'o':
		emit_int(o, s, fetch_unsigned(ap, s->len), 0, 8, false, NULL);
		return true;
	case 'x':
	case 'X': {
		u64 v = fetch_unsigned(ap, s->len);
		const char *pfx = s->alt && v ? (c == 'x' ? "0x" : "0X") : NULL;
		emit_int(o, s, v, 0, 16, c == 'X', pfx);
		return true;
	}
	case 'p': {
		u64 v = (uintptr_t)va_arg(*ap, void *);
		s->prec = (int)sizeof(void *) * 2;
		s->alt = false;
		emit_int(o, s, v, 0, 16, false, "0x");
		return true;
	}
	case 's': {
		const char *str = va_arg(*ap, const char *);
		int len = 0;
		if (!str)
			str = "(null)";
		while (str[len] && (s->prec < 0 || len < s->prec))
			len++;
		emit_str(o, s, str, len);
		return true;
	}
	case 'c': {
		char ch = (char)va_arg(*ap, int);
		emit_str(o, s, &ch, 1);
		return true;
	}
	case '%':
		out_c(o, '%');
		return true;
	default:
		return false;
	}
}

int fmt_vcbprintf(fmt_putc_fn putc, void *ctx, const char *fmt, va_list ap)
{
	struct fmt_out o = { putc, ctx, 0 };
	va_list aq;
	const char *p = fmt;

	va_copy(aq, ap);
	while (*p) {
		if (*p != '%') {
			out_c(&o, *p++);
			continue;
		}
		const char *start = p++;
		struct fmt_spec s = { .prec = -1 };
		parse_spec(&p, &s, &aq);
		if (!*p || !convert(&o, &s, *p, &aq)) {
			/* Unknown or truncated conversion: print it as written. */
			if (*p)
				p++;
			while (start < p)
				out_c(&o, *start++);
			continue;
		}
		p++;
	}
	va_end(aq);
	return o.count;
}

int fmt_cbprintf(fmt_putc_fn putc, void *ctx, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vcbprintf(putc, ctx, fmt, ap);
	va_end(ap);
	return n;
}

struct fmt_buf {
	char *buf;
	size_t size, pos;
};

static void buf_putc(void *ctx, char c)
{
	struct fmt_buf *b = ctx;

	if (b->pos + 1 < b->size)
		b->buf[b->pos++] = c;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_buf b = { buf, size, 0 };
	int n = fmt_vcbprintf(buf_putc, &b, fmt, ap);

	if (size)
		buf[b.pos] = '\0';
	return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
