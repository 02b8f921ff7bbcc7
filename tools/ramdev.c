// SPDX-License-Identifier: MIT
/* ramdev: the command-line front end; one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "demo.h"

struct command {
	const char *name;
	ramdev_command_fn *run;
	const char *usage;
};

static const struct command commands[] = {
	{ "demo", cmd_demo,
	  "[--policy qemu-bounce|direct] [--bar PATH] [--image FILE] ..." },
	{ "mtree", cmd_mtree, "[--bar PATH]" },
	{ "vcpu-demo", cmd_vcpu_demo, "[--bar PATH] (a KVM vCPU's MMIO exits)" },
	{ "bench", cmd_bench,
	  "access|as|blk|vhost [--quick] [--json FILE] (access: [--plot FILE.png])" },
	{ NULL, NULL, NULL },
};

static int usage(FILE *f)
{
	fprintf(f, "usage: ramdev <command> [options]\ncommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %s %s\n", c->name, c->usage);
	fprintf(f, "  help\n\n'ramdev demo' %s"
		   "'ramdev <command> --help' for a command's options\n",
		DEMO_EXIT_HELP);
	return f == stderr ? RAMDEV_EXIT_USAGE : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help"))
		return usage(stdout);
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "ramdev: unknown command '%s': want demo, mtree, bench "
		"or help (see 'ramdev help')\n", argv[1]);
	return RAMDEV_EXIT_USAGE;
}
