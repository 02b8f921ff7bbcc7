// SPDX-License-Identifier: MIT
/* vhost_backend: back-end processes for vhost_front's tests and benches. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vhost_backend.h"

#define ARGS_MAX 24

/* Replace each {socket} and {image} in @tmpl; returns malloc'ed text. */
static char *expand(const char *tmpl, const char *sock, const char *img)
{
	size_t cap = strlen(tmpl) + 1, n = 0;
	char *out;

	for (const char *p = tmpl; (p = strchr(p, '{')); p++)
		cap += strlen(sock) + strlen(img);
	out = malloc(cap);
	if (!out)
		return NULL;
	for (const char *p = tmpl; *p;) {
		const char *v = NULL;

		if (!strncmp(p, "{socket}", 8))
			v = sock, p += 8;
		else if (!strncmp(p, "{image}", 7))
			v = img, p += 7;
		if (v) {
			memcpy(out + n, v, strlen(v));
			n += strlen(v);
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = 0;
	return out;
}

/* The argv of a known back end, in @buf (strings) and @argv. */
static int build_argv(const struct vhost_backend_config *c, char *buf,
		      size_t len, char **argv)
{
	unsigned a = 0;
	int n;

	if (!strcmp(c->kind, "qsd")) {
		argv[a++] = "qemu-storage-daemon";
		argv[a++] = "--blockdev";
		n = snprintf(buf, len, "driver=file,filename=%s,node-name=d,"
			     "cache.direct=%s,aio=io_uring%c"
			     "type=vhost-user-blk,id=e,node-name=d,"
			     "addr.type=unix,addr.path=%s,writable=on,"
			     "num-queues=%u", c->image,
			     c->direct ? "on" : "off", 0, c->socket,
			     c->num_queues);
		if (n < 0 || (size_t)n >= len)
			return -EINVAL;
		argv[a++] = buf;
		argv[a++] = "--export";
		argv[a++] = buf + strlen(buf) + 1;
	} else if (!strcmp(c->kind, "ramdev")) {
		if (!c->ramdev)
			return -EINVAL;
		n = snprintf(buf, len, "%u", c->num_queues);
		if (n < 0 || (size_t)n >= len)
			return -EINVAL;
		argv[a++] = (char *)c->ramdev;
		argv[a++] = "--socket";
		argv[a++] = (char *)c->socket;
		argv[a++] = "--image";
		argv[a++] = (char *)c->image;
		argv[a++] = "--num-queues";
		argv[a++] = buf;
		if (c->direct)
			argv[a++] = "--direct";
		if (c->dev_mem) {
			argv[a++] = "--device-memory";
			argv[a++] = (char *)c->dev_mem;
		}
	} else {
		return -EINVAL;
	}
	argv[a] = NULL;
	return 0;
}

int vhost_backend_start(pid_t *pid, const struct vhost_backend_config *c)
{
	char buf[1024], *argv[ARGS_MAX], *cmd = NULL;
	int ret;

	if (!pid || !c || !c->kind || !c->socket || !c->image)
		return -EINVAL;
	if (strchr(c->kind, ' ')) {
		cmd = expand(c->kind, c->socket, c->image);
		if (!cmd)
			return -ENOMEM;
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = cmd;
		argv[3] = NULL;
	} else {
		ret = build_argv(c, buf, sizeof(buf), argv);
		if (ret < 0)
			return ret;
	}
	(void)unlink(c->socket);
	*pid = fork();
	if (*pid < 0) {
		ret = -errno;
		free(cmd);
		return ret;
	}
	if (*pid == 0) {
		int fd = open(c->log ? c->log : "/dev/null",
			      O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setenv("VHOST_SOCKET", c->socket, 1);
		setenv("VHOST_IMAGE", c->image, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	free(cmd);
	return 0;
}

int vhost_backend_stop(pid_t pid, int timeout_ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int st;

	if (pid <= 0)
		return -EINVAL;
	(void)kill(pid, SIGTERM);
	for (int waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r < 0)
			return -errno;
		if (r == pid)
			break;
		if (waited >= timeout_ms) {
			(void)kill(pid, SIGKILL);
			if (waitpid(pid, &st, 0) < 0)
				return -errno;
			break;
		}
		nanosleep(&ts, NULL);
	}
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int vhost_backend_cpu_ns(pid_t pid, uint64_t *ns)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	/* comm may hold spaces and parentheses: fields restart after the
	 * last ')'; utime and stime are fields 14 and 15 (proc(5)). */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu", &ut, &st) != 2 || hz <= 0)
		return -EIO;
	*ns = (ut + st) * (1000000000ull / (unsigned long long)hz);
	return 0;
}

const char *vhost_backend_name(const char *kind)
{
	if (!strcmp(kind, "ramdev") || !strcmp(kind, "qsd"))
		return kind;
	return "cmd";
}
