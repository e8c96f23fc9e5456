/* SPDX-License-Identifier: Apache-2.0 */
/* glimpse attach's command line: its option table (cli_attach_command, which --help prints) and
 * the parse into one struct, with every check that needs no target done before anything runs. */
#ifndef GLIMPSE_ATTACH_OPTIONS_H
#define GLIMPSE_ATTACH_OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>

#include "cli/attach_profile.h"
#include "cli/cli.h"
#include "export/otlp.h"
#include "metrics/slo.h"
#include "trace/trace_pipeline.h"

/* Which probes measure the target (--capture). */
enum attach_capture {
	ATTACH_CAPTURE_AUTO,	/* uprobes for a Go program (its database wire at the sockets), the
				 * sockets for any other */
	ATTACH_CAPTURE_UPROBES, /* Go only, uprobes only */
	ATTACH_CAPTURE_SOCKETS,
	ATTACH_CAPTURE_UPROBES_DB, /* Go: uprobes, and the database wire at the sockets whatever it
				    * links */
};

struct attach_opts {
	pid_t pid;
	struct cli_run_opts run;
	enum attach_capture capture;
	int max_routes;
	const char *spans_out; /* NULL: none; "-": stdout */
	const char *logs_out;  /* NULL: none; "-": stdout */
	bool logs;
	struct trace_pipeline_opts traces; /* sampler and builder; its outputs are set at start */
	struct slo_objective slos[SLO_MAX];
	int nslos;
	struct otlp_config otlp;
	struct attach_profile_opts profile;
};

/* Parses argv into o. A bad option, a missing -p or an output that cannot be written exits
 * with the usage code before anything is attached or created. */
void attach_options_parse(int argc, char **argv, struct attach_opts *o);

#endif
