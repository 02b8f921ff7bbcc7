// SPDX-License-Identifier: MIT
/*
 * The memory table: SET_MEM_TABLE, ADD_MEM_REG and REM_MEM_REG turn the
 * front end's regions into RAM or RAM-device regions of the address space,
 * and ring addresses (front-end virtual) into guest-physical ones.
 *
 * Each region is checked before it is mapped: size not 0, no sum that
 * wraps (guest range, user range, fd offset), no overlap with another
 * region, and for a regular file an fd at least mmap_offset + size long
 * (fstat), so no access can later fault with SIGBUS.  The mapping is shared
 * by the region's pieces in the address space and unmapped when the last
 * piece is released (after RCU readers and DMA mappings let go of it), so
 * a region can be removed while queues run.
 *
 * Device memory: the parts of a region inside an operator's
 * --device-memory range become RAMD pieces, the rest RAM (a region partly
 * inside is split); a region whose fd is a char device or a sysfs file (a
 * PCI resourceN) is RAMD as a whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <syslog.h>
#include <unistd.h>

#include "vhost_priv.h"

#ifndef SYSFS_MAGIC
#define SYSFS_MAGIC 0x62656572
#endif

#define MEM_MAX_PIECES 8u

/* One mmap shared by the pieces of a region. */
struct vhost_map {
	void *addr;
	size_t len;
	unsigned refs; /* atomic: pieces not yet released */
};

static void map_put(void *opaque)
{
	struct vhost_map *map = opaque;

	if (__atomic_sub_fetch(&map->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		munmap(map->addr, map->len);
		free(map);
	}
}

/* Why a region must be RAMD as a whole, or NULL; -1 if the fd cannot be
 * memory at all. */
static int fd_kind(int fd, struct stat *st, const char **why)
{
	struct statfs sfs;

	*why = NULL;
	if (fstat(fd, st))
		return -1;
	if (S_ISCHR(st->st_mode)) {
		*why = "fd is a char device";
		return 0;
	}
	if (!S_ISREG(st->st_mode))
		return -1;
	if (fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == SYSFS_MAGIC)
		*why = "fd is a sysfs file";
	return 0;
}

/* The rules every region obeys on its own (before it is mapped). */
static int region_check(struct ramdev_vhost *v, const struct vhu_region *r,
			unsigned n)
{
	uint64_t end;

	if (r->size == 0)
		return vhost_reject(v, RAMDEV_VHOST_REGION_ZERO,
				    "region 0x%x: gpa 0x%llx size 0", n,
				    (unsigned long long)r->gpa);
	if (__builtin_add_overflow(r->gpa, r->size - 1, &end) ||
	    __builtin_add_overflow(r->uva, r->size - 1, &end) ||
	    __builtin_add_overflow(r->offset, r->size, &end) ||
	    end > (uint64_t)INT64_MAX)
		return vhost_reject(v, RAMDEV_VHOST_REGION_WRAP,
				    "region 0x%x: gpa 0x%llx uva 0x%llx "
				    "offset 0x%llx size 0x%llx", n,
				    (unsigned long long)r->gpa,
				    (unsigned long long)r->uva,
				    (unsigned long long)r->offset,
				    (unsigned long long)r->size);
	return 0;
}

static bool overlaps(const struct vhu_region *a, const struct vhu_region *b)
{
	return a->gpa <= b->gpa + (b->size - 1) && b->gpa <= a->gpa + (a->size - 1);
}

static int overlap_check(struct ramdev_vhost *v, const struct vhu_region *r,
			 unsigned n)
{
	for (unsigned i = 0; i < v->nmem; i++)
		if (overlaps(r, &v->mem[i].r))
			return vhost_reject(v, RAMDEV_VHOST_REGION_OVERLAP,
					    "region 0x%x: gpa 0x%llx size "
					    "0x%llx overlaps gpa 0x%llx size "
					    "0x%llx", n,
					    (unsigned long long)r->gpa,
					    (unsigned long long)r->size,
					    (unsigned long long)v->mem[i].r.gpa,
					    (unsigned long long)v->mem[i].r.size);
	return 0;
}

/* The devmem range holding @gpa (index), or -1 and *@next the lowest start
 * above it, 0 if none: a start above @gpa is never 0, while UINT64_MAX is
 * both a valid start and the last byte of a region at the top. */
static int devmem_at(const struct ramdev_vhost *v, uint64_t gpa, uint64_t *next)
{
	*next = 0;
	for (unsigned i = 0; i < v->ndevmem; i++) {
		const struct ramdev_vhost_devmem *d = &v->devmem[i];

		if (d->size && gpa >= d->gpa && gpa - d->gpa < d->size)
			return (int)i;
		if (d->gpa > gpa && (*next == 0 || d->gpa < *next))
			*next = d->gpa;
	}
	return -1;
}

/* Place the pieces of @e in the address space; log each.  0 or -errno. */
static int add_pieces(struct ramdev_vhost *v, struct vhost_mem *e,
		      const char *fd_why, unsigned id)
{
	uint64_t cur = e->r.gpa, last = e->last;

	while (cur <= last && e->npieces < MEM_MAX_PIECES) {
		struct ramdev_region *reg;
		uint64_t next, end = last, off = cur - e->r.gpa;
		int d = devmem_at(v, cur, &next);
		const char *why = fd_why;
		char name[48];
		int ret;

		if (d >= 0) {
			uint64_t dl = v->devmem[d].gpa + (v->devmem[d].size - 1);

			end = dl < last ? dl : last;
			why = "--device-memory";
		} else if (next && next <= last) {
			end = next - 1;
		}
		if (e->npieces == MEM_MAX_PIECES - 1 && end != last) {
			/* More ranges than pieces: the rest is one piece, and
			 * device memory as it holds some (RAM accessed the
			 * device-memory way is slower, never wrong). */
			end = last;
			why = "--device-memory";
		}
		snprintf(name, sizeof(name), "vhost-mem%u.%u", id, e->npieces);
		ret = why ? ramdev_region_new_ramd(&reg, name, e->host + off,
						   end - cur + 1)
			  : ramdev_region_new_ram(&reg, name, e->host + off,
						  end - cur + 1);
		if (ret)
			return ret;
		if (why && v->devmem_dma_width) {
			ret = ramdev_region_set_dma_width(reg,
							  v->devmem_dma_width);
			if (ret) {
				ramdev_region_unref(reg);
				return ret;
			}
		}
		__atomic_add_fetch(&e->map->refs, 1, __ATOMIC_ACQ_REL);
		ramdev_region_set_release(reg, map_put, e->map);
		ret = ramdev_region_add(ramdev_as_root(v->as), cur, reg, 0);
		if (ret) {
			ramdev_region_unref(reg);
			return ret;
		}
		e->piece[e->npieces++] = reg;
		if (why)
			vhost_log(v, LOG_INFO, "region %u: gpa 0x%llx size 0x%llx "
				  "fd-offset 0x%llx ramd (device memory: %s)", id,
				  (unsigned long long)cur,
				  (unsigned long long)(end - cur + 1),
				  (unsigned long long)(e->r.offset + off), why);
		else
			vhost_log(v, LOG_INFO, "region %u: gpa 0x%llx size 0x%llx "
				  "fd-offset 0x%llx ram", id,
				  (unsigned long long)cur,
				  (unsigned long long)(end - cur + 1),
				  (unsigned long long)(e->r.offset + off));
		if (end == last)
			break;
		cur = end + 1;
	}
	return 0;
}

static void remove_pieces(struct ramdev_vhost *v, struct vhost_mem *e)
{
	for (unsigned i = 0; i < e->npieces; i++) {
		(void)ramdev_region_del(ramdev_as_root(v->as), e->piece[i]);
		ramdev_region_unref(e->piece[i]);
	}
	e->npieces = 0;
}

/*
 * Check @fd against region @r, map it and add it to the table (inside an
 * address-space transaction).  Takes @fd (closed here).  0 or -EINVAL.
 */
static int map_region(struct ramdev_vhost *v, const struct vhu_region *r,
		      int fd, unsigned n)
{
	long page = sysconf(_SC_PAGESIZE);
	const char *why;
	struct vhost_mem *e;
	struct stat st = { 0 };
	uint64_t delta = r->offset & (uint64_t)(page - 1);
	void *addr;
	int ret;

	if (fd_kind(fd, &st, &why)) {
		close(fd);
		return vhost_reject(v, RAMDEV_VHOST_REGION_FD_KIND,
				    "region 0x%x: fd mode 0%o is not a regular "
				    "file or char device", n, st.st_mode);
	}
	if (S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size < r->offset + r->size) {
		close(fd);
		return vhost_reject(v, RAMDEV_VHOST_REGION_FD_SHORT,
				    "region 0x%x: fd size 0x%llx < offset "
				    "0x%llx + size 0x%llx", n,
				    (unsigned long long)st.st_size,
				    (unsigned long long)r->offset,
				    (unsigned long long)r->size);
	}
	addr = mmap(NULL, r->size + delta, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE, fd, (off_t)(r->offset - delta));
	ret = errno;
	close(fd);
	if (addr == MAP_FAILED)
		return vhost_reject(v, RAMDEV_VHOST_REGION_MAP,
				    "region 0x%x: mmap of 0x%llx bytes at "
				    "0x%llx: %s", n,
				    (unsigned long long)(r->size + delta),
				    (unsigned long long)(r->offset - delta),
				    strerror(ret));
	e = &v->mem[v->nmem];
	memset(e, 0, sizeof(*e));
	e->map = calloc(1, sizeof(*e->map));
	if (!e->map) {
		munmap(addr, r->size + delta);
		return vhost_reject(v, RAMDEV_VHOST_NOMEM, "region 0x%x", n);
	}
	e->map->addr = addr;
	e->map->len = r->size + delta;
	e->map->refs = 1; /* ours, until the pieces are placed */
	e->r = *r;
	e->last = r->gpa + (r->size - 1);
	e->host = (uint8_t *)addr + delta;
	ret = add_pieces(v, e, why, n);
	map_put(e->map);
	if (ret) {
		remove_pieces(v, e);
		return vhost_reject(v, RAMDEV_VHOST_REGION_MAP,
				    "region 0x%x: address space: %s", n,
				    strerror(-ret));
	}
	v->nmem++;
	return 0;
}

static int table_alloc(struct ramdev_vhost *v)
{
	if (v->mem)
		return 0;
	v->mem = calloc(VHU_MAX_MEM_SLOTS, sizeof(*v->mem));
	if (!v->mem)
		return vhost_reject(v, RAMDEV_VHOST_NOMEM, "memory table");
	return 0;
}

void vhost_mem_clear(struct ramdev_vhost *v)
{
	ramdev_as_begin(v->as);
	for (unsigned i = 0; i < v->nmem; i++)
		remove_pieces(v, &v->mem[i]);
	(void)ramdev_as_commit(v->as);
	v->nmem = 0;
	v->region_seq = 0;
}

int vhost_mem_set_table(struct ramdev_vhost *v, struct vhu_msg *m)
{
	struct vhu_region r[VHU_TABLE_REGIONS];
	uint32_t n;
	int ret = 0;

	memcpy(&n, m->p.bytes, sizeof(n));
	if (n > VHU_TABLE_REGIONS)
		return vhost_reject(v, RAMDEV_VHOST_REGION_COUNT,
				    "0x%x regions > 0x%x", n, VHU_TABLE_REGIONS);
	if (m->size != 8 + n * sizeof(struct vhu_region))
		return vhost_reject(v, RAMDEV_VHOST_MSG_SIZE,
				    "payload 0x%x for 0x%x regions", m->size, n);
	if (m->nfds != n)
		return vhost_reject(v, m->nfds < n ? RAMDEV_VHOST_FDS_MISSING
					     : RAMDEV_VHOST_FDS_EXTRA,
				    "0x%x fds for 0x%x regions", m->nfds, n);
	memcpy(r, m->p.bytes + 8, n * sizeof(*r));
	for (uint32_t i = 0; i < n; i++) {
		if (region_check(v, &r[i], i))
			return -EINVAL;
		for (uint32_t j = 0; j < i; j++)
			if (overlaps(&r[i], &r[j]))
				return vhost_reject(v, RAMDEV_VHOST_REGION_OVERLAP,
						    "region 0x%x: gpa 0x%llx "
						    "overlaps region 0x%x", i,
						    (unsigned long long)r[i].gpa, j);
	}
	if (table_alloc(v))
		return -EINVAL;
	/* One transaction: queues see the old table or the new one. */
	ramdev_as_begin(v->as);
	for (unsigned i = 0; i < v->nmem; i++)
		remove_pieces(v, &v->mem[i]);
	v->nmem = 0;
	v->region_seq = 0;
	for (uint32_t i = 0; i < n && !ret; i++) {
		ret = map_region(v, &r[i], m->fds[i], v->region_seq++);
		m->fds[i] = -1;
	}
	(void)ramdev_as_commit(v->as);
	return ret;
}

int vhost_mem_add(struct ramdev_vhost *v, struct vhu_msg *m)
{
	struct vhu_region r;
	int ret;

	if (m->nfds != 1)
		return vhost_reject(v, RAMDEV_VHOST_FDS_MISSING,
				    "0x%x fds, expected 1", m->nfds);
	memcpy(&r, m->p.bytes + 8, sizeof(r));
	if (table_alloc(v))
		return -EINVAL;
	if (v->nmem >= VHU_MAX_MEM_SLOTS)
		return vhost_reject(v, RAMDEV_VHOST_REGION_COUNT,
				    "all 0x%x slots in use", VHU_MAX_MEM_SLOTS);
	if (region_check(v, &r, v->nmem) || overlap_check(v, &r, v->nmem))
		return -EINVAL;
	ramdev_as_begin(v->as);
	ret = map_region(v, &r, m->fds[0], v->region_seq++);
	m->fds[0] = -1;
	(void)ramdev_as_commit(v->as);
	return ret;
}

int vhost_mem_rem(struct ramdev_vhost *v, struct vhu_msg *m)
{
	struct vhu_region r;

	/* vhost-user.rst: no fd SHOULD come; one MAY, and is closed unused
	 * (ramdev_vhost_handle() closes it). */
	memcpy(&r, m->p.bytes + 8, sizeof(r));
	for (unsigned i = 0; i < v->nmem; i++) {
		struct vhost_mem *e = &v->mem[i];

		if (e->r.gpa != r.gpa || e->r.size != r.size)
			continue;
		ramdev_as_begin(v->as);
		remove_pieces(v, e);
		(void)ramdev_as_commit(v->as);
		vhost_log(v, LOG_INFO, "region removed: gpa 0x%llx size 0x%llx",
			  (unsigned long long)r.gpa, (unsigned long long)r.size);
		v->mem[i] = v->mem[--v->nmem];
		return 0;
	}
	return vhost_reject(v, RAMDEV_VHOST_REGION_UNKNOWN,
			    "gpa 0x%llx size 0x%llx uva 0x%llx",
			    (unsigned long long)r.gpa, (unsigned long long)r.size,
			    (unsigned long long)r.uva);
}

bool vhost_mem_uva_to_gpa(const struct ramdev_vhost *v, uint64_t uva,
			  uint64_t len, uint64_t *gpa)
{
	for (unsigned i = 0; i < v->nmem; i++) {
		const struct vhu_region *r = &v->mem[i].r;
		uint64_t off = uva - r->uva;

		if (uva >= r->uva && off < r->size && len <= r->size - off) {
			*gpa = r->gpa + off;
			return true;
		}
	}
	return false;
}
