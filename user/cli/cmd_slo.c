// SPDX-License-Identifier: Apache-2.0
/* glimpse slo rules: the Prometheus recording and alerting rules of service level objectives,
 * from the agent's configuration (slos:) or from --slo flags as attach takes them. */
#include <stdio.h>
#include <string.h>

#include "agent/agent_config.h"
#include "base/log.h"
#include "base/outfile.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "metrics/slo.h"
#include "metrics/slo_rules.h"

enum {
	OPT_SLO = CLI_OPT_FIRST_PRIVATE,
	OPT_SERVICE
};

static const struct cli_option slo_options[] = {
	{ "config", 'c', "FILE", "the agent's YAML configuration: its slos: list" },
	{ "slo", OPT_SLO, "SPEC",
	  "an objective as attach takes it (repeatable):\n"
	  "objective=availability|latency,target=99.9%[,threshold=250ms][,route=R][,window=30d][,name=N]" },
	{ "service", OPT_SERVICE, "NAME",
	  "service.name (the job label) of the --slo objectives that name none" },
	{ "output", 'o', "FILE", "write the rules here (default: standard output)" },
	CLI_FORCE_OPTION,
	{ 0 },
};

const struct cli_command cli_slo_command = {
	.name = "slo",
	.intro = "Usage: glimpse slo rules [--config FILE | --slo SPEC ...] [--service NAME] [-o FILE]\n"
		 "\n"
		 "Writes Prometheus recording and alerting rules for service level objectives, built on\n"
		 "glimpse's own http_server_request_duration_seconds series: the bad share of requests over\n"
		 "5m, 30m, 1h, 2h, 6h, 1d and 3d, and multiwindow, multi-burn-rate alerts (page: 14.4x over\n"
		 "1h and 5m, 6x over 6h and 30m; ticket: 3x over 1d and 2h, 1x over 3d and 6h, for a 30-day\n"
		 "window). Check them with 'promtool check rules FILE'.\n"
		 "\n",
	.groups = { { NULL, slo_options }, { "Logging:", cli_common_options } },
};

static int emit_rules(FILE *f, void *arg)
{
	const struct agent_config *c = arg;
	return slo_rules_write(f, c->slos, c->nslos);
}

int cmd_slo(int argc, char **argv)
{
	static struct agent_config cfg;
	const char *config = NULL, *service = NULL, *output = NULL;
	char err[1024];
	int opt;
	const char *arg;
	struct cli_parser parser;
	cli_parser_init(&parser, &cli_slo_command, argc, argv);
	agent_config_defaults(&cfg);
	while ((opt = cli_next(&parser, &arg)) != -1) {
		switch (opt) {
		case 'c':
			config = arg;
			break;
		case OPT_SLO:
			if (cfg.nslos == SLO_MAX)
				cli_usage_error("slo", "--slo: at most %d objectives", SLO_MAX);
			if (slo_objective_parse(arg, &cfg.slos[cfg.nslos++], err, sizeof(err)))
				cli_usage_error("slo", "--slo: %s", err);
			break;
		case OPT_SERVICE:
			service = arg;
			break;
		case 'o':
			output = arg;
			break;
		case CLI_OPT_FORCE:
			outfile_set_force(true);
			break;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "rules"))
		cli_usage_error(
			"slo", optind < argc ? "unknown action '%s'; expected 'rules'" : "%sexpected 'rules'",
			optind < argc ? argv[optind] : "");
	if (optind + 1 < argc)
		cli_usage_error("slo", "unexpected argument '%s'", argv[optind + 1]);
	if (config && cfg.nslos)
		cli_usage_error("slo", "give --config or --slo, not both");
	if (config) {
		if (agent_config_load(&cfg, config, err, sizeof(err))) {
			log_error("%s", err);
			return GLIMPSE_EXIT_USAGE;
		}
		if (!cfg.nslos) {
			log_error("%s: no slos: list; nothing to write", config);
			return GLIMPSE_EXIT_USAGE;
		}
	}
	if (!cfg.nslos)
		cli_usage_error("slo", "no objectives: give --config FILE or --slo SPEC");
	if (slo_objectives_check_unique(cfg.slos, cfg.nslos, err, sizeof(err)))
		cli_usage_error("slo", "%s", err);
	for (int i = 0; service && i < cfg.nslos; i++)
		if (!cfg.slos[i].service[0])
			snprintf(cfg.slos[i].service, sizeof(cfg.slos[i].service), "%s", service);
	if (!output || !strcmp(output, "-"))
		return slo_rules_write(stdout, cfg.slos, cfg.nslos) || fflush(stdout) ? GLIMPSE_EXIT_FAILURE
										      : GLIMPSE_EXIT_OK;
	cli_check_output(output);
	if (outfile_write_whole(output, emit_rules, &cfg)) {
		log_error("cannot write %s", output);
		return GLIMPSE_EXIT_FAILURE;
	}
	log_info("wrote SLO rules file=%s slos=%d", output, cfg.nslos);
	return GLIMPSE_EXIT_OK;
}
