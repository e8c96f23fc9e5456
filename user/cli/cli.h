/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line parsing for every subcommand: one option table per command, from which both
 * the getopt_long arrays and the --help text are made (so they cannot drift); the flags every
 * subcommand shares (-v, --log-format, --help) and those of the long-running commands; value
 * parsers that fail with one line naming the flag, the bad value and what is expected. */
#ifndef GLIMPSE_CLI_H
#define GLIMPSE_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Keys of long-only options (a short option's key is its letter). */
enum {
	CLI_OPT_LOG_FORMAT = 1000,
	CLI_OPT_PROM_ADDR,
	CLI_OPT_NO_PROM,
	CLI_OPT_NO_LIVE,
	CLI_OPT_INTERVAL,
	CLI_OPT_NO_SCHED,
	CLI_OPT_FORCE,
	CLI_OPT_OFFSETS,
	CLI_OPT_FIRST_PRIVATE = 1100,
};

/* One option: what getopt_long matches and what --help says about it. */
struct cli_option {
	const char *name; /* long name; NULL ends a table */
	int key;	  /* what the parser returns: the short letter, or a CLI_OPT_ / private id */
	const char *arg;  /* the value's name in --help ("PID"); NULL: the option takes none */
	const char *help; /* '\n' starts a continuation line */
};

/* Options shown together, under an optional heading line. */
struct cli_group {
	const char *heading;
	const struct cli_option *options;
};

#define CLI_MAX_GROUPS 10
struct cli_command {
	const char *name;
	const char *intro;			 /* "Usage: ..." and what the command does */
	struct cli_group groups[CLI_MAX_GROUPS]; /* ends at the first group without options */
	const char *epilogue;			 /* after the options (exit codes); NULL for none */
};

/* -v, --log-format, --help: handled by cli_next itself. */
extern const struct cli_option cli_common_options[];
/* What the long-running commands (attach, watch) share: how long, where /metrics is served,
 * the live view and the scheduler probes (see cli_run_option). */
extern const struct cli_option cli_run_options[];
/* --otlp-profiles-endpoint (cli_otlp_option applies it). */
extern const struct cli_option cli_otlp_profiles_options[];

/* Every command's table, for main and for the tests that check the help against them. */
extern const struct cli_command cli_profile_command, cli_attach_command, cli_watch_command, cli_agent_command,
	cli_inspect_command, cli_slo_command;

/* Writes the command's --help: intro, one option per line with the help aligned, epilogue. */
void cli_help_print(const struct cli_command *c, FILE *f);

#define CLI_MAX_OPTIONS 48
struct cli_parser {
	const struct cli_command *cmd;
	int argc;
	char **argv;
	struct option longopts[CLI_MAX_OPTIONS + 1];
	char shortopts[3 * CLI_MAX_OPTIONS + 2];
};

/* Builds the getopt_long arrays from the command's table and restarts getopt. */
void cli_parser_init(struct cli_parser *p, const struct cli_command *c, int argc, char **argv);
/* The next option for the command to act on, its value in *arg; -1 after the last one (then
 * argv[optind] is the first operand). Common options are applied here, --help prints the help
 * and exits 0, an unknown option or a missing value exits 2. */
int cli_next(struct cli_parser *p, const char **arg);
/* Whether --log-format was given (a command's configuration file may set it otherwise). */
bool cli_log_format_given(void);

struct cli_run_opts {
	double duration_s, interval_s;
	const char *prom_addr; /* NULL: no /metrics */
	bool live, sched;
};

/* Defaults: until stopped, 1 s refresh, 127.0.0.1:9464, live view and scheduler probes on. */
void cli_run_defaults(struct cli_run_opts *o);
/* Handles the cli_run_options; true if key was one of them. A malformed --prometheus-addr exits 2
 * at once. */
bool cli_run_option(int key, const char *arg, struct cli_run_opts *o);
/* Before any work: 0 if the /metrics address can be listened on, else an exit code after one
 * line saying why (in use, not an address of this machine, privileged port). */
int cli_run_check(const struct cli_run_opts *o);

/* Strict number parsers: exit 2 with "glimpse: error: FLAG: ..." on a bad value. */
long cli_long(const char *flag, const char *arg, long min, long max);
double cli_double(const char *flag, const char *arg, double min, double max);
/* Prints "glimpse: error: MSG; see 'glimpse CMD --help'" and exits 2. */
void cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* OTLP flags (--otlp-endpoint, ...): an option's key is CLI_OPT_OTLP + its enum otlp_setting
 * (export/otlp.h), so one function applies them for every command. */
#define CLI_OPT_OTLP 1200
struct otlp_config;
/* Applies an OTLP option of command c to cfg; true if key was one. A bad value exits 2 with
 * one line naming the flag. */
bool cli_otlp_option(const struct cli_command *c, int key, const char *arg, struct otlp_config *cfg);

/* --force, in every command that writes files: existing outputs may be replaced. */
#define CLI_FORCE_OPTION                                                                  \
	{                                                                                 \
		"force", CLI_OPT_FORCE, NULL,                                             \
			"replace output files that exist (never through a symbolic link)" \
	}
/* Checks an output file before any work (base/outfile.h); exits 2 with its one-line reason. */
void cli_check_output(const char *path);

#endif
