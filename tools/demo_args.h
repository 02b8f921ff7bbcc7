/* SPDX-License-Identifier: MIT */
/*
 * Argument checks shared by the ramdev commands: every bad argument gets one
 * line on stderr naming the command, the option, the value and the rule it
 * broke, and one of the exit statuses below (`ramdev help` lists them).
 */
#ifndef RAMDEV_TOOLS_DEMO_ARGS_H
#define RAMDEV_TOOLS_DEMO_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* Exit statuses of the ramdev commands (0, 1, 3: see DEMO_EXIT_HELP). */
enum ramdev_exit {
	RAMDEV_EXIT_USAGE = 2,      /* unknown command or option, missing value,
				     * extra operand */
	RAMDEV_EXIT_BAD_VALUE = 4,  /* not a number, out of range, unknown word */
	RAMDEV_EXIT_NO_FILE = 5,    /* cannot open: missing, unreadable */
	RAMDEV_EXIT_READ_ONLY = 6,  /* readable but not writable, and the
				     * command writes to it */
	RAMDEV_EXIT_NOT_FILE = 7,   /* not a regular file, cannot be mapped or
				     * sized (a device node, a directory, /proc) */
	RAMDEV_EXIT_TOO_SMALL = 8,  /* smaller than the command needs */
	RAMDEV_EXIT_TOO_LARGE = 9,  /* larger than the command accepts */
};

#define RAMDEV_EXIT_USAGE_HELP                                                \
	"  2  bad usage: unknown command or option, missing value, extra\n"   \
	"     operand\n"
#define RAMDEV_EXIT_ARGS_HELP                                                 \
	"  4  bad option value: not a number, out of range, unknown word\n"   \
	"  5  a file argument cannot be opened (missing, unreadable)\n"       \
	"  6  a file argument is read-only and the command writes to it\n"    \
	"  7  a file argument is not a regular file, or cannot be mapped or\n" \
	"     sized (a device node, a directory, a /proc file)\n"            \
	"  8  a file argument is too small\n"                                  \
	"  9  a file argument is too large\n"

/* What a file argument must be. */
struct arg_file_rule {
	uint64_t min, max;  /* size in bytes, inclusive */
	bool map;           /* must mmap PROT_READ|PROT_WRITE, MAP_SHARED */
	uint64_t create;    /* nonzero: create the file if missing, and size
			     * an empty one to this many bytes */
	const char *what;   /* what the file is for, in the messages */
};

/*
 * Check @path, the value of option @opt of command @cmd, against @rule.
 * On success returns 0 with *@fd open read-write (or -1 when @fd is NULL:
 * then the file is closed) and *@size its size.  Otherwise prints the one
 * line and returns the exit status.
 */
int arg_file(const char *cmd, const char *opt, const char *path,
	     const struct arg_file_rule *rule, int *fd, uint64_t *size);

/* A decimal (or 0x hex) number in [@min, @max]: 0, or the exit status. */
int arg_uint(const char *cmd, const char *opt, const char *val, unsigned min,
	     unsigned max, unsigned *out);

/* One of @words (NULL-terminated): 0 with *@index, or the exit status. */
int arg_word(const char *cmd, const char *opt, const char *val,
	     const char *const *words, unsigned *index);

/*
 * The line for a getopt_long error ('?' or ':' with opterr = 0 and an
 * optstring starting with ':'); returns RAMDEV_EXIT_USAGE.
 */
int arg_getopt_error(const char *cmd, int c, char **argv);

/* An operand left after the options; returns RAMDEV_EXIT_USAGE. */
int arg_extra(const char *cmd, const char *operand);

#endif
