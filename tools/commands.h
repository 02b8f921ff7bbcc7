/* SPDX-License-Identifier: MIT */
/* Subcommands of the ramdev CLI: each lives in its own file. */
#ifndef RAMDEV_TOOLS_COMMANDS_H
#define RAMDEV_TOOLS_COMMANDS_H

/* argv[0] is the subcommand's name; return the process exit status. */
typedef int ramdev_command_fn(int argc, char **argv);

ramdev_command_fn cmd_bench; /* bench/bench.c */
ramdev_command_fn cmd_demo;  /* tools/demo.c */
ramdev_command_fn cmd_mtree; /* tools/mtree.c */
ramdev_command_fn cmd_vcpu_demo; /* tools/vcpu_demo.c */

#endif
