/* SPDX-License-Identifier: Apache-2.0 */
/* Logging to stderr: human-readable lines by default, JSON lines with --log-format=json.
 * One libbpf print callback routes libbpf's output through here (debug only with -v). */
#ifndef GLIMPSE_LOG_H
#define GLIMPSE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR
};

void log_setup(bool json, int verbosity);
bool log_json(void);
/* The verbosity log_setup was given (a child process is set up the same way). */
int log_verbosity(void);
/* Switches the format after setup (a config file chose it). */
void log_set_json(bool json);
/* Parses "human" or "json"; returns -1 for anything else. */
int log_parse_format(const char *s);

/* A sentence, printf-style. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A fixed message plus logfmt fields ("pid=12 file=\"a b\""): JSON output keeps them as keys. */
void log_event(enum log_level level, const char *msg, const char *fields_fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Installs the libbpf print callback (libbpf warnings as warnings, debug output with -v). */
void log_install_libbpf(void);

#endif
