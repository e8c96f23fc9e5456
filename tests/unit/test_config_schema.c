// SPDX-License-Identifier: Apache-2.0
/* The configuration schema table against the struct it fills. Ground truth: the members of
 * struct agent_config named here by hand (offsetof), not the table's offsets. Every key of
 * the table must appear below, set to a non-default value, and land in exactly its member:
 * the parsed struct must equal, byte for byte, the defaults with only that member changed.
 * Also: the depth cap on a 100k-deep input, and the built-in default configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_config.h"
#include "agent/config_schema.h"

enum want_type {
	W_STR,
	W_BOOL,
	W_U16,
	W_INT,
	W_U32,
	W_DOUBLE,
	W_HEADERS, /* one header X-A: b */
	W_PIDS,	   /* [5, 6] */
};

struct key_case {
	const char *path; /* section.key, selectors.key, selectors.match.key, ... */
	const char *yaml; /* a value that is not the default */
	enum want_type type;
	size_t offset, size; /* of the member in struct agent_config, or agent_selector for selectors.* */
	const char *str;
	double num;
};

#define C(f)   offsetof(struct agent_config, f), sizeof(((struct agent_config *)0)->f)
#define S(f)   offsetof(struct agent_selector, f), sizeof(((struct agent_selector *)0)->f)
#define SEL(k) "selectors." k
#define O(f)   offsetof(struct slo_objective, f), sizeof(((struct slo_objective *)0)->f)

static const struct key_case key_cases[] = {
	{ "log_format", "json", W_BOOL, C(log_json), NULL, 1 },
	{ "prometheus.address", "a:1", W_STR, C(prometheus_address), "a:1", 0 },
	{ "otlp.endpoint", "http://e", W_STR, C(otlp.endpoint), "http://e", 0 },
	{ "otlp.headers", "{X-A: b}", W_HEADERS, C(otlp.headers), NULL, 0 },
	{ "otlp.compression", "none", W_BOOL, C(otlp.gzip), NULL, 0 },
	{ "otlp.metrics_interval", "7s", W_U32, C(otlp.metrics_interval_ms), NULL, 7000 },
	{ "traces.sampler", "always_off", W_STR, C(traces.sampler), "always_off", 0 },
	{ "traces.sampler_arg", "0.5", W_DOUBLE, C(traces.sampler_arg), NULL, 0.5 },
	{ "traces.keep_errors", "false", W_BOOL, C(traces.keep_errors), NULL, 0 },
	{ "traces.keep_slower_than", "250ms", W_U32, C(traces.keep_slower_than_ms), NULL, 250 },
	{ "profiles.directory", "/d", W_STR, C(profiles.directory), "/d", 0 },
	{ "profiles.interval", "2m", W_U32, C(profiles.interval_ms), NULL, 120000 },
	{ "profiles.otlp", "true", W_BOOL, C(profiles.otlp), NULL, 1 },
	{ "go_offsets.file", "/o", W_STR, C(go_offsets[0].file), "/o", 0 },
	{ "slos.name", "x", W_STR, O(name), "x", 0 },
	{ "slos.service", "svc", W_STR, O(service), "svc", 0 },
	{ "slos.route", "/r", W_STR, O(route), "/r", 0 },
	{ "slos.objective", "latency", W_STR, O(objective), "latency", 0 },
	{ "slos.target", "0.99", W_DOUBLE, O(target), NULL, 0.99 },
	{ "slos.threshold", "2s", W_U32, O(threshold_ms), NULL, 2000 },
	{ "slos.window", "7d", W_U32, O(window_ms), NULL, 7 * 86400000.0 },
	{ SEL("name"), "x", W_STR, S(name), "x", 0 },
	{ SEL("match.exe"), "/e", W_STR, S(match.exe), "/e", 0 },
	{ SEL("match.process_name"), "p", W_STR, S(match.process_name), "p", 0 },
	{ SEL("match.port"), "8080", W_U16, S(match.port), NULL, 8080 },
	{ SEL("match.container_id"), "c", W_STR, S(match.container_id), "c", 0 },
	{ SEL("match.k8s_namespace"), "n", W_STR, S(match.k8s_namespace), "n", 0 },
	{ SEL("match.k8s_pod"), "o", W_STR, S(match.k8s_pod), "o", 0 },
	{ SEL("match.pids"), "[5, 6]", W_PIDS, S(match.pids), NULL, 0 },
	{ SEL("match.listening"), "true", W_BOOL, S(match.listening), NULL, 1 },
	{ SEL("match.go"), "true", W_BOOL, S(match.go), NULL, 1 },
	{ SEL("signals.http_metrics"), "false", W_BOOL, S(signals.http_metrics), NULL, 0 },
	{ SEL("signals.traces"), "false", W_BOOL, S(signals.traces), NULL, 0 },
	{ SEL("signals.logs"), "true", W_BOOL, S(signals.logs), NULL, 1 },
	{ SEL("signals.runtime"), "false", W_BOOL, S(signals.runtime), NULL, 0 },
	{ SEL("signals.cpu_profile"), "false", W_BOOL, S(signals.cpu_profile), NULL, 0 },
	{ SEL("signals.cpu_profile_hz"), "7", W_INT, S(signals.cpu_profile_hz), NULL, 7 },
	{ SEL("signals.offcpu_profile"), "true", W_BOOL, S(signals.offcpu_profile), NULL, 1 },
	{ SEL("signals.capture"), "socket", W_STR, S(signals.capture), "socket", 0 },
};
#define NCASES (sizeof(key_cases) / sizeof(key_cases[0]))

static const char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

static const struct key_case *find_case(const char *path)
{
	for (size_t i = 0; i < NCASES; i++)
		if (!strcmp(key_cases[i].path, path))
			return &key_cases[i];
	return NULL;
}

/* Every leaf key of the table, as a dotted path; each must have a case. */
static size_t walk_schema(const struct config_field *fields, const char *prefix)
{
	size_t n = 0, keys = 0;
	for (const struct config_field *f = fields; f->key; f++)
		keys++;
	assert_true(keys <= 32); /* the parser's seen-key mask */
	for (const struct config_field *f = fields; f->key; f++) {
		char path[128];
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", f->key);
		if (f->type == CONFIG_MAP || f->type == CONFIG_LIST) {
			n += walk_schema(f->fields, path);
			continue;
		}
		if (!find_case(path))
			print_error("schema key '%s' has no case in key_cases\n", path);
		assert_non_null(find_case(path));
		n++;
	}
	return n;
}

/* The YAML that sets k, and in want the defaults with k's member (and what its context
 * needs: one selector named s, matching pid 1 unless the key is a match criterion) set. */
static void build_case(const struct key_case *k, char *yaml, size_t size, struct agent_config *want)
{
	agent_config_defaults(want);
	const char *dot = strchr(k->path, '.');
	unsigned char *base = (unsigned char *)want;
	if (!strncmp(k->path, "slos.", 5)) {
		/* One latency objective named s (a threshold is required), with k's key instead of
		 * the base item's own. */
		const char *key = k->path + 5;
		struct slo_objective *o = &want->slos[0];
		want->nslos = 1;
		memset(o, 0, sizeof(*o));
		strcpy(o->name, "s");
		strcpy(o->objective, "latency");
		o->target = 0.999;
		o->threshold_ms = 1000;
		o->window_ms = SLO_DEFAULT_WINDOW;
		base = (unsigned char *)o;
		snprintf(yaml, size, "slos:\n  -%s%s%s\n    %s: %s\n",
			 strcmp(key, "name") ? " name: s\n   " : "",
			 strcmp(key, "objective") ? " objective: latency\n   " : "",
			 strcmp(key, "threshold") ? " threshold: 1s" : "", key, k->yaml);
	} else if (!strncmp(k->path, "go_offsets.", 11)) {
		/* A list of one item. */
		want->ngo_offsets = 1;
		snprintf(yaml, size, "go_offsets:\n  - %s: %s\n", dot + 1, k->yaml);
	} else if (strncmp(k->path, "selectors.", 10)) {
		if (dot)
			snprintf(yaml, size, "%.*s:\n  %s: %s\n", (int)(dot - k->path), k->path, dot + 1,
				 k->yaml);
		else
			snprintf(yaml, size, "%s: %s\n", k->path, k->yaml);
	} else {
		const char *key = k->path + 10;
		struct agent_selector *s = &want->selectors[0];
		want->nselectors = 1;
		agent_selector_defaults(s);
		strcpy(s->name, "s");
		base = (unsigned char *)s;
		if (!strcmp(key, "name")) {
			s->match.pids[0] = 1, s->match.npids = 1;
			snprintf(yaml, size, "selectors:\n  - name: %s\n    match: {pids: [1]}\n", k->yaml);
		} else if (!strncmp(key, "match.", 6)) {
			snprintf(yaml, size, "selectors:\n  - name: s\n    match:\n      %s: %s\n", key + 6,
				 k->yaml);
		} else {
			s->match.pids[0] = 1, s->match.npids = 1;
			snprintf(yaml, size,
				 "selectors:\n  - name: s\n    match: {pids: [1]}\n    signals:\n      %s: "
				 "%s\n",
				 key + 8, k->yaml);
		}
	}
	void *p = base + k->offset;
	switch (k->type) {
	case W_STR:
		memset(p, 0, k->size);
		strcpy(p, k->str);
		break;
	case W_BOOL:
		*(bool *)p = k->num != 0;
		break;
	case W_U16:
		*(uint16_t *)p = (uint16_t)k->num;
		break;
	case W_INT:
		*(int *)p = (int)k->num;
		break;
	case W_U32:
		*(uint32_t *)p = (uint32_t)k->num;
		break;
	case W_DOUBLE:
		*(double *)p = k->num;
		break;
	case W_HEADERS:
		strcpy(want->otlp.headers[0][0], "X-A");
		strcpy(want->otlp.headers[0][1], "b");
		want->otlp.nheaders = 1;
		break;
	case W_PIDS:
		want->selectors[0].match.pids[0] = 5;
		want->selectors[0].match.pids[1] = 6;
		want->selectors[0].match.npids = 2;
		break;
	}
}

static void test_every_key(void **state)
{
	(void)state;
	assert_int_equal(walk_schema(config_schema_root, ""), NCASES);
	struct agent_config *got = malloc(sizeof(*got)), *want = malloc(sizeof(*want)),
			    *dflt = malloc(sizeof(*dflt)), *back = malloc(sizeof(*back));
	assert_non_null(got && want && dflt && back);
	for (size_t i = 0; i < NCASES; i++) {
		const struct key_case *k = &key_cases[i];
		char yaml[512], err[512] = "";
		build_case(k, yaml, sizeof(yaml), want);
		memset(got, 0x5a, sizeof(*got));
		int rc = agent_config_parse(got, "k.yaml", yaml, strlen(yaml), no_env, err, sizeof(err));
		if (rc || memcmp(got, want, sizeof(*got)))
			print_error("key %s (rc %d %s):\n%s", k->path, rc, err, yaml);
		assert_int_equal(rc, 0);
		/* byte for byte: the value is in its member and nowhere else */
		assert_memory_equal(got, want, sizeof(*got));
		assert_true(agent_config_equal(got, want));
		/* equality sees the member: the same context without the key differs */
		struct agent_config *ctx = dflt;
		agent_config_defaults(ctx);
		if (!strncmp(k->path, "selectors.", 10)) {
			ctx->nselectors = 1;
			ctx->selectors[0] = got->selectors[0];
			struct agent_selector def;
			agent_selector_defaults(&def);
			memcpy((char *)&ctx->selectors[0] + k->offset, (char *)&def + k->offset, k->size);
			if (k->type == W_PIDS)
				ctx->selectors[0].match.npids = 1; /* [1] instead of [5, 6] */
		}
		assert_false(agent_config_equal(got, ctx));
		/* and printing writes it: the printed text reads back equal */
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		assert_non_null(f);
		agent_config_print(got, f);
		fclose(f);
		rc = agent_config_parse(back, "printed", text, len, no_env, err, sizeof(err));
		if (rc)
			print_error("%s\n%s", err, text);
		assert_int_equal(rc, 0);
		assert_true(agent_config_equal(back, got));
		free(text);
	}
	free(got);
	free(want);
	free(dflt);
	free(back);
}

/* 100k nested '[' (libyaml alone spends over 15 s on it): refused at the 33rd level, where
 * it starts, so the test is as fast as a small file. */
static void test_depth_cap(void **state)
{
	(void)state;
	const size_t deep = 100000;
	char *yaml = malloc(deep * 2 + 64);
	assert_non_null(yaml);
	size_t o = (size_t)sprintf(yaml, "selectors: ");
	memset(yaml + o, '[', deep);
	yaml[o + deep] = '\0';
	struct agent_config *c = malloc(sizeof(*c));
	assert_non_null(c);
	agent_config_defaults(c);
	char err[512];
	assert_int_equal(agent_config_parse(c, "deep.yaml", yaml, strlen(yaml), no_env, err, sizeof(err)),
			 -EINVAL);
	/* the root mapping is level 1, so the 32nd '[' (column 12 + 31) is level 33 */
	assert_string_equal(err, "deep.yaml:1:43: nesting deeper than 32 levels; expected at most 32 "
				 "nested mappings and lists");
	/* the same for block mappings (level 33 starts on line 33, column 2 * 32 + 1), and a closed 32-level input is not refused for depth */
	o = 0;
	for (int i = 0; i < 40; i++)
		o += (size_t)sprintf(yaml + o, "%*sa:\n", 2 * i, "");
	assert_int_equal(agent_config_parse(c, "m.yaml", yaml, o, no_env, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "m.yaml:33:65: nesting deeper than 32 levels; expected at most 32 nested "
				 "mappings and lists");
	o = (size_t)sprintf(yaml, "selectors: ");
	memset(yaml + o, '[', 31);
	memset(yaml + o + 31, ']', 31);
	o += 62;
	yaml[o] = '\0';
	assert_int_equal(agent_config_parse(c, "ok.yaml", yaml, o, no_env, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "ok.yaml:1:13: 'selectors[0]' is a list; expected a mapping");
	free(yaml);
	free(c);
}

static void test_builtin_default(void **state)
{
	(void)state;
	struct agent_config *c = malloc(sizeof(*c)), *back = malloc(sizeof(*back));
	assert_non_null(c && back);
	char err[512] = "";
	assert_int_equal(agent_config_default(c, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(c->prometheus_address, "127.0.0.1:9464");
	assert_int_equal(c->nselectors, 1);
	const struct agent_selector *s = &c->selectors[0];
	assert_true(s->match.listening);
	assert_true(s->match.go);
	assert_string_equal(s->match.exe, "");
	assert_int_equal(s->match.port, 0);
	assert_int_equal(s->match.npids, 0);
	assert_true(s->signals.http_metrics);
	assert_true(s->signals.traces);
	assert_true(s->signals.runtime);
	assert_false(s->signals.cpu_profile);
	assert_int_equal(s->signals.cpu_profile_hz, 19);
	assert_false(s->signals.offcpu_profile);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	agent_config_print(c, f);
	fclose(f);
	assert_int_equal(agent_config_parse(back, "printed", text, len, no_env, err, sizeof(err)), 0);
	assert_true(agent_config_equal(c, back));
	assert_non_null(strstr(text, "    match:\n      listening: true\n      go: true\n"));
	free(text);
	free(c);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_depth_cap),
		cmocka_unit_test(test_builtin_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
