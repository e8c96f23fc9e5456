// SPDX-License-Identifier: Apache-2.0
/* The walk over a mapping matches its keys against a table and hands each value to the
 * reader of the field's type, at the field's offset: the schema is fixed and shallow, so the
 * walk never recurses deeper than five levels whatever the input. */
#include "agent/config_schema.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "agent/config_value.h"

#define PID_LIMIT 4194304 /* the kernel's PID_MAX_LIMIT */
#define PATH_LEN  128

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

/* ---- defaults --------------------------------------------------------------------- */

static int *count_at(void *obj, const struct config_field *f)
{
	return (int *)((char *)obj + f->count_offset);
}

static void set_int(void *p, size_t size, long v)
{
	if (size == sizeof(uint16_t))
		*(uint16_t *)p = (uint16_t)v;
	else
		*(int *)p = (int)v;
}

long config_schema_int(const void *p, size_t size)
{
	return size == sizeof(uint16_t) ? *(const uint16_t *)p : *(const int *)p;
}

void config_schema_defaults(const struct config_field *fields, void *obj)
{
	for (const struct config_field *f = fields; f->key; f++) {
		void *p = (char *)obj + f->offset;
		switch (f->type) {
		case CONFIG_STR:
		case CONFIG_ENUM_STR:
			memset(p, 0, f->size);
			if (f->def_str)
				snprintf(p, f->size, "%s", f->def_str);
			break;
		case CONFIG_BOOL:
		case CONFIG_ENUM_BOOL:
			*(bool *)p = f->def_num != 0;
			break;
		case CONFIG_INT:
			set_int(p, f->size, (long)f->def_num);
			break;
		case CONFIG_DURATION:
			*(uint32_t *)p = (uint32_t)f->def_num;
			break;
		case CONFIG_RATIO:
			*(double *)p = f->def_num;
			break;
		case CONFIG_HEADERS:
		case CONFIG_PIDS:
		case CONFIG_LIST:
			*count_at(obj, f) = 0;
			break;
		case CONFIG_MAP:
			config_schema_defaults(f->fields, p);
			break;
		}
	}
}

/* ---- parsing ---------------------------------------------------------------------- */

static int walk_map(struct config_yaml *x, struct yaml_node *m, const char *path,
		    const struct config_field *fields, void *obj);

static int join_path(char *out, const char *path, const char *key)
{
	int n = snprintf(out, PATH_LEN, "%s%s%s", path, *path ? "." : "", key);
	return n < 0 || n >= PATH_LEN ? -1 : 0;
}

/* An HTTP header name: RFC 9110 token characters. */
static bool header_name_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		if (!alnum && (ch == '\0' || !strchr("!#$%&'*+-.^_`|~", ch)))
			return false;
	}
	return true;
}

static int parse_headers(struct config_yaml *x, const struct config_field *f, void *obj, struct yaml_node *m,
			 const char *path)
{
	int *n = count_at(obj, f);
	char(*headers)[2][AGENT_STR] = (void *)((char *)obj + f->offset);
	*n = 0;
	if (config_yaml_is_null(m))
		return 0;
	if (m->kind != YAML_NODE_MAP)
		return config_yaml_fail_at(x, m, "'%s' is %s; expected %s", path, config_yaml_kind(m),
					   f->what);
	char qb[CONFIG_YAML_QUOTE_BUF];
	for (struct yaml_node *k = m->first; k && k->next; k = k->next->next) {
		if (k->kind != YAML_NODE_SCALAR)
			return config_yaml_fail_at(x, k, "a key in '%s' is %s; expected a header name", path,
						   config_yaml_kind(k));
		if (!header_name_ok(k->raw, k->len))
			return config_yaml_fail_at(x, k,
						   "'%s' is not a header name; expected letters, digits "
						   "and -_.!#$%%&'*+^`|~",
						   config_yaml_quote(qb, k->raw, k->len));
		if (k->len >= AGENT_STR)
			return config_yaml_fail_at(x, k,
						   "header name '%s' is too long (%zu bytes); expected at "
						   "most %d bytes",
						   config_yaml_quote(qb, k->raw, k->len), k->len,
						   AGENT_STR - 1);
		for (int i = 0; i < *n; i++)
			if (!strcasecmp(headers[i][0], k->raw))
				return config_yaml_fail_at(
					x, k, "duplicate header '%s'; expected each header once", k->raw);
		if (*n == f->max)
			return config_yaml_fail_at(x, k, "too many %s; expected at most %d", f->items,
						   f->max);
		char child[PATH_LEN];
		if (join_path(child, path, k->raw))
			snprintf(child, sizeof(child), "%s", path);
		char(*h)[AGENT_STR] = headers[*n];
		memset(h[0], 0, AGENT_STR);
		memcpy(h[0], k->raw, k->len);
		int rc = config_value_str(x, k->next, child, h[1], AGENT_STR);
		if (rc)
			return rc;
		(*n)++;
	}
	return 0;
}

static int parse_pids(struct config_yaml *x, const struct config_field *f, void *obj, struct yaml_node *seq,
		      const char *path)
{
	int *n = count_at(obj, f);
	pid_t *pids = (pid_t *)((char *)obj + f->offset);
	*n = 0;
	if (config_yaml_is_null(seq))
		return 0;
	if (seq->kind != YAML_NODE_SEQ)
		return config_yaml_fail_at(x, seq,
					   "'%s' is %s; expected a list of process ids like [123, 456]", path,
					   config_yaml_kind(seq));
	for (struct yaml_node *it = seq->first; it; it = it->next) {
		if (*n == f->max)
			return config_yaml_fail_at(x, it, "too many %s; expected at most %d", f->items,
						   f->max);
		long pid;
		int rc = config_value_int(x, it, path, f->lo, f->hi, f->what, &pid);
		if (rc)
			return rc;
		pids[(*n)++] = (pid_t)pid;
	}
	return 0;
}

static int parse_list(struct config_yaml *x, const struct config_field *f, void *obj, struct yaml_node *seq,
		      const char *path)
{
	int *n = count_at(obj, f);
	char *array = (char *)obj + f->offset;
	*n = 0;
	if (config_yaml_is_null(seq))
		return 0;
	if (seq->kind != YAML_NODE_SEQ)
		return config_yaml_fail_at(x, seq, "'%s' is %s; expected %s", path, config_yaml_kind(seq),
					   f->what);
	for (struct yaml_node *it = seq->first; it; it = it->next) {
		if (*n == f->max)
			return config_yaml_fail_at(x, it, "too many %s; expected at most %d", f->items,
						   f->max);
		void *item = array + (size_t)*n * f->size;
		memset(item, 0, f->size);
		config_schema_defaults(f->fields, item);
		char child[PATH_LEN];
		int len = snprintf(child, sizeof(child), "%s[%d]", path, *n);
		if (len < 0 || len >= PATH_LEN)
			return config_yaml_fail_at(x, it, "key path too long; expected a shorter one");
		int rc = walk_map(x, it, child, f->fields, item);
		if (!rc && f->check)
			rc = f->check(x, it, array, *n);
		if (rc)
			return rc;
		(*n)++;
	}
	return 0;
}

static int parse_field(struct config_yaml *x, const struct config_field *f, void *obj, struct yaml_node *v,
		       const char *path)
{
	void *p = (char *)obj + f->offset;
	long l;
	int which = 0, rc;
	switch (f->type) {
	case CONFIG_STR:
		return config_value_str(x, v, path, p, f->size);
	case CONFIG_BOOL:
		return config_value_bool(x, v, path, p);
	case CONFIG_INT:
		rc = config_value_int(x, v, path, f->lo, f->hi, f->what, &l);
		if (!rc)
			set_int(p, f->size, l);
		return rc;
	case CONFIG_DURATION:
		return config_value_duration(x, v, path, f->lo > 0, p);
	case CONFIG_RATIO:
		return config_value_ratio(x, v, path, p);
	case CONFIG_ENUM_BOOL:
		rc = config_value_enum(x, v, path, f->what, f->names, &which);
		if (!rc)
			*(bool *)p = which == f->true_index;
		return rc;
	case CONFIG_ENUM_STR:
		rc = config_value_enum(x, v, path, f->what, f->names, &which);
		if (!rc) {
			memset(p, 0, f->size);
			snprintf(p, f->size, "%s", f->names[which]);
		}
		return rc;
	case CONFIG_HEADERS:
		return parse_headers(x, f, obj, v, path);
	case CONFIG_PIDS:
		return parse_pids(x, f, obj, v, path);
	case CONFIG_MAP:
		return walk_map(x, v, path, f->fields, p);
	case CONFIG_LIST:
		return parse_list(x, f, obj, v, path);
	}
	return config_yaml_fail_at(x, v, "'%s' has no reader; expected a known type", path);
}

/* Keys must be among fields (at most 32), each once. A null value counts as an empty mapping. */
static int walk_map(struct config_yaml *x, struct yaml_node *m, const char *path,
		    const struct config_field *fields, void *obj)
{
	if (config_yaml_is_null(m))
		return 0;
	if (m->kind != YAML_NODE_MAP)
		return config_yaml_fail_at(x, m, "'%s' is %s; expected a mapping", path, config_yaml_kind(m));
	char qb[CONFIG_YAML_QUOTE_BUF];
	uint32_t seen = 0;
	for (struct yaml_node *k = m->first; k && k->next; k = k->next->next) {
		if (k->kind != YAML_NODE_SCALAR && !*path)
			return config_yaml_fail_at(x, k, "a top-level key is %s; expected a key name",
						   config_yaml_kind(k));
		if (k->kind != YAML_NODE_SCALAR)
			return config_yaml_fail_at(x, k, "a key in '%s' is %s; expected a key name", path,
						   config_yaml_kind(k));
		const struct config_field *f = NULL;
		for (const struct config_field *g = fields; g->key && !f; g++)
			if (strlen(g->key) == k->len && !memcmp(g->key, k->raw, k->len))
				f = g;
		if (!f) {
			char list[256];
			size_t o = 0;
			for (const struct config_field *g = fields; g->key && o < sizeof(list); g++)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
						      g == fields ? "" : ", ", g->key);
			return config_yaml_fail_at(x, k, "unknown key '%s%s%s'; expected one of %s", path,
						   *path ? "." : "", config_yaml_quote(qb, k->raw, k->len),
						   list);
		}
		char child[PATH_LEN];
		if (join_path(child, path, f->key))
			return config_yaml_fail_at(x, k, "key path too long; expected a shorter one");
		uint32_t bit = 1u << (f - fields);
		if (seen & bit)
			return config_yaml_fail_at(x, k, "duplicate key '%s'; expected each key once", child);
		seen |= bit;
		int rc = parse_field(x, f, obj, k->next, child);
		if (rc)
			return rc;
	}
	return 0;
}

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

int config_schema_parse(struct config_yaml *x, struct yaml_node *root, struct agent_config *c)
{
	if (!root || config_yaml_is_null(root))
		return 0;
	if (root->kind != YAML_NODE_MAP)
		return config_yaml_fail_at(x, root, "the top level is %s; expected a mapping of settings",
					   config_yaml_kind(root));
	return walk_map(x, root, "", config_schema_root, c);
}
