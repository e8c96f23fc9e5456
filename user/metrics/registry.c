// SPDX-License-Identifier: Apache-2.0
#include "metrics/registry.h"

#include "base/histogram.h"
#include "gotrace/route.h"
#include "base/utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The methods semconv names; anything else becomes _OTHER so that a client sending made-up
 * methods cannot create series. Methods are case-sensitive in HTTP. */
static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER",
};
#define METHOD_OTHER 9

static int method_index(const char *m)
{
	for (int i = 0; m && i < METHOD_OTHER; i++)
		if (!strcmp(m, methods[i]))
			return i;
	return METHOD_OTHER;
}

const char *http_method_normalize(const char *method)
{
	return methods[method_index(method)];
}

/* Series are keyed by interned strings, so pointer equality is string equality. */
struct server_series {
	const char *route;
	uint8_t method;
	uint16_t status;
	struct export_hist h;
};

struct client_series {
	const char *address;
	uint16_t port;
	uint8_t method;
	uint16_t status;
	struct export_hist h;
};

/* db.client.operation.duration: key is "system\x1foperation\x1fcollection", interned. */
struct db_series {
	const char *key;
	bool error;
	struct export_hist h;
};

/* What the live view needs, per (route, method) rather than per status: the fine histogram
 * is ~4 KiB, too big to keep for every status code. */
struct route_stat {
	const char *route;
	uint8_t method;
	uint64_t errors;
	struct fine_hist fine;
};

enum entry_kind {
	E_SERVER,
	E_CLIENT,
	E_STAT,
	E_DB
};

struct key {
	enum entry_kind kind;
	const char *str;
	uint16_t port, status;
	uint8_t method;
};

struct slot {
	struct key k;
	uint32_t idx;
	bool used;
};

struct vec {
	void *p;
	size_t n, cap;
};

struct target {
	struct resource res;
	char instance[sizeof(((struct resource *)0)->host_name) + 16];
	struct route_table *routes, *peers, *dbops;
	struct vec server, client, stats, db; /* append-only: indices stay valid */
	struct slot *slots;		      /* one index over all three */
	size_t nslots, used;
	uint64_t start_unix_ns; /* when added: cumulative values start here */
};

/* A caller-owned metric: a single value (fn) or data points (points). */
struct gauge {
	char *name, *help;
	char *otel_name, *unit; /* as given, for OTLP */
	bool is_counter, per_target;
	metric_value_fn fn;
	metric_points_fn points;
	enum metric_type type;
	void *ctx;
};

struct metrics_registry {
	pthread_mutex_t lock;
	int max_routes;
	struct target **targets; /* each allocated once, so pointers outlive a realloc */
	size_t ntargets, tcap;
	struct gauge *gauges;
	size_t ngauges, gcap;
	uint64_t start_unix_ns;
	/* Renders copy target pointers and use them unlocked: a target removed meanwhile waits
	 * here until the last render in progress ends. */
	int readers;
	struct target **graveyard;
	size_t ngraves;
};

static uint64_t unix_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *vec_push(struct vec *v, size_t size)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void *p = realloc(v->p, cap * size);
		if (!p)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	void *e = (char *)v->p + v->n++ * size;
	memset(e, 0, size);
	return e;
}

static uint64_t key_hash(const struct key *k)
{
	uint64_t h = (uint64_t)(uintptr_t)k->str * 0x9E3779B97F4A7C15ULL;
	h ^= ((uint64_t)k->kind << 48 | (uint64_t)k->port << 32 | (uint64_t)k->status << 8 | k->method);
	h *= 0xBF58476D1CE4E5B9ULL;
	return h ^ (h >> 31);
}

static bool key_eq(const struct key *a, const struct key *b)
{
	return a->kind == b->kind && a->str == b->str && a->port == b->port && a->status == b->status &&
	       a->method == b->method;
}

static struct slot *slot_find(struct slot *slots, size_t n, const struct key *k)
{
	size_t i = key_hash(k) & (n - 1);
	while (slots[i].used && !key_eq(&slots[i].k, k))
		i = (i + 1) & (n - 1);
	return &slots[i];
}

static int index_grow(struct target *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 64;
	struct slot *slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].used)
			*slot_find(slots, n, &t->slots[i].k) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
	return 0;
}

static struct vec *entry_vec(struct target *t, enum entry_kind kind, size_t *size)
{
	switch (kind) {
	case E_SERVER:
		*size = sizeof(struct server_series);
		return &t->server;
	case E_CLIENT:
		*size = sizeof(struct client_series);
		return &t->client;
	case E_DB:
		*size = sizeof(struct db_series);
		return &t->db;
	default:
		*size = sizeof(struct route_stat);
		return &t->stats;
	}
}

/* The entry for k, created zeroed (*created set) if new; NULL when out of memory. */
static void *entry_get(struct target *t, const struct key *k, bool *created)
{
	size_t size;
	struct vec *v = entry_vec(t, k->kind, &size);
	*created = false;
	if (2 * (t->used + 1) > t->nslots && index_grow(t))
		return NULL;
	struct slot *s = slot_find(t->slots, t->nslots, k);
	if (s->used)
		return (char *)v->p + s->idx * size;
	void *e = vec_push(v, size);
	if (!e)
		return NULL;
	*s = (struct slot){ .k = *k, .idx = (uint32_t)(v->n - 1), .used = true };
	t->used++;
	*created = true;
	return e;
}

struct metrics_registry *metrics_registry_new(int max_routes)
{
	struct metrics_registry *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return NULL;
	pthread_mutex_init(&reg->lock, NULL);
	reg->start_unix_ns = unix_now_ns();
	reg->max_routes = max_routes > 0 ? max_routes : ROUTE_DEFAULT_MAX;
	return reg;
}

static void target_free(struct target *t)
{
	if (!t)
		return;
	route_table_free(t->routes);
	route_table_free(t->peers);
	route_table_free(t->dbops);
	free(t->db.p);
	free(t->server.p);
	free(t->client.p);
	free(t->stats.p);
	free(t->slots);
	free(t);
}

void metrics_registry_free(struct metrics_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->ntargets; i++)
		if (reg->targets[i])
			target_free(reg->targets[i]);
	for (size_t i = 0; i < reg->ngraves; i++)
		target_free(reg->graveyard[i]);
	free(reg->graveyard);
	for (size_t i = 0; i < reg->ngauges; i++) {
		free(reg->gauges[i].name);
		free(reg->gauges[i].help);
		free(reg->gauges[i].otel_name);
		free(reg->gauges[i].unit);
	}
	free(reg->targets);
	free(reg->gauges);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

int metrics_registry_add_target(struct metrics_registry *reg, const struct resource *res)
{
	struct target *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->res = *res;
	t->start_unix_ns = unix_now_ns();
	/* job/instance keep several targets' series apart, as a scrape of each would. */
	snprintf(t->instance, sizeof(t->instance), "%s:%d", res->host_name, (int)res->pid);
	t->routes = route_table_new(reg->max_routes, ROUTE_OVERFLOW);
	t->peers = route_table_new(reg->max_routes, "_OTHER");
	t->dbops = route_table_new(reg->max_routes, "other_sql\x1f_OTHER\x1f");
	if (!t->routes || !t->peers || !t->dbops) {
		target_free(t);
		return -ENOMEM;
	}
	pthread_mutex_lock(&reg->lock);
	int id = -ENOMEM;
	/* The same process added twice would render every series twice, which Prometheus
	 * rejects as duplicate samples: hand back the existing target instead. */
	for (size_t i = 0; i < reg->ntargets; i++) {
		if (!reg->targets[i])
			continue;
		const struct resource *r = &reg->targets[i]->res;
		if (r->pid == res->pid && !strcmp(r->executable_name, res->executable_name) &&
		    !strcmp(r->service_name, res->service_name) && !strcmp(r->host_name, res->host_name)) {
			pthread_mutex_unlock(&reg->lock);
			target_free(t);
			return (int)i;
		}
	}
	if (reg->ntargets == reg->tcap) {
		size_t cap = reg->tcap ? reg->tcap * 2 : 4;
		struct target **p = realloc(reg->targets, cap * sizeof(*p));
		if (p) {
			reg->targets = p;
			reg->tcap = cap;
		}
	}
	if (reg->ntargets < reg->tcap) {
		id = (int)reg->ntargets;
		reg->targets[reg->ntargets++] = t;
	}
	pthread_mutex_unlock(&reg->lock);
	if (id < 0)
		target_free(t);
	return id;
}

static void record_server(struct target *t, const char *route, int method, uint16_t status, uint64_t ns)
{
	bool created;
	/* No route (nothing matched) is no route: it takes no place under the cap. */
	const char *r = route[0] ? route_table_intern(t->routes, route) : "";
	if (!r)
		return;
	struct key k = { .kind = E_SERVER, .str = r, .status = status, .method = (uint8_t)method };
	struct server_series *s = entry_get(t, &k, &created);
	if (!s)
		return;
	if (created)
		*s = (struct server_series){ .route = r, .method = (uint8_t)method, .status = status };
	export_hist_record(&s->h, ns);

	k = (struct key){ .kind = E_STAT, .str = r, .method = (uint8_t)method };
	struct route_stat *st = entry_get(t, &k, &created);
	if (!st)
		return;
	if (created) {
		st->route = r;
		st->method = (uint8_t)method;
	}
	fine_hist_record(&st->fine, ns);
	st->errors += status >= 500;
}

static void record_client(struct target *t, const struct http_record *r, int method)
{
	bool created;
	const char *addr = "";
	uint16_t port = r->server_port;
	if (r->server_address && *r->server_address) {
		uint64_t before = route_table_overflowed(t->peers);
		if (!(addr = route_table_intern(t->peers, r->server_address)))
			return;
		if (route_table_overflowed(t->peers) != before)
			port = 0; /* the port alone would still multiply series */
	}
	struct key k = {
		.kind = E_CLIENT, .str = addr, .port = port, .status = r->status, .method = (uint8_t)method
	};
	struct client_series *s = entry_get(t, &k, &created);
	if (!s)
		return;
	if (created)
		*s = (struct client_series){
			.address = addr, .port = port, .method = (uint8_t)method, .status = r->status
		};
	export_hist_record(&s->h, r->duration_ns);
}

void metrics_registry_cap_route(struct metrics_registry *reg, int target, const char *route, char *out,
				size_t len)
{
	const char *r = NULL;
	pthread_mutex_lock(&reg->lock);
	if (target >= 0 && (size_t)target < reg->ntargets && reg->targets[target])
		r = route_table_intern(reg->targets[target]->routes, route);
	snprintf(out, len, "%s", r ? r : ROUTE_OVERFLOW);
	pthread_mutex_unlock(&reg->lock);
}

void metrics_registry_record(struct metrics_registry *reg, int target, const struct http_record *r)
{
	char route[ROUTE_MAX];
	if (!reg || !r)
		return;
	int method = method_index(r->method);
	/* Normalising is the costly part and needs no shared state: do it before locking. */
	if (r->kind == HTTP_SERVER)
		route_for_request(r->pattern, r->path, r->status ? r->status : 200, route, sizeof(route));
	pthread_mutex_lock(&reg->lock);
	if (target >= 0 && (size_t)target < reg->ntargets && reg->targets[target]) {
		struct target *t = reg->targets[target];
		if (r->kind == HTTP_SERVER)
			/* A Go handler that writes nothing still answers 200. */
			record_server(t, route, method, r->status ? r->status : 200, r->duration_ns);
		else
			record_client(t, r, method);
	}
	pthread_mutex_unlock(&reg->lock);
}

void metrics_registry_record_db(struct metrics_registry *reg, int target, const struct db_record *r)
{
	char key[3 * 128];
	if (!reg || !r)
		return;
	snprintf(key, sizeof(key), "%.127s\x1f%.127s\x1f%.127s", r->system ? r->system : "",
		 r->operation ? r->operation : "", r->collection ? r->collection : "");
	pthread_mutex_lock(&reg->lock);
	struct target *t = target >= 0 && (size_t)target < reg->ntargets ? reg->targets[target] : NULL;
	const char *interned = t ? route_table_intern(t->dbops, key) : NULL;
	if (interned) {
		bool created;
		struct key k = { .kind = E_DB, .str = interned, .status = r->error };
		struct db_series *ds = entry_get(t, &k, &created);
		if (ds && created)
			*ds = (struct db_series){ .key = interned, .error = r->error };
		if (ds)
			export_hist_record(&ds->h, r->duration_ns);
	}
	pthread_mutex_unlock(&reg->lock);
}

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

/* ---- OTel -> Prometheus names ---- */

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

/* ---- rendering ---- */

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
	if (s->status >= 500)
		put_label(f, "error_type", status);
	put_label(f, "http_request_method", methods[s->method]);
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
	/* For a client 4xx fails the request too; no status at all means no response. */
	if (!s->status)
		put_label(f, "error_type", "_OTHER");
	else if (s->status >= 400)
		put_label(f, "error_type", status);
	put_label(f, "http_request_method", methods[s->method]);
	if (s->status)
		put_label(f, "http_response_status_code", status);
	if (s->address[0])
		put_label(f, "server_address", s->address);
	if (s->port)
		put_label(f, "server_port", port);
}

struct server_row {
	const struct target *t;
	size_t ti;
	struct server_series s;
};

struct client_row {
	const struct target *t;
	size_t ti;
	struct client_series s;
};

struct db_row {
	const struct target *t;
	size_t ti;
	struct db_series s;
};

static int cmp_db(const void *a, const void *b)
{
	const struct db_row *x = a, *y = b;
	int c;
	if (x->ti != y->ti)
		return x->ti < y->ti ? -1 : 1;
	if ((c = strcmp(x->s.key, y->s.key)))
		return c;
	return (int)x->s.error - (int)y->s.error;
}

/* The three parts of a db series key. */
struct db_parts {
	char system[128], operation[128], collection[128];
};

static void db_split(const char *key, struct db_parts *p)
{
	const char *a = strchr(key, '\x1f'), *b = a ? strchr(a + 1, '\x1f') : NULL;
	snprintf(p->system, sizeof(p->system), "%.*s", a ? (int)(a - key) : 127, key);
	snprintf(p->operation, sizeof(p->operation), "%.*s", a && b ? (int)(b - a - 1) : 0, a ? a + 1 : "");
	snprintf(p->collection, sizeof(p->collection), "%.127s", b ? b + 1 : "");
}

static void db_labels(FILE *f, const struct target *t, const void *series)
{
	const struct db_series *s = series;
	struct db_parts p;
	db_split(s->key, &p);
	put_target_labels(f, t);
	if (s->error)
		put_label(f, "error_type", "_OTHER");
	if (p.collection[0])
		put_label(f, "db_collection_name", p.collection);
	if (p.operation[0])
		put_label(f, "db_operation_name", p.operation);
	put_label(f, "db_system_name", p.system);
}

static int cmp_server(const void *a, const void *b)
{
	const struct server_row *x = a, *y = b;
	int c;
	if (x->ti != y->ti)
		return x->ti < y->ti ? -1 : 1;
	if ((c = strcmp(x->s.route, y->s.route)))
		return c;
	if ((c = strcmp(methods[x->s.method], methods[y->s.method])))
		return c;
	return (int)x->s.status - (int)y->s.status;
}

static int cmp_client(const void *a, const void *b)
{
	const struct client_row *x = a, *y = b;
	int c;
	if (x->ti != y->ti)
		return x->ti < y->ti ? -1 : 1;
	if ((c = strcmp(x->s.address, y->s.address)))
		return c;
	if (x->s.port != y->s.port)
		return (int)x->s.port - (int)y->s.port;
	if ((c = strcmp(methods[x->s.method], methods[y->s.method])))
		return c;
	return (int)x->s.status - (int)y->s.status;
}

/* Everything render needs, copied under the lock so formatting (and the caller's callbacks)
 * run without it. Targets and interned strings are immutable once created. */
struct render_copy {
	struct target **targets;
	size_t ntargets;
	struct server_row *server;
	size_t nserver;
	struct client_row *client;
	size_t nclient;
	struct db_row *db;
	size_t ndb;
	struct gauge *gauges;
	size_t ngauges;
	bool counted; /* registered as a reader: release_state must undo it */
};

static int copy_state(struct metrics_registry *reg, struct render_copy *c)
{
	int err = 0;
	pthread_mutex_lock(&reg->lock);
	size_t ns = 0, nc = 0, nd = 0;
	reg->readers++;
	c->counted = true;
	for (size_t i = 0; i < reg->ntargets; i++) {
		if (!reg->targets[i])
			continue;
		ns += reg->targets[i]->server.n;
		nc += reg->targets[i]->client.n;
		nd += reg->targets[i]->db.n;
	}
	c->ntargets = reg->ntargets;
	c->ngauges = reg->ngauges;
	c->targets = malloc((c->ntargets + 1) * sizeof(*c->targets));
	c->server = malloc((ns + 1) * sizeof(*c->server));
	c->client = malloc((nc + 1) * sizeof(*c->client));
	c->db = malloc((nd + 1) * sizeof(*c->db));
	c->gauges = malloc((c->ngauges + 1) * sizeof(*c->gauges));
	if (!c->targets || !c->server || !c->client || !c->db || !c->gauges) {
		err = -ENOMEM;
		goto out;
	}
	if (c->ntargets)
		memcpy(c->targets, reg->targets, c->ntargets * sizeof(*c->targets));
	if (c->ngauges)
		memcpy(c->gauges, reg->gauges, c->ngauges * sizeof(*c->gauges));
	for (size_t i = 0; i < reg->ntargets; i++) {
		const struct target *t = reg->targets[i];
		if (!t)
			continue;
		const struct server_series *s = t->server.p;
		const struct client_series *cs = t->client.p;
		for (size_t j = 0; j < t->server.n; j++)
			c->server[c->nserver++] = (struct server_row){ t, i, s[j] };
		for (size_t j = 0; j < t->client.n; j++)
			c->client[c->nclient++] = (struct client_row){ t, i, cs[j] };
		const struct db_series *ds = t->db.p;
		for (size_t j = 0; j < t->db.n; j++)
			c->db[c->ndb++] = (struct db_row){ t, i, ds[j] };
	}
out:
	pthread_mutex_unlock(&reg->lock);
	return err;
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

/* Ends a render that copy_state began: targets removed meanwhile can go now. */
static void release_state(struct metrics_registry *reg, struct render_copy *c)
{
	struct target **graves = NULL;
	size_t n = 0;
	pthread_mutex_lock(&reg->lock);
	if (c->counted && --reg->readers == 0) {
		graves = reg->graveyard;
		n = reg->ngraves;
		reg->graveyard = NULL;
		reg->ngraves = 0;
	}
	pthread_mutex_unlock(&reg->lock);
	for (size_t i = 0; i < n; i++)
		target_free(graves[i]);
	free(graves);
	free(c->targets);
	free(c->server);
	free(c->client);
	free(c->db);
	free(c->gauges);
}

int metrics_registry_remove_target(struct metrics_registry *reg, int target)
{
	struct target *t = NULL;
	pthread_mutex_lock(&reg->lock);
	if (target >= 0 && (size_t)target < reg->ntargets) {
		t = reg->targets[target];
		reg->targets[target] = NULL;
	}
	if (t && reg->readers) {
		struct target **g = realloc(reg->graveyard, (reg->ngraves + 1) * sizeof(*g));
		if (g) {
			reg->graveyard = g;
			reg->graveyard[reg->ngraves++] = t;
			t = NULL;
		} else {
			/* Cannot defer: keep it in place rather than free it under a reader. */
			reg->targets[target] = t;
			t = NULL;
			target = -1;
		}
	}
	pthread_mutex_unlock(&reg->lock);
	if (t)
		target_free(t);
	return target >= 0 ? 0 : -ENOENT;
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
	int err = copy_state(reg, &c);
	FILE *f = err ? NULL : open_memstream(&buf, &n);
	if (!f) {
		err = -ENOMEM;
		goto out;
	}
	qsort(c.server, c.nserver, sizeof(*c.server), cmp_server);
	qsort(c.client, c.nclient, sizeof(*c.client), cmp_client);
	qsort(c.db, c.ndb, sizeof(*c.db), cmp_db);

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
	release_state(reg, &c);
	*out = buf;
	*len = n;
	return err;
}

/* ---- visiting (OTLP) ---- */

static void attr_str(struct metric_sample *s, const char *key, const char *value)
{
	s->attrs[s->nattrs++] = (struct metric_attr){ .key = key, .type = METRIC_ATTR_STRING, .str = value };
}

static void attr_int(struct metric_sample *s, const char *key, int64_t value)
{
	s->attrs[s->nattrs++] = (struct metric_attr){ .key = key, .type = METRIC_ATTR_INT, .num = value };
}

static void hist_sample(struct metric_sample *s, const struct export_hist *h)
{
	s->bounds = hist_export_bounds;
	s->nbounds = HIST_EXPORT_BOUNDS;
	s->counts = h->buckets;
	s->count = h->count;
	s->sum = (double)h->sum_ns / 1e9;
}

/* The same attributes as server_labels / client_labels, with status codes and ports as
 * integers (their OTel type). status_txt holds error.type's text. */
static void server_sample(struct metric_sample *s, const struct server_series *ss, char *status_txt,
			  size_t txtlen)
{
	memset(s, 0, sizeof(*s));
	snprintf(status_txt, txtlen, "%u", ss->status);
	if (ss->status >= 500)
		attr_str(s, "error.type", status_txt);
	attr_str(s, "http.request.method", methods[ss->method]);
	attr_int(s, "http.response.status_code", ss->status);
	if (ss->route[0]) /* nothing matched: http.route is left unset */
		attr_str(s, "http.route", ss->route);
	hist_sample(s, &ss->h);
}

static void client_sample(struct metric_sample *s, const struct client_series *cs, char *status_txt,
			  size_t txtlen)
{
	memset(s, 0, sizeof(*s));
	snprintf(status_txt, txtlen, "%u", cs->status);
	if (!cs->status)
		attr_str(s, "error.type", "_OTHER");
	else if (cs->status >= 400)
		attr_str(s, "error.type", status_txt);
	attr_str(s, "http.request.method", methods[cs->method]);
	if (cs->status)
		attr_int(s, "http.response.status_code", cs->status);
	if (cs->address[0])
		attr_str(s, "server.address", cs->address);
	if (cs->port)
		attr_int(s, "server.port", cs->port);
	hist_sample(s, &cs->h);
}

static void db_sample(struct metric_sample *s, const struct db_series *ds, struct db_parts *p)
{
	memset(s, 0, sizeof(*s));
	db_split(ds->key, p);
	attr_str(s, "db.system.name", p->system);
	if (p->operation[0])
		attr_str(s, "db.operation.name", p->operation);
	if (p->collection[0])
		attr_str(s, "db.collection.name", p->collection);
	if (ds->error)
		attr_str(s, "error.type", "_OTHER");
	hist_sample(s, &ds->h);
}

static void visit_gauge(const struct metrics_visitor *v, void *ctx, const struct gauge *g, int target)
{
	struct metric_info info = {
		.name = g->otel_name, .unit = g->unit, .description = g->help, .type = g->type
	};
	struct metric_sample samples[METRIC_MAX_POINTS];
	if (!g->points) {
		memset(samples, 0, sizeof(samples[0]));
		samples[0].value = g->fn(g->ctx, target);
		v->metric(ctx, &info, samples, 1);
		return;
	}
	struct metric_point points[METRIC_MAX_POINTS];
	memset(points, 0, sizeof(points));
	int n = g->points(g->ctx, target, points, METRIC_MAX_POINTS);
	if (n > METRIC_MAX_POINTS)
		n = METRIC_MAX_POINTS;
	for (int j = 0; j < n; j++) {
		const struct metric_point *p = &points[j];
		struct metric_sample *s = &samples[j];
		memset(s, 0, sizeof(*s));
		if (p->attr_name && p->attr_value)
			attr_str(s, p->attr_name, p->attr_value);
		s->value = p->value;
		if (g->type == METRIC_HISTOGRAM) {
			s->bounds = p->bounds;
			s->nbounds = p->nbounds < METRIC_MAX_BUCKETS ? p->nbounds : METRIC_MAX_BUCKETS;
			s->counts = p->counts;
			s->count = p->count;
			s->sum = p->sum;
		}
	}
	if (n > 0)
		v->metric(ctx, &info, samples, (size_t)n);
}

int metrics_registry_visit(struct metrics_registry *reg, const struct metrics_visitor *v, void *ctx)
{
	static const struct metric_info server_info = { "http.server.request.duration", "s",
							"Duration of HTTP server requests.",
							METRIC_HISTOGRAM };
	static const struct metric_info client_info = { "http.client.request.duration", "s",
							"Duration of HTTP client requests.",
							METRIC_HISTOGRAM };
	static const struct metric_info db_info = { "db.client.operation.duration", "s",
						    "Duration of database client operations.",
						    METRIC_HISTOGRAM };
	struct render_copy c = { 0 };
	size_t nmax = 0;
	int err = copy_state(reg, &c);
	if (!err)
		nmax = c.nserver > c.nclient ? c.nserver : c.nclient;
	if (!err && c.ndb > nmax)
		nmax = c.ndb;
	struct db_parts *parts = err ? NULL : malloc((nmax + 1) * sizeof(*parts));
	struct metric_sample *samples = err ? NULL : malloc((nmax + 1) * sizeof(*samples));
	char(*txt)[8] = err ? NULL : malloc((nmax + 1) * sizeof(*txt));
	if (!samples || !txt || !parts) {
		err = -ENOMEM;
		goto out;
	}
	qsort(c.server, c.nserver, sizeof(*c.server), cmp_server);
	qsort(c.client, c.nclient, sizeof(*c.client), cmp_client);
	qsort(c.db, c.ndb, sizeof(*c.db), cmp_db);
	size_t si = 0, ci = 0, di = 0;
	for (size_t t = 0; t < c.ntargets; t++) {
		if (!c.targets[t])
			continue;
		v->target(ctx, (int)t, &c.targets[t]->res, c.targets[t]->start_unix_ns);
		size_t n = 0;
		for (; si < c.nserver && c.server[si].ti == t; si++, n++)
			server_sample(&samples[n], &c.server[si].s, txt[n], sizeof(txt[n]));
		if (n)
			v->metric(ctx, &server_info, samples, n);
		n = 0;
		for (; ci < c.nclient && c.client[ci].ti == t; ci++, n++)
			client_sample(&samples[n], &c.client[ci].s, txt[n], sizeof(txt[n]));
		if (n)
			v->metric(ctx, &client_info, samples, n);
		n = 0;
		for (; di < c.ndb && c.db[di].ti == t; di++, n++)
			db_sample(&samples[n], &c.db[di].s, &parts[n]);
		if (n)
			v->metric(ctx, &db_info, samples, n);
		for (size_t i = 0; i < c.ngauges; i++)
			if (c.gauges[i].per_target)
				visit_gauge(v, ctx, &c.gauges[i], (int)t);
	}
	v->target(ctx, -1, NULL, reg->start_unix_ns); /* set once at creation */
	for (size_t i = 0; i < c.ngauges; i++)
		if (!c.gauges[i].per_target)
			visit_gauge(v, ctx, &c.gauges[i], -1);
out:
	free(samples);
	free(txt);
	free(parts);
	release_state(reg, &c);
	return err;
}

/* ---- live view ---- */

struct view_prev {
	uint64_t errors;
	struct fine_hist fine;
};

struct http_view {
	struct metrics_registry *reg;
	int target;
	struct view_prev *prev;	 /* per route_stat index, as of the last poll */
	struct fine_hist *delta; /* scratch, same indexing */
	struct http_route_row *rows;
	size_t n, cap;
	struct timespec last;
};

static int view_reserve(struct http_view *v, size_t n)
{
	if (n <= v->cap)
		return 0;
	size_t cap = v->cap ? v->cap : 16;
	while (cap < n)
		cap *= 2;
	struct view_prev *prev = realloc(v->prev, cap * sizeof(*prev));
	if (prev)
		v->prev = prev;
	struct fine_hist *delta = realloc(v->delta, cap * sizeof(*delta));
	if (delta)
		v->delta = delta;
	struct http_route_row *rows = realloc(v->rows, cap * sizeof(*rows));
	if (rows)
		v->rows = rows;
	if (!prev || !delta || !rows)
		return -ENOMEM;
	/* Routes first seen now start from zero: all their requests are in this interval. */
	memset(v->prev + v->cap, 0, (cap - v->cap) * sizeof(*prev));
	v->cap = cap;
	return 0;
}

static int cmp_row(const void *a, const void *b)
{
	const struct http_route_row *x = a, *y = b;
	int c = strcmp(x->route, y->route);
	return c ? c : strcmp(x->method, y->method);
}

static double elapsed(struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double s = (double)(now.tv_sec - since->tv_sec) + (now.tv_nsec - since->tv_nsec) / 1e9;
	*since = now;
	return s;
}

int metrics_registry_summary(struct metrics_registry *reg, int target, struct http_summary *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&reg->lock);
	struct target *t = target >= 0 && (size_t)target < reg->ntargets ? reg->targets[target] : NULL;
	if (!t) {
		pthread_mutex_unlock(&reg->lock);
		return -ENOENT;
	}
	const struct server_series *ss = t->server.p;
	for (size_t i = 0; i < t->server.n; i++) {
		unsigned cls = ss[i].status / 100;
		out->by_class[cls >= 1 && cls <= 5 ? cls : 0] += ss[i].h.count;
	}
	/* One row per peer and method: statuses summed. */
	const struct client_series *cs = t->client.p;
	for (size_t i = 0; i < t->client.n; i++) {
		struct http_peer_row *row = NULL;
		for (size_t j = 0; j < out->npeers && !row; j++)
			if (out->peers[j].port == cs[i].port &&
			    out->peers[j].method == methods[cs[i].method] &&
			    !strcmp(out->peers[j].address, cs[i].address))
				row = &out->peers[j];
		if (!row && out->npeers == HTTP_SUMMARY_MAX_PEERS) {
			out->peers_left_out += cs[i].h.count;
			continue;
		}
		if (!row) {
			row = &out->peers[out->npeers++];
			snprintf(row->address, sizeof(row->address), "%s", cs[i].address);
			row->port = cs[i].port;
			row->method = methods[cs[i].method];
		}
		/* mean_s holds the sum until the division below */
		row->mean_s += (double)cs[i].h.sum_ns / 1e9;
		row->count += cs[i].h.count;
		if (cs[i].status == 0 || cs[i].status >= 400)
			row->errors += cs[i].h.count;
	}
	pthread_mutex_unlock(&reg->lock);
	for (size_t j = 0; j < out->npeers; j++)
		out->peers[j].mean_s = out->peers[j].count ? out->peers[j].mean_s / out->peers[j].count : 0;
	return 0;
}

int http_view_poll(struct http_view *v, struct http_view_snapshot *out)
{
	int err = 0;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&v->reg->lock);
	struct target *t = v->reg->targets[v->target];
	if (!t) {
		pthread_mutex_unlock(&v->reg->lock);
		return -ENOENT;
	}
	const struct route_stat *st = t->stats.p;
	size_t n = t->stats.n;
	if ((err = view_reserve(v, n))) {
		pthread_mutex_unlock(&v->reg->lock);
		return err;
	}
	/* Only the subtraction happens under the lock; percentiles and sorting come after. */
	for (size_t i = 0; i < n; i++) {
		fine_hist_delta(&v->delta[i], &st[i].fine, &v->prev[i].fine);
		v->rows[i] = (struct http_route_row){
			.route = st[i].route,
			.method = methods[st[i].method],
			.count = st[i].fine.count,
			.errors = st[i].errors,
			.interval_count = v->delta[i].count,
			.interval_errors = st[i].errors - v->prev[i].errors,
		};
		v->prev[i].fine = st[i].fine;
		v->prev[i].errors = st[i].errors;
	}
	out->overflow_requests = route_table_overflowed(t->routes);
	pthread_mutex_unlock(&v->reg->lock);

	for (size_t i = 0; i < n; i++) {
		v->rows[i].p50 = fine_hist_quantile(&v->delta[i], 0.50);
		v->rows[i].p95 = fine_hist_quantile(&v->delta[i], 0.95);
		v->rows[i].p99 = fine_hist_quantile(&v->delta[i], 0.99);
	}
	if (n)
		qsort(v->rows, n, sizeof(*v->rows), cmp_row);
	v->n = n;
	out->rows = v->rows;
	out->n = n;
	out->interval_s = elapsed(&v->last);
	return 0;
}

struct http_view *http_view_new(struct metrics_registry *reg, int target)
{
	struct http_view_snapshot discard;
	pthread_mutex_lock(&reg->lock);
	bool ok = target >= 0 && (size_t)target < reg->ntargets;
	pthread_mutex_unlock(&reg->lock);
	struct http_view *v = ok ? calloc(1, sizeof(*v)) : NULL;
	if (!v)
		return NULL;
	v->reg = reg;
	v->target = target;
	clock_gettime(CLOCK_MONOTONIC, &v->last);
	/* The baseline: the first real poll reports only what came after creation. */
	if (http_view_poll(v, &discard)) {
		http_view_free(v);
		return NULL;
	}
	return v;
}

void http_view_free(struct http_view *v)
{
	if (!v)
		return;
	free(v->prev);
	free(v->delta);
	free(v->rows);
	free(v);
}
