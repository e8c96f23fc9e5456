// SPDX-License-Identifier: Apache-2.0
/* The schema's tables, the checks of a whole selector or objective once its keys are read,
 * and what a field holds. The walkers are config_schema_parse.c (defaults and parsing) and
 * config_schema_print.c (printing and equality). */
#include "agent/config_schema.h"

#include <stdint.h>
#include <string.h>

#define PID_LIMIT 4194304 /* the kernel's PID_MAX_LIMIT */

static const char *const log_formats[] = { "human", "json", NULL };
static const char *const captures[] = { "auto", "socket", "uprobes", "uprobes+socket", NULL };
static const char *const compressions[] = { "gzip", "none", NULL };
static const char *const samplers[] = { "always_on",
					"always_off",
					"traceidratio",
					"parentbased_always_on",
					"parentbased_always_off",
					"parentbased_traceidratio",
					NULL };

#define AT(type, member) .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

static const struct config_field prometheus_fields[] = {
	{ .key = "address",
	  .type = CONFIG_STR,
	  AT(struct agent_config, prometheus_address),
	  .def_str = "127.0.0.1:9464" },
	{ 0 },
};

static const struct config_field otlp_fields[] = {
	{ .key = "endpoint", .type = CONFIG_STR, AT(struct agent_config, otlp.endpoint) },
	{ .key = "headers",
	  .type = CONFIG_HEADERS,
	  AT(struct agent_config, otlp.headers),
	  .count_offset = offsetof(struct agent_config, otlp.nheaders),
	  .max = AGENT_MAX_HEADERS,
	  .what = "a mapping of header: value",
	  .items = "headers" },
	{ .key = "compression",
	  .type = CONFIG_ENUM_BOOL,
	  AT(struct agent_config, otlp.gzip),
	  .what = "compression",
	  .names = compressions,
	  .true_index = 0,
	  .def_num = 1 },
	{ .key = "metrics_interval",
	  .type = CONFIG_DURATION,
	  AT(struct agent_config, otlp.metrics_interval_ms),
	  .lo = 1,
	  .def_num = 60000 },
	{ 0 },
};

static const struct config_field traces_fields[] = {
	{ .key = "sampler",
	  .type = CONFIG_ENUM_STR,
	  AT(struct agent_config, traces.sampler),
	  .what = "sampler",
	  .names = samplers,
	  .def_str = "parentbased_always_on" },
	{ .key = "sampler_arg",
	  .type = CONFIG_RATIO,
	  AT(struct agent_config, traces.sampler_arg),
	  .def_num = 1.0 },
	{ .key = "keep_errors",
	  .type = CONFIG_BOOL,
	  AT(struct agent_config, traces.keep_errors),
	  .def_num = 1 },
	{ .key = "keep_slower_than",
	  .type = CONFIG_DURATION,
	  AT(struct agent_config, traces.keep_slower_than_ms) },
	{ 0 },
};

static const struct config_field profiles_fields[] = {
	{ .key = "directory", .type = CONFIG_STR, AT(struct agent_config, profiles.directory) },
	{ .key = "interval",
	  .type = CONFIG_DURATION,
	  AT(struct agent_config, profiles.interval_ms),
	  .lo = 1,
	  .def_num = 60000 },
	{ .key = "otlp", .type = CONFIG_BOOL, AT(struct agent_config, profiles.otlp) },
	{ 0 },
};

static const struct config_field match_fields[] = {
	{ .key = "exe", .type = CONFIG_STR, AT(struct agent_match, exe), .omit_unset = true },
	{ .key = "process_name",
	  .type = CONFIG_STR,
	  AT(struct agent_match, process_name),
	  .omit_unset = true },
	{ .key = "port",
	  .type = CONFIG_INT,
	  AT(struct agent_match, port),
	  .lo = 1,
	  .hi = 65535,
	  .what = "a port number 1..65535",
	  .omit_unset = true },
	{ .key = "container_id",
	  .type = CONFIG_STR,
	  AT(struct agent_match, container_id),
	  .omit_unset = true },
	{ .key = "k8s_namespace",
	  .type = CONFIG_STR,
	  AT(struct agent_match, k8s_namespace),
	  .omit_unset = true },
	{ .key = "k8s_pod", .type = CONFIG_STR, AT(struct agent_match, k8s_pod), .omit_unset = true },
	{ .key = "pids",
	  .type = CONFIG_PIDS,
	  AT(struct agent_match, pids),
	  .count_offset = offsetof(struct agent_match, npids),
	  .max = AGENT_MAX_PIDS,
	  .lo = 1,
	  .hi = PID_LIMIT,
	  .what = "a process id 1..4194304",
	  .items = "pids",
	  .omit_unset = true },
	{ .key = "listening", .type = CONFIG_BOOL, AT(struct agent_match, listening), .omit_unset = true },
	{ .key = "go", .type = CONFIG_BOOL, AT(struct agent_match, go), .omit_unset = true },
	{ 0 },
};

static const struct config_field signals_fields[] = {
	{ .key = "http_metrics", .type = CONFIG_BOOL, AT(struct agent_signals, http_metrics), .def_num = 1 },
	{ .key = "traces", .type = CONFIG_BOOL, AT(struct agent_signals, traces), .def_num = 1 },
	{ .key = "logs", .type = CONFIG_BOOL, AT(struct agent_signals, logs) },
	{ .key = "runtime", .type = CONFIG_BOOL, AT(struct agent_signals, runtime), .def_num = 1 },
	{ .key = "cpu_profile", .type = CONFIG_BOOL, AT(struct agent_signals, cpu_profile), .def_num = 1 },
	{ .key = "cpu_profile_hz",
	  .type = CONFIG_INT,
	  AT(struct agent_signals, cpu_profile_hz),
	  .lo = 1,
	  .hi = 1000,
	  .what = "a frequency 1..1000",
	  .def_num = 19 },
	{ .key = "offcpu_profile", .type = CONFIG_BOOL, AT(struct agent_signals, offcpu_profile) },
	{ .key = "capture",
	  .type = CONFIG_ENUM_STR,
	  AT(struct agent_signals, capture),
	  .what = "capture",
	  .names = captures,
	  .def_str = "auto" },
	{ 0 },
};

const struct config_field config_schema_selector[] = {
	{ .key = "name", .type = CONFIG_STR, AT(struct agent_selector, name) },
	{ .key = "match", .type = CONFIG_MAP, AT(struct agent_selector, match), .fields = match_fields },
	{ .key = "signals",
	  .type = CONFIG_MAP,
	  AT(struct agent_selector, signals),
	  .fields = signals_fields },
	{ 0 },
};

static int selector_check(struct config_yaml *x, struct yaml_node *item, void *array, int index);

static const struct config_field go_offsets_fields[] = {
	{ .key = "file", .type = CONFIG_STR, AT(struct agent_go_offsets, file) },
	{ 0 },
};

static const struct config_field slo_fields[] = {
	{ .key = "name", .type = CONFIG_STR, AT(struct slo_objective, name) },
	{ .key = "service", .type = CONFIG_STR, AT(struct slo_objective, service), .omit_unset = true },
	{ .key = "route", .type = CONFIG_STR, AT(struct slo_objective, route), .omit_unset = true },
	{ .key = "objective",
	  .type = CONFIG_ENUM_STR,
	  AT(struct slo_objective, objective),
	  .what = "objective",
	  .names = slo_objective_kinds,
	  .def_str = "availability" },
	{ .key = "target", .type = CONFIG_RATIO, AT(struct slo_objective, target), .def_num = 0.999 },
	{ .key = "threshold",
	  .type = CONFIG_DURATION,
	  AT(struct slo_objective, threshold_ms),
	  .omit_unset = true },
	{ .key = "window",
	  .type = CONFIG_DURATION,
	  AT(struct slo_objective, window_ms),
	  .lo = 1,
	  .def_num = SLO_DEFAULT_WINDOW },
	{ 0 },
};

static int slo_check(struct config_yaml *x, struct yaml_node *item, void *array, int index);

const struct config_field config_schema_root[] = {
	{ .key = "log_format",
	  .type = CONFIG_ENUM_BOOL,
	  AT(struct agent_config, log_json),
	  .what = "log format",
	  .names = log_formats,
	  .true_index = 1 },
	{ .key = "prometheus",
	  .type = CONFIG_MAP,
	  .size = sizeof(struct agent_config),
	  .fields = prometheus_fields },
	{ .key = "otlp", .type = CONFIG_MAP, .size = sizeof(struct agent_config), .fields = otlp_fields },
	{ .key = "traces", .type = CONFIG_MAP, .size = sizeof(struct agent_config), .fields = traces_fields },
	{ .key = "profiles",
	  .type = CONFIG_MAP,
	  .size = sizeof(struct agent_config),
	  .fields = profiles_fields },
	{ .key = "selectors",
	  .type = CONFIG_LIST,
	  .offset = offsetof(struct agent_config, selectors),
	  .size = sizeof(struct agent_selector),
	  .fields = config_schema_selector,
	  .count_offset = offsetof(struct agent_config, nselectors),
	  .max = AGENT_MAX_SELECTORS,
	  .what = "a list of selectors",
	  .items = "selectors",
	  .check = selector_check },
	{ .key = "go_offsets",
	  .type = CONFIG_LIST,
	  .offset = offsetof(struct agent_config, go_offsets),
	  .size = sizeof(struct agent_go_offsets),
	  .fields = go_offsets_fields,
	  .count_offset = offsetof(struct agent_config, ngo_offsets),
	  .max = AGENT_MAX_GO_OFFSETS,
	  .what = "a list of offsets files (- file: PATH)",
	  .items = "offsets files" },
	{ .key = "slos",
	  .type = CONFIG_LIST,
	  .offset = offsetof(struct agent_config, slos),
	  .size = sizeof(struct slo_objective),
	  .fields = slo_fields,
	  .count_offset = offsetof(struct agent_config, nslos),
	  .max = SLO_MAX,
	  .what = "a list of service level objectives",
	  .items = "SLOs",
	  .check = slo_check },
	{ 0 },
};

/* The key node of key in mapping m, or NULL. */
static struct yaml_node *find_key(struct yaml_node *m, const char *key)
{
	if (m->kind != YAML_NODE_MAP)
		return NULL;
	for (struct yaml_node *k = m->first; k && k->next; k = k->next->next)
		if (k->kind == YAML_NODE_SCALAR && !strcmp(k->raw, key))
			return k;
	return NULL;
}

long config_schema_int(const void *p, size_t size)
{
	return size == sizeof(uint16_t) ? *(const uint16_t *)p : *(const int *)p;
}

bool config_schema_is_set(const struct config_field *f, const void *obj)
{
	const char *p = (const char *)obj + f->offset;
	switch (f->type) {
	case CONFIG_STR:
		return p[0] != '\0';
	case CONFIG_BOOL:
		return *(const bool *)p;
	case CONFIG_INT:
		return config_schema_int(p, f->size) != 0;
	case CONFIG_DURATION:
		return *(const uint32_t *)p != 0;
	case CONFIG_PIDS:
		return *(const int *)((const char *)obj + f->count_offset) > 0;
	default:
		return true;
	}
}

static int selector_check(struct config_yaml *x, struct yaml_node *item, void *array, int index)
{
	struct agent_selector *all = array, *s = &all[index];
	char qb[CONFIG_YAML_QUOTE_BUF];
	struct yaml_node *name = find_key(item, "name");
	if (!name)
		return config_yaml_fail_at(x, item, "selector has no name; expected a 'name' key");
	if (!s->name[0])
		return config_yaml_fail_at(x, name->next,
					   "selector name is empty; expected a non-empty name");
	for (int i = 0; i < index; i++)
		if (!strcmp(all[i].name, s->name))
			return config_yaml_fail_at(x, name->next,
						   "duplicate selector name '%s'; expected unique names",
						   config_yaml_quote(qb, s->name, strlen(s->name)));
	bool any = false;
	char keys[256];
	size_t o = 0;
	for (const struct config_field *f = match_fields; f->key; f++) {
		any |= config_schema_is_set(f, &s->match);
		o += (size_t)snprintf(keys + o, sizeof(keys) - o, "%s%s",
				      f == match_fields ? ""
				      : f[1].key	? ", "
							: " or ",
				      f->key);
	}
	if (!any) {
		struct yaml_node *match = find_key(item, "match");
		return config_yaml_fail_at(x, match ? match : item,
					   "selector '%s' matches nothing specific: give %s",
					   config_yaml_quote(qb, s->name, strlen(s->name)), keys);
	}
	return 0;
}

static int slo_check(struct config_yaml *x, struct yaml_node *item, void *array, int index)
{
	struct slo_objective *all = array;
	char err[256];
	if (slo_objective_check(&all[index], err, sizeof(err)) ||
	    slo_objectives_check_unique(all, index + 1, err, sizeof(err)))
		return config_yaml_fail_at(x, item, "%s", err);
	return 0;
}
