// SPDX-License-Identifier: Apache-2.0
#include "cli/cli.h"

#include "export/otlp.h"
#include "base/outfile.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/exit_codes.h"
#include "base/log.h"
#include "binfmt/go_offsets_file.h"
#include "export/prometheus.h"

/* Help text: the option column is at most this wide; a longer option gets its help on the
 * next line. */
#define HELP_MAX_LEFT 28

/* Where OTLP profiles go, for every command that sends them (profile, attach --profile). */
const struct cli_option cli_otlp_profiles_options[] = {
	{ "otlp-profiles-endpoint", CLI_OPT_OTLP + OTLP_PROFILES_ENDPOINT, "URL",
	  "full URL for profiles (default: the endpoint + /v1development/profiles)" },
	{ 0 },
};

const struct cli_option cli_common_options[] = {
	{ "verbose", 'v', NULL, "debug output, including libbpf's" },
	{ "log-format", CLI_OPT_LOG_FORMAT, "F", "human (default) or json" },
	{ "help", 'h', NULL, "this help" },
	{ 0 },
};

const struct cli_option cli_run_options[] = {
	{ "duration", 'd', "SECS", "stop after SECS seconds (default: Ctrl-C, or when the targets exit)" },
	{ "prometheus-addr", CLI_OPT_PROM_ADDR, "A",
	  "serve /metrics and the live dashboard (/) at A: host:port,\n"
	  "[ipv6]:port or :PORT for every interface (default " PROM_DEFAULT_ADDR ")" },
	{ "no-prometheus", CLI_OPT_NO_PROM, NULL, "do not serve /metrics (nor the dashboard)" },
	{ "no-live", CLI_OPT_NO_LIVE, NULL, "no live view (attach still prints its summary at the end)" },
	{ "interval", CLI_OPT_INTERVAL, "SECS", "live view refresh (default 1)" },
	{ "no-sched", CLI_OPT_NO_SCHED, NULL, "no scheduler probes (run-queue latency, off-CPU time)" },
	{ "offsets", CLI_OPT_OFFSETS, "FILE",
	  "Go struct offsets for stripped binaries of a Go version glimpse has\n"
	  "no table for (written by glimpse inspect --emit-offsets; repeatable)" },
	{ 0 },
};

static int verbosity;
static int json_logs;
static bool log_format_given;

static bool is_short(int key)
{
	return key > 0 && key < 128;
}

/* "  -p, --pid PID" or "      --max-stacks N" */
static int option_left(const struct cli_option *o, char *buf, size_t len)
{
	char shortname[8] = "    ";
	if (is_short(o->key))
		snprintf(shortname, sizeof(shortname), "-%c, ", o->key);
	return snprintf(buf, len, "  %s--%s%s%s", shortname, o->name, o->arg ? " " : "",
			o->arg ? o->arg : "");
}

void cli_help_print(const struct cli_command *c, FILE *f)
{
	int width = 0;
	char left[128];
	for (int g = 0; g < CLI_MAX_GROUPS && c->groups[g].options; g++)
		for (const struct cli_option *o = c->groups[g].options; o->name; o++) {
			int n = option_left(o, left, sizeof(left));
			if (n > width && n <= HELP_MAX_LEFT)
				width = n;
		}
	fputs(c->intro, f);
	for (int g = 0; g < CLI_MAX_GROUPS && c->groups[g].options; g++) {
		if (c->groups[g].heading)
			fprintf(f, "%s\n", c->groups[g].heading);
		for (const struct cli_option *o = c->groups[g].options; o->name; o++) {
			int n = option_left(o, left, sizeof(left));
			if (n > width)
				fprintf(f, "%s\n%*s", left, width + 2, "");
			else
				fprintf(f, "%-*s", width + 2, left);
			for (const char *h = o->help, *nl; *h; h = nl + 1) {
				nl = strchr(h, '\n');
				if (!nl) {
					fprintf(f, "%s\n", h);
					break;
				}
				fprintf(f, "%.*s\n%*s", (int)(nl - h), h, width + 2, "");
			}
		}
	}
	if (c->epilogue)
		fprintf(f, "\n%s", c->epilogue);
}

void cli_parser_init(struct cli_parser *p, const struct cli_command *c, int argc, char **argv)
{
	*p = (struct cli_parser){ .cmd = c, .argc = argc, .argv = argv };
	/* ':' first: a missing value is reported as such, not as an unknown option. */
	size_t nlong = 0, nshort = 0;
	p->shortopts[nshort++] = ':';
	for (int g = 0; g < CLI_MAX_GROUPS && c->groups[g].options; g++) {
		for (const struct cli_option *o = c->groups[g].options; o->name; o++) {
			if (nlong == CLI_MAX_OPTIONS) {
				/* A table too big for the arrays is a bug the tests catch. */
				log_error("glimpse %s has more than %d options", c->name, CLI_MAX_OPTIONS);
				exit(GLIMPSE_EXIT_FAILURE);
			}
			p->longopts[nlong++] =
				(struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
						 o->key };
			if (is_short(o->key)) {
				p->shortopts[nshort++] = (char)o->key;
				if (o->arg)
					p->shortopts[nshort++] = ':';
			}
		}
	}
	p->longopts[nlong] = (struct option){ 0 };
	p->shortopts[nshort] = '\0';
	opterr = 0;
	optind = 0; /* glibc: start over, also for a second parse in one process */
}

int cli_next(struct cli_parser *p, const char **arg)
{
	const char *cmd = p->cmd->name;
	for (;;) {
		int key = getopt_long(p->argc, p->argv, p->shortopts, p->longopts, NULL);
		*arg = optarg;
		switch (key) {
		case -1:
			log_setup(json_logs == 1, verbosity);
			log_install_libbpf();
			return -1;
		case 'v':
			verbosity++;
			break;
		case CLI_OPT_LOG_FORMAT:
			json_logs = log_parse_format(optarg);
			if (json_logs < 0)
				cli_usage_error(
					cmd,
					"--log-format: '%s' is not a log format (expected human or json)",
					optarg);
			log_format_given = true;
			/* Now, so errors from later options come in the chosen format. */
			log_setup(json_logs == 1, verbosity);
			break;
		case 'h':
			cli_help_print(p->cmd, stdout);
			exit(GLIMPSE_EXIT_OK);
		case ':':
			cli_usage_error(cmd, "%s needs a value", p->argv[optind - 1]);
		case '?':
			cli_usage_error(cmd, "unknown option '%s'", p->argv[optind - 1]);
		default:
			return key;
		}
	}
}

bool cli_log_format_given(void)
{
	return log_format_given;
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

bool cli_run_option(int key, const char *arg, struct cli_run_opts *o)
{
	struct sockaddr_storage ss;
	size_t sslen;
	char err[256];
	switch (key) {
	case 'd':
		o->duration_s = cli_double("-d", arg, 0.001, 1e7);
		return true;
	case CLI_OPT_PROM_ADDR:
		if (prom_parse_addr(arg, &ss, &sslen, err, sizeof(err)))
			cli_usage_error(NULL, "--prometheus-addr: %s", err);
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
	case CLI_OPT_OFFSETS:
		if (go_offsets_file_load(arg, err, sizeof(err)))
			cli_usage_error(NULL, "--offsets %s: %s", arg, err);
		return true;
	default:
		return false;
	}
}

int cli_run_check(const struct cli_run_opts *o)
{
	char err[256];
	if (o->prom_addr && prom_check_addr(o->prom_addr, err, sizeof(err))) {
		log_error("%s", err);
		return GLIMPSE_EXIT_USAGE;
	}
	return 0;
}

void cli_check_output(const char *path)
{
	char err[4200];
	if (path && strcmp(path, "-") && outfile_check(path, err, sizeof(err))) {
		log_error("%s", err);
		exit(GLIMPSE_EXIT_USAGE);
	}
}

bool cli_otlp_option(const struct cli_command *c, int key, const char *arg, struct otlp_config *cfg)
{
	if (key < CLI_OPT_OTLP || key >= CLI_OPT_OTLP + OTLP_SETTINGS)
		return false;
	const char *name = "otlp";
	for (int g = 0; g < CLI_MAX_GROUPS && c->groups[g].options; g++)
		for (const struct cli_option *o = c->groups[g].options; o->name; o++)
			if (o->key == key)
				name = o->name;
	char flag[64], err[512];
	snprintf(flag, sizeof(flag), "--%s", name);
	if (otlp_config_set_flag(cfg, (enum otlp_setting)(key - CLI_OPT_OTLP), flag, arg, err, sizeof(err)))
		cli_usage_error(c->name, "%s", err);
	return true;
}
