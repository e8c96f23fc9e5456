/* SPDX-License-Identifier: Apache-2.0 */
/* Which traces leave the host. Head sampling per the OpenTelemetry SDK settings
 * (OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG), plus glimpse's tail rules, applied once a
 * request's server span ends — the agent sees the whole request, so a trace that errs or runs
 * slow is kept even when the ratio would drop it. */
#ifndef GLIMPSE_SAMPLER_H
#define GLIMPSE_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sampler_kind {
	SAMPLER_ALWAYS_ON,
	SAMPLER_ALWAYS_OFF,
	SAMPLER_TRACEIDRATIO,
	SAMPLER_PARENTBASED_ALWAYS_ON,
	SAMPLER_PARENTBASED_ALWAYS_OFF,
	SAMPLER_PARENTBASED_TRACEIDRATIO,
};

struct sampler_config {
	enum sampler_kind kind;
	double ratio;		      /* traceidratio kinds, 0..1 */
	bool keep_errors;	      /* tail rule: keep traces with an error span */
	uint64_t keep_slower_than_ns; /* tail rule: keep traces whose root is slower; 0: off */
};

/* Defaults (parentbased_always_on, keep errors, no slow rule), then the OTEL_ variables.
 * 0, or -EINVAL with a one-line reason in err. */
int sampler_config_from_env(struct sampler_config *c, char *err, size_t errlen);
/* Parses a sampler name ("traceidratio"); -EINVAL if unknown. */
int sampler_parse_kind(const char *name, enum sampler_kind *kind);

/* The head decision for a trace: remote_parent says a traceparent came in, parent_sampled
 * is its sampled flag. */
bool sampler_head(const struct sampler_config *c, const uint8_t trace_id[16], bool remote_parent,
		  bool parent_sampled);

#endif
