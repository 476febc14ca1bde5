/*
 * kernel/string.c - memory and string functions for the freestanding kernel.
 * GCC may emit calls to memset/memcpy/memmove/memcmp itself.
 */
#include "kernel/string.h"

/* Bulk in word units, then the tail: one instruction per word matters
 * for the per-exit path (and under QEMU -icount every REP iteration counts
 * as an instruction). The test guests build this file with -m32, hence
 * the word size from the compiler. */
#if defined(__x86_64__)
#define STOS_W "rep stosq"
#define MOVS_W "rep movsq"
#else
#define STOS_W "rep stosl"
#define MOVS_W "rep movsl"
#endif

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	unsigned long w = (unsigned long)0x0101010101010101ULL * (u8)c;
	size_t words = n / sizeof(long), tail = n % sizeof(long);
	__asm__ volatile(STOS_W : "+D"(d), "+c"(words) : "a"(w) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(w) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t words = n / sizeof(long), tail = n % sizeof(long);
	__asm__ volatile(MOVS_W : "+D"(d), "+S"(src), "+c"(words)::"memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(tail)::"memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}
