// SPDX-License-Identifier: Apache-2.0
/* A test OTLP/HTTP receiver: accepts POST /v1/traces and /v1/metrics (protobuf, gzip or not),
 * decodes them with the same generated code glimpse encodes with, and appends one JSON line
 * per request, per span and per metric data point to --out, flushed after every request.
 * Fault injection: --status, --retry-after, --fail-first, --delay-ms; --reject N answers each
 * accepted request with a partial success rejecting N of its spans or data points (at most all),
 * with REJECT_MESSAGE, whose control bytes an exporter must not print.
 *
 *   otlp_receiver --out FILE [--port PORT] [--status CODE] [--retry-after SECS]
 *                 [--fail-first N] [--delay-ms MS] [--reject N]
 *
 * Listens on 127.0.0.1:PORT (0 = any free port); the first stdout line is "listening PORT".
 * Lines: {"signal":"request",...}, {"signal":"span",...}, {"signal":"metric",...}. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "otlp/metrics_service.pb-c.h"
#include "otlp/trace_service.pb-c.h"

#define MAX_BODY (64u << 20)

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;

static struct {
	FILE *out;
	int status;	 /* fault: answer with this */
	int retry_after; /* -1: no header */
	long fail_first; /* 0: every request gets status */
	int delay_ms;
	long reject; /* partial success: items rejected per request */
	pthread_mutex_t lock;
	long requests;
} g = { .retry_after = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

struct body {
	char *p;
	size_t len, cap;
	bool too_big;
};

/* ---- JSON ---- */

static void j_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void j_double(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.17g", v);
	else
		fputs("null", f);
}

static void j_hex(FILE *f, const ProtobufCBinaryData *b)
{
	fputc('"', f);
	for (size_t i = 0; i < b->len; i++)
		fprintf(f, "%02x", b->data[i]);
	fputc('"', f);
}

static void j_attrs(FILE *f, KeyValue **kv, size_t n);

static void j_value(FILE *f, const AnyValue *v)
{
	if (!v) {
		fputs("null", f);
		return;
	}
	switch (v->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		j_str(f, v->string_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		fputs(v->bool_value ? "true" : "false", f);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		fprintf(f, "%" PRId64, v->int_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		j_double(f, v->double_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
		fputc('[', f);
		for (size_t i = 0; v->array_value && i < v->array_value->n_values; i++) {
			if (i)
				fputc(',', f);
			j_value(f, v->array_value->values[i]);
		}
		fputc(']', f);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
		j_attrs(f, v->kvlist_value ? v->kvlist_value->values : NULL,
			v->kvlist_value ? v->kvlist_value->n_values : 0);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
		j_hex(f, &v->bytes_value);
		break;
	default:
		fputs("null", f);
	}
}

/* Attributes as an object; the test sees the value types (int vs string) as sent. */
static void j_attrs(FILE *f, KeyValue **kv, size_t n)
{
	fputc('{', f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		j_str(f, kv[i]->key);
		fputc(':', f);
		j_value(f, kv[i]->value);
	}
	fputc('}', f);
}

static void j_common(FILE *f, const char *signal, const Resource *r, const Scope *s)
{
	fprintf(f, "{\"signal\":\"%s\",\"resource\":", signal);
	j_attrs(f, r ? r->attributes : NULL, r ? r->n_attributes : 0);
	fputs(",\"scope\":{\"name\":", f);
	j_str(f, s ? s->name : "");
	fputs(",\"version\":", f);
	j_str(f, s ? s->version : "");
	fputc('}', f);
}

/* ---- decoding ---- */

static size_t write_traces(const uint8_t *p, size_t len, bool *ok)
{
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len,
												 p);
	size_t n = 0;
	FILE *f = g.out;
	*ok = req != NULL;
	for (size_t i = 0; req && i < req->n_resource_spans; i++) {
		const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[i];
		for (size_t j = 0; j < rs->n_scope_spans; j++) {
			const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[j];
			for (size_t k = 0; k < ss->n_spans; k++, n++) {
				const Opentelemetry__Proto__Trace__V1__Span *sp = ss->spans[k];
				j_common(f, "span", rs->resource, ss->scope);
				fputs(",\"name\":", f);
				j_str(f, sp->name);
				fprintf(f, ",\"kind\":%d,\"trace_id\":", (int)sp->kind);
				j_hex(f, &sp->trace_id);
				fputs(",\"span_id\":", f);
				j_hex(f, &sp->span_id);
				fputs(",\"parent_span_id\":", f);
				j_hex(f, &sp->parent_span_id);
				fprintf(f, ",\"start_ns\":%" PRIu64 ",\"end_ns\":%" PRIu64,
					sp->start_time_unix_nano, sp->end_time_unix_nano);
				fprintf(f, ",\"status\":{\"code\":%d,\"message\":",
					sp->status ? (int)sp->status->code : 0);
				j_str(f, sp->status ? sp->status->message : "");
				fprintf(f, ",\"present\":%s},\"attributes\":", sp->status ? "true" : "false");
				j_attrs(f, sp->attributes, sp->n_attributes);
				fputs("}\n", f);
			}
		}
	}
	if (req)
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
													NULL);
	return n;
}

static void metric_head(FILE *f, const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm,
			const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm,
			const Opentelemetry__Proto__Metrics__V1__Metric *m, const char *type, int temporality,
			int monotonic, KeyValue **attrs, size_t nattrs, uint64_t start, uint64_t time)
{
	j_common(f, "metric", rm->resource, sm->scope);
	fputs(",\"name\":", f);
	j_str(f, m->name);
	fputs(",\"unit\":", f);
	j_str(f, m->unit);
	fputs(",\"description\":", f);
	j_str(f, m->description);
	fprintf(f, ",\"type\":\"%s\",\"temporality\":%d", type, temporality);
	if (monotonic >= 0)
		fprintf(f, ",\"monotonic\":%s", monotonic ? "true" : "false");
	fputs(",\"attributes\":", f);
	j_attrs(f, attrs, nattrs);
	fprintf(f, ",\"start_ns\":%" PRIu64 ",\"time_ns\":%" PRIu64, start, time);
}

static void number_points(FILE *f, const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm,
			  const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm,
			  const Opentelemetry__Proto__Metrics__V1__Metric *m, const char *type,
			  int temporality, int monotonic,
			  Opentelemetry__Proto__Metrics__V1__NumberDataPoint **pts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const Opentelemetry__Proto__Metrics__V1__NumberDataPoint *p = pts[i];
		metric_head(f, rm, sm, m, type, temporality, monotonic, p->attributes, p->n_attributes,
			    p->start_time_unix_nano, p->time_unix_nano);
		fputs(",\"value\":", f);
		if (p->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT)
			fprintf(f, "%" PRId64, p->as_int);
		else
			j_double(f, p->as_double);
		fputs("}\n", f);
	}
}

static size_t write_metrics(const uint8_t *p, size_t len, bool *ok)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req =
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(NULL,
												     len, p);
	size_t n = 0;
	FILE *f = g.out;
	*ok = req != NULL;
	for (size_t i = 0; req && i < req->n_resource_metrics; i++) {
		const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = req->resource_metrics[i];
		for (size_t j = 0; j < rm->n_scope_metrics; j++) {
			const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[j];
			for (size_t k = 0; k < sm->n_metrics; k++) {
				const Opentelemetry__Proto__Metrics__V1__Metric *m = sm->metrics[k];
				switch (m->data_case) {
				case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
					number_points(f, rm, sm, m, "gauge", 0, -1, m->gauge->data_points,
						      m->gauge->n_data_points);
					n += m->gauge->n_data_points;
					break;
				case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
					number_points(f, rm, sm, m, "sum",
						      (int)m->sum->aggregation_temporality,
						      m->sum->is_monotonic, m->sum->data_points,
						      m->sum->n_data_points);
					n += m->sum->n_data_points;
					break;
				case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
					for (size_t x = 0; x < m->histogram->n_data_points; x++, n++) {
						const Opentelemetry__Proto__Metrics__V1__HistogramDataPoint
							*hp = m->histogram->data_points[x];
						metric_head(f, rm, sm, m, "histogram",
							    (int)m->histogram->aggregation_temporality, -1,
							    hp->attributes, hp->n_attributes,
							    hp->start_time_unix_nano, hp->time_unix_nano);
						fprintf(f, ",\"count\":%" PRIu64 ",\"sum\":", hp->count);
						j_double(f, hp->sum);
						fputs(",\"bucket_counts\":[", f);
						for (size_t b = 0; b < hp->n_bucket_counts; b++)
							fprintf(f, "%s%" PRIu64, b ? "," : "",
								hp->bucket_counts[b]);
						fputs("],\"bounds\":[", f);
						for (size_t b = 0; b < hp->n_explicit_bounds; b++) {
							if (b)
								fputc(',', f);
							j_double(f, hp->explicit_bounds[b]);
						}
						fputs("]}\n", f);
					}
					break;
				default:
					break;
				}
			}
		}
	}
	if (req)
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
			req, NULL);
	return n;
}

/* gzip (or zlib) body → malloc'd plain bytes; NULL if corrupt. */
static uint8_t *gunzip(const char *in, size_t len, size_t *outlen)
{
	z_stream z = { 0 };
	size_t cap = len * 4 + 1024, n = 0;
	uint8_t *out = malloc(cap);
	if (!out || inflateInit2(&z, 15 + 32) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	int rc;
	do {
		if (n == cap) {
			uint8_t *p = cap < MAX_BODY ? realloc(out, cap * 2) : NULL;
			if (!p) {
				rc = Z_MEM_ERROR;
				break;
			}
			out = p;
			cap *= 2;
		}
		z.next_out = out + n;
		z.avail_out = (uInt)(cap - n);
		rc = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
	} while (rc == Z_OK);
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	*outlen = n;
	return out;
}

/* ---- HTTP ---- */

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type, const char *text,
			      bool retry_after)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (retry_after && g.retry_after >= 0) {
		char v[32];
		snprintf(v, sizeof(v), "%d", g.retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

#define REJECT_MESSAGE "test rejection \x1b[31mred\x1b[0m\a"

/* 200 with an Export*ServiceResponse whose partial_success rejects n items. */
static enum MHD_Result answer_partial(struct MHD_Connection *c, bool traces, long n)
{
	uint8_t buf[256];
	size_t len;
	if (traces) {
		Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
			OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
		Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse r =
			OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
		ps.rejected_spans = n;
		ps.error_message = REJECT_MESSAGE;
		r.partial_success = &ps;
		len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(&r,
												      buf);
	} else {
		Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess ps =
			OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
		Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse r =
			OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
		ps.rejected_data_points = n;
		ps.error_message = REJECT_MESSAGE;
		r.partial_success = &ps;
		len = opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(
			&r, buf);
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-protobuf");
	enum MHD_Result rc = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result j_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	int *n = cls;
	char lower[128];
	(void)kind;
	size_t i = 0;
	for (; key[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i]);
	lower[i] = '\0';
	fputs((*n)++ ? "," : "", g.out);
	j_str(g.out, lower);
	fputc(':', g.out);
	j_str(g.out, value);
	return MHD_YES;
}

/* time_ns: when the request was complete (CLOCK_REALTIME); mono_ns the same on
 * CLOCK_MONOTONIC, for measuring gaps between requests. */
static void log_request(struct MHD_Connection *c, long n, const char *url, const char *encoding,
			unsigned status, size_t bytes, size_t items, uint64_t t, uint64_t mono)
{
	int nh = 0;
	fprintf(g.out, "{\"signal\":\"request\",\"n\":%ld,\"path\":", n);
	j_str(g.out, url);
	fputs(",\"encoding\":", g.out);
	j_str(g.out, encoding);
	fputs(",\"headers\":{", g.out);
	MHD_get_connection_values(c, MHD_HEADER_KIND, j_header, &nh);
	fprintf(g.out,
		"},\"status\":%u,\"bytes\":%zu,\"items\":%zu,\"time_ns\":%" PRIu64 ",\"mono_ns\":%" PRIu64
		"}\n",
		status, bytes, items, t, mono);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
	struct body *b = *req_cls;
	(void)cls, (void)version;
	if (!b) { /* headers only so far */
		if (!(b = calloc(1, sizeof(*b))))
			return MHD_NO;
		*req_cls = b;
		return MHD_YES;
	}
	if (*upload_size) {
		if (b->len + *upload_size > MAX_BODY) {
			b->too_big = true;
		} else {
			if (b->len + *upload_size > b->cap) {
				size_t cap = (b->len + *upload_size) * 2;
				char *p = realloc(b->p, cap);
				if (!p)
					return MHD_NO;
				b->p = p;
				b->cap = cap;
			}
			memcpy(b->p + b->len, upload, *upload_size);
			b->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}

	uint64_t t = clock_ns(CLOCK_REALTIME), mono = clock_ns(CLOCK_MONOTONIC);
	bool traces = !strcmp(url, "/v1/traces"), metrics = !strcmp(url, "/v1/metrics");
	if (strcmp(method, "POST"))
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "POST only\n", false);
	if (!traces && !metrics)
		return answer(c, MHD_HTTP_NOT_FOUND, "text/plain", "only /v1/traces and /v1/metrics\n",
			      false);
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
	bool gz = enc && !strcasecmp(enc, "gzip");

	pthread_mutex_lock(&g.lock);
	long n = ++g.requests;
	pthread_mutex_unlock(&g.lock);
	if (g.delay_ms)
		usleep((useconds_t)g.delay_ms * 1000);

	unsigned status = 200;
	const char *text = "";
	size_t items = 0;
	uint8_t *plain = NULL;
	size_t plen = b->len;
	if (g.status && (!g.fail_first || n <= g.fail_first)) {
		status = (unsigned)g.status;
		text = "injected failure\n";
	} else if (b->too_big) {
		status = 413, text = "body too large\n";
	} else if (!type || strcasecmp(type, "application/x-protobuf")) {
		status = 415, text = "expected Content-Type: application/x-protobuf\n";
	} else if (gz && !(plain = gunzip(b->p ? b->p : "", b->len, &plen))) {
		status = 400, text = "bad gzip body\n";
	} else {
		const uint8_t *p = plain ? plain : (const uint8_t *)(b->p ? b->p : "");
		bool ok;
		pthread_mutex_lock(&g.lock);
		long pos = ftell(g.out);
		items = traces ? write_traces(p, plen, &ok) : write_metrics(p, plen, &ok);
		if (!ok) {
			/* Undecodable: nothing of it goes to the file. */
			fflush(g.out);
			if (pos >= 0 && ftruncate(fileno(g.out), pos) == 0)
				fseek(g.out, pos, SEEK_SET);
			status = 400, text = "cannot decode the protobuf body\n";
		}
		pthread_mutex_unlock(&g.lock);
	}
	free(plain);
	pthread_mutex_lock(&g.lock);
	log_request(c, n, url, gz ? "gzip" : enc ? enc : "identity", status, b->len, items, t, mono);
	fflush(g.out);
	pthread_mutex_unlock(&g.lock);
	if (status == 200 && g.reject && items)
		return answer_partial(c, traces, (long)items < g.reject ? (long)items : g.reject);
	if (status == 200) /* an empty Export*ServiceResponse: full success */
		return answer(c, status, "application/x-protobuf", "", false);
	return answer(c, status, "text/plain", text, true);
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode tc)
{
	struct body *b = *req_cls;
	(void)cls, (void)c, (void)tc;
	if (b) {
		free(b->p);
		free(b);
	}
	*req_cls = NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: otlp_receiver --out FILE [--port PORT] [--status CODE] "
			"[--retry-after SECS] [--fail-first N] [--delay-ms MS] [--reject N]\n");
	exit(2);
}

static long num(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < min || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "port", required_argument, NULL, 'p' },
		{ "status", required_argument, NULL, 's' },
		{ "retry-after", required_argument, NULL, 'r' },
		{ "fail-first", required_argument, NULL, 'f' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "reject", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	long port = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'p':
			port = num(optarg, 0, 65535);
			break;
		case 's':
			g.status = (int)num(optarg, 100, 599);
			break;
		case 'r':
			g.retry_after = (int)num(optarg, 0, 86400);
			break;
		case 'f':
			g.fail_first = num(optarg, 0, 1000000000);
			break;
		case 'd':
			g.delay_ms = (int)num(optarg, 0, 600000);
			break;
		case 'j':
			g.reject = num(optarg, 1, 1000000000);
			break;
		default:
			usage();
		}
	}
	if (!out || optind != argc)
		usage();
	if (g.fail_first && !g.status)
		g.status = 503;
	if (!(g.out = fopen(out, "a"))) {
		fprintf(stderr, "otlp_receiver: %s: %s\n", out, strerror(errno));
		return 1;
	}
	/* Signals go to main's sigwait, not to the server's threads. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0, NULL,
		NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
		completed, NULL, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "otlp_receiver: cannot listen on 127.0.0.1:%ld\n", port);
		return 1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("listening %u\n", info ? info->port : (unsigned)port);
	fflush(stdout);
	int sig;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	fclose(g.out);
	return 0;
}
