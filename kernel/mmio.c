/*
 * kernel/mmio.c - the per-VM MMIO device table (see mmio.h).
 */
#include "kernel/mmio.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "kernel/vm.h"

int mmio_register(struct vm *vm, gpa_t base, u64 len, const char *name, const struct mmio_ops *ops,
		  void *opaque)
{
	struct mmio_bus *b = &vm->mmio;
	if (!len || base + len < base)
		return E_INVAL;
	for (gpa_t p = base; p < base + len; p += PAGE_SIZE)
		if (gmem_is_ram(&vm->mem, p))
			return E_INVAL;
	for (u32 i = 0; i < b->n; i++)
		if (base < b->r[i].base + b->r[i].len && b->r[i].base < base + len)
			return E_INVAL;
	if (b->n == MMIO_MAX_REGIONS)
		return E_NOMEM;
	b->r[b->n++] = (struct mmio_region){base, len, name, ops, opaque};
	return E_OK;
}

const struct mmio_region *mmio_find(const struct vm *vm, gpa_t gpa, u64 len)
{
	const struct mmio_bus *b = &vm->mmio;
	for (u32 i = 0; i < b->n; i++) {
		const struct mmio_region *r = &b->r[i];
		if (gpa >= r->base && gpa - r->base < r->len && len <= r->len - (gpa - r->base))
			return r;
	}
	return NULL;
}

void mmio_access(struct vcpu *v, gpa_t gpa, void *buf, unsigned len, bool write)
{
	const struct mmio_region *r = mmio_find(v->vm, gpa, len);
	u8 *p = buf;
	if (!r)
		return;
	while (len) {
		/* the largest naturally aligned piece, at most 8 bytes */
		unsigned n = 8;
		while (n > len || (gpa & (n - 1)))
			n >>= 1;
		u64 off = gpa - r->base, val = 0;
		if (write) {
			memcpy(&val, p, n);
			r->ops->write(v, r->opaque, off, n, val);
		} else {
			val = r->ops->read(v, r->opaque, off, n);
			memcpy(p, &val, n);
		}
		TRACE_VCPU(TRACE_IO, v, "mmio dev=%s gpa=%#lx size=%u dir=%s val=%#lx", r->name, gpa, n,
			   write ? "write" : "read", val);
		gpa += n;
		p += n;
		len -= n;
	}
}
