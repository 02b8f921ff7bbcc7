/* SPDX-License-Identifier: MIT */
/*
 * File descriptors attached to a message as SCM_RIGHTS, for the test-side
 * vhost-user senders (drivers/vhost_front.c, tests/test_vhost.c,
 * fuzz/fuzz_vhost.c).  The library's own sender (lib/vhost/msg.c) stays
 * within the library.  Not installed.
 */
#ifndef RAMDEV_DRIVERS_SCM_FDS_H
#define RAMDEV_DRIVERS_SCM_FDS_H

#include <string.h>
#include <sys/socket.h>

/*
 * Attach @nfds fds (0: none) to @mh, using @ctl (cmsghdr-aligned, at least
 * CMSG_SPACE(nfds * sizeof(int)) bytes) as its control buffer.
 */
static inline void scm_put_fds(struct msghdr *mh, void *ctl, const int *fds,
			       unsigned nfds)
{
	struct cmsghdr *c;

	if (!nfds)
		return;
	memset(ctl, 0, CMSG_SPACE(nfds * sizeof(int)));
	mh->msg_control = ctl;
	mh->msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
}

#endif /* RAMDEV_DRIVERS_SCM_FDS_H */
