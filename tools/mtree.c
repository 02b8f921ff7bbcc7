// SPDX-License-Identifier: MIT
/* ramdev mtree: print the demo machine's address space like `info mtree`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "demo.h"

static int usage(FILE *f)
{
	fprintf(f, "usage: ramdev mtree [--bar PATH]\n"
		   "  --bar PATH   a real BAR (/sys/bus/pci/devices/.../resourceN)\n"
		   "               instead of a memfd: a regular file, readable,\n"
		   "               writable and mappable, %u bytes to %llu GiB\n"
		   "exit status: 0 printed, 1 the machine could not be built,\n"
		   RAMDEV_EXIT_USAGE_HELP RAMDEV_EXIT_ARGS_HELP,
		4096u, DEMO_BAR_MAX >> 30);
	return f == stderr ? RAMDEV_EXIT_USAGE : 0;
}

int cmd_mtree(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bar", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct arg_file_rule bar_rule = {
		.min = 4096, .max = DEMO_BAR_MAX, .map = true, .what = "BAR",
	};
	const char *bar = NULL;
	struct demo_machine *m;
	uint64_t size;
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'b')
			bar = optarg;
		else if (c == 'h')
			return usage(stdout);
		else
			return arg_getopt_error("ramdev mtree", c, argv);
	}
	if (optind < argc)
		return arg_extra("ramdev mtree", argv[optind]);
	if (bar) {
		ret = arg_file("ramdev mtree", "--bar", bar, &bar_rule, NULL,
			       &size);
		if (ret)
			return ret;
	}
	ret = demo_machine_new(&m, bar, 0);
	if (ret < 0) {
		fprintf(stderr, "ramdev mtree: cannot build the machine: %s\n",
			strerror(-ret));
		return 1;
	}
	ret = ramdev_as_dump(m->as, stdout);
	demo_machine_free(m);
	return ret < 0 ? 1 : 0;
}
