// SPDX-License-Identifier: Apache-2.0
/* agent_config: a full file, defaults, every class of error with its exact message and
 * position, ${VAR} substitution through a fake environment, print → parse round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_config.h"

static const char *fake_env(const char *name)
{
	static const char *const vars[][2] = {
		{ "HOST", "collector.local" },
		{ "TOKEN", "s3cr$t" },
		{ "EMPTY", "" },
		{ "PORT", "8080" },
		{ "HZ", "99" },
		{ "BOOL", "maybe" },
		{ "REF", "${HOST}" }, /* not rescanned */
		{ "NL", "a\nb" },
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (!strcmp(name, vars[i][0]))
			return vars[i][1];
	return NULL;
}

static struct agent_config *new_config(void)
{
	struct agent_config *c = malloc(sizeof(*c));
	assert_non_null(c);
	agent_config_defaults(c);
	return c;
}

static int parse(struct agent_config *c, const char *text, char *err, size_t errlen)
{
	return agent_config_parse(c, "config.yaml", text, strlen(text), fake_env, err, errlen);
}

static void parse_ok(struct agent_config *c, const char *text)
{
	char err[512] = "";
	int rc = parse(c, text, err, sizeof(err));
	if (rc)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	assert_string_equal(err, "");
}

static const char full_yaml[] = "# every key\n"
				"log_format: json\n"
				"prometheus:\n"
				"  address: \"0.0.0.0:9100\"\n"
				"otlp:\n"
				"  endpoint: http://collector:4318\n"
				"  headers:\n"
				"    Authorization: \"Bearer abc\"\n"
				"    x-tenant: team-a\n"
				"  compression: none\n"
				"  metrics_interval: 15s\n"
				"traces:\n"
				"  sampler: parentbased_traceidratio\n"
				"  sampler_arg: 0.25\n"
				"  keep_errors: false\n"
				"  keep_slower_than: 500ms\n"
				"profiles:\n"
				"  directory: /var/lib/glimpse\n"
				"  interval: 2m\n"
				"  otlp: true\n"
				"selectors:\n"
				"  - name: checkout\n"
				"    match:\n"
				"      exe: \"/usr/local/bin/*\"\n"
				"      process_name: \"checkout*\"\n"
				"      port: 8080\n"
				"      container_id: \"abc*\"\n"
				"      k8s_namespace: shop\n"
				"      k8s_pod: \"checkout-*\"\n"
				"      pids: [123, 456]\n"
				"    signals:\n"
				"      http_metrics: false\n"
				"      traces: false\n"
				"      runtime: false\n"
				"      cpu_profile: false\n"
				"      cpu_profile_hz: 99\n"
				"      offcpu_profile: true\n"
				"  - name: db\n"
				"    match: {pids: [7]}\n";

static void test_full(void **state)
{
	(void)state;
	struct agent_config *c = new_config();
	parse_ok(c, full_yaml);
	assert_true(c->log_json);
	assert_string_equal(c->prometheus_address, "0.0.0.0:9100");
	assert_string_equal(c->otlp.endpoint, "http://collector:4318");
	assert_int_equal(c->otlp.nheaders, 2);
	assert_string_equal(c->otlp.headers[0][0], "Authorization");
	assert_string_equal(c->otlp.headers[0][1], "Bearer abc");
	assert_string_equal(c->otlp.headers[1][0], "x-tenant");
	assert_string_equal(c->otlp.headers[1][1], "team-a");
	assert_false(c->otlp.gzip);
	assert_int_equal(c->otlp.metrics_interval_ms, 15000);
	assert_string_equal(c->traces.sampler, "parentbased_traceidratio");
	assert_true(c->traces.sampler_arg == 0.25);
	assert_false(c->traces.keep_errors);
	assert_int_equal(c->traces.keep_slower_than_ms, 500);
	assert_string_equal(c->profiles.directory, "/var/lib/glimpse");
	assert_int_equal(c->profiles.interval_ms, 120000);
	assert_true(c->profiles.otlp);
	assert_int_equal(c->nselectors, 2);
	const struct agent_selector *s = &c->selectors[0];
	assert_string_equal(s->name, "checkout");
	assert_string_equal(s->match.exe, "/usr/local/bin/*");
	assert_string_equal(s->match.process_name, "checkout*");
	assert_int_equal(s->match.port, 8080);
	assert_string_equal(s->match.container_id, "abc*");
	assert_string_equal(s->match.k8s_namespace, "shop");
	assert_string_equal(s->match.k8s_pod, "checkout-*");
	assert_int_equal(s->match.npids, 2);
	assert_int_equal(s->match.pids[0], 123);
	assert_int_equal(s->match.pids[1], 456);
	assert_false(s->signals.http_metrics);
	assert_false(s->signals.traces);
	assert_false(s->signals.runtime);
	assert_false(s->signals.cpu_profile);
	assert_int_equal(s->signals.cpu_profile_hz, 99);
	assert_true(s->signals.offcpu_profile);
	s = &c->selectors[1]; /* signals at their defaults */
	assert_string_equal(s->name, "db");
	assert_int_equal(s->match.npids, 1);
	assert_int_equal(s->match.pids[0], 7);
	assert_string_equal(s->match.exe, "");
	assert_int_equal(s->match.port, 0);
	assert_true(s->signals.http_metrics);
	assert_true(s->signals.traces);
	assert_true(s->signals.runtime);
	assert_true(s->signals.cpu_profile);
	assert_int_equal(s->signals.cpu_profile_hz, 19);
	assert_false(s->signals.offcpu_profile);
	free(c);
}

static void test_defaults(void **state)
{
	(void)state;
	struct agent_config *d = new_config();
	assert_false(d->log_json);
	assert_string_equal(d->prometheus_address, "127.0.0.1:9464");
	assert_string_equal(d->otlp.endpoint, "");
	assert_int_equal(d->otlp.nheaders, 0);
	assert_true(d->otlp.gzip);
	assert_int_equal(d->otlp.metrics_interval_ms, 60000);
	assert_string_equal(d->traces.sampler, "parentbased_always_on");
	assert_true(d->traces.sampler_arg == 1.0);
	assert_true(d->traces.keep_errors);
	assert_int_equal(d->traces.keep_slower_than_ms, 0);
	assert_string_equal(d->profiles.directory, "");
	assert_int_equal(d->profiles.interval_ms, 60000);
	assert_false(d->profiles.otlp);
	assert_int_equal(d->nselectors, 0);

	/* Empty files, and sections present but empty, all give the defaults; parsing starts
	 * from the defaults whatever *c held. */
	static const char *const empties[] = {
		"",
		"\n",
		"# only a comment\n",
		"---\n",
		"--- ~\n",
		"null\n",
		"\xef\xbb\xbf",
		"prometheus:\notlp:\ntraces: {}\nprofiles: ~\nselectors: []\n",
	};
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		struct agent_config *c = new_config();
		memset(c, 0x5a, sizeof(*c));
		parse_ok(c, empties[i]);
		assert_true(agent_config_equal(c, d));
		free(c);
	}
	/* an empty string value is "", not the default */
	struct agent_config *c = new_config();
	parse_ok(c, "prometheus:\n  address: \"\"\n");
	assert_string_equal(c->prometheus_address, "");
	parse_ok(c, "prometheus:\n  address:\n");
	assert_string_equal(c->prometheus_address, "");
	free(c);
	free(d);
}

struct error_case {
	const char *yaml, *err;
};

static const struct error_case error_cases[] = {
	/* unknown keys, with their path */
	{ "prometheus:\n  adress: x\n",
	  "config.yaml:2:3: unknown key 'prometheus.adress'; expected one of address" },
	{ "log_format: json\nlogformat: x\n",
	  "config.yaml:2:1: unknown key 'logformat'; expected one of log_format, prometheus, "
	  "otlp, traces, profiles, selectors, go_offsets, slos" },
	{ "selectors:\n  - name: a\n    match: {port: 1, ports: 2}\n",
	  "config.yaml:3:22: unknown key 'selectors[0].match.ports'; expected one of exe, "
	  "process_name, port, container_id, k8s_namespace, k8s_pod, pids, listening, go" },
	{ "otlp:\n  endpoint: a\n  endpoint: b\n",
	  "config.yaml:3:3: duplicate key 'otlp.endpoint'; expected each key once" },
	{ "? [a]\n: 1\n", "config.yaml:1:3: a top-level key is a list; expected a key name" },
	{ "otlp:\n  {a: 1}: 2\n", "config.yaml:2:3: a key in 'otlp' is a mapping; expected a key name" },
	/* scalar values */
	{ "traces:\n  keep_errors: maybe\n",
	  "config.yaml:2:16: 'maybe' is not a boolean; expected true or false" },
	{ "log_format: yaml\n", "config.yaml:1:13: 'yaml' is not a log format; expected human or json" },
	{ "otlp:\n  compression: zstd\n",
	  "config.yaml:2:16: 'zstd' is not a compression; expected gzip or none" },
	{ "selectors:\n  - name: a\n    match: {pids: [1]}\n    signals: {capture: ebpf}\n",
	  "config.yaml:4:24: 'ebpf' is not a capture; expected one of auto, socket, uprobes, or "
	  "uprobes+socket" },
	{ "traces:\n  sampler: sometimes\n",
	  "config.yaml:2:12: 'sometimes' is not a sampler; expected one of always_on, "
	  "always_off, traceidratio, parentbased_always_on, parentbased_always_off, or "
	  "parentbased_traceidratio" },
	/* YAML syntax, with libyaml's words */
	{ "a: b: c\n",
	  "config.yaml:1:5: mapping values are not allowed in this context; expected valid YAML" },
	{ "otlp: [1, 2\n",
	  "config.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence at "
	  "1:7); expected valid YAML" },
	{ "otlp:\n  endpoint: \"abc\n",
	  "config.yaml:3:1: found unexpected end of stream (while scanning a quoted scalar at "
	  "2:13); expected valid YAML" },
	{ "log_format: json\n\x01\n",
	  "config.yaml:2:1: control characters are not allowed (byte 0x01); expected UTF-8 text" },
	{ "log_format: \"\xff\"\n",
	  "config.yaml:1:14: invalid leading UTF-8 octet (byte 0xff); expected UTF-8 text" },
	/* node types */
	{ "otlp: [1]\n", "config.yaml:1:7: 'otlp' is a list; expected a mapping" },
	{ "selectors:\n  name: x\n",
	  "config.yaml:2:3: 'selectors' is a mapping; expected a list of selectors" },
	{ "otlp:\n  endpoint: {a: 1}\n",
	  "config.yaml:2:13: 'otlp.endpoint' is a mapping; expected a string" },
	{ "prometheus: on\n", "config.yaml:1:13: 'prometheus' is a single value; expected a mapping" },
	{ "selectors:\n  - name: a\n    match: {pids: 5}\n",
	  "config.yaml:3:19: 'selectors[0].match.pids' is a single value; expected a list of "
	  "process ids like [123, 456]" },
	{ "- a\n", "config.yaml:1:1: the top level is a list; expected a mapping of settings" },
	{ "hello\n", "config.yaml:1:1: the top level is a single value; expected a mapping of "
		     "settings" },
	/* numbers */
	{ "selectors:\n  - name: a\n    match: {port: 70000}\n",
	  "config.yaml:3:19: 70000 is out of range; expected a port number 1..65535" },
	{ "selectors:\n  - name: a\n    match: {port: 0}\n",
	  "config.yaml:3:19: 0 is out of range; expected a port number 1..65535" },
	{ "selectors:\n  - name: a\n    match: {port: http}\n",
	  "config.yaml:3:19: 'http' is not a number; expected a port number 1..65535" },
	{ "selectors:\n  - name: a\n    match: {pids: [1, -2]}\n",
	  "config.yaml:3:23: -2 is out of range; expected a process id 1..4194304" },
	{ "selectors:\n  - name: a\n    match: {pid: [1]}\n    signals: {cpu_profile_hz: 0}\n",
	  "config.yaml:3:13: unknown key 'selectors[0].match.pid'; expected one of exe, "
	  "process_name, port, container_id, k8s_namespace, k8s_pod, pids, listening, go" },
	{ "selectors:\n  - name: a\n    match: {port: 1}\n    signals: {cpu_profile_hz: 1001}\n",
	  "config.yaml:4:31: 1001 is out of range; expected a frequency 1..1000" },
	{ "selectors:\n  - name: a\n    match: {port: 1}\n"
	  "    signals: {cpu_profile_hz: 99999999999999999999999}\n",
	  "config.yaml:4:31: 99999999999999999999999 is out of range; expected a frequency "
	  "1..1000" },
	{ "traces:\n  sampler_arg: 1.5\n",
	  "config.yaml:2:16: 1.5 is out of range; expected a number from 0 to 1" },
	{ "traces:\n  sampler_arg: nan\n",
	  "config.yaml:2:16: 'nan' is not a number; expected a number from 0 to 1" },
	{ "selectors:\n  - name: a\n    match:\n      pids: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,"
	  "16,17]\n",
	  "config.yaml:4:53: too many pids; expected at most 16" },
	/* durations */
	{ "otlp:\n  metrics_interval: 10x\n",
	  "config.yaml:2:21: '10x' is not a duration; expected a number with ms, s, m, h or d, like "
	  "500ms, 10s, 1m, 1h or 1d" },
	{ "otlp:\n  metrics_interval: 1.5s\n",
	  "config.yaml:2:21: '1.5s' is not a duration; expected a number with ms, s, m, h or d, like "
	  "500ms, 10s, 1m, 1h or 1d" },
	{ "profiles:\n  interval: 0s\n",
	  "config.yaml:2:13: '0s' is zero; expected a duration greater than 0" },
	{ "traces:\n  keep_slower_than: 1194h\n",
	  "config.yaml:2:21: duration '1194h' is too long; expected at most 1193h" },
	/* selectors */
	{ "selectors:\n  - name: a\n    match: {port: 80}\n  - name: a\n    match: {port: 81}\n",
	  "config.yaml:4:11: duplicate selector name 'a'; expected unique names" },
	{ "selectors:\n  - name: checkout\n    match:\n      exe: \"\"\n",
	  "config.yaml:3:5: selector 'checkout' matches nothing specific: give exe, process_name, "
	  "port, container_id, k8s_namespace, k8s_pod, pids, listening or go" },
	{ "selectors:\n  - name: x\n",
	  "config.yaml:2:5: selector 'x' matches nothing specific: give exe, process_name, port, "
	  "container_id, k8s_namespace, k8s_pod, pids, listening or go" },
	{ "selectors:\n  - match: {port: 80}\n",
	  "config.yaml:2:5: selector has no name; expected a 'name' key" },
	{ "selectors:\n  - name: \"\"\n    match: {port: 80}\n",
	  "config.yaml:2:11: selector name is empty; expected a non-empty name" },
	/* strings */
	{ "otlp:\n  endpoint: \"a\\tb\"\n",
	  "config.yaml:2:13: value of 'otlp.endpoint' contains a control character; expected "
	  "printable text" },
	{ "otlp:\n  headers: {\"a b\": 1}\n",
	  "config.yaml:2:13: 'a b' is not a header name; expected letters, digits and "
	  "-_.!#$%&'*+^`|~" },
	{ "otlp:\n  headers: {Auth: 1, auth: 2}\n",
	  "config.yaml:2:22: duplicate header 'auth'; expected each header once" },
	/* anchors, tags, documents */
	{ "otlp: &o\n  endpoint: x\nprofiles: *o\n",
	  "config.yaml:3:11: alias '*o' is not supported; expected a value written out (anchors "
	  "and aliases are not supported)" },
	{ "otlp:\n  endpoint: !!str x\n",
	  "config.yaml:2:13: YAML tag 'tag:yaml.org,2002:str' is not supported; expected an "
	  "untagged value" },
	{ "log_format: json\n---\nlog_format: human\n",
	  "config.yaml:2:1: a second YAML document; expected a single document" },
	/* ${VAR} */
	{ "otlp:\n  endpoint: \"http://${HOST}:${NOPE}/v1\"\n",
	  "config.yaml:2:29: environment variable 'NOPE' is not set; expected it set, or a "
	  "default as in ${NOPE:-default}" },
	{ "otlp:\n  endpoint: >\n    http://${HOST}\n    ${NOPE}\n",
	  "config.yaml:4:5: environment variable 'NOPE' is not set; expected it set, or a "
	  "default as in ${NOPE:-default}" },
	{ "otlp:\n  endpoint: $${HOST}${NOPE}\n",
	  "config.yaml:2:21: environment variable 'NOPE' is not set; expected it set, or a "
	  "default as in ${NOPE:-default}" },
	{ "otlp:\n  endpoint: x${HOST\n",
	  "config.yaml:2:14: '${' without a closing '}'; expected ${NAME} or ${NAME:-default}" },
	{ "otlp:\n  endpoint: ${1X}\n",
	  "config.yaml:2:13: '${1X}' is not a variable reference; expected ${NAME} or "
	  "${NAME:-default}, NAME of letters, digits and _" },
	{ "otlp:\n  endpoint: ${A-b}\n",
	  "config.yaml:2:13: '${A-b}' is not a variable reference; expected ${NAME} or "
	  "${NAME:-default}, NAME of letters, digits and _" },
	{ "otlp:\n  endpoint: ${A:-${B}}\n",
	  "config.yaml:2:13: '${' inside the default of ${A}; expected a default without variable "
	  "references" },
	{ "traces:\n  keep_errors: ${BOOL}\n",
	  "config.yaml:2:16: 'maybe' is not a boolean; expected true or false" },
	{ "otlp:\n  endpoint: ${NL}\n",
	  "config.yaml:2:13: value of 'otlp.endpoint' contains a line break; expected one line "
	  "(a block scalar needs |- or >-)" },
	{ "profiles:\n  directory: |\n    /tmp\n",
	  "config.yaml:2:14: value of 'profiles.directory' contains a line break; expected one "
	  "line (a block scalar needs |- or >-)" },
	{ "otlp:\n  endpoint: \"\\x85\"\n",
	  "config.yaml:2:13: value of 'otlp.endpoint' contains a control character; expected "
	  "printable text" },
	/* CRLF line ends count like \n */
	{ "otlp:\r\n  endpoint: x\r\n  bogus: 1\r\n",
	  "config.yaml:3:3: unknown key 'otlp.bogus'; expected one of endpoint, headers, "
	  "compression, metrics_interval" },
};

static void test_errors(void **state)
{
	(void)state;
	struct agent_config *c = new_config();
	struct agent_config *d = new_config();
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		char err[512];
		memset(err, 'x', sizeof(err));
		int rc = parse(c, error_cases[i].yaml, err, sizeof(err));
		if (rc != -EINVAL || strcmp(err, error_cases[i].err))
			print_error("case %zu:\n  got  %s\n  want %s\n", i, err, error_cases[i].err);
		assert_int_equal(rc, -EINVAL);
		assert_string_equal(err, error_cases[i].err);
		assert_null(strchr(err, '\n'));
		assert_true(agent_config_equal(c, d)); /* untouched on error */
	}
	free(c);
	free(d);
}

static void test_error_limits(void **state)
{
	(void)state;
	struct agent_config *c = new_config();
	char err[512];
	/* a string one byte over its buffer */
	char yaml[2048];
	int n = snprintf(yaml, sizeof(yaml), "otlp:\n  endpoint: ");
	memset(yaml + n, 'e', 1024);
	yaml[n + 1024] = '\n';
	yaml[n + 1025] = '\0';
	assert_int_equal(parse(c, yaml, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "config.yaml:2:13: value of 'otlp.endpoint' is too long (1024 "
				 "bytes); expected at most 1023 bytes");
	yaml[n + 1023] = '\n'; /* 1023 fits */
	yaml[n + 1024] = '\0';
	parse_ok(c, yaml);
	assert_int_equal(strlen(c->otlp.endpoint), 1023);

	/* 33 selectors */
	char *big = malloc(65536);
	assert_non_null(big);
	size_t o = (size_t)sprintf(big, "selectors:\n");
	for (int i = 0; i < 33; i++)
		o += (size_t)sprintf(big + o, "  - {name: s%d, match: {port: %d}}\n", i, i + 1);
	assert_int_equal(parse(c, big, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "config.yaml:34:5: too many selectors; expected at most 32");
	free(big);

	/* 17 headers */
	o = (size_t)snprintf(yaml, sizeof(yaml), "otlp:\n  headers:\n");
	for (int i = 0; i < 17; i++)
		o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "    h%d: v\n", i);
	assert_int_equal(parse(c, yaml, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "config.yaml:19:5: too many headers; expected at most 16");

	/* long values are cut in messages, and a short err buffer still gets a terminated prefix */
	assert_int_equal(parse(c,
			       "log_format: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
			       err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "config.yaml:1:13: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				 "aaaaaaaaaaaaaaaaaaaa...' is not a log format; expected human or json");
	char small[16];
	assert_int_equal(parse(c, "x: 1\n", small, sizeof(small)), -EINVAL);
	assert_string_equal(small, "config.yaml:1:1");
	assert_int_equal(parse(c, "x: 1\n", NULL, 0), -EINVAL);

	/* a file name with a newline stays one line */
	assert_int_equal(agent_config_parse(c, "a\nb", "x: 1", 4, fake_env, err, sizeof(err)), -EINVAL);
	assert_null(strchr(err, '\n'));
	free(c);
}

static void test_env(void **state)
{
	(void)state;
	struct agent_config *c = new_config();
	parse_ok(c, "otlp:\n"
		    "  endpoint: \"http://${HOST}:${NOPORT:-4318}\"\n"
		    "  headers:\n"
		    "    authorization: 'Bearer ${TOKEN}'\n"
		    "    x-empty: \"[${EMPTY:-fallback}]\"\n"
		    "    x-set-empty: \"[${EMPTY}]\"\n"
		    "    x-dollar: $$5 costs $$${HOST} a$b $\n"
		    "    x-norescan: ${REF}\n"
		    "    x-default-empty: \"${NOPE:-}\"\n"
		    "selectors:\n"
		    "  - name: ${HOST}\n"
		    "    match: {port: '${PORT}'}\n"
		    "    signals: {cpu_profile_hz: \"${HZ}\", traces: \"${NOPE:-false}\"}\n");
	assert_string_equal(c->otlp.endpoint, "http://collector.local:4318");
	assert_int_equal(c->otlp.nheaders, 6);
	assert_string_equal(c->otlp.headers[0][1], "Bearer s3cr$t");
	assert_string_equal(c->otlp.headers[1][1], "[fallback]");
	assert_string_equal(c->otlp.headers[2][1], "[]");
	assert_string_equal(c->otlp.headers[3][1], "$5 costs $collector.local a$b $");
	assert_string_equal(c->otlp.headers[4][1], "${HOST}");
	assert_string_equal(c->otlp.headers[5][1], "");
	assert_string_equal(c->selectors[0].name, "collector.local");
	assert_int_equal(c->selectors[0].match.port, 8080);
	assert_int_equal(c->selectors[0].signals.cpu_profile_hz, 99);
	assert_false(c->selectors[0].signals.traces);

	/* keys are not substituted */
	char err[512];
	assert_int_equal(parse(c, "${HOST}: 1\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "config.yaml:1:1: unknown key '${HOST}'; expected one of "
			    "log_format, prometheus, otlp, traces, profiles, selectors, go_offsets, slos");

	/* NULL getenv_fn: the real environment */
	setenv("GLIMPSE_TEST_ENDPOINT", "http://real:4318", 1);
	const char *y = "otlp:\n  endpoint: ${GLIMPSE_TEST_ENDPOINT}\n";
	assert_int_equal(agent_config_parse(c, "c.yaml", y, strlen(y), NULL, err, sizeof(err)), 0);
	assert_string_equal(c->otlp.endpoint, "http://real:4318");
	free(c);
}

/* print → parse gives an equal configuration, and printing that again gives the same text. */
static void round_trip(const struct agent_config *c)
{
	char *text = NULL, *text2 = NULL;
	size_t len = 0, len2 = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	agent_config_print(c, f);
	fclose(f);
	struct agent_config *back = malloc(sizeof(*back));
	assert_non_null(back);
	char err[512];
	int rc = agent_config_parse(back, "printed", text, len, fake_env, err, sizeof(err));
	if (rc)
		print_error("%s\n--\n%s--\n", err, text);
	assert_int_equal(rc, 0);
	assert_true(agent_config_equal(c, back));
	f = open_memstream(&text2, &len2);
	assert_non_null(f);
	agent_config_print(back, f);
	fclose(f);
	assert_string_equal(text, text2);
	free(text);
	free(text2);
	free(back);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct agent_config *c = new_config();
	round_trip(c);
	parse_ok(c, full_yaml);
	round_trip(c);

	/* awkward strings and numbers */
	parse_ok(c, "otlp:\n"
		    "  endpoint: \"quote\\\" back\\\\slash $${not a var} é \\u2028 \\uFEFF\"\n"
		    "  headers: {\"x-$$\": \"${TOKEN}\", \"#hash\": \": colon\", \"!b\": \"'\"}\n"
		    "  metrics_interval: 1500ms\n"
		    "traces:\n"
		    "  sampler: traceidratio\n"
		    "  sampler_arg: 0.1\n"
		    "  keep_slower_than: 3600000ms\n"
		    "profiles:\n"
		    "  directory: \"  spaces  \"\n"
		    "  interval: 4294967295ms\n"
		    "selectors:\n"
		    "  - name: \"- tricky: [name] #\"\n"
		    "    match: {k8s_pod: \"*\", pids: [4194304]}\n");
	assert_string_equal(c->otlp.endpoint,
			    "quote\" back\\slash ${not a var} \xc3\xa9 \xe2\x80\xa8 \xef\xbb\xbf");
	assert_string_equal(c->otlp.headers[0][0], "x-$$");
	assert_string_equal(c->otlp.headers[0][1], "s3cr$t");
	assert_int_equal(c->traces.keep_slower_than_ms, 3600000);
	round_trip(c);

	/* durations print in the largest exact unit */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	agent_config_print(c, f);
	fclose(f);
	assert_non_null(strstr(text, "  metrics_interval: 1500ms\n"));
	assert_non_null(strstr(text, "  keep_slower_than: 1h\n"));
	assert_non_null(strstr(text, "  interval: 4294967295ms\n"));
	assert_non_null(strstr(text, "\"x-$$\": \"s3cr$$t\""));
	free(text);

	/* sampler_arg values that need all 17 digits */
	agent_config_defaults(c);
	c->traces.sampler_arg = 0.1 + 0.2;
	round_trip(c);
	c->traces.sampler_arg = 5e-324;
	round_trip(c);
	free(c);
}

static void test_load(void **state)
{
	(void)state;
	struct agent_config *c = new_config();
	char err[512];
	assert_int_equal(agent_config_load(c, "/nonexistent/glimpse.yaml", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/glimpse.yaml: cannot read: No such file or directory");

	char path[] = "/tmp/glimpse-config-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *y = "log_format: json\ntraces:\n  sampler: always_of\n";
	assert_int_equal(write(fd, y, strlen(y)), (ssize_t)strlen(y));
	close(fd);
	assert_int_equal(agent_config_load(c, path, err, sizeof(err)), -EINVAL);
	char want[600];
	snprintf(want, sizeof(want),
		 "%s:3:12: 'always_of' is not a sampler; expected one of "
		 "always_on, always_off, traceidratio, parentbased_always_on, "
		 "parentbased_always_off, or parentbased_traceidratio",
		 path);
	assert_string_equal(err, want);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	y = "log_format: json\n";
	assert_int_equal(write(fd, y, strlen(y)), (ssize_t)strlen(y));
	close(fd);
	assert_int_equal(agent_config_load(c, path, err, sizeof(err)), 0);
	assert_true(c->log_json);
	unlink(path);

	assert_int_equal(agent_config_load(c, "/tmp", err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "/tmp: cannot read: Is a directory");
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),   cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors), cmocka_unit_test(test_error_limits),
		cmocka_unit_test(test_env),    cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
