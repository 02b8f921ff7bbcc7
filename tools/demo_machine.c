// SPDX-License-Identifier: MIT
/* The demo machine: guest RAM and a BAR hot-added as RAM-device memory. */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "demo.h"

struct mapping {
	void *host;
	size_t size;
};

static void unmap_release(void *opaque)
{
	struct mapping *m = opaque;

	munmap(m->host, m->size);
	free(m);
}

/* Map @size bytes of a new memfd, or all of @path; *size is updated. */
static void *map_memory(const char *name, const char *path, uint64_t *size)
{
	struct stat st;
	void *p;
	int fd;

	if (path) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return NULL;
		if (fstat(fd, &st) < 0 || st.st_size <= 0) {
			close(fd);
			errno = EINVAL;
			return NULL;
		}
		*size = (uint64_t)st.st_size;
	} else {
		fd = memfd_create(name, MFD_CLOEXEC);
		if (fd < 0)
			return NULL;
		if (ftruncate(fd, (off_t)*size) < 0) {
			close(fd);
			return NULL;
		}
	}
	p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* Place @host as a RAM or RAMD region named @name at @gpa in @parent; a
 * RAMD region with DMA width @width unless it is 0 (the default). */
static int place(struct ramdev_region *parent, uint64_t gpa, const char *name,
		 void *host, uint64_t size, bool ramd, int prio,
		 unsigned width)
{
	struct ramdev_region *r;
	struct mapping *m = malloc(sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	*m = (struct mapping){ host, size };
	ret = ramd ? ramdev_region_new_ramd(&r, name, host, size)
		   : ramdev_region_new_ram(&r, name, host, size);
	if (ret < 0) {
		free(m);
		return ret;
	}
	ramdev_region_set_release(r, unmap_release, m);
	if (ramd && width)
		ret = ramdev_region_set_dma_width(r, width);
	if (ret == 0)
		ret = ramdev_region_add(parent, gpa, r, prio);
	ramdev_region_unref(r);
	return ret;
}

int demo_machine_new(struct demo_machine **out, const char *bar_path,
		     unsigned bar_width)
{
	struct demo_machine *m = calloc(1, sizeof(*m));
	struct ramdev_region *bar = NULL;
	int ret = -ENOMEM;

	if (!m)
		return -ENOMEM;
	m->ram_size = DEMO_RAM_SIZE;
	m->bar_size = DEMO_BAR_SIZE;
	m->bar_gpa = DEMO_BAR_GPA;
	m->bar_path = bar_path;
	ret = ramdev_as_new(&m->as, "system");
	if (ret < 0)
		goto fail;
	m->ram = map_memory("ramdev-demo-ram", NULL, &m->ram_size);
	m->bar = map_memory("ramdev-demo-bar", bar_path, &m->bar_size);
	if (!m->ram || !m->bar) {
		ret = -errno;
		if (m->ram)
			munmap(m->ram, m->ram_size);
		if (m->bar)
			munmap(m->bar, m->bar_size);
		goto fail;
	}
	ramdev_as_begin(m->as);
	ret = place(ramdev_as_root(m->as), 0, "pc.ram", m->ram, m->ram_size,
		    false, 0, 0);
	/* Like QEMU's vfio: a container for the BAR, its mmap'ed part a
	 * RAM-device subregion at a higher priority. */
	if (ret == 0)
		ret = ramdev_region_new_container(&bar, DEMO_BAR_NAME, m->bar_size);
	if (ret == 0)
		ret = place(bar, 0, DEMO_BAR_NAME " mmaps[0]", m->bar, m->bar_size,
			    true, 0, bar_width);
	if (ret == 0)
		ret = ramdev_region_add(ramdev_as_root(m->as), m->bar_gpa, bar, 1);
	if (bar)
		ramdev_region_unref(bar);
	if (ramdev_as_commit(m->as) < 0 && ret == 0)
		ret = -ENOMEM;
	if (ret < 0)
		goto fail;
	*out = m;
	return 0;
fail:
	if (m->as)
		ramdev_as_free(m->as);
	free(m);
	return ret;
}

void demo_machine_free(struct demo_machine *m)
{
	if (!m)
		return;
	ramdev_as_free(m->as); /* the regions unmap their memory on release */
	free(m);
}
