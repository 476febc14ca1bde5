/*
 * kernel/cmdline.h - command-line tokenizer and table-driven option parser.
 *
 * Used for Umbra's own multiboot command line and for every guest module's
 * command line. Pure code: never allocates, never panics, never writes
 * outside the destination fields named by the option table, whatever bytes
 * the line contains.
 *
 * Syntax: words separated by blanks (space, tab, CR, LF); a NUL byte ends
 * the line early. A word is `key` or `key=value`; a value may be
 * double-quoted as a whole (`name="a b"`, no escapes). The word `--` ends
 * option parsing; what follows (trimmed) is the rest, e.g. the guest's own
 * command line.
 */
#ifndef UMBRA_KERNEL_CMDLINE_H
#define UMBRA_KERNEL_CMDLINE_H

#include "kernel/fmt.h"
#include "kernel/types.h"

/* ------------------------------------------------------------ tokenizer */

struct cmdline_word {
	const char *key;
	size_t key_len;
	const char *val; /* NULL when the word has no '='; quotes stripped */
	size_t val_len;
	const char *raw; /* the whole word as written */
	size_t raw_len;
	bool bad_quote; /* unterminated quote, or quote not around the whole value */
};

struct cmdline_iter {
	const char *p, *end;
	const char *rest; /* after `--` (trimmed); NULL until one was seen */
	size_t rest_len;
};

/* Start iterating @line[0..@len) (@line may be NULL when @len is 0). */
void cmdline_iter_init(struct cmdline_iter *it, const char *line, size_t len);

/* Fetch the next word into @w. Returns false at the end of the line or at
 * `--` (then it->rest/rest_len hold the trimmed remainder). */
bool cmdline_next(struct cmdline_iter *it, struct cmdline_word *w);

/* ------------------------------------------------------------ values */

/* Parse an unsigned integer: decimal, or hex with a 0x/0X prefix; the whole
 * of s[0..len) must be consumed. Returns 0, E_INVAL (malformed) or E_RANGE
 * (does not fit in 64 bits). */
int cmdline_parse_uint(const char *s, size_t len, u64 *out);

/* Parse a size: an integer as above, then an optional binary suffix K, M, G
 * or T (case-insensitive), then an optional B or iB ("16M", "16MiB",
 * "4096", "512B", "0x10k"). In hex a trailing "B" is a digit ("0x1B" = 27).
 * Returns 0, E_INVAL or E_RANGE (overflow). */
int cmdline_parse_size(const char *s, size_t len, u64 *out);

/* Parse a boolean: on/off, yes/no, true/false, 1/0 (case-insensitive).
 * Returns 0 or E_INVAL. */
int cmdline_parse_bool(const char *s, size_t len, bool *out);

/* Render @v as a size using the largest exact binary suffix ("16M", "3G",
 * "4097"). Returns what fmt_snprintf returns. */
int cmdline_format_size(char *buf, size_t size, u64 v);

/* ------------------------------------------------------------ options */

enum opt_type {
	OPT_BOOL,   /* bool (or any integer field): `key` alone means on */
	OPT_UINT,   /* integer field, decimal or 0x */
	OPT_SIZE,   /* integer field, with K/M/G/T suffixes */
	OPT_ENUM,   /* integer field = index into choices */
	OPT_STRING, /* char buffer of `size` bytes, always NUL-terminated */
	OPT_LIST,   /* integer bitmask: comma-separated choices set bit i;
		     * "all" sets every choice, "none" clears */
};

struct opt_desc {
	const char *name;
	enum opt_type type;
	size_t offset; /* offsetof() the field in the destination struct */
	size_t size;   /* sizeof() the field: 1, 2, 4 or 8 for integer
			* fields, the buffer size for OPT_STRING */
	u64 min, max;  /* OPT_UINT/OPT_SIZE inclusive range; max == 0 means
			* "whatever the field can hold" */
	const char *const *choices; /* OPT_ENUM/OPT_LIST: NULL-terminated */
	const char *help;           /* one line, no trailing period needed */
};

/* Fills the offset and size members: { "x", OPT_UINT, OPT_FIELD(struct
 * cfg, x), .min = 1, .max = 64, .help = "..." }. */
#define OPT_FIELD(type, field) offsetof(type, field), sizeof(((type *)0)->field)

/* Receives one complete error message (no newline), e.g.
 * "option 'lowpool': value '12Q' is not a size (e.g. 16M); keeping the
 * default". Callers usually prefix it with where the line came from. */
typedef void (*cmdline_err_fn)(void *ctx, const char *msg);

/* Apply the words of @line[0..@len) to the struct at @dst according to the
 * @n descriptors in @opts. A repeated option: the last one wins. A word that
 * is invalid in any way is reported through @err (may be NULL) and leaves
 * its field untouched; parsing goes on with the next word. At `--` parsing
 * stops and @rest and @rest_len (each may be NULL) receive the trimmed
 * remainder; without `--` they get an empty string at the end of the line.
 * Returns the number of errors reported (0 = clean). */
int cmdline_apply(const struct opt_desc *opts, size_t n, void *dst,
		  const char *line, size_t len, cmdline_err_fn err,
		  void *err_ctx, const char **rest, size_t *rest_len);

/* Render the current value of option @o in the struct at @src ("on", "16M",
 * "a,c", "none", a quoted string...). Returns what fmt_snprintf returns. */
int cmdline_format_value(const struct opt_desc *o, const void *src, char *buf,
			 size_t size);

/* Print one line per option: "  name=<size>  help (range ...; default X)".
 * Defaults are read from @defaults when it is not NULL. */
void cmdline_print_help(const struct opt_desc *opts, size_t n,
			const void *defaults, fmt_putc_fn putc, void *ctx);

#endif
