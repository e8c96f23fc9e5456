// SPDX-License-Identifier: Apache-2.0
/* glimpse agent: one per node. Finds the processes its selectors describe — at start and as
 * they exec — instruments them with the signals each selector asks for, labels them with
 * their container and pod, frees their state when they exit, and exports everything. */
#include <stdbool.h>
#include <stdio.h>

#include "agent/agent.h"
#include "agent/agent_config.h"
#include "base/log.h"
#include "binfmt/go_offsets_file.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"

enum {
	OPT_PRINT_CONFIG = CLI_OPT_FIRST_PRIVATE,
	OPT_OTLP_ENDPOINT
};

static const struct cli_option agent_options[] = {
	{ "config", 'c', "FILE", "YAML configuration (see README: 'glimpse agent')" },
	{ "print-config", OPT_PRINT_CONFIG, NULL, "print the effective configuration and exit" },
	{ "prometheus-addr", CLI_OPT_PROM_ADDR, "A", "override prometheus.address" },
	{ "otlp-endpoint", OPT_OTLP_ENDPOINT, "URL",
	  "override otlp.endpoint (OTEL_EXPORTER_OTLP_ENDPOINT also does)" },
	{ 0 },
};

const struct cli_command cli_agent_command = {
	.name = "agent",
	.intro = "Usage: glimpse agent [--config FILE] [options]\n"
		 "\n"
		 "Runs once per node: instruments every process a selector in FILE matches — those running\n"
		 "now and those started later — and exports their metrics, traces and profiles. Without\n"
		 "FILE: every Go program listening on TCP (see --print-config).\n"
		 "\n",
	.groups = { { NULL, agent_options },
		    { "Logging (--log-format overrides the file):", cli_common_options } },
};

int cmd_agent(int argc, char **argv)
{
	const char *config = NULL, *prom_addr = NULL, *otlp_endpoint = NULL;
	bool print = false;
	int opt;
	const char *arg;
	struct cli_parser parser;
	cli_parser_init(&parser, &cli_agent_command, argc, argv);
	while ((opt = cli_next(&parser, &arg)) != -1) {
		switch (opt) {
		case 'c':
			config = arg;
			break;
		case OPT_PRINT_CONFIG:
			print = true;
			break;
		case CLI_OPT_PROM_ADDR:
			prom_addr = arg;
			break;
		case OPT_OTLP_ENDPOINT:
			otlp_endpoint = arg;
			break;
		}
	}
	if (optind < argc)
		cli_usage_error("agent", "unexpected argument '%s'", argv[optind]);

	static struct agent_config cfg;
	char err[1024];
	if (config ? agent_config_load(&cfg, config, err, sizeof(err))
		   : agent_config_default(&cfg, err, sizeof(err))) {
		log_error("%s", err);
		return GLIMPSE_EXIT_USAGE;
	}
	if (prom_addr)
		snprintf(cfg.prometheus_address, sizeof(cfg.prometheus_address), "%s", prom_addr);
	if (otlp_endpoint)
		snprintf(cfg.otlp.endpoint, sizeof(cfg.otlp.endpoint), "%s", otlp_endpoint);
	if (!cli_log_format_given())
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
	for (int i = 0; i < cfg.ngo_offsets; i++)
		if (go_offsets_file_load(cfg.go_offsets[i].file, err, sizeof(err))) {
			log_error("go_offsets: %s: %s", cfg.go_offsets[i].file, err);
			return GLIMPSE_EXIT_USAGE;
		}
	return agent_run(&cfg, &settings);
}
