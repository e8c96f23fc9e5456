// SPDX-License-Identifier: Apache-2.0
/* The registry as Prometheus text exposition (OTel names turned into Prometheus names). */
#include "metrics/registry.h"
#include "metrics/registry_internal.h"
#include "metrics/semconv.h"

#include "base/utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit_name {
	const char *otel, *prom;
};

static const struct unit_name units[] = {
	{ "d", "days" },	  { "h", "hours" },	    { "min", "minutes" },    { "s", "seconds" },
	{ "ms", "milliseconds" }, { "us", "microseconds" }, { "ns", "nanoseconds" }, { "By", "bytes" },
	{ "KiBy", "kibibytes" },  { "MiBy", "mebibytes" },  { "GiBy", "gibibytes" }, { "TiBy", "tibibytes" },
	{ "KBy", "kilobytes" },	  { "MBy", "megabytes" },   { "GBy", "gigabytes" },  { "TBy", "terabytes" },
	{ "m", "meters" },	  { "V", "volts" },	    { "A", "amperes" },	     { "J", "joules" },
	{ "W", "watts" },	  { "g", "grams" },	    { "Cel", "celsius" },    { "Hz", "hertz" },
	{ "%", "percent" },	  { NULL, NULL },
};

static const struct unit_name per_units[] = {
	{ "s", "second" }, { "m", "minute" }, { "h", "hour" }, { "d", "day" },
	{ "w", "week" },   { "mo", "month" }, { "y", "year" }, { NULL, NULL },
};

static const char *unit_lookup(const struct unit_name *t, const char *u)
{
	for (; t->otel; t++)
		if (!strcmp(t->otel, u))
			return t->prom;
	return u;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* Metric name charset [a-zA-Z0-9_:], no runs of '_', no leading digit. */
static void sanitize_name(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	if (!outlen)
		return;
	if (*in >= '0' && *in <= '9' && o + 1 < outlen)
		out[o++] = '_';
	for (; *in && o + 1 < outlen; in++) {
		char c = *in;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == ':' || c == '_';
		if (!ok)
			c = '_';
		if (c == '_' && o && out[o - 1] == '_')
			continue;
		out[o++] = c;
	}
	out[o] = '\0';
}

void prom_metric_name(const char *otel_name, const char *unit, bool is_counter, char *out, size_t outlen)
{
	char u[64] = "", suffix[160] = "", raw[512];
	/* "{request}" style annotations carry no unit. */
	for (size_t i = 0, o = 0; unit && unit[i] && o + 1 < sizeof(u); i++) {
		if (unit[i] == '{') {
			while (unit[i] && unit[i] != '}')
				i++;
			if (!unit[i])
				break;
			continue;
		}
		if (unit[i] != ' ')
			u[o++] = unit[i], u[o] = '\0';
	}
	if (!strcmp(u, "1")) {
		/* A ratio only makes sense for a gauge; a counter of "1" is a plain count. */
		if (!is_counter)
			strcpy(suffix, "ratio");
	} else if (u[0]) {
		char *per = strchr(u, '/');
		if (per)
			*per++ = '\0';
		snprintf(suffix, sizeof(suffix), "%s%s%s", u[0] ? unit_lookup(units, u) : "",
			 per && *per ? (u[0] ? "_per_" : "per_") : "",
			 per && *per ? unit_lookup(per_units, per) : "");
	}
	sanitize_name(otel_name ? otel_name : "", raw, sizeof(raw));
	char tail[170];
	snprintf(tail, sizeof(tail), "_%s", suffix);
	if (suffix[0] && !ends_with(raw, tail))
		strncat(raw, tail, sizeof(raw) - strlen(raw) - 1);
	if (is_counter && !ends_with(raw, "_total"))
		strncat(raw, "_total", sizeof(raw) - strlen(raw) - 1);
	/* Prometheus reserves "_count" for histograms and summaries (promtool rejects a gauge
	 * named so): a gauge counting things takes the plural, as Prometheus' own Go and process
	 * collectors name these (go_goroutines, process_threads). */
	if (!is_counter && ends_with(raw, "_count")) {
		size_t n = strlen(raw) - strlen("_count");
		raw[n] = '\0';
		if (n && raw[n - 1] != 's')
			strncat(raw, "s", sizeof(raw) - strlen(raw) - 1);
	}
	sanitize_name(raw, out, outlen);
}

/* Label values escape \, " and newline; HELP text escapes only \ and newline. */
static void put_escaped(FILE *f, const char *s, bool quote)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_decode(p, SIZE_MAX, NULL);
		if (!n) {
			fputs("\xEF\xBF\xBD", f); /* U+FFFD */
			p++;
		} else if (*p == '\\') {
			fputs("\\\\", f), p++;
		} else if (*p == '\n') {
			fputs("\\n", f), p++;
		} else if (*p == '"' && quote) {
			fputs("\\\"", f), p++;
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
}

static void put_label(FILE *f, const char *name, const char *value)
{
	fprintf(f, ",%s=\"", name);
	put_escaped(f, value, true);
	fputc('"', f);
}

static void put_target_labels(FILE *f, const struct target *t)
{
	fputs("job=\"", f);
	put_escaped(f, t->res.service_name, true);
	fputs("\",instance=\"", f);
	put_escaped(f, t->instance, true);
	fputc('"', f);
}

static void put_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	put_escaped(f, help, false);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/* Exact decimal seconds from integer nanoseconds, without float noise ("0.123", "2"). */
static void fmt_seconds(uint64_t ns, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%" PRIu64 ".%09" PRIu64, ns / 1000000000, ns % 1000000000);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

/* Shortest of %.15g/%.17g that reads back exactly; Prometheus spellings for non-finite. */
static void fmt_value(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, "%sInf", v > 0 ? "+" : "-");
	else if (snprintf(buf, len, "%.15g", v), strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
}

/* hist_export_bounds as written in "le", spelled out so no locale can turn "0.005" into
 * "0,005". */
static const char *const le_values[HIST_EXPORT_BOUNDS + 1] = {
	"0",   "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25",
	"0.5", "0.75",	"1",	"2.5",	 "5",	 "7.5",	  "10",	 "+Inf",
};

typedef void (*labels_fn)(FILE *f, const struct target *t, const void *series);

static void put_histogram(FILE *f, const char *name, const struct target *t, const void *series,
			  labels_fn labels, const struct export_hist *h)
{
	char num[48];
	uint64_t cum = 0;
	for (int i = 0; i <= HIST_EXPORT_BOUNDS; i++) {
		cum += h->buckets[i];
		fprintf(f, "%s_bucket{", name);
		labels(f, t, series);
		fprintf(f, ",le=\"%s\"} %" PRIu64 "\n", le_values[i], cum);
	}
	fmt_seconds(h->sum_ns, num, sizeof(num));
	fprintf(f, "%s_sum{", name);
	labels(f, t, series);
	fprintf(f, "} %s\n%s_count{", num, name);
	labels(f, t, series);
	fprintf(f, "} %" PRIu64 "\n", h->count);
}

/* Labels in a fixed order (target first, then attributes alphabetically): stable output. */
static void server_labels(FILE *f, const struct target *t, const void *series)
{
	const struct server_series *s = series;
	char status[8];
	snprintf(status, sizeof(status), "%u", s->status);
	put_target_labels(f, t);
	/* Server errors are 5xx only: a 4xx is the client's mistake (semconv span status). */
	if (semconv_http_server_error(s->status))
		put_label(f, "error_type", status);
	put_label(f, "http_request_method", registry_methods[s->method]);
	put_label(f, "http_response_status_code", status);
	if (s->route[0]) /* nothing matched: no http_route label, like OTel's unset attribute */
		put_label(f, "http_route", s->route);
}

static void client_labels(FILE *f, const struct target *t, const void *series)
{
	const struct client_series *s = series;
	char status[8], port[8];
	snprintf(status, sizeof(status), "%u", s->status);
	snprintf(port, sizeof(port), "%u", s->port);
	put_target_labels(f, t);
	if (semconv_http_client_error(s->status)) {
		char error_type[16];
		semconv_http_error_type(s->status, error_type, sizeof(error_type));
		put_label(f, "error_type", error_type);
	}
	put_label(f, "http_request_method", registry_methods[s->method]);
	if (s->status)
		put_label(f, "http_response_status_code", status);
	if (s->address[0])
		put_label(f, "server_address", s->address);
	if (s->port)
		put_label(f, "server_port", port);
}

static void db_labels(FILE *f, const struct target *t, const void *series)
{
	const struct db_series *s = series;
	struct db_parts p;
	registry_db_split(s->key, &p);
	put_target_labels(f, t);
	if (s->error)
		put_label(f, "error_type", SEMCONV_DB_ERROR_TYPE);
	if (p.collection[0])
		put_label(f, "db_collection_name", p.collection);
	if (p.operation[0])
		put_label(f, "db_operation_name", p.operation);
	put_label(f, "db_system_name", p.system);
}

static void put_point_labels(FILE *f, const struct target *t, const struct metric_point *p)
{
	put_target_labels(f, t);
	if (p->attr_name && p->attr_value) {
		char name[128];
		sanitize_name(p->attr_name, name, sizeof(name));
		put_label(f, name, p->attr_value);
	}
}

static void put_points(FILE *f, const struct gauge *g, const struct target *t, const struct metric_point *p)
{
	char num[48];
	if (g->type != METRIC_HISTOGRAM) {
		fmt_value(p->value, num, sizeof(num));
		fprintf(f, "%s{", g->name);
		put_point_labels(f, t, p);
		fprintf(f, "} %s\n", num);
		return;
	}
	uint64_t cum = 0;
	size_t nb = p->nbounds < METRIC_MAX_BUCKETS ? p->nbounds : METRIC_MAX_BUCKETS;
	for (size_t i = 0; i <= nb; i++) {
		cum += p->counts[i];
		if (i < nb)
			fmt_value(p->bounds[i], num, sizeof(num));
		fprintf(f, "%s_bucket{", g->name);
		put_point_labels(f, t, p);
		fprintf(f, ",le=\"%s\"} %" PRIu64 "\n", i < nb ? num : "+Inf", cum);
	}
	fmt_value(p->sum, num, sizeof(num));
	fprintf(f, "%s_sum{", g->name);
	put_point_labels(f, t, p);
	fprintf(f, "} %s\n%s_count{", num, g->name);
	put_point_labels(f, t, p);
	fprintf(f, "} %" PRIu64 "\n", p->count);
}

static void put_observer(FILE *f, const struct gauge *g, struct target **targets, size_t ntargets)
{
	static const char *const types[] = { "gauge", "counter", "histogram" };
	struct metric_point points[METRIC_MAX_POINTS];
	bool family = false;
	for (size_t i = 0; i < ntargets; i++) {
		if (!targets[i])
			continue;
		memset(points, 0, sizeof(points));
		int n = g->points(g->ctx, (int)i, points, METRIC_MAX_POINTS);
		for (int j = 0; j < n && j < METRIC_MAX_POINTS; j++) {
			if (!family) {
				put_family(f, g->name, types[g->type], g->help);
				family = true;
			}
			put_points(f, g, targets[i], &points[j]);
		}
	}
}

static void put_gauge(FILE *f, const struct gauge *g, struct target **targets, size_t ntargets)
{
	char num[48];
	if (g->points) {
		put_observer(f, g, targets, ntargets);
		return;
	}
	put_family(f, g->name, g->is_counter ? "counter" : "gauge", g->help);
	if (!g->per_target) {
		fmt_value(g->fn(g->ctx, -1), num, sizeof(num));
		fprintf(f, "%s %s\n", g->name, num);
		return;
	}
	for (size_t i = 0; i < ntargets; i++) {
		if (!targets[i])
			continue;
		fmt_value(g->fn(g->ctx, (int)i), num, sizeof(num));
		fprintf(f, "%s{", g->name);
		put_target_labels(f, targets[i]);
		fprintf(f, "} %s\n", num);
	}
}

int metrics_registry_render_prometheus(struct metrics_registry *reg, char **out, size_t *len)
{
	struct render_copy c = { 0 };
	char *buf = NULL;
	size_t n = 0;
	int err = registry_copy_state(reg, &c);
	FILE *f = err ? NULL : open_memstream(&buf, &n);
	if (!f) {
		err = -ENOMEM;
		goto out;
	}
	qsort(c.server, c.nserver, sizeof(*c.server), registry_cmp_server);
	qsort(c.client, c.nclient, sizeof(*c.client), registry_cmp_client);
	qsort(c.db, c.ndb, sizeof(*c.db), registry_cmp_db);

	if (c.ntargets)
		put_family(f, "target_info", "gauge", "Target metadata");
	for (size_t i = 0; i < c.ntargets; i++) {
		const struct target *t = c.targets[i];
		if (!t)
			continue;
		char pid[16];
		snprintf(pid, sizeof(pid), "%d", (int)t->res.pid);
		fputs("target_info{", f);
		put_target_labels(f, t);
		put_label(f, "host_name", t->res.host_name);
		put_label(f, "process_executable_name", t->res.executable_name);
		put_label(f, "process_pid", pid);
		put_label(f, "service_name", t->res.service_name);
		/* Where it runs, when the agent found it in a container or a pod. */
		if (t->res.container_id[0])
			put_label(f, "container_id", t->res.container_id);
		if (t->res.k8s_namespace_name[0])
			put_label(f, "k8s_namespace_name", t->res.k8s_namespace_name);
		if (t->res.k8s_pod_name[0])
			put_label(f, "k8s_pod_name", t->res.k8s_pod_name);
		if (t->res.k8s_pod_uid[0])
			put_label(f, "k8s_pod_uid", t->res.k8s_pod_uid);
		fputs("} 1\n", f);
	}
	static const char server_name[] = "http_server_request_duration_seconds";
	static const char client_name[] = "http_client_request_duration_seconds";
	if (c.nserver)
		put_family(f, server_name, "histogram", "Duration of HTTP server requests.");
	for (size_t i = 0; i < c.nserver; i++)
		put_histogram(f, server_name, c.server[i].t, &c.server[i].s, server_labels, &c.server[i].s.h);
	if (c.nclient)
		put_family(f, client_name, "histogram", "Duration of HTTP client requests.");
	for (size_t i = 0; i < c.nclient; i++)
		put_histogram(f, client_name, c.client[i].t, &c.client[i].s, client_labels, &c.client[i].s.h);
	static const char db_name[] = "db_client_operation_duration_seconds";
	if (c.ndb)
		put_family(f, db_name, "histogram", "Duration of database client operations.");
	for (size_t i = 0; i < c.ndb; i++)
		put_histogram(f, db_name, c.db[i].t, &c.db[i].s, db_labels, &c.db[i].s.h);
	for (size_t i = 0; i < c.ngauges; i++)
		put_gauge(f, &c.gauges[i], c.targets, c.ntargets);

	if (ferror(f))
		err = -ENOMEM;
	if (fclose(f))
		err = -ENOMEM;
	if (err) {
		free(buf);
		buf = NULL;
		n = 0;
	}
out:
	registry_release_state(reg, &c);
	*out = buf;
	*len = n;
	return err;
}
