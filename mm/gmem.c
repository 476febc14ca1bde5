/*
 * mm/gmem.c - guest RAM (see gmem.h).
 */
#include "mm/gmem.h"
#include "kernel/string.h"
#include "mm/hostpt.h"
#include "mm/kmem.h"
#include "mm/pmm.h"
#include "mm/pt.h"

#define CHUNK_ORDER 9  /* 2 MiB in frames */
#define GIB_ORDER 18   /* 1 GiB in frames */

int gmem_alloc(struct gmem *m, u64 size)
{
	memset(m, 0, sizeof(*m));
	size = ALIGN_UP(size, GMEM_CHUNK);
	m->nchunks = size / GMEM_CHUNK;
	m->size = size;
	m->chunk = kzalloc(m->nchunks * sizeof(hpa_t));
	m->order = kzalloc(m->nchunks);
	if (!m->chunk || !m->order)
		goto fail;
	u32 per_gib = GiB / GMEM_CHUNK;
	for (u32 i = 0; i < m->nchunks;) {
		hpa_t pa;
		/* a whole, aligned GiB of guest space: try a 1 GiB block */
		if (i % per_gib == 0 && m->nchunks - i >= per_gib && pmm_alloc(GIB_ORDER, PMM_NORMAL, &pa) == E_OK) {
			for (u32 j = 0; j < per_gib; j++)
				m->chunk[i + j] = pa + (u64)j * GMEM_CHUNK;
			m->order[i] = GIB_ORDER;
			i += per_gib;
			continue;
		}
		if (pmm_alloc(CHUNK_ORDER, PMM_NORMAL, &pa))
			goto fail;
		m->chunk[i] = pa;
		m->order[i] = CHUNK_ORDER;
		i++;
	}
	/* No stale host data may reach a guest: zero everything. */
	for (u32 i = 0; i < m->nchunks; i++)
		memset(phys_to_virt(m->chunk[i]), 0, GMEM_CHUNK);
	return E_OK;
fail:
	gmem_free(m);
	return E_NOMEM;
}

void gmem_free(struct gmem *m)
{
	if (m->chunk && m->order) {
		for (u32 i = 0; i < m->nchunks; i++)
			if (m->order[i] && m->chunk[i])
				pmm_free(m->chunk[i], m->order[i]);
	}
	kfree(m->chunk);
	kfree(m->order);
	memset(m, 0, sizeof(*m));
}

bool gmem_is_ram(const struct gmem *m, gpa_t gpa)
{
	return gpa < m->size && !(gpa >= GMEM_HOLE_START && gpa < GMEM_HOLE_END);
}

hpa_t gmem_hpa(const struct gmem *m, gpa_t gpa)
{
	if (!gmem_is_ram(m, gpa))
		return 0;
	return m->chunk[gpa / GMEM_CHUNK] + gpa % GMEM_CHUNK;
}

static bool range_is_ram(const struct gmem *m, gpa_t gpa, u64 len)
{
	if (len == 0)
		return true;
	if (gpa + len < gpa || gpa + len > m->size)
		return false;
	/* the hole is the only gap */
	return gpa + len <= GMEM_HOLE_START || gpa >= GMEM_HOLE_END;
}

static void copy(const struct gmem *m, gpa_t gpa, u8 *buf, u64 len, bool to_guest)
{
	while (len) {
		u64 off = gpa % GMEM_CHUNK;
		u64 n = MIN(len, GMEM_CHUNK - off);
		u8 *host = phys_to_virt(m->chunk[gpa / GMEM_CHUNK] + off);
		if (to_guest)
			memcpy(host, buf, n);
		else
			memcpy(buf, host, n);
		gpa += n;
		buf += n;
		len -= n;
	}
}

int gmem_read(const struct gmem *m, gpa_t gpa, void *buf, u64 len)
{
	if (!range_is_ram(m, gpa, len))
		return E_FAULT;
	copy(m, gpa, buf, len, false);
	return E_OK;
}

int gmem_write(const struct gmem *m, gpa_t gpa, const void *buf, u64 len)
{
	if (!range_is_ram(m, gpa, len))
		return E_FAULT;
	copy(m, gpa, (u8 *)buf, len, true);
	return E_OK;
}

static int tdp_alloc(void *ctx, hpa_t *out)
{
	return pmm_alloc_zeroed(0, PMM_NORMAL, out);
}

static void tdp_free(void *ctx, hpa_t pa)
{
	pmm_free(pa, 0);
}

static const struct pt_ops tdp_ops = {
	.p2v = phys_to_virt,
	.alloc_table = tdp_alloc,
	.free_table = tdp_free,
};

int gmem_map_tdp(const struct gmem *m, const struct pt_format *f, u64 leaf_bits, int max_level, hpa_t *root)
{
	int r = tdp_alloc(NULL, root);
	if (r)
		return r;
	for (u32 i = 0; i < m->nchunks && !r; i++) {
		gpa_t gpa = (u64)i * GMEM_CHUNK;
		hpa_t hpa = m->chunk[i];
		if (m->order[i] == GIB_ORDER && max_level >= 3 && gpa >= GMEM_HOLE_END) {
			r = pt_map(f, &tdp_ops, *root, gpa, hpa, GiB, leaf_bits, 3);
			i += GiB / GMEM_CHUNK - 1;
		} else if (gpa < GMEM_HOLE_END) {
			/* the chunk holding the legacy hole: 4 KiB pages around it */
			r = pt_map(f, &tdp_ops, *root, gpa, hpa, GMEM_HOLE_START, leaf_bits, 1);
			if (!r)
				r = pt_map(f, &tdp_ops, *root, GMEM_HOLE_END, hpa + GMEM_HOLE_END,
					   GMEM_CHUNK - GMEM_HOLE_END, leaf_bits, 1);
		} else {
			r = pt_map(f, &tdp_ops, *root, gpa, hpa, GMEM_CHUNK, leaf_bits, MIN(max_level, 2));
		}
	}
	if (r)
		gmem_unmap_tdp(f, *root);
	return r;
}

void gmem_unmap_tdp(const struct pt_format *f, hpa_t root)
{
	pt_destroy(f, &tdp_ops, root);
}
