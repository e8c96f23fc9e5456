/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's configuration: a YAML file (libyaml) with ${VAR} / ${VAR:-default} taken from
 * the environment, then OTEL_* variables, then command-line flags, each overriding the one
 * before. Errors name the file, line and column and what was expected. */
#ifndef GLIMPSE_AGENT_CONFIG_H
#define GLIMPSE_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "metrics/slo.h"

#define AGENT_MAX_SELECTORS  32
#define AGENT_MAX_PIDS	     16
#define AGENT_MAX_HEADERS    16
#define AGENT_STR	     256
#define AGENT_MAX_GO_OFFSETS 8

struct agent_match {
	char exe[AGENT_STR];	      /* glob on the executable path ("" = any) */
	char process_name[AGENT_STR]; /* glob on comm */
	uint16_t port;		      /* a listening TCP port (0 = any) */
	char container_id[AGENT_STR]; /* glob */
	char k8s_namespace[AGENT_STR];
	char k8s_pod[AGENT_STR];
	pid_t pids[AGENT_MAX_PIDS];
	int npids;
	bool listening; /* has a listening TCP socket (any port) */
	bool go;	/* runs a Go program (the executable has Go build info) */
};

struct agent_signals {
	bool http_metrics, traces, runtime, cpu_profile, offcpu_profile;
	/* What the process writes to stdout and stderr, as OTLP log records carrying their
	 * request's trace (off by default: README, "Logs correlated with traces"). */
	bool logs;
	int cpu_profile_hz;
	/* How http_metrics are measured: "auto" (uprobes for Go, with the database wire at the
	 * sockets when it links pgx, go-redis or redigo; the sockets for any other program),
	 * "socket", "uprobes", or "uprobes+socket" (for Go, the wire at the sockets whatever it
	 * links). */
	char capture[16];
};

struct agent_selector {
	char name[AGENT_STR];
	struct agent_match match;
	struct agent_signals signals;
};

struct agent_config {
	bool log_json;
	char prometheus_address[AGENT_STR]; /* "" = no /metrics (and no /healthz) */
	struct {
		char endpoint[1024];			       /* "" = no OTLP */
		char headers[AGENT_MAX_HEADERS][2][AGENT_STR]; /* name, value */
		int nheaders;
		bool gzip;
		uint32_t metrics_interval_ms;
	} otlp;
	struct {
		char sampler[64];
		double sampler_arg;
		bool keep_errors;
		uint32_t keep_slower_than_ms;
	} traces;
	struct {
		char directory[1024]; /* "" = no pprof files */
		uint32_t interval_ms;
		bool otlp;
	} profiles;
	struct agent_selector selectors[AGENT_MAX_SELECTORS];
	int nselectors;
	/* Service level objectives: live burn rates and budgets (glimpse_slo_* gauges), and what
	 * `glimpse slo rules --config` turns into Prometheus rules. */
	struct slo_objective slos[SLO_MAX];
	int nslos;
	/* Offsets files (glimpse inspect --emit-offsets) for stripped binaries of Go versions
	 * missing from glimpse's table. */
	struct agent_go_offsets {
		char file[1024];
	} go_offsets[AGENT_MAX_GO_OFFSETS];
	int ngo_offsets;
};

/* Defaults: log human, prometheus 127.0.0.1:9464, gzip on, metrics every 60 s,
 * parentbased_always_on with errors kept, profiles every 60 s, no selectors. */
void agent_config_defaults(struct agent_config *c);
/* A selector's defaults: matches anything, every signal but off-CPU, CPU profile at 19 Hz. */
void agent_selector_defaults(struct agent_selector *s);
/* Parses YAML text (name is the file name for errors). 0, or -EINVAL with one line in err:
 * "FILE:LINE:COL: what is wrong; what was expected". getenv_fn resolves ${VAR}
 * (NULL: getenv). The result is the defaults overridden by the file; on error (-EINVAL, or
 * -ENOMEM) *c is left unchanged. ${VAR}, ${VAR:-default} (also when VAR is empty) and $$ (a
 * literal $) work in every scalar value, not in keys; substituted text is not rescanned.
 * Aliases, tags and more than one document are errors. */
int agent_config_parse(struct agent_config *c, const char *name, const char *text, size_t len,
		       const char *(*getenv_fn)(const char *), char *err, size_t errlen);
/* The built-in configuration (what `glimpse agent` runs without --config): every Go program
 * with a listening TCP socket gets HTTP/SQL metrics, traces and runtime metrics; CPU
 * profiles at 19 Hz, off. Parsed like a file (errors as above). */
int agent_config_default(struct agent_config *c, char *err, size_t errlen);
/* Reads and parses a file. Errors as above (or "FILE: cannot read: ..."). */
int agent_config_load(struct agent_config *c, const char *path, char *err, size_t errlen);
/* The effective configuration as YAML (--print-config), in the file's schema: parsing it
 * gives back an equal configuration ($ written as $$, durations in the largest exact unit). */
void agent_config_print(const struct agent_config *c, FILE *out);
/* Field by field as the schema says (strings as strings, only the used entries of arrays). */
bool agent_config_equal(const struct agent_config *a, const struct agent_config *b);

#endif
