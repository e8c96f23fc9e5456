// SPDX-License-Identifier: Apache-2.0
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/exit_codes.h"
#include "base/log.h"
#include "export/prometheus.h"

static int verbosity;
static int json_logs;

bool cli_common_option(int opt, const char *arg)
{
	if (opt == 'v') {
		verbosity++;
		return true;
	}
	if (opt == CLI_OPT_LOG_FORMAT) {
		json_logs = log_parse_format(arg);
		if (json_logs < 0)
			cli_usage_error(
				NULL, "--log-format: '%s' is not a log format (expected human or json)", arg);
		log_setup(json_logs == 1, verbosity);
		return true;
	}
	return false;
}

void cli_apply_common(void)
{
	log_setup(json_logs == 1, verbosity);
	log_install_libbpf();
}

void cli_usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cmd)
		log_error("%s; see 'glimpse %s --help'", msg, cmd);
	else
		log_error("%s; see 'glimpse --help'", msg);
	exit(GLIMPSE_EXIT_USAGE);
}

long cli_long(const char *flag, const char *arg, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		cli_usage_error(NULL, "%s: '%s' is not a whole number from %ld to %ld", flag, arg, min, max);
	return v;
}

double cli_double(const char *flag, const char *arg, double min, double max)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min || v > max)
		cli_usage_error(NULL, "%s: '%s' is not a number from %g to %g", flag, arg, min, max);
	return v;
}

void cli_run_defaults(struct cli_run_opts *o)
{
	*o = (struct cli_run_opts){
		.interval_s = 1, .prom_addr = PROM_DEFAULT_ADDR, .live = true, .sched = true
	};
}

bool cli_run_option(int opt, const char *arg, struct cli_run_opts *o)
{
	switch (opt) {
	case 'd':
		o->duration_s = cli_double("-d", arg, 0.001, 1e7);
		return true;
	case CLI_OPT_PROM_ADDR:
		o->prom_addr = arg;
		return true;
	case CLI_OPT_NO_PROM:
		o->prom_addr = NULL;
		return true;
	case CLI_OPT_NO_LIVE:
		o->live = false;
		return true;
	case CLI_OPT_INTERVAL:
		o->interval_s = cli_double("--interval", arg, 0.1, 3600);
		return true;
	case CLI_OPT_NO_SCHED:
		o->sched = false;
		return true;
	default:
		return false;
	}
}
