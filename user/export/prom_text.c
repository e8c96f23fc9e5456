// SPDX-License-Identifier: Apache-2.0
/* The metrics registry as Prometheus text exposition, rendered through the registry's visit —
 * the same walk, names and attribute sets the OTLP exporter encodes: a series is described
 * once (metrics/registry_visit.c) and spelled here the Prometheus way (dots become
 * underscores, units and _total become name suffixes, labels sorted, families grouped). */
#include "metrics/registry.h"

#include "base/array.h"
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

/* Series of one metric family, collected across targets and written at the end: Prometheus
 * wants each family's lines together, the visit goes target by target. */
struct family {
	char name[160];
	const char *type;
	char *help;
	char *text;
	size_t len;
	FILE *f;
};

struct label {
	char name[64];
	char value[256];
};

struct prom_render {
	struct family **fams; /* each allocated once: its memstream holds &text and &len */
	size_t n, cap;
	bool in_target; /* job and instance label every series of a target */
	char job[256], instance[256];
	int err;
};

static struct family *family_get(struct prom_render *r, const char *name, const char *type, const char *help)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->fams[i]->name, name))
			return r->fams[i];
	if (array_grow((void **)&r->fams, &r->cap, r->n, sizeof(*r->fams)))
		return NULL;
	struct family *fam = calloc(1, sizeof(*fam));
	if (!fam)
		return NULL;
	snprintf(fam->name, sizeof(fam->name), "%s", name);
	fam->type = type;
	fam->help = strdup(help ? help : "");
	fam->f = open_memstream(&fam->text, &fam->len);
	if (!fam->help || !fam->f) {
		free(fam->help);
		if (fam->f)
			fclose(fam->f);
		free(fam->text);
		free(fam);
		return NULL;
	}
	r->fams[r->n++] = fam;
	return fam;
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->name, ((const struct label *)b)->name);
}

/* job and instance first, then the sample's attributes by label name. */
static void put_labels(FILE *f, const struct prom_render *r, const struct metric_sample *s, const char *le)
{
	struct label attrs[METRIC_MAX_ATTRS];
	size_t n = 0;
	for (size_t i = 0; s && i < s->nattrs && i < METRIC_MAX_ATTRS; i++) {
		sanitize_name(s->attrs[i].key, attrs[n].name, sizeof(attrs[n].name));
		if (s->attrs[i].type == METRIC_ATTR_INT)
			snprintf(attrs[n].value, sizeof(attrs[n].value), "%lld", (long long)s->attrs[i].num);
		else
			snprintf(attrs[n].value, sizeof(attrs[n].value), "%s",
				 s->attrs[i].str ? s->attrs[i].str : "");
		n++;
	}
	qsort(attrs, n, sizeof(attrs[0]), cmp_label);
	bool any = r->in_target || n || le;
	if (!any)
		return;
	const char *sep = "";
	fputc('{', f);
	if (r->in_target) {
		fputs("job=\"", f);
		put_escaped(f, r->job, true);
		fputs("\",instance=\"", f);
		put_escaped(f, r->instance, true);
		fputc('"', f);
		sep = ",";
	}
	for (size_t i = 0; i < n; i++, sep = ",") {
		fprintf(f, "%s%s=\"", sep, attrs[i].name);
		put_escaped(f, attrs[i].value, true);
		fputc('"', f);
	}
	if (le)
		fprintf(f, "%sle=\"%s\"", sep, le);
	fputc('}', f);
}

static void on_target(void *ctx, int target, const struct resource *res, uint64_t start_unix_ns)
{
	struct prom_render *r = ctx;
	(void)start_unix_ns;
	r->in_target = target >= 0 && res;
	if (!r->in_target)
		return;
	snprintf(r->job, sizeof(r->job), "%s", res->service_name);
	metrics_instance_label(res, r->instance, sizeof(r->instance));
	struct family *fam = family_get(r, "target_info", "gauge", "Target metadata");
	if (!fam) {
		r->err = -ENOMEM;
		return;
	}
	/* The resource as labels (container and pod only where the agent found them). */
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)res->pid);
	const char *keys[] = { "host.name",    "process.executable.name", "process.pid",  "service.name",
			       "container.id", "k8s.namespace.name",	  "k8s.pod.name", "k8s.pod.uid" };
	const char *values[] = { res->host_name,    res->executable_name, pid,
				 res->service_name, res->container_id,	  res->k8s_namespace_name,
				 res->k8s_pod_name, res->k8s_pod_uid };
	struct metric_sample s;
	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && s.nattrs < METRIC_MAX_ATTRS; i++)
		if (i < 4 || values[i][0])
			s.attrs[s.nattrs++] =
				(struct metric_attr){ keys[i], METRIC_ATTR_STRING, values[i], 0 };
	fputs("target_info", fam->f);
	put_labels(fam->f, r, &s, NULL);
	fputs(" 1\n", fam->f);
}

static void put_sample(FILE *f, const struct prom_render *r, const char *name, enum metric_type type,
		       const struct metric_sample *s)
{
	char num[48], le[48];
	if (type != METRIC_HISTOGRAM) {
		fmt_value(s->value, num, sizeof(num));
		fputs(name, f);
		put_labels(f, r, s, NULL);
		fprintf(f, " %s\n", num);
		return;
	}
	uint64_t cum = 0;
	for (size_t i = 0; i <= s->nbounds; i++) {
		cum += s->counts[i];
		if (i < s->nbounds)
			fmt_value(s->bounds[i], le, sizeof(le));
		fprintf(f, "%s_bucket", name);
		put_labels(f, r, s, i < s->nbounds ? le : "+Inf");
		fprintf(f, " %" PRIu64 "\n", cum);
	}
	fmt_value(s->sum, num, sizeof(num));
	fprintf(f, "%s_sum", name);
	put_labels(f, r, s, NULL);
	fprintf(f, " %s\n%s_count", num, name);
	put_labels(f, r, s, NULL);
	fprintf(f, " %" PRIu64 "\n", s->count);
}

static void on_metric(void *ctx, const struct metric_info *m, const struct metric_sample *samples, size_t n)
{
	static const char *const types[] = { "gauge", "counter", "histogram", "gauge" };
	struct prom_render *r = ctx;
	char name[160];
	prom_metric_name(m->name, m->unit, m->type == METRIC_COUNTER, name, sizeof(name));
	struct family *fam = family_get(r, name, types[m->type], m->description);
	if (!fam) {
		r->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++)
		put_sample(fam->f, r, name, m->type, &samples[i]);
}

int metrics_registry_render_prometheus(struct metrics_registry *reg, char **out, size_t *len)
{
	struct prom_render r = { 0 };
	const struct metrics_visitor v = { on_target, on_metric };
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int err = f ? metrics_registry_visit(reg, &v, &r) : -ENOMEM;
	if (!err)
		err = r.err;
	for (size_t i = 0; i < r.n; i++) {
		struct family *fam = r.fams[i];
		if (fclose(fam->f))
			err = -ENOMEM;
		if (!err && f) {
			fprintf(f, "# HELP %s ", fam->name);
			put_escaped(f, fam->help, false);
			fprintf(f, "\n# TYPE %s %s\n", fam->name, fam->type);
			fwrite(fam->text, 1, fam->len, f);
		}
		free(fam->text);
		free(fam->help);
		free(fam);
	}
	free(r.fams);
	if (f && (ferror(f) || fclose(f)))
		err = -ENOMEM;
	if (err) {
		free(buf);
		buf = NULL;
		n = 0;
	}
	*out = buf;
	*len = n;
	return err;
}
