/*
 * kernel/string.h - the C string/memory functions Umbra provides itself.
 *
 * Standard names and prototypes: on the host (unit tests) the C library's
 * versions are linked instead of kernel/string.c.
 */
#ifndef UMBRA_KERNEL_STRING_H
#define UMBRA_KERNEL_STRING_H

#include "kernel/types.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#endif
