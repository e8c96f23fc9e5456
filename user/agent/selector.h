/* SPDX-License-Identifier: Apache-2.0 */
/* Decides which processes the agent instruments: the facts about a process that selectors
 * test, and the first selector they satisfy. */
#ifndef GLIMPSE_SELECTOR_H
#define GLIMPSE_SELECTOR_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/agent_config.h"
#include "agent/container.h"

#define FACTS_MAX_PORTS 32

struct process_facts {
	pid_t pid;
	char exe[PATH_MAX]; /* as the process sees it (inside its mount namespace) */
	char comm[16];
	struct container_info container;
	/* Read only when a selector asks (a fixture sets them and the _read flag). */
	uint16_t ports[FACTS_MAX_PORTS]; /* listening TCP ports */
	int nports;
	bool ports_read;
	bool go; /* the executable has Go build info */
	bool go_read;
};

/* 0, or -errno (-ESRCH: the process is gone, or is a kernel thread with no executable). */
int process_facts_read(pid_t pid, struct process_facts *f);
/* Index of the first selector the process satisfies, or -1. Reads the lazy facts it needs. */
int selector_match(const struct agent_config *c, struct process_facts *f);
/* True if a selector that tests sockets (port, listening) would match once the process listens:
 * a server just started has not opened its socket yet, so the agent watches it for a while. */
bool selector_may_match_later(const struct agent_config *c, struct process_facts *f);

#endif
