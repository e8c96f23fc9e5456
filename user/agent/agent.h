/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's runtime, one per node: finds the processes its selectors describe — at start
 * and as they exec — instruments them (agent/targets), exports their metrics, traces and
 * profiles, and runs until SIGINT/SIGTERM. Open → attach → poll → one cleanup path. */
#ifndef GLIMPSE_AGENT_H
#define GLIMPSE_AGENT_H

#include <stddef.h>

#include "agent/agent_config.h"
#include "export/otlp.h"
#include "trace/sampler.h"

/* What the agent runs with, from its configuration file and the OTEL_* variables. */
struct agent_settings {
	struct otlp_config otlp;
	struct sampler_config sampler;
};

/* The file, then OTEL_* variables, then otlp_endpoint_flag (--otlp-endpoint, or NULL): a
 * file value applies only where no variable gives one. 0, or -EINVAL with one line in err. */
int agent_settings_from_config(const struct agent_config *cfg, const char *otlp_endpoint_flag,
			       struct agent_settings *out, char *err, size_t errlen);
/* Runs until stopped by a signal. Returns the process exit code (cli/exit_codes.h). */
int agent_run(const struct agent_config *cfg, const struct agent_settings *settings);

#endif
