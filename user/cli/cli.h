/* SPDX-License-Identifier: Apache-2.0 */
/* Flags every subcommand shares (-v, --log-format) and value parsers that fail with one
 * line naming the flag, the bad value and what is expected. */
#ifndef GLIMPSE_CLI_H
#define GLIMPSE_CLI_H

#include <getopt.h>
#include <stdbool.h>

enum {
	CLI_OPT_LOG_FORMAT = 1000,
	CLI_OPT_PROM_ADDR,
	CLI_OPT_NO_PROM,
	CLI_OPT_NO_LIVE,
	CLI_OPT_INTERVAL,
	CLI_OPT_NO_SCHED,
	CLI_OPT_FIRST_PRIVATE = 1100,
};

/* clang-format off */
#define CLI_COMMON_LONG_OPTIONS                                         \
	{ "verbose", no_argument, NULL, 'v' },                          \
	{ "log-format", required_argument, NULL, CLI_OPT_LOG_FORMAT },  \
	{ "help", no_argument, NULL, 'h' }

/* What the long-running commands (attach, watch) share: how long, where /metrics is served,
 * the live view and the scheduler probes. */
struct cli_run_opts {
	double duration_s, interval_s;
	const char *prom_addr; /* NULL: no /metrics */
	bool live, sched;
};

#define CLI_RUN_LONG_OPTIONS                                                  \
	{ "duration", required_argument, NULL, 'd' },                          \
	{ "prometheus-addr", required_argument, NULL, CLI_OPT_PROM_ADDR },     \
	{ "no-prometheus", no_argument, NULL, CLI_OPT_NO_PROM },               \
	{ "no-live", no_argument, NULL, CLI_OPT_NO_LIVE },                     \
	{ "interval", required_argument, NULL, CLI_OPT_INTERVAL },             \
	{ "no-sched", no_argument, NULL, CLI_OPT_NO_SCHED }
/* clang-format on */

/* Defaults: until stopped, 1 s refresh, 127.0.0.1:9464, live view and scheduler probes on. */
void cli_run_defaults(struct cli_run_opts *o);
/* Handles the CLI_RUN_LONG_OPTIONS (and -d); true if opt was one of them. */
bool cli_run_option(int opt, const char *arg, struct cli_run_opts *o);

/* Handles -v and --log-format; returns true if opt was one of them (exits 2 on a bad value). */
bool cli_common_option(int opt, const char *arg);
/* After the subcommand's getopt loop: applies the collected common options. */
void cli_apply_common(void);

/* Strict number parsers: exit 2 with "glimpse: error: FLAG: ..." on a bad value. */
long cli_long(const char *flag, const char *arg, long min, long max);
double cli_double(const char *flag, const char *arg, double min, double max);
/* Prints "glimpse: error: MSG; see 'glimpse CMD --help'" and exits 2. */
void cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
