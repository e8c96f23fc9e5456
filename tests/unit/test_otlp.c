// SPDX-License-Identifier: Apache-2.0
/* OTLP exporter: configuration resolution (OTel SDK environment rules), protobuf encoding
 * checked by decoding with the generated code, Retry-After, backoff bounds, and the
 * drop-oldest queue's accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "base/histogram.h"
#include "metrics/registry.h"
#include "export/otlp.h"
#include "export/otlp_internal.h"
#include "otlp/metrics_service.pb-c.h"
#include "otlp/trace_service.pb-c.h"

#define MS 1000000ULL

/* ---- configuration ---- */

static void clear_env(void)
{
	for (int i = 0; i < OTLP_SETTINGS; i++)
		unsetenv(otlp_setting_env((enum otlp_setting)i));
}

/* The config from an environment given as NAME=value strings (NULL-terminated). */
static int config_with(struct otlp_config *cfg, char *err, size_t errlen, const char *const *env)
{
	clear_env();
	for (; env && *env; env++) {
		char name[128];
		const char *eq = strchr(*env, '=');
		snprintf(name, sizeof(name), "%.*s", (int)(eq - *env), *env);
		setenv(name, eq + 1, 1);
	}
	err[0] = '\0';
	int rc = otlp_config_from_env(cfg, err, errlen);
	clear_env();
	return rc;
}

static void test_config_defaults(void **state)
{
	(void)state;
	struct otlp_config c;
	char err[256];
	assert_int_equal(config_with(&c, err, sizeof(err), NULL), 0);
	assert_false(c.configured);
	assert_string_equal(c.traces_url, "http://localhost:4318/v1/traces");
	assert_string_equal(c.metrics_url, "http://localhost:4318/v1/metrics");
	assert_int_equal(c.timeout_ms, 10000);
	assert_false(c.gzip);
	assert_int_equal(c.nheaders, 0);
	assert_string_equal(c.service_name, "");
	assert_int_equal(c.queue_size, 2048);
	assert_int_equal(c.batch_size, 512);
	assert_int_equal(c.batch_delay_ms, 1000);
	assert_int_equal(c.export_timeout_ms, 30000);
	assert_int_equal(c.metrics_interval_ms, 60000);
}

/* The spec's endpoint rules: the base gets /v1/<signal> (with a '/' only if needed); a
 * per-signal URL is used as is and beats the base; empty means unset. */
static void test_config_endpoints(void **state)
{
	(void)state;
	static const struct {
		const char *env[4];
		const char *traces, *metrics;
	} cases[] = {
		{ { "OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318" },
		  "http://collector:4318/v1/traces",
		  "http://collector:4318/v1/metrics" },
		{ { "OTEL_EXPORTER_OTLP_ENDPOINT=https://collector:4318/" },
		  "https://collector:4318/v1/traces",
		  "https://collector:4318/v1/metrics" },
		{ { "OTEL_EXPORTER_OTLP_ENDPOINT=http://gw/otlp" },
		  "http://gw/otlp/v1/traces",
		  "http://gw/otlp/v1/metrics" },
		{ { "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://t:1234/custom" },
		  "http://t:1234/custom",
		  "http://localhost:4318/v1/metrics" },
		{ { "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://m:9/" },
		  "http://localhost:4318/v1/traces",
		  "http://m:9/" },
		{ { "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://t/x",
		    "OTEL_EXPORTER_OTLP_ENDPOINT=http://b:1" },
		  "http://t/x",
		  "http://b:1/v1/metrics" },
		{ { "OTEL_EXPORTER_OTLP_ENDPOINT=http://b:1",
		    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://m/y" },
		  "http://b:1/v1/traces",
		  "http://m/y" },
		{ { "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" },
		  "http://localhost:4318/v1/traces",
		  "http://localhost:4318/v1/metrics" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct otlp_config c;
		char err[256];
		assert_int_equal(config_with(&c, err, sizeof(err), cases[i].env), 0);
		assert_string_equal(c.traces_url, cases[i].traces);
		assert_string_equal(c.metrics_url, cases[i].metrics);
		assert_int_equal(c.configured, strchr(cases[i].env[0], '=')[1] != '\0');
	}
}

/* Flags beat the environment; a per-signal flag beats the base flag in either order. */
static void test_config_flags(void **state)
{
	(void)state;
	struct otlp_config c;
	char err[256];
	const char *env[] = { "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://env-t/x",
			      "OTEL_EXPORTER_OTLP_ENDPOINT=http://env:1", "OTEL_EXPORTER_OTLP_TIMEOUT=500",
			      "OTEL_EXPORTER_OTLP_HEADERS=a=1,B=2", NULL };
	assert_int_equal(config_with(&c, err, sizeof(err), env), 0);
	assert_int_equal(
		otlp_config_set_flag(&c, OTLP_ENDPOINT, "--otlp-endpoint", "http://flag:2", err, sizeof(err)),
		0);
	assert_string_equal(c.traces_url, "http://flag:2/v1/traces");
	assert_string_equal(c.metrics_url, "http://flag:2/v1/metrics");
	assert_int_equal(
		otlp_config_set_flag(&c, OTLP_METRICS_ENDPOINT, "--m", "http://fm/z", err, sizeof(err)), 0);
	assert_int_equal(
		otlp_config_set_flag(&c, OTLP_ENDPOINT, "--otlp-endpoint", "http://flag:3", err, sizeof(err)),
		0);
	assert_string_equal(c.traces_url, "http://flag:3/v1/traces");
	assert_string_equal(c.metrics_url, "http://fm/z");
	assert_int_equal(otlp_config_set_flag(&c, OTLP_TIMEOUT, "--t", "2500", err, sizeof(err)), 0);
	assert_int_equal(c.timeout_ms, 2500);
	/* Headers merge by name, case-insensitively; the flag's value wins. */
	assert_int_equal(
		otlp_config_set_flag(&c, OTLP_HEADERS, "--otlp-headers", "b=3,c=4", err, sizeof(err)), 0);
	assert_int_equal(c.nheaders, 3);
	assert_string_equal(c.headers[0].name, "a");
	assert_string_equal(c.headers[0].value, "1");
	assert_string_equal(c.headers[1].value, "3");
	assert_string_equal(c.headers[2].name, "c");
	assert_true(c.configured);
	assert_int_equal(
		otlp_config_set_flag(&c, OTLP_COMPRESSION, "--otlp-compression", "zstd", err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "--otlp-compression \"zstd\": expected gzip or none");
}

static void test_config_headers(void **state)
{
	(void)state;
	struct otlp_config c;
	char err[256];
	const char *env[] = { "OTEL_EXPORTER_OTLP_HEADERS= api-key = s%20e%3Dcret , x-tenant=a%2Cb,,"
			      "Authorization=Basic%20dXNlcjpwYXNz",
			      NULL };
	assert_int_equal(config_with(&c, err, sizeof(err), env), 0);
	assert_int_equal(c.nheaders, 3);
	assert_string_equal(c.headers[0].name, "api-key");
	assert_string_equal(c.headers[0].value, "s e=cret");
	assert_string_equal(c.headers[1].name, "x-tenant");
	assert_string_equal(c.headers[1].value, "a,b");
	assert_string_equal(c.headers[2].name, "Authorization");
	assert_string_equal(c.headers[2].value, "Basic dXNlcjpwYXNz");

	static const struct {
		const char *value, *error;
	} bad[] = {
		{ "api-key=secret,oops", "OTEL_EXPORTER_OTLP_HEADERS: item 2 is not key=value: expected "
					 "comma-separated key=value pairs (values percent-encoded)" },
		{ "=v", "OTEL_EXPORTER_OTLP_HEADERS: item 1 is not key=value: expected comma-separated "
			"key=value pairs (values percent-encoded)" },
		{ "a b=c", "OTEL_EXPORTER_OTLP_HEADERS: bad header name \"a b\": expected letters, "
			   "digits and !#$%&'*+-.^_`|~" },
		{ "k=%zz", "OTEL_EXPORTER_OTLP_HEADERS: value of \"k\": expected at most 1023 bytes, "
			   "with % only in %XX escapes" },
		{ "k=50%", "OTEL_EXPORTER_OTLP_HEADERS: value of \"k\": expected at most 1023 bytes, "
			   "with % only in %XX escapes" },
		{ "k=a%0d%0aX-Injected: 1", "OTEL_EXPORTER_OTLP_HEADERS: value of \"k\": expected no "
					    "control characters" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char var[256];
		snprintf(var, sizeof(var), "OTEL_EXPORTER_OTLP_HEADERS=%s", bad[i].value);
		const char *e[] = { var, NULL };
		assert_int_equal(config_with(&c, err, sizeof(err), e), -EINVAL);
		assert_string_equal(err, bad[i].error);
		assert_null(strstr(err, "secret")); /* header values stay out of messages */
		assert_null(strchr(err, '\n'));
	}
	/* Too many. */
	char many[1024] = "OTEL_EXPORTER_OTLP_HEADERS=";
	for (int i = 0; i <= OTLP_MAX_HEADERS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "h%d=v,", i);
	const char *e[] = { many, NULL };
	assert_int_equal(config_with(&c, err, sizeof(err), e), -EINVAL);
	assert_string_equal(err, "OTEL_EXPORTER_OTLP_HEADERS: expected at most 16 headers");
}

static void test_config_values(void **state)
{
	(void)state;
	struct otlp_config c;
	char err[256];
	static const struct {
		const char *var;
		int ok;
		const char *error; /* for !ok */
	} cases[] = {
		{ "OTEL_EXPORTER_OTLP_TIMEOUT=5000", 1, NULL },
		{ "OTEL_EXPORTER_OTLP_TIMEOUT=abc", 0,
		  "OTEL_EXPORTER_OTLP_TIMEOUT=\"abc\": expected a timeout "
		  "in milliseconds (an integer from 1 to 3600000)" },
		{ "OTEL_EXPORTER_OTLP_TIMEOUT=0", 0, NULL },
		{ "OTEL_EXPORTER_OTLP_TIMEOUT=-5", 0, NULL },
		{ "OTEL_EXPORTER_OTLP_TIMEOUT=10s", 0, NULL },
		{ "OTEL_EXPORTER_OTLP_TIMEOUT=99999999999", 0, NULL },
		{ "OTEL_EXPORTER_OTLP_COMPRESSION=gzip", 1, NULL },
		{ "OTEL_EXPORTER_OTLP_COMPRESSION=GZIP", 1, NULL },
		{ "OTEL_EXPORTER_OTLP_COMPRESSION=none", 1, NULL },
		{ "OTEL_EXPORTER_OTLP_COMPRESSION=deflate", 0,
		  "OTEL_EXPORTER_OTLP_COMPRESSION=\"deflate\": expected gzip or none" },
		{ "OTEL_EXPORTER_OTLP_ENDPOINT=localhost:4318", 0,
		  "OTEL_EXPORTER_OTLP_ENDPOINT=\"localhost:4318\": expected a URL such as "
		  "http://localhost:4318 (http:// or https://, then a host)" },
		{ "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://", 0, NULL },
		{ "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=ftp://x", 0, NULL },
		{ "OTEL_EXPORTER_OTLP_ENDPOINT=http://a b", 0, NULL },
		{ "OTEL_BSP_MAX_QUEUE_SIZE=100", 1, NULL },
		{ "OTEL_BSP_MAX_QUEUE_SIZE=0", 0,
		  "OTEL_BSP_MAX_QUEUE_SIZE=\"0\": expected a number of spans "
		  "(an integer from 1 to 1000000)" },
		{ "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=64", 1, NULL },
		{ "OTEL_BSP_SCHEDULE_DELAY=250", 1, NULL },
		{ "OTEL_BSP_EXPORT_TIMEOUT=x", 0, NULL },
		{ "OTEL_METRIC_EXPORT_INTERVAL=1000", 1, NULL },
		{ "OTEL_RESOURCE_ATTRIBUTES=novalue", 0,
		  "OTEL_RESOURCE_ATTRIBUTES: item 1 is not key=value: "
		  "expected comma-separated key=value pairs (values "
		  "percent-encoded)" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *e[] = { cases[i].var, NULL };
		int rc = config_with(&c, err, sizeof(err), e);
		if (cases[i].ok) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)(strchr(cases[i].var, '=') - cases[i].var),
			 cases[i].var);
		assert_non_null(strstr(err, name)); /* names the variable */
		assert_non_null(strstr(err, "expected"));
		if (cases[i].error)
			assert_string_equal(err, cases[i].error);
	}
	const char *env[] = { "OTEL_EXPORTER_OTLP_TIMEOUT=750",
			      "OTEL_EXPORTER_OTLP_COMPRESSION=gzip",
			      "OTEL_SERVICE_NAME=checkout",
			      "OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod, "
			      "team = a%20b%2Cc ,service.name=ignored",
			      "OTEL_BSP_MAX_QUEUE_SIZE=100",
			      "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=10",
			      "OTEL_BSP_SCHEDULE_DELAY=250",
			      "OTEL_BSP_EXPORT_TIMEOUT=5000",
			      "OTEL_METRIC_EXPORT_INTERVAL=1500",
			      NULL };
	assert_int_equal(config_with(&c, err, sizeof(err), env), 0);
	assert_int_equal(c.timeout_ms, 750);
	assert_true(c.gzip);
	assert_false(c.configured); /* no endpoint given: the caller decides */
	assert_string_equal(c.service_name, "checkout");
	assert_int_equal(c.nresource_attrs, 3);
	assert_string_equal(c.resource_attrs[0].key, "deployment.environment");
	assert_string_equal(c.resource_attrs[0].value, "prod");
	assert_string_equal(c.resource_attrs[1].key, "team");
	assert_string_equal(c.resource_attrs[1].value, "a b,c");
	assert_int_equal(c.queue_size, 100);
	assert_int_equal(c.batch_size, 10);
	assert_int_equal(c.batch_delay_ms, 250);
	assert_int_equal(c.export_timeout_ms, 5000);
	assert_int_equal(c.metrics_interval_ms, 1500);
}

/* ---- encoding ---- */

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

static const AnyValue *attr(KeyValue **kv, size_t n, const char *key)
{
	const AnyValue *found = NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key)) {
			assert_null(found); /* keys are unique */
			found = kv[i]->value;
		}
	return found;
}

static void assert_str_attr(KeyValue **kv, size_t n, const char *key, const char *want)
{
	const AnyValue *v = attr(kv, n, key);
	assert_non_null(v);
	assert_int_equal(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
	assert_string_equal(v->string_value, want);
}

static void assert_int_attr(KeyValue **kv, size_t n, const char *key, int64_t want)
{
	const AnyValue *v = attr(kv, n, key);
	assert_non_null(v);
	assert_int_equal(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE);
	assert_int_equal(v->int_value, want);
}

static void make_res(struct resource *r, const char *svc, pid_t pid)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->service_name, sizeof(r->service_name), "%s", svc);
	snprintf(r->executable_name, sizeof(r->executable_name), "%s-bin", svc);
	snprintf(r->host_name, sizeof(r->host_name), "host-1");
	r->pid = pid;
}

static void fill_span(struct otlp_span *s, int i)
{
	memset(s, 0, sizeof(*s));
	for (int b = 0; b < 16; b++)
		s->trace_id[b] = (uint8_t)(0xa0 + b + i);
	for (int b = 0; b < 8; b++)
		s->span_id[b] = (uint8_t)(0x10 + b + i);
	if (i) /* span 0 is the root, the others its children */
		for (int b = 0; b < 8; b++)
			s->parent_span_id[b] = (uint8_t)(0x10 + b);
	s->kind = i ? OTLP_SPAN_CLIENT : OTLP_SPAN_SERVER;
	s->start_unix_ns = 1700000000123456789ULL + (uint64_t)i;
	s->end_unix_ns = s->start_unix_ns + 5000 + (uint64_t)i;
}

static void test_encode_traces(void **state)
{
	(void)state;
	struct otlp_config cfg;
	char err[256];
	const char *env[] = { "OTEL_RESOURCE_ATTRIBUTES=deployment.environment=test,service.name=from-attrs",
			      NULL };
	assert_int_equal(config_with(&cfg, err, sizeof(err), env), 0);
	struct resource r0, r1;
	make_res(&r0, "checkout", 100);
	make_res(&r1, "payments", 200);
	const struct resource *resources[] = { &r0, &r1 };

	/* Caller buffers are overwritten after copying: the queued copy must not change. */
	char name[64] = "GET /users/{id}", route[64] = "/users/{id}", msg[64] = "connection reset";
	char long_name[OTLP_STR_MAX + 100];
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	long_name[OTLP_STR_MAX - 1] = '\xc3'; /* a 2-byte character across the cut */
	long_name[OTLP_STR_MAX] = '\xa9';
	struct otlp_span s;
	struct otlp_qspan *q[3];

	fill_span(&s, 0);
	s.name = name;
	s.status = OTLP_STATUS_ERROR;
	s.status_message = msg;
	s.attrs[s.nattrs++] = otlp_attr_str("http.route", route);
	s.attrs[s.nattrs++] = otlp_attr_int("http.response.status_code", 503);
	s.attrs[s.nattrs++] = otlp_attr_double("ratio", 0.25);
	s.attrs[s.nattrs++] = otlp_attr_bool("retry", true);
	s.attrs[s.nattrs++] = otlp_attr_str("bad.utf8", "a\xff"
							"b\xc3");
	s.attrs[s.nattrs++] = otlp_attr_str("null.value", NULL);
	s.attrs[s.nattrs++] = otlp_attr_str(NULL, "no key: left out");
	q[0] = otlp_qspan_new(&s, 0);
	memset(name, 'X', sizeof(name) - 1);
	memset(route, 'X', sizeof(route) - 1);
	memset(msg, 'X', sizeof(msg) - 1);

	fill_span(&s, 1);
	s.name = long_name;
	s.status = OTLP_STATUS_OK;
	s.status_message = "not sent for OK";
	s.nattrs = 20; /* more than fit: the first 16 are kept */
	char keys[20][16];
	for (int i = 0; i < 20; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		s.attrs[i % OTLP_SPAN_MAX_ATTRS] = otlp_attr_int(keys[i], i);
	}
	q[1] = otlp_qspan_new(&s, 1);

	fill_span(&s, 2);
	s.name = "child";
	q[2] = otlp_qspan_new(&s, 0);
	assert_non_null(q[0]);
	assert_non_null(q[1]);
	assert_non_null(q[2]);

	uint8_t *buf;
	size_t len;
	assert_int_equal(otlp_encode_traces(&cfg, resources, q, 3, &buf, &len), 0);
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len,
												 buf);
	assert_non_null(req);
	/* Spans of one resource share one ResourceSpans, in order of first appearance. */
	assert_int_equal(req->n_resource_spans, 2);
	const char *svc[] = { "from-attrs", "from-attrs" }; /* OTEL_RESOURCE_ATTRIBUTES wins */
	for (int g = 0; g < 2; g++) {
		const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[g];
		const struct resource *r = g ? &r1 : &r0;
		KeyValue **ra = rs->resource->attributes;
		size_t rn = rs->resource->n_attributes;
		assert_int_equal(rn, 5);
		assert_str_attr(ra, rn, "service.name", svc[g]);
		assert_int_attr(ra, rn, "process.pid", r->pid);
		assert_str_attr(ra, rn, "process.executable.name", r->executable_name);
		assert_str_attr(ra, rn, "host.name", "host-1");
		assert_str_attr(ra, rn, "deployment.environment", "test");
		assert_int_equal(rs->n_scope_spans, 1);
		assert_string_equal(rs->scope_spans[0]->scope->name, "glimpse");
		assert_true(strlen(rs->scope_spans[0]->scope->version) > 0);
	}
	assert_int_equal(req->resource_spans[0]->scope_spans[0]->n_spans, 2);
	assert_int_equal(req->resource_spans[1]->scope_spans[0]->n_spans, 1);

	const Opentelemetry__Proto__Trace__V1__Span *sp = req->resource_spans[0]->scope_spans[0]->spans[0];
	struct otlp_span want;
	fill_span(&want, 0);
	assert_int_equal(sp->trace_id.len, 16);
	assert_memory_equal(sp->trace_id.data, want.trace_id, 16);
	assert_int_equal(sp->span_id.len, 8);
	assert_memory_equal(sp->span_id.data, want.span_id, 8);
	assert_int_equal(sp->parent_span_id.len, 0); /* root: no parent at all */
	assert_string_equal(sp->name, "GET /users/{id}");
	assert_int_equal(sp->kind, 2);
	assert_int_equal(sp->start_time_unix_nano, want.start_unix_ns);
	assert_int_equal(sp->end_time_unix_nano, want.end_unix_ns);
	assert_non_null(sp->status);
	assert_int_equal(sp->status->code, 2);
	assert_string_equal(sp->status->message, "connection reset");
	assert_int_equal(sp->n_attributes, 6);
	assert_str_attr(sp->attributes, sp->n_attributes, "http.route", "/users/{id}");
	assert_int_attr(sp->attributes, sp->n_attributes, "http.response.status_code", 503);
	const AnyValue *v = attr(sp->attributes, sp->n_attributes, "ratio");
	assert_int_equal(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE);
	assert_true(v->double_value == 0.25);
	v = attr(sp->attributes, sp->n_attributes, "retry");
	assert_int_equal(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE);
	assert_true(v->bool_value);
	assert_str_attr(sp->attributes, sp->n_attributes, "bad.utf8",
			"a\xef\xbf\xbd"
			"b\xef\xbf\xbd");
	assert_str_attr(sp->attributes, sp->n_attributes, "null.value", "");

	sp = req->resource_spans[0]->scope_spans[0]->spans[1];
	fill_span(&want, 2);
	assert_string_equal(sp->name, "child");
	assert_int_equal(sp->kind, 3);
	assert_int_equal(sp->parent_span_id.len, 8);
	assert_memory_equal(sp->parent_span_id.data, want.parent_span_id, 8);
	assert_null(sp->status); /* unset: not sent */
	assert_int_equal(sp->n_attributes, 0);

	sp = req->resource_spans[1]->scope_spans[0]->spans[0];
	/* Cut to OTLP_STR_MAX bytes without splitting the character at the edge. */
	assert_int_equal(strlen(sp->name), OTLP_STR_MAX - 1);
	assert_int_equal(sp->status->code, 1);
	assert_string_equal(sp->status->message, "");
	assert_int_equal(sp->n_attributes, OTLP_SPAN_MAX_ATTRS);
	assert_int_attr(sp->attributes, sp->n_attributes, "k19", 19);

	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
	free(buf);

	/* OTEL_SERVICE_NAME beats OTEL_RESOURCE_ATTRIBUTES' service.name. */
	cfg.nresource_attrs = 0;
	snprintf(cfg.service_name, sizeof(cfg.service_name), "renamed");
	assert_int_equal(otlp_encode_traces(&cfg, resources, q, 1, &buf, &len), 0);
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len,
											       buf);
	assert_non_null(req);
	assert_int_equal(req->n_resource_spans, 1);
	assert_str_attr(req->resource_spans[0]->resource->attributes,
			req->resource_spans[0]->resource->n_attributes, "service.name", "renamed");
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
	free(buf);
	for (int i = 0; i < 3; i++)
		free(q[i]);
}

static void test_gzip(void **state)
{
	(void)state;
	uint8_t in[5000], *out, back[6000];
	size_t n;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i % 17);
	assert_int_equal(otlp_gzip(in, sizeof(in), &out, &n), 0);
	assert_true(n > 18 && n < sizeof(in));
	assert_int_equal(out[0], 0x1f); /* gzip magic */
	assert_int_equal(out[1], 0x8b);
	z_stream z = { 0 };
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = out;
	z.avail_in = (uInt)n;
	z.next_out = back;
	z.avail_out = sizeof(back);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, sizeof(in));
	assert_memory_equal(back, in, sizeof(in));
	inflateEnd(&z);
	free(out);
}

static double seven(void *ctx, int target)
{
	(void)ctx;
	return target == 0 ? 7 : 8;
}

static double forty_two(void *ctx, int target)
{
	(void)ctx;
	assert_int_equal(target, -1);
	return 42;
}

static const double obs_bounds[] = { 0.5, 1 };

static int observe(void *ctx, int target, struct metric_point *p, int max)
{
	(void)ctx;
	if (target != 0 || max < 2)
		return 0;
	p[0].attr_name = "state";
	p[0].attr_value = "running";
	p[0].value = 3;
	p[1].attr_name = "state";
	p[1].attr_value = "sleeping";
	p[1].value = 5;
	return 2;
}

static int observe_hist(void *ctx, int target, struct metric_point *p, int max)
{
	(void)ctx, (void)max;
	if (target != 0)
		return 0;
	p[0].bounds = obs_bounds;
	p[0].nbounds = 2;
	p[0].counts[0] = 4, p[0].counts[1] = 0, p[0].counts[2] = 1;
	p[0].count = 5;
	p[0].sum = 3.25;
	return 1;
}

static const Opentelemetry__Proto__Metrics__V1__Metric *find_metric(
	const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm, const char *name)
{
	const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[0];
	for (size_t i = 0; i < sm->n_metrics; i++)
		if (!strcmp(sm->metrics[i]->name, name))
			return sm->metrics[i];
	return NULL;
}

static void test_encode_metrics(void **state)
{
	(void)state;
	struct otlp_config cfg;
	char err[256];
	const char *env[] = { "OTEL_RESOURCE_ATTRIBUTES=k8s.namespace.name=shop", NULL };
	assert_int_equal(config_with(&cfg, err, sizeof(err), env), 0);
	struct metrics_registry *reg = metrics_registry_new(0);
	struct resource r0, r1;
	make_res(&r0, "checkout", 100);
	make_res(&r1, "idle", 200);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t before = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	assert_int_equal(metrics_registry_add_target(reg, &r0), 0);
	assert_int_equal(metrics_registry_add_target(reg, &r1), 1);
	struct http_record rec = { .kind = HTTP_SERVER,
				   .method = "GET",
				   .status = 200,
				   .path = "/users/42",
				   .duration_ns = 3 * MS };
	metrics_registry_record(reg, 0, &rec);
	rec.duration_ns = 30 * MS;
	metrics_registry_record(reg, 0, &rec);
	rec = (struct http_record){
		.kind = HTTP_SERVER, .method = "BREW", .status = 503, .path = "/pot", .duration_ns = 2 * MS
	};
	metrics_registry_record(reg, 0, &rec);
	rec = (struct http_record){ .kind = HTTP_CLIENT,
				    .method = "POST",
				    .status = 0,
				    .server_address = "db.internal",
				    .server_port = 5432,
				    .duration_ns = 1000 * MS };
	metrics_registry_record(reg, 0, &rec);
	assert_int_equal(metrics_registry_add_updown(reg, "http.server.active_requests", "{request}",
						     "In flight.", seven, NULL, true),
			 0);
	assert_int_equal(metrics_registry_add_gauge(reg, "glimpse.events_dropped", "{event}", "Lost.", true,
						    forty_two, NULL, false),
			 0);
	assert_int_equal(metrics_registry_add_observer(reg, "process.thread.count", "{thread}", "Threads.",
						       METRIC_GAUGE, observe, NULL),
			 0);
	assert_int_equal(metrics_registry_add_observer(reg, "test.latency", "s", "A histogram.",
						       METRIC_HISTOGRAM, observe_hist, NULL),
			 0);
	assert_int_equal(metrics_registry_add_observer(reg, "go.goroutine.count", "{goroutine}",
						       "Goroutines.", METRIC_UPDOWN, observe, NULL),
			 0);

	uint64_t now = before + 5000000000ULL;
	uint8_t *buf;
	size_t len, npoints;
	assert_int_equal(otlp_encode_metrics(&cfg, reg, now, &buf, &len, &npoints), 0);
	/* 2 server series + 1 client + gauge x2 targets + 2 observer points + histogram + 2
	 * up-down points, then the counter that is not per target. */
	assert_int_equal(npoints, 2 + 1 + 2 + 2 + 1 + 2 + 1);
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req =
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
			NULL, len, buf);
	assert_non_null(req);
	assert_int_equal(req->n_resource_metrics, 3); /* checkout, idle, glimpse itself */

	const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = req->resource_metrics[0];
	KeyValue **ra = rm->resource->attributes;
	size_t rn = rm->resource->n_attributes;
	assert_str_attr(ra, rn, "service.name", "checkout");
	assert_int_attr(ra, rn, "process.pid", 100);
	assert_str_attr(ra, rn, "process.executable.name", "checkout-bin");
	assert_str_attr(ra, rn, "host.name", "host-1");
	assert_str_attr(ra, rn, "k8s.namespace.name", "shop");
	assert_string_equal(rm->scope_metrics[0]->scope->name, "glimpse");

	const Opentelemetry__Proto__Metrics__V1__Metric *m = find_metric(rm, "http.server.request.duration");
	assert_non_null(m);
	assert_string_equal(m->unit, "s");
	assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
	assert_int_equal(
		m->histogram->aggregation_temporality,
		OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
	assert_int_equal(m->histogram->n_data_points, 2);
	/* Sorted like the Prometheus output: route, then method. */
	const Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *hp = m->histogram->data_points[1];
	assert_int_equal(hp->n_attributes, 3);
	assert_str_attr(hp->attributes, hp->n_attributes, "http.request.method", "GET");
	assert_int_attr(hp->attributes, hp->n_attributes, "http.response.status_code", 200);
	assert_str_attr(hp->attributes, hp->n_attributes, "http.route", "/users/{id}");
	assert_int_equal(hp->count, 2);
	assert_true(fabs(hp->sum - 0.033) < 1e-12);
	assert_int_equal(hp->n_explicit_bounds, HIST_EXPORT_BOUNDS);
	assert_int_equal(hp->n_bucket_counts, HIST_EXPORT_BOUNDS + 1);
	for (int i = 0; i < HIST_EXPORT_BOUNDS; i++)
		assert_true(hp->explicit_bounds[i] == hist_export_bounds[i]);
	for (int i = 0; i <= HIST_EXPORT_BOUNDS; i++) /* 3 ms in (0, 5ms], 30 ms in (25, 50ms] */
		assert_int_equal(hp->bucket_counts[i], i == 1 || i == 4);
	assert_true(hp->start_time_unix_nano >= before && hp->start_time_unix_nano < now);
	assert_int_equal(hp->time_unix_nano, now);
	hp = m->histogram->data_points[0];
	assert_str_attr(hp->attributes, hp->n_attributes, "http.request.method", "_OTHER");
	assert_str_attr(hp->attributes, hp->n_attributes, "error.type", "503");
	assert_int_attr(hp->attributes, hp->n_attributes, "http.response.status_code", 503);

	m = find_metric(rm, "http.client.request.duration");
	assert_non_null(m);
	hp = m->histogram->data_points[0];
	assert_int_equal(hp->n_attributes, 4);
	assert_str_attr(hp->attributes, hp->n_attributes, "error.type", "_OTHER");
	assert_str_attr(hp->attributes, hp->n_attributes, "http.request.method", "POST");
	assert_null(attr(hp->attributes, hp->n_attributes, "http.response.status_code"));
	assert_str_attr(hp->attributes, hp->n_attributes, "server.address", "db.internal");
	assert_int_attr(hp->attributes, hp->n_attributes, "server.port", 5432);
	assert_int_equal(hp->bucket_counts[10], 1); /* 1 s: le="1" */

	m = find_metric(rm, "http.server.active_requests");
	assert_non_null(m);
	assert_string_equal(m->unit, "{request}");
	assert_string_equal(m->description, "In flight.");
	/* semconv's UpDownCounter: a non-monotonic cumulative sum. */
	assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
	assert_false(m->sum->is_monotonic);
	assert_int_equal(m->sum->n_data_points, 1);
	assert_true(m->sum->data_points[0]->as_double == 7);

	m = find_metric(rm, "process.thread.count");
	assert_non_null(m);
	assert_int_equal(m->gauge->n_data_points, 2);
	assert_str_attr(m->gauge->data_points[1]->attributes, m->gauge->data_points[1]->n_attributes, "state",
			"sleeping");
	assert_true(m->gauge->data_points[1]->as_double == 5);

	m = find_metric(rm, "test.latency");
	assert_non_null(m);
	hp = m->histogram->data_points[0];
	assert_int_equal(hp->n_explicit_bounds, 2);
	assert_int_equal(hp->n_bucket_counts, 3);
	assert_int_equal(hp->bucket_counts[0], 4);
	assert_int_equal(hp->bucket_counts[2], 1);
	assert_int_equal(hp->count, 5);
	assert_true(hp->sum == 3.25);

	/* An up-down counter (semconv's go.goroutine.count): a non-monotonic cumulative sum, as
	 * the SDK's runtime instrumentation sends it. */
	m = find_metric(rm, "go.goroutine.count");
	assert_non_null(m);
	assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
	assert_false(m->sum->is_monotonic);
	assert_int_equal(
		m->sum->aggregation_temporality,
		OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
	assert_int_equal(m->sum->n_data_points, 2);
	assert_true(m->sum->data_points[1]->as_double == 5);

	/* A target with no traffic still has its per-target gauge. */
	rm = req->resource_metrics[1];
	assert_str_attr(rm->resource->attributes, rm->resource->n_attributes, "service.name", "idle");
	assert_int_equal(rm->scope_metrics[0]->n_metrics, 1);
	assert_true(find_metric(rm, "http.server.active_requests")->sum->data_points[0]->as_double == 8);

	/* Metrics about glimpse itself: its own resource, counters as monotonic cumulative sums. */
	rm = req->resource_metrics[2];
	ra = rm->resource->attributes;
	rn = rm->resource->n_attributes;
	assert_str_attr(ra, rn, "service.name", "glimpse");
	assert_int_attr(ra, rn, "process.pid", getpid());
	assert_str_attr(ra, rn, "k8s.namespace.name", "shop");
	m = find_metric(rm, "glimpse.events_dropped");
	assert_non_null(m);
	assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
	assert_true(m->sum->is_monotonic);
	assert_int_equal(
		m->sum->aggregation_temporality,
		OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
	assert_true(m->sum->data_points[0]->as_double == 42);
	assert_true(m->sum->data_points[0]->start_time_unix_nano <= before);

	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(req,
												    NULL);
	free(buf);

	/* The Prometheus text of the same registry still names what OTLP names. */
	char *text, pname[128], want[192];
	size_t tlen;
	assert_int_equal(metrics_registry_render_prometheus(reg, &text, &tlen), 0);
	assert_non_null(strstr(text, "glimpse_events_dropped_total 42\n"));
	prom_metric_name("process.thread.count", "{thread}", false, pname, sizeof(pname));
	snprintf(want, sizeof(want), "# TYPE %s gauge\n", pname);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "# TYPE go_goroutines gauge\n")); /* up-down: a gauge */
	free(text);
	metrics_registry_free(reg);
}

/* ---- Retry-After and backoff ---- */

static void test_retry_after(void **state)
{
	(void)state;
	/* Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example) */
	const time_t date = 784111777;
	static const struct {
		const char *value;
		time_t now;
		int64_t ms; /* -1: rejected */
	} cases[] = {
		{ "2", 0, 2000 },
		{ "  120 ", 0, 120000 },
		{ "0", 0, 0 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", date - 5, 5000 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", date + 100, 0 }, /* in the past */
		{ "Sunday, 06-Nov-94 08:49:37 GMT", date - 3, 3000 },
		{ "Sun Nov  6 08:49:37 1994", date - 1, 1000 },
		{ "", 0, -1 },
		{ "soon", 0, -1 },
		{ "-1", 0, -1 },
		{ "1.5", 0, -1 },
		{ "2 s", 0, -1 },
		{ "Sun, 06 Nov 1994 08:49:37 PST", date, -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = -2;
		int rc = otlp_parse_retry_after(cases[i].value, cases[i].now, &ms);
		if (cases[i].ms < 0) {
			assert_int_equal(rc, -EINVAL);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(ms, cases[i].ms);
		}
	}
	assert_int_equal(otlp_parse_retry_after(NULL, 0, &(int64_t){ 0 }), -EINVAL);
}

static void test_backoff(void **state)
{
	(void)state;
	static const uint32_t rnds[] = { 0, 1, 12345, 0x7fffffff, 0xffffffff };
	int64_t prev_min = 0;
	for (unsigned a = 0; a < 40; a++) {
		int64_t d = OTLP_BACKOFF_BASE_MS;
		for (unsigned i = 0; i < a && d < OTLP_BACKOFF_MAX_MS; i++)
			d *= 2;
		if (d > OTLP_BACKOFF_MAX_MS)
			d = OTLP_BACKOFF_MAX_MS;
		int64_t lo = INT64_MAX, hi = 0;
		for (size_t r = 0; r < sizeof(rnds) / sizeof(rnds[0]); r++) {
			int64_t ms = otlp_backoff_ms(a, rnds[r]);
			assert_true(ms >= d / 2 && ms <= d);
			lo = ms < lo ? ms : lo;
			hi = ms > hi ? ms : hi;
		}
		assert_true(lo >= prev_min); /* the floor never goes down */
		prev_min = d / 2;
		assert_true(hi > lo); /* jitter */
	}
	assert_true(otlp_backoff_ms(0, 0) >= 250 && otlp_backoff_ms(0, 0xffffffff) <= 500);
	assert_true(otlp_backoff_ms(UINT32_MAX, 7) <= OTLP_BACKOFF_MAX_MS);
	assert_true(otlp_status_retryable(429) && otlp_status_retryable(502) && otlp_status_retryable(503) &&
		    otlp_status_retryable(504));
	assert_false(otlp_status_retryable(400) || otlp_status_retryable(401) || otlp_status_retryable(404) ||
		     otlp_status_retryable(500) || otlp_status_retryable(200));
}

/* ---- the queue ---- */

static struct otlp_qspan *qspan(int i)
{
	struct otlp_span s;
	char name[16];
	fill_span(&s, i);
	snprintf(name, sizeof(name), "s%d", i);
	s.name = name;
	return otlp_qspan_new(&s, (uint32_t)i);
}

static void test_queue_drop_oldest(void **state)
{
	(void)state;
	struct otlp_queue q;
	struct otlp_qspan *out[8];
	assert_int_equal(otlp_queue_init(&q, 4), 0);
	int dropped = 0;
	for (int i = 0; i < 10; i++) {
		struct otlp_qspan *old = otlp_queue_push(&q, qspan(i));
		if (i < 4) {
			assert_null(old);
			continue;
		}
		assert_non_null(old);
		assert_int_equal(old->res, dropped); /* the oldest goes, in order */
		dropped++;
		free(old);
	}
	assert_int_equal(dropped, 6);
	assert_int_equal(q.n, 4);
	assert_int_equal(otlp_queue_pop(&q, out, 3), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(out[i]->res, 6 + i);
		free(out[i]);
	}
	/* Wrapping around keeps the order. */
	assert_null(otlp_queue_push(&q, qspan(10)));
	assert_null(otlp_queue_push(&q, qspan(11)));
	assert_int_equal(otlp_queue_pop(&q, out, 8), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(out[i]->res, 9 + i);
		assert_int_equal(out[i]->s.name[0], 's');
		free(out[i]);
	}
	assert_int_equal(q.n, 0);
	assert_null(otlp_queue_push(&q, qspan(12)));
	otlp_queue_free(&q); /* frees what is left */
}

/* Against an endpoint nothing listens on: the enqueuer never waits, the queue stays bounded,
 * and every span ends up counted exactly once. */
static void test_exporter_accounting(void **state)
{
	(void)state;
	struct otlp_config cfg;
	char err[256];
	const char *env[] = { "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_BSP_MAX_QUEUE_SIZE=8",
			      "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=8", NULL };
	assert_int_equal(config_with(&cfg, err, sizeof(err), env), 0);
	struct otlp_exporter *e = otlp_exporter_start(&cfg, err, sizeof(err));
	assert_non_null(e);
	struct resource r;
	make_res(&r, "svc", 1);
	struct otlp_span s;
	fill_span(&s, 0);
	s.name = "x";
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Every span from another process: resource slots of dropped spans are reused (the
	 * table holds queue + batch + 1), so none is refused. */
	for (int i = 0; i < 1000; i++) {
		r.pid = 1000 + i;
		assert_int_equal(otlp_enqueue_span(e, &r, &s), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500);
	struct otlp_stats st;
	otlp_exporter_stats(e, &st);
	assert_int_equal(st.spans_enqueued, 1000);
	assert_true(st.spans_queued <= 8);
	assert_true(st.spans_dropped >= 1000 - 16);
	assert_int_equal(otlp_exporter_stop(e, 0), -ETIMEDOUT);
	otlp_exporter_stats(e, &st);
	assert_int_equal(st.spans_exported, 0);
	assert_int_equal(st.spans_queued, 0);
	assert_int_equal(st.spans_enqueued, st.spans_exported + st.spans_dropped + st.spans_failed);
	assert_true(st.spans_failed <= 16 && st.spans_failed % 8 == 0);
	/* After stop: refused and counted. */
	assert_int_equal(otlp_enqueue_span(e, &r, &s), -ESHUTDOWN);
	otlp_exporter_stats(e, &st);
	assert_int_equal(st.spans_enqueued, st.spans_exported + st.spans_dropped + st.spans_failed);
	assert_int_equal(otlp_enqueue_span(e, NULL, &s), -EINVAL);
	otlp_exporter_free(e);
}

/* The self-metrics read the live counters under their Prometheus names. */
static void test_register_metrics(void **state)
{
	(void)state;
	struct otlp_config cfg;
	char err[256];
	const char *env[] = { "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_BSP_MAX_QUEUE_SIZE=2",
			      "OTEL_BSP_SCHEDULE_DELAY=3600000", NULL };
	assert_int_equal(config_with(&cfg, err, sizeof(err), env), 0);
	struct otlp_exporter *e = otlp_exporter_start(&cfg, err, sizeof(err));
	struct metrics_registry *reg = metrics_registry_new(0);
	assert_non_null(e);
	assert_int_equal(otlp_exporter_register_metrics(e, reg), 0);
	assert_int_equal(otlp_exporter_add_metrics(e, reg, 3600), 0);
	assert_int_equal(otlp_exporter_add_metrics(e, reg, 3600), -EBUSY);
	assert_int_equal(otlp_exporter_add_metrics(e, reg, 0), -EINVAL);
	struct resource r;
	make_res(&r, "svc", 1);
	struct otlp_span s;
	fill_span(&s, 0);
	s.name = "x";
	/* Queue of 2, batch of 2: the first two may be taken for export, the rest overflow. */
	for (int i = 0; i < 7; i++)
		otlp_enqueue_span(e, &r, &s);
	struct otlp_stats st;
	otlp_exporter_stats(e, &st);
	char *text, line[128];
	size_t len;
	assert_int_equal(metrics_registry_render_prometheus(reg, &text, &len), 0);
	snprintf(line, sizeof(line), "glimpse_spans_dropped_total %llu\n",
		 (unsigned long long)st.spans_dropped);
	assert_true(st.spans_dropped >= 3);
	assert_non_null(strstr(text, line));
	assert_non_null(strstr(text, "# TYPE glimpse_spans_exported_total counter\n"));
	assert_non_null(strstr(text, "glimpse_spans_failed_total"));
	assert_non_null(strstr(text, "glimpse_otlp_export_errors_total"));
	assert_non_null(strstr(text, "glimpse_otlp_metrics_exports_total 0\n"));
	free(text);
	otlp_exporter_stop(e, 0);
	otlp_exporter_free(e);
	metrics_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_endpoints),
		cmocka_unit_test(test_config_flags),
		cmocka_unit_test(test_config_headers),
		cmocka_unit_test(test_config_values),
		cmocka_unit_test(test_encode_traces),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_encode_metrics),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_queue_drop_oldest),
		cmocka_unit_test(test_exporter_accounting),
		cmocka_unit_test(test_register_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
