// SPDX-License-Identifier: Apache-2.0
/* glimpse agent: one per node. Finds the processes its selectors describe — at start and as
 * they exec — instruments them with the signals each selector asks for, labels them with
 * their container and pod, frees their state when they exit, and exports everything. */
#include <stdbool.h>
#include <stdio.h>

#include "agent/agent.h"
#include "agent/agent_config.h"
#include "base/log.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"

static const char usage[] =
	"Usage: glimpse agent --config FILE [options]\n"
	"\n"
	"Runs once per node: instruments every process a selector in FILE matches — those running\n"
	"now and those started later — and exports their metrics, traces and profiles.\n"
	"\n"
	"  -c, --config FILE         YAML configuration (see README: 'glimpse agent')\n"
	"      --print-config        print the effective configuration and exit\n"
	"      --prometheus-addr A   override prometheus.address\n"
	"      --otlp-endpoint URL   override otlp.endpoint (OTEL_EXPORTER_OTLP_ENDPOINT also does)\n"
	"  -v, --verbose             debug output      --log-format F   human or json (overrides the file)\n"
	"  -h, --help                this help\n";

enum {
	OPT_PRINT_CONFIG = CLI_OPT_FIRST_PRIVATE,
	OPT_PROM_ADDR,
	OPT_OTLP_ENDPOINT
};

int cmd_agent(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
		{ "prometheus-addr", required_argument, NULL, OPT_PROM_ADDR },
		{ "otlp-endpoint", required_argument, NULL, OPT_OTLP_ENDPOINT },
		CLI_COMMON_LONG_OPTIONS,
		{ 0 },
	};
	const char *config = NULL, *prom_addr = NULL, *otlp_endpoint = NULL;
	bool print = false, log_format_flag = false;
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:vh", longopts, NULL)) != -1) {
		if (opt == CLI_OPT_LOG_FORMAT)
			log_format_flag = true;
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case OPT_PRINT_CONFIG:
			print = true;
			break;
		case OPT_PROM_ADDR:
			prom_addr = optarg;
			break;
		case OPT_OTLP_ENDPOINT:
			otlp_endpoint = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return GLIMPSE_EXIT_OK;
		case ':':
			cli_usage_error("agent", "%s needs a value", argv[optind - 1]);
		default:
			cli_usage_error("agent", "unknown option '%s'", argv[optind - 1]);
		}
	}
	cli_apply_common();
	if (optind < argc)
		cli_usage_error("agent", "unexpected argument '%s'", argv[optind]);
	if (!config)
		cli_usage_error("agent", "no configuration: give --config FILE");

	static struct agent_config cfg;
	char err[1024];
	if (agent_config_load(&cfg, config, err, sizeof(err))) {
		log_error("%s", err);
		return GLIMPSE_EXIT_USAGE;
	}
	if (prom_addr)
		snprintf(cfg.prometheus_address, sizeof(cfg.prometheus_address), "%s", prom_addr);
	if (otlp_endpoint)
		snprintf(cfg.otlp.endpoint, sizeof(cfg.otlp.endpoint), "%s", otlp_endpoint);
	if (!log_format_flag)
		log_set_json(cfg.log_json);
	static struct agent_settings settings;
	if (agent_settings_from_config(&cfg, otlp_endpoint, &settings, err, sizeof(err))) {
		log_error("%s", err);
		return GLIMPSE_EXIT_USAGE;
	}
	if (print) {
		agent_config_print(&cfg, stdout);
		return GLIMPSE_EXIT_OK;
	}
	return agent_run(&cfg, &settings);
}
