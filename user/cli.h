/* Flags every subcommand shares (-v, --log-format) and value parsers that fail with one
 * line naming the flag, the bad value and what is expected. */
#ifndef GLIMPSE_CLI_H
#define GLIMPSE_CLI_H

#include <getopt.h>
#include <stdbool.h>

enum { CLI_OPT_LOG_FORMAT = 1000, CLI_OPT_FIRST_PRIVATE = 1100 };

#define CLI_COMMON_LONG_OPTIONS                                         \
	{ "verbose", no_argument, NULL, 'v' },                          \
	{ "log-format", required_argument, NULL, CLI_OPT_LOG_FORMAT },  \
	{ "help", no_argument, NULL, 'h' }

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
