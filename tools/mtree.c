// SPDX-License-Identifier: MIT
/* ramdev mtree: print the demo machine's address space like `info mtree`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "demo.h"

int cmd_mtree(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bar", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bar = NULL;
	struct demo_machine *m;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'b') {
			bar = optarg;
		} else {
			fprintf(c == 'h' ? stdout : stderr,
				"usage: ramdev mtree [--bar /sys/bus/pci/devices/.../resourceN]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	ret = demo_machine_new(&m, bar);
	if (ret < 0) {
		fprintf(stderr, "ramdev mtree: cannot build the machine: %s\n",
			strerror(-ret));
		return 1;
	}
	ret = ramdev_as_dump(m->as, stdout);
	demo_machine_free(m);
	return ret < 0 ? 1 : 0;
}
