// SPDX-License-Identifier: Apache-2.0
#include "metrics/slo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const slo_objective_kinds[] = { "availability", "latency", NULL };

const struct slo_rate_window slo_rate_windows[SLO_RATE_WINDOWS] = {
	{ "5m", 300 },	 { "30m", 1800 }, { "1h", 3600 },   { "2h", 7200 },
	{ "6h", 21600 }, { "1d", 86400 }, { "3d", 259200 },
};

/* The SRE workbook's scheme for a 30-day objective: page when 2 % of the budget burns within
 * an hour (confirmed over 5 minutes) or 5 % within 6 hours (over 30 minutes); open a ticket when
 * 10 % burns within a day (over 2 hours) or within 3 days (over 6 hours). */
const struct slo_alert slo_alerts[SLO_ALERTS] = {
	{ "page", 0.02, 2, 0 },
	{ "page", 0.05, 4, 1 },
	{ "ticket", 0.10, 5, 3 },
	{ "ticket", 0.10, 6, 4 },
};

double slo_alert_burn_rate(const struct slo_alert *a, const struct slo_objective *o)
{
	double window_s = (double)o->window_ms / 1000.0;
	return a->budget_share * window_s / (double)slo_rate_windows[a->long_window].seconds;
}

/* "250ms", "30d", "1h": milliseconds, or -1. */
static long long parse_duration_ms(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -1;
	static const struct {
		const char *unit;
		unsigned long long ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 } };
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit))
			return v > UINT32_MAX / units[i].ms ? -1 : (long long)(v * units[i].ms);
	return -1;
}

/* "0.999" or "99.9%": a share, or -1. */
static double parse_target(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s)
		return -1;
	if (*end && strcmp(end, "%"))
		return -1;
	if (*end) {
		/* 99.9 / 100 is 0.99900000000000011: round to the digits a person wrote. */
		char buf[32];
		snprintf(buf, sizeof(buf), "%.15g", v / 100.0);
		v = strtod(buf, NULL);
	}
	return v;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *a)
{
	snprintf(err, errlen, fmt, a);
	return -EINVAL;
}

static int copy_text(char *dst, size_t size, const char *v, const char *key, char *err, size_t errlen)
{
	if (strlen(v) >= size)
		return fail(err, errlen, "the SLO's %s is too long", key);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int set_key(struct slo_objective *o, const char *key, const char *v, char *err, size_t errlen)
{
	long long ms;
	if (!strcmp(key, "name"))
		return copy_text(o->name, sizeof(o->name), v, key, err, errlen);
	if (!strcmp(key, "service"))
		return copy_text(o->service, sizeof(o->service), v, key, err, errlen);
	if (!strcmp(key, "route"))
		return copy_text(o->route, sizeof(o->route), v, key, err, errlen);
	if (!strcmp(key, "objective"))
		return copy_text(o->objective, sizeof(o->objective), v, key, err, errlen);
	if (!strcmp(key, "target")) {
		o->target = parse_target(v);
		return 0; /* checked with the rest */
	}
	if (!strcmp(key, "threshold") || !strcmp(key, "window")) {
		if ((ms = parse_duration_ms(v)) < 0)
			return fail(err, errlen,
				    "'%s' is not a duration; expected a number with ms, s, m, h or d", v);
		*(key[0] == 't' ? &o->threshold_ms : &o->window_ms) = (uint32_t)ms;
		return 0;
	}
	return fail(err, errlen,
		    "unknown SLO key '%s'; expected name, service, route, objective, target, threshold "
		    "or window",
		    key);
}

int slo_objective_parse(const char *spec, struct slo_objective *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->window_ms = SLO_DEFAULT_WINDOW;
	char buf[1024];
	if (strlen(spec) >= sizeof(buf))
		return fail(err, errlen, "%s", "the SLO is too long");
	strcpy(buf, spec);
	char *save = NULL;
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			return fail(err, errlen,
				    "'%s' is not KEY=VALUE (example: objective=availability,target=99.9%%)",
				    kv);
		*eq = '\0';
		int rc = set_key(o, kv, eq + 1, err, errlen);
		if (rc)
			return rc;
	}
	return slo_objective_check(o, err, errlen);
}

int slo_objective_check(struct slo_objective *o, char *err, size_t errlen)
{
	bool known = false;
	for (int i = 0; slo_objective_kinds[i]; i++)
		known |= !strcmp(o->objective, slo_objective_kinds[i]);
	if (!known)
		return fail(err, errlen, "SLO objective '%s' is unknown; expected availability or latency",
			    o->objective);
	if (!(o->target > 0 && o->target < 1))
		return fail(err, errlen, "%s",
			    "SLO target must be a share between 0 and 1 (0.999) or a percentage (99.9%)");
	if (slo_is_latency(o) && !o->threshold_ms)
		return fail(err, errlen, "%s", "a latency SLO needs a threshold (threshold=250ms)");
	if (!slo_is_latency(o) && o->threshold_ms)
		return fail(err, errlen, "%s", "only a latency SLO takes a threshold");
	if (o->window_ms < 3600000)
		return fail(err, errlen, "%s", "SLO window must be at least 1h (default 30d)");
	if (!o->name[0]) {
		if (o->route[0])
			snprintf(o->name, sizeof(o->name), "%s-%.*s", o->objective,
				 (int)(sizeof(o->name) - sizeof(o->objective) - 2), o->route);
		else
			snprintf(o->name, sizeof(o->name), "%s", o->objective);
	}
	/* The name becomes a label value and a rule group name: keep it printable and quotable. */
	for (const char *c = o->name; *c; c++)
		if (*c < 0x20 || *c == '"' || *c == '\\' || *c == 0x7f)
			return fail(err, errlen, "SLO name '%s' has a quote, backslash or control character",
				    o->name);
	for (const char *c = o->route; *c; c++)
		if (*c < 0x20 || *c == '"' || *c == '\\' || *c == 0x7f)
			return fail(err, errlen, "SLO route '%s' has a quote, backslash or control character",
				    o->route);
	for (const char *c = o->service; *c; c++)
		if (*c < 0x20 || *c == '"' || *c == '\\' || *c == 0x7f)
			return fail(err, errlen,
				    "SLO service '%s' has a quote, backslash or control character",
				    o->service);
	return 0;
}

int slo_objectives_check_unique(const struct slo_objective *objs, int n, char *err, size_t errlen)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(objs[i].name, objs[j].name))
				return fail(err, errlen, "two SLOs are named '%s'; give each a unique name",
					    objs[i].name);
	return 0;
}
