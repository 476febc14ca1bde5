/*
 * kernel/fmt.h - the printf engine (formatting only, no output device).
 *
 * Pure code: depends on nothing but kernel/types.h, so it builds in the
 * kernel, in the 32-bit test guest (-m32) and on the host for unit tests.
 *
 * Conversions: d i u x X o p s c %, flags "- 0 + space #", width and
 * precision (also "*"), length modifiers hh h l ll z t j. %p prints "0x"
 * and sizeof(void *) * 2 hex digits; %s of NULL prints "(null)"; %n and any
 * other unknown conversion is printed literally (no argument consumed).
 */
#ifndef UMBRA_KERNEL_FMT_H
#define UMBRA_KERNEL_FMT_H

#include "kernel/types.h"

/* Output callback: receives every produced character, in order. */
typedef void (*fmt_putc_fn)(void *ctx, char c);

/* Format @fmt with @ap, passing each character to @putc(@ctx, c).
 * Returns the number of characters emitted. @ap is not consumed (the
 * engine works on a copy), so callers may reuse it after va_end/va_start. */
int fmt_vcbprintf(fmt_putc_fn putc, void *ctx, const char *fmt, va_list ap);

/* Same as fmt_vcbprintf with variadic arguments. */
int fmt_cbprintf(fmt_putc_fn putc, void *ctx, const char *fmt, ...)
	__printf(3, 4);

/* C99 vsnprintf: writes at most @size - 1 characters plus a NUL into @buf
 * (always NUL-terminated when @size > 0; @buf may be NULL when @size is 0)
 * and returns the length the full output would have had. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* C99 snprintf, see fmt_vsnprintf. */
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
