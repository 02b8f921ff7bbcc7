// SPDX-License-Identifier: MIT
/* Argument checks for the ramdev commands: one line per bad argument. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "demo_args.h"

/* "ramdev demo: --bar /etc/hostname: <why>" and the status. */
static int __attribute__((format(printf, 5, 6)))
bad(int status, const char *cmd, const char *opt, const char *val,
    const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s %s: ", cmd, opt, val);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/* open() failed with @err: read-only (6) when a read-only open works,
 * otherwise cannot open (5). */
static int open_failed(const char *cmd, const char *opt, const char *path,
		       const struct arg_file_rule *rule, int err)
{
	int fd;

	if (err == EACCES || err == EPERM || err == EROFS || err == ETXTBSY) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0) {
			close(fd);
			return bad(RAMDEV_EXIT_READ_ONLY, cmd, opt, path,
				   "read-only (open for writing: %s): the %s "
				   "must be writable", strerror(err), rule->what);
		}
	}
	return bad(RAMDEV_EXIT_NO_FILE, cmd, opt, path, "cannot open (%s): "
		   "the %s must be readable and writable", strerror(err),
		   rule->what);
}

/* Size checks once the file is open: *size set, or the exit status. */
static int check_size(const char *cmd, const char *opt, const char *path,
		      const struct arg_file_rule *rule, int fd, uint64_t *size)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0)
		return bad(RAMDEV_EXIT_NO_FILE, cmd, opt, path,
			   "cannot stat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return bad(RAMDEV_EXIT_NOT_FILE, cmd, opt, path,
			   "%s: the %s must be a regular file",
			   file_kind(st.st_mode), rule->what);
	if (st.st_size == 0 && rule->create) {
		/* procfs takes the truncate and keeps reporting size 0. */
		if (ftruncate(fd, (off_t)rule->create) < 0 ||
		    fstat(fd, &st) < 0 || (uint64_t)st.st_size != rule->create)
			return bad(RAMDEV_EXIT_NOT_FILE, cmd, opt, path,
				   "size 0 and cannot be sized to %llu bytes "
				   "(a /proc or /sys file?): the %s must be a "
				   "file that can be sized",
				   (unsigned long long)rule->create, rule->what);
	}
	*size = (uint64_t)st.st_size;
	if (*size < rule->min)
		return bad(RAMDEV_EXIT_TOO_SMALL, cmd, opt, path,
			   "%llu bytes: the %s must be at least %llu bytes",
			   (unsigned long long)*size, rule->what,
			   (unsigned long long)rule->min);
	if (*size > rule->max)
		return bad(RAMDEV_EXIT_TOO_LARGE, cmd, opt, path,
			   "%llu bytes: the %s must be at most %llu bytes",
			   (unsigned long long)*size, rule->what,
			   (unsigned long long)rule->max);
	if (rule->map) {
		p = mmap(NULL, (size_t)*size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return bad(RAMDEV_EXIT_NOT_FILE, cmd, opt, path,
				   "cannot be mapped shared read-write (%s): "
				   "the %s must be mappable", strerror(errno),
				   rule->what);
		munmap(p, (size_t)*size);
	}
	return 0;
}

int arg_file(const char *cmd, const char *opt, const char *path,
	     const struct arg_file_rule *rule, int *fdp, uint64_t *size)
{
	int flags = O_RDWR | O_CLOEXEC, fd, ret;
	struct stat st;

	if (!path[0])
		return bad(RAMDEV_EXIT_NO_FILE, cmd, opt, "''",
			   "cannot open: empty path");
	/* stat first: opening a FIFO or a device node may block or act. */
	if (stat(path, &st) < 0) {
		if (errno != ENOENT || !rule->create)
			return bad(RAMDEV_EXIT_NO_FILE, cmd, opt, path,
				   "cannot open (%s): the %s must exist",
				   strerror(errno), rule->what);
		flags |= O_CREAT;
	} else if (!S_ISREG(st.st_mode)) {
		return bad(RAMDEV_EXIT_NOT_FILE, cmd, opt, path,
			   "%s: the %s must be a regular file",
			   file_kind(st.st_mode), rule->what);
	}
	fd = open(path, flags, 0644);
	if (fd < 0)
		return open_failed(cmd, opt, path, rule, errno);
	ret = check_size(cmd, opt, path, rule, fd, size);
	if (ret || !fdp)
		close(fd);
	else
		*fdp = fd;
	return ret;
}

int arg_uint(const char *cmd, const char *opt, const char *val, unsigned min,
	     unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = val[0] >= '0' && val[0] <= '9' ? strtoul(val, &end, 0) : 0;
	if (val[0] < '0' || val[0] > '9' || *end)
		return bad(RAMDEV_EXIT_BAD_VALUE, cmd, opt, val,
			   "not a number: want an integer in %u..%u", min, max);
	if (errno == ERANGE || v < min || v > max)
		return bad(RAMDEV_EXIT_BAD_VALUE, cmd, opt, val,
			   "out of range: want an integer in %u..%u", min, max);
	*out = (unsigned)v;
	return 0;
}

int arg_word(const char *cmd, const char *opt, const char *val,
	     const char *const *words, unsigned *index)
{
	char list[256] = "";
	size_t len = 0;

	for (unsigned i = 0; words[i]; i++) {
		if (!strcmp(val, words[i])) {
			*index = i;
			return 0;
		}
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					i ? ", " : "", words[i]);
		if (len >= sizeof(list))
			len = sizeof(list) - 1;
	}
	return bad(RAMDEV_EXIT_BAD_VALUE, cmd, opt, val,
		   "unknown value: want one of %s", list);
}

int arg_getopt_error(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		fprintf(stderr, "%s: option '%s' needs a value (see '%s --help')\n",
			cmd, arg, cmd);
	else if (optopt && strncmp(arg, "--", 2))
		fprintf(stderr, "%s: unknown option '-%c' (see '%s --help')\n",
			cmd, optopt, cmd);
	else
		fprintf(stderr, "%s: unknown option '%s' (see '%s --help')\n",
			cmd, arg, cmd);
	return RAMDEV_EXIT_USAGE;
}

int arg_extra(const char *cmd, const char *operand)
{
	fprintf(stderr, "%s: unexpected operand '%s': the command takes "
		"options only (see '%s --help')\n", cmd, operand, cmd);
	return RAMDEV_EXIT_USAGE;
}
