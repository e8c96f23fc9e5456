// SPDX-License-Identifier: Apache-2.0
/* The registry's caller-owned metrics: a value read through a callback or at an address the
 * caller keeps current, or data points the caller produces, each read at render time. The
 * Prometheus name is derived here once, from the OTel name and unit. */
#include "metrics/registry_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int add_gauge(struct metrics_registry *reg, const char *name, const char *unit, const char *help,
		     struct gauge g)
{
	char prom[256];
	if (!name)
		return -EINVAL;
	prom_metric_name(name, unit, g.is_counter, prom, sizeof(prom));
	g.name = strdup(prom);
	g.help = strdup(help ? help : "");
	g.otel_name = strdup(name);
	g.unit = strdup(unit ? unit : "");
	bool ok = g.name && g.help && g.otel_name && g.unit;
	int err = -ENOMEM;
	pthread_mutex_lock(&reg->lock);
	if (ok && reg->ngauges == reg->gcap) {
		size_t cap = reg->gcap ? reg->gcap * 2 : 4;
		struct gauge *p = realloc(reg->gauges, cap * sizeof(*p));
		if (p) {
			reg->gauges = p;
			reg->gcap = cap;
		}
	}
	if (ok && reg->ngauges < reg->gcap) {
		reg->gauges[reg->ngauges++] = g;
		err = 0;
	}
	pthread_mutex_unlock(&reg->lock);
	if (err) {
		free(g.name);
		free(g.help);
		free(g.otel_name);
		free(g.unit);
	}
	return err;
}

int metrics_registry_add_gauge(struct metrics_registry *reg, const char *name, const char *unit,
			       const char *help, bool is_counter, metric_value_fn fn, void *ctx,
			       bool per_target)
{
	if (!fn)
		return -EINVAL;
	return add_gauge(reg, name, unit, help,
			 (struct gauge){ .is_counter = is_counter,
					 .per_target = per_target,
					 .fn = fn,
					 .ctx = ctx,
					 .type = is_counter ? METRIC_COUNTER : METRIC_GAUGE });
}

static double value_at(void *ctx, int target)
{
	(void)target;
	return (double)*(const _Atomic uint64_t *)ctx;
}

int metrics_registry_add_value_at(struct metrics_registry *reg, const char *name, const char *unit,
				  const char *help, bool is_counter, const _Atomic uint64_t *value)
{
	if (!value)
		return -EINVAL;
	return metrics_registry_add_gauge(reg, name, unit, help, is_counter, value_at, (void *)value, false);
}

int metrics_registry_add_updown(struct metrics_registry *reg, const char *name, const char *unit,
				const char *help, metric_value_fn fn, void *ctx, bool per_target)
{
	if (!fn)
		return -EINVAL;
	return add_gauge(
		reg, name, unit, help,
		(struct gauge){ .per_target = per_target, .fn = fn, .ctx = ctx, .type = METRIC_UPDOWN });
}

int metrics_registry_add_observer(struct metrics_registry *reg, const char *name, const char *unit,
				  const char *help, enum metric_type type, metric_points_fn fn, void *ctx)
{
	if (!fn)
		return -EINVAL;
	return add_gauge(reg, name, unit, help,
			 (struct gauge){ .is_counter = type == METRIC_COUNTER,
					 .per_target = true,
					 .points = fn,
					 .ctx = ctx,
					 .type = type });
}
