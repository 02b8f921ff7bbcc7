// SPDX-License-Identifier: MIT
/*
 * `ramdev bench <name> [options]`: dispatch to a sub-benchmark.  Adding one is
 * a line in the table below plus its bench/bench_<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "commands.h"

struct bench {
	const char *name;
	bench_fn *run;
	const char *usage;
};

static const struct bench benches[] = {
	{ "access", bench_access, "[--quick] [--json FILE] [--plot FILE.png]" },
	{ "as", bench_as, "[--quick] [--json FILE]" },
	{ "blk", bench_blk, "[--quick] [--json FILE]" },
	{ "vhost", bench_vhost, "[--backend ramdev|qsd|CMD]... [--image PREFIX] "
	  "[--quick] [--json FILE] [--plot FILE.png]" },
	{ NULL, NULL, NULL },
};

static int usage(FILE *f)
{
	fprintf(f, "usage: ramdev bench <benchmark> [options]\nbenchmarks:\n");
	for (const struct bench *b = benches; b->name; b++)
		fprintf(f, "  %s %s\n", b->name, b->usage);
	return f == stderr ? 2 : 0;
}

int cmd_bench(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h"))
		return usage(stdout);
	for (const struct bench *b = benches; b->name; b++)
		if (!strcmp(argv[1], b->name))
			return b->run(argc - 1, argv + 1);
	fprintf(stderr, "ramdev bench: unknown benchmark '%s'\n", argv[1]);
	return usage(stderr);
}
