/* SPDX-License-Identifier: Apache-2.0 */
/* Service level objectives over glimpse's own HTTP server series: what an objective is, how it
 * is written (the agent's `slos:` list and attach's --slo use the same keys), and the
 * multiwindow, multi-burn-rate alerting scheme of Google's SRE workbook that both the
 * Prometheus rules (slo_rules.h) and the live burn rates (slo_tracker.h) follow. */
#ifndef GLIMPSE_SLO_H
#define GLIMPSE_SLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLO_MAX		   8
#define SLO_NAME_LEN	   64
#define SLO_TEXT_LEN	   256
#define SLO_DEFAULT_WINDOW (30u * 86400u * 1000u) /* ms */

/* The field types are the agent config's (agent/config_schema.c reads this struct as is). */
struct slo_objective {
	char name[SLO_NAME_LEN];    /* the `slo` label; default "<objective>" or "<objective>-<route>" */
	char service[SLO_TEXT_LEN]; /* service.name it judges; "" = every service, each apart */
	char route[SLO_TEXT_LEN];   /* http.route it judges; "" = every request */
	char objective[16];	    /* "availability" (not 5xx) or "latency" (at most threshold) */
	double target;		    /* share of good requests, 0 < target < 1 (0.999) */
	uint32_t threshold_ms;	    /* latency: the slowest good request */
	uint32_t window_ms;	    /* the period the budget is spent over (default 30 d) */
};

extern const char *const slo_objective_kinds[]; /* "availability", "latency", NULL */

static inline bool slo_is_latency(const struct slo_objective *o)
{
	return o->objective[0] == 'l';
}

/* attach's --slo: the config's keys as KEY=VALUE,... ("objective=latency,target=99%,
 * threshold=250ms,route=/users/{id}"); target as a ratio (0.99) or a percentage (99%); durations
 * with ms, s, m, h or d. Fills defaults, then checks like slo_objective_check. 0, or -EINVAL
 * with a one-line reason in err. */
int slo_objective_parse(const char *spec, struct slo_objective *o, char *err, size_t errlen);
/* Whether an objective is complete and sane (known objective, 0 < target < 1, a latency
 * threshold and only for latency, a window of at least an hour); sets the default name.
 * 0, or -EINVAL with a reason in err. */
int slo_objective_check(struct slo_objective *o, char *err, size_t errlen);
/* Names must be unique across one configuration: 0, or -EINVAL naming the duplicate. */
int slo_objectives_check_unique(const struct slo_objective *objs, int n, char *err, size_t errlen);

/* The windows burn rates are measured over, shortest first (labels "5m" ... "3d"). */
#define SLO_RATE_WINDOWS 7
struct slo_rate_window {
	const char *label;
	uint32_t seconds;
};
extern const struct slo_rate_window slo_rate_windows[SLO_RATE_WINDOWS];

/* One alert condition: the burn rate over both a long and a short window exceeds the rate
 * that would spend budget_share of the budget within the long window. */
#define SLO_ALERTS 4
struct slo_alert {
	const char *severity;	       /* "page" or "ticket" */
	double budget_share;	       /* 0.02, 0.05, 0.10, 0.10 */
	int long_window, short_window; /* indices into slo_rate_windows */
};
extern const struct slo_alert slo_alerts[SLO_ALERTS];

/* The burn rate an alert fires above, for an objective's window: budget_share × window / long
 * window (14.4, 6, 3 and 1 for 30 days). */
double slo_alert_burn_rate(const struct slo_alert *a, const struct slo_objective *o);

#endif
