// SPDX-License-Identifier: Apache-2.0
#include "trace/sampler.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {
	[SAMPLER_ALWAYS_ON] = "always_on",
	[SAMPLER_ALWAYS_OFF] = "always_off",
	[SAMPLER_TRACEIDRATIO] = "traceidratio",
	[SAMPLER_PARENTBASED_ALWAYS_ON] = "parentbased_always_on",
	[SAMPLER_PARENTBASED_ALWAYS_OFF] = "parentbased_always_off",
	[SAMPLER_PARENTBASED_TRACEIDRATIO] = "parentbased_traceidratio",
};

int sampler_parse_kind(const char *name, enum sampler_kind *kind)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*kind = (enum sampler_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

int sampler_config_from_env(struct sampler_config *c, char *err, size_t errlen)
{
	*c = (struct sampler_config){ .kind = SAMPLER_PARENTBASED_ALWAYS_ON,
				      .ratio = 1.0,
				      .keep_errors = true };
	const char *kind = getenv("OTEL_TRACES_SAMPLER"), *arg = getenv("OTEL_TRACES_SAMPLER_ARG");
	if (kind && *kind && sampler_parse_kind(kind, &c->kind)) {
		snprintf(err, errlen,
			 "OTEL_TRACES_SAMPLER='%s' is not a sampler glimpse knows (always_on, always_off, "
			 "traceidratio, "
			 "parentbased_always_on, parentbased_always_off, parentbased_traceidratio)",
			 kind);
		return -EINVAL;
	}
	if (arg && *arg && (c->kind == SAMPLER_TRACEIDRATIO || c->kind == SAMPLER_PARENTBASED_TRACEIDRATIO)) {
		char *end;
		double r = strtod(arg, &end);
		if (*end || !(r >= 0 && r <= 1)) {
			snprintf(err, errlen, "OTEL_TRACES_SAMPLER_ARG='%s' is not a ratio from 0 to 1", arg);
			return -EINVAL;
		}
		c->ratio = r;
	}
	return 0;
}

/* The ratio decision depends on the trace id alone, so every service (and every span of a
 * trace here) decides alike: its last 8 bytes, as a number, below ratio × 2^64. */
static bool ratio_keeps(double ratio, const uint8_t trace_id[16])
{
	if (ratio >= 1)
		return true;
	if (ratio <= 0)
		return false;
	uint64_t v = 0;
	for (int i = 8; i < 16; i++)
		v = v << 8 | trace_id[i];
	/* Compared as integers: as a double, v rounds (2^62 - 1 became 2^62, dropped at 0.25).
	 * ratio < 1, so the bound fits. */
	return v < (uint64_t)(ratio * 18446744073709551616.0);
}

bool sampler_head(const struct sampler_config *c, const uint8_t trace_id[16], bool remote_parent,
		  bool parent_sampled)
{
	switch (c->kind) {
	case SAMPLER_ALWAYS_ON:
		return true;
	case SAMPLER_ALWAYS_OFF:
		return false;
	case SAMPLER_TRACEIDRATIO:
		return ratio_keeps(c->ratio, trace_id);
	case SAMPLER_PARENTBASED_ALWAYS_ON:
		return remote_parent ? parent_sampled : true;
	case SAMPLER_PARENTBASED_ALWAYS_OFF:
		return remote_parent ? parent_sampled : false;
	case SAMPLER_PARENTBASED_TRACEIDRATIO:
		return remote_parent ? parent_sampled : ratio_keeps(c->ratio, trace_id);
	}
	return true;
}
