// SPDX-License-Identifier: Apache-2.0
/* OTLP logs (user/export/otlp_logs_encode.c, otlp_logs.c): records encoded, decoded back with
 * the generated code, every field where OTLP puts it; the logs endpoint; the bounded queue's
 * accounting against a receiver that is not there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"
#include "export/otlp_internal.h"
#include "logs/log_record.h"
#include "otlp/logs_service.pb-c.h"

static struct log_record record(const char *body, bool traced)
{
	struct log_record r = { .time_unix_ns = 1795939200002000000ull,
				.observed_unix_ns = 1795939200003000000ull,
				.severity_number = 13,
				.severity_text = "WARN",
				.body = body,
				.fd = 2,
				.has_trace = traced,
				.trace_flags = 1,
				.truncated = !traced };
	r.attrs[r.nattrs++] = (struct log_attr){ .key = "i", .type = LOG_VALUE_INT, .i = -7 };
	r.attrs[r.nattrs++] = (struct log_attr){ .key = "ratio", .type = LOG_VALUE_DOUBLE, .d = 0.25 };
	r.attrs[r.nattrs++] = (struct log_attr){ .key = "ok", .type = LOG_VALUE_BOOL, .b = true };
	r.attrs[r.nattrs++] = (struct log_attr){ .key = "req.path", .type = LOG_VALUE_STRING, .s = "/x" };
	r.dropped_attrs = 2;
	for (int i = 0; i < 16; i++)
		r.trace_id[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 8; i++)
		r.span_id[i] = (uint8_t)(0x10 + i);
	return r;
}

static const Opentelemetry__Proto__Common__V1__AnyValue *attr(
	const Opentelemetry__Proto__Logs__V1__LogRecord *lr, const char *key)
{
	for (size_t i = 0; i < lr->n_attributes; i++)
		if (!strcmp(lr->attributes[i]->key, key))
			return lr->attributes[i]->value;
	return NULL;
}

static void test_encode(void **state)
{
	(void)state;
	struct otlp_config cfg;
	otlp_config_defaults(&cfg);
	struct resource a = { .service_name = "svc-a", .pid = 11 },
			b = { .service_name = "svc-b", .pid = 12 };
	struct log_record r0 = record("first", true), r1 = record("second", false),
			  r2 = record("third", true);
	const struct log_record *recs[] = { &r0, &r1, &r2 };
	const struct resource *res[] = { &a, &b, &a };
	uint8_t *buf;
	size_t len;
	assert_int_equal(otlp_encode_logs(&cfg, res, recs, 3, &buf, &len), 0);
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req =
		opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(NULL, len,
											       buf);
	assert_non_null(req);
	assert_int_equal(req->n_resource_logs, 2); /* by process, in order of first appearance */
	assert_int_equal(req->resource_logs[0]->scope_logs[0]->n_log_records, 2);
	assert_string_equal(req->resource_logs[0]->scope_logs[0]->scope->name, "glimpse");
	const Opentelemetry__Proto__Logs__V1__LogRecord *lr =
		req->resource_logs[0]->scope_logs[0]->log_records[1];
	assert_string_equal(lr->body->string_value, "third");
	assert_int_equal(lr->time_unix_nano, 1795939200002000000ull);
	assert_int_equal(lr->observed_time_unix_nano, 1795939200003000000ull);
	assert_int_equal(lr->severity_number, 13);
	assert_string_equal(lr->severity_text, "WARN");
	assert_int_equal(lr->trace_id.len, 16);
	assert_int_equal(lr->trace_id.data[15], 0xaf);
	assert_int_equal(lr->span_id.len, 8);
	assert_int_equal(lr->span_id.data[0], 0x10);
	assert_int_equal(lr->flags, 1);
	assert_int_equal(lr->dropped_attributes_count, 2);
	assert_int_equal(attr(lr, "i")->int_value, -7);
	assert_true(attr(lr, "ratio")->double_value == 0.25);
	assert_true(attr(lr, "ok")->bool_value);
	assert_string_equal(attr(lr, "req.path")->string_value, "/x");
	assert_string_equal(attr(lr, "log.iostream")->string_value, "stderr");
	assert_null(attr(lr, "glimpse.log.truncated"));
	/* no trace: no ids, no flags; a cut line says so */
	lr = req->resource_logs[1]->scope_logs[0]->log_records[0];
	assert_int_equal(lr->trace_id.len, 0);
	assert_int_equal(lr->span_id.len, 0);
	assert_int_equal(lr->flags, 0);
	assert_true(attr(lr, "glimpse.log.truncated")->bool_value);
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req, NULL);
	free(buf);
}

static void test_logs_endpoint(void **state)
{
	(void)state;
	struct otlp_config c;
	char err[256];
	otlp_config_defaults(&c);
	assert_string_equal(c.logs_url, "http://localhost:4318/v1/logs");
	assert_int_equal(otlp_config_set_flag(&c, OTLP_ENDPOINT, "--otlp-endpoint", "http://c:4318/", err,
					      sizeof(err)),
			 0);
	assert_string_equal(c.logs_url, "http://c:4318/v1/logs");
	assert_int_equal(otlp_config_set_flag(&c, OTLP_LOGS_ENDPOINT, "--otlp-logs-endpoint", "http://l/x",
					      err, sizeof(err)),
			 0);
	assert_string_equal(c.logs_url, "http://l/x");
	assert_string_equal(c.traces_url, "http://c:4318/v1/traces");
	assert_string_equal(otlp_setting_env(OTLP_LOGS_ENDPOINT), "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
}

/* Nobody listens: OTLP_LOGS_QUEUE batches wait, the oldest go first, and every record is
 * accounted for once stopped. */
static void test_queue_accounting(void **state)
{
	(void)state;
	struct otlp_config cfg;
	char err[256];
	otlp_config_defaults(&cfg);
	assert_int_equal(
		otlp_config_set_flag(&cfg, OTLP_ENDPOINT, NULL, "http://127.0.0.1:1", err, sizeof(err)), 0);
	struct otlp_exporter *e = otlp_exporter_start(&cfg, err, sizeof(err));
	assert_non_null(e);
	struct resource a = { .service_name = "svc", .pid = 1 };
	struct log_record r = record("x", true);
	const struct log_record *recs[] = { &r, &r, &r };
	const struct resource *res[] = { &a, &a, &a };
	for (int i = 0; i < OTLP_LOGS_QUEUE + 10; i++)
		assert_int_equal(otlp_enqueue_logs(e, res, recs, 3), 0);
	struct otlp_stats st;
	otlp_exporter_stats(e, &st);
	assert_true(st.logs_dropped >= 3 * (10 - 1));
	otlp_exporter_stop(e, 0);
	assert_int_equal(otlp_enqueue_logs(e, res, recs, 3), -ESHUTDOWN);
	otlp_exporter_stats(e, &st);
	assert_int_equal(st.logs_enqueued, 3 * (OTLP_LOGS_QUEUE + 11));
	assert_int_equal(st.logs_exported, 0);
	assert_int_equal(st.logs_enqueued, st.logs_exported + st.logs_dropped + st.logs_failed);
	otlp_exporter_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_logs_endpoint),
		cmocka_unit_test(test_queue_accounting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
