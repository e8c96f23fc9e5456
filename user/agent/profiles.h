/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's continuous profiles: per interval and kind (CPU, off-CPU), for the targets whose
 * selector asks for it, one pprof file (profiles.directory) and one OTLP export (profiles.otlp),
 * each kind from a thread of its own, so both kinds cover the same intervals. */
#ifndef GLIMPSE_AGENT_PROFILES_H
#define GLIMPSE_AGENT_PROFILES_H

#include "agent/agent_config.h"
#include "agent/targets.h"

struct agent_profiles;

struct otlp_exporter;

/* Starts the threads when cfg names a profiles directory or asks for OTLP profiles (sent
 * through otlp; NULL: no OTLP endpoint, which is logged once); NULL (nothing to do) otherwise
 * or when out of memory (logged). cfg, ts and otlp must outlive the profiles. */
struct agent_profiles *profiles_start(const struct agent_config *cfg, struct agent_targets *ts,
				      struct otlp_exporter *otlp);
/* After request_stop(): waits for the threads (each ends its interval), frees. */
void profiles_stop(struct agent_profiles *p);

#endif
