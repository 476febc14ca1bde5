/*
 * kernel/types.h - basic types and bit helpers shared by every layer.
 *
 * Pure code (mm/, parsers, printf) includes only this header and others like
 * it, so it builds both freestanding and on the host for unit tests.
 */
#ifndef UMBRA_KERNEL_TYPES_H
#define UMBRA_KERNEL_TYPES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

/* Address-space-tagged integer types (KVM vocabulary): the name says which
 * space an address lives in. */
typedef u64 hpa_t; /* host-physical */
typedef u64 gpa_t; /* guest-physical */
typedef u64 gva_t; /* guest-virtual */
typedef u64 gfn_t; /* guest frame number */
typedef u64 pfn_t; /* host frame number */

#define BIT(n) ((u64)1 << (n))
#define GENMASK(hi, lo) ((~(u64)0 >> (63 - (hi))) & ~(((u64)1 << (lo)) - 1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define PAGE_SHIFT 12
#define PAGE_SIZE ((u64)4096)
#define KiB ((u64)1 << 10)
#define MiB ((u64)1 << 20)
#define GiB ((u64)1 << 30)

#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __unused __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* Error values (negative), returned by anything that can fail for a reason a
 * guest or the user controls. Never panic on these. */
enum {
	E_OK = 0,
	E_NOMEM = -1,  /* out of frames or objects */
	E_INVAL = -2,  /* malformed input */
	E_RANGE = -3,  /* value out of range */
	E_NOTSUP = -4, /* hardware or feature absent */
	E_EXIST = -5,  /* already exists */
	E_NOENT = -6,  /* not found */
	E_FAULT = -7,  /* bad address */
};

/* Short name of an error value, for messages. */
static inline const char *err_name(int e)
{
	switch (e) {
	case E_OK: return "ok";
	case E_NOMEM: return "out of memory";
	case E_INVAL: return "invalid";
	case E_RANGE: return "out of range";
	case E_NOTSUP: return "not supported";
	case E_EXIST: return "exists";
	case E_NOENT: return "not found";
	case E_FAULT: return "bad address";
	default: return "error";
	}
}

#endif
