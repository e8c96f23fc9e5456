// SPDX-License-Identifier: Apache-2.0
/* glimpse: zero-instrumentation profiler and tracer. Dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "base/signals.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "base/log.h"
#include "base/bpf_child.h"
#include "metrics/sched_probe.h"
#include "profile/stack_probe.h"
#include "sockcap/mux_probe.h"
#include "sockcap/sock_probe.h"

#ifndef GLIMPSE_VERSION
#error "GLIMPSE_VERSION comes from the VERSION file, through the Makefile"
#endif

static const char usage[] =
	"Usage: glimpse <command> [options]\n"
	"\n"
	"eBPF profiler and tracer for running processes: no code change, no restart.\n"
	"\n"
	"Commands:\n"
	"  profile    CPU profile of processes → pprof, folded stacks, flame graph, top table\n"
	"  attach     RED metrics and spans of a running service (Go: uprobes; any process: its\n"
	"             sockets: HTTP/1, PostgreSQL, Redis) → Prometheus /metrics, OTLP, live view\n"
	"  watch      threads, memory, CPU, scheduler (and Go runtime) metrics of any process\n"
	"  agent      node agent: finds services by selectors, instruments and exports them\n"
	"  inspect    what 'attach' would probe in a Go binary (version, offsets, return points)\n"
	"  slo        Prometheus rules for service level objectives (burn-rate alerts)\n"
	"\n"
	"Run 'glimpse <command> --help' for a command's options. Needs root (or sudo).\n"
	"  -h, --help       this help\n"
	"  -V, --version    print the version\n";

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "profile", cmd_profile }, { "attach", cmd_attach },	{ "watch", cmd_watch },
	{ "agent", cmd_agent },	    { "inspect", cmd_inspect }, { "slo", cmd_slo },
};

int main(int argc, char **argv)
{
	/* First: a SIGINT during start-up must not be lost, nor one ignored by inheritance. */
	signals_install();
	if (argc < 2) {
		fputs(usage, stderr);
		return GLIMPSE_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, BPF_CHILD_ARG)) { /* glimpse's own child, loading a probe: base/bpf_child.h */
		static const struct bpf_child_probe probes[] = {
			{ SOCK_PROBE_NAME, sock_probe_load, sock_probe_unload },
			{ SCHED_PROBE_NAME, sched_probe_load, sched_probe_unload },
			{ MUX_PROBE_NAME, mux_probe_load, mux_probe_unload },
			{ STACK_PROBE_CPU, stack_probe_load_cpu, stack_probe_unload },
			{ STACK_PROBE_OFFCPU, stack_probe_load_offcpu, stack_probe_unload },
		};
		return bpf_child_main(argc, argv, probes, sizeof(probes) / sizeof(probes[0]));
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return GLIMPSE_EXIT_OK;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("glimpse %s\n", GLIMPSE_VERSION);
		return GLIMPSE_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	cli_usage_error(NULL, "'%s' is not a glimpse command", cmd);
}
