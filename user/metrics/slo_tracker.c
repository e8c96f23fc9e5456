// SPDX-License-Identifier: Apache-2.0
/* Each (target, objective) keeps one small ring of cumulative counts per window, sampled at a
 * sixtieth of that window: the count at "now minus the window" is then known to within 1/60 of
 * it, in a few KiB whatever the window (3 days at one-second samples would be 260 000 of them).
 * Until glimpse has watched a whole window, the window starts where watching did. */
#include "metrics/slo_tracker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/histogram.h"

#define RING_LEN    64 /* > 60 samples per window: the oldest kept is older than the window */
#define BUDGET_RING SLO_RATE_WINDOWS
#define RINGS	    (SLO_RATE_WINDOWS + 1)

struct sample {
	uint64_t t_ns, requests, bad;
};

struct ring {
	uint64_t span_ns, step_ns;
	struct sample s[RING_LEN];
	int head, n; /* s[head] is the newest */
};

struct judged {
	int target;
	const struct slo_objective *o;
	int bound_index; /* latency: the threshold's bucket bound */
	struct ring rings[RINGS];
	struct slo_status status;
};

struct slo_tracker {
	pthread_mutex_t lock;
	struct metrics_registry *reg;
	struct slo_objective objs[SLO_MAX];
	int nobjs;
	struct judged *judged;
	size_t n, cap;
};

static void ring_init(struct ring *r, uint64_t span_ns)
{
	memset(r, 0, sizeof(*r));
	r->span_ns = span_ns;
	r->step_ns = span_ns / 60;
}

static void ring_push(struct ring *r, const struct sample *s)
{
	if (r->n && s->t_ns - r->s[r->head].t_ns < r->step_ns)
		return;
	r->head = (r->head + 1) % RING_LEN;
	r->s[r->head] = *s;
	if (r->n < RING_LEN)
		r->n++;
}

/* The newest sample at least span old, else the oldest: where the window starts. */
static const struct sample *ring_start(const struct ring *r, uint64_t now_ns)
{
	const struct sample *oldest = NULL;
	for (int i = 0; i < r->n; i++) {
		const struct sample *s = &r->s[(r->head - i + RING_LEN) % RING_LEN];
		if (now_ns - s->t_ns >= r->span_ns)
			return s;
		oldest = s;
	}
	return oldest;
}

static double bad_share(const struct sample *from, const struct sample *to)
{
	uint64_t req = to->requests - from->requests;
	return req ? (double)(to->bad - from->bad) / (double)req : 0;
}

static bool read_now(struct slo_tracker *tr, const struct judged *j, uint64_t now_ns, struct sample *s)
{
	struct http_server_totals t;
	if (metrics_registry_server_totals(tr->reg, j->target, j->o->route[0] ? j->o->route : NULL,
					   j->bound_index, &t))
		return false;
	s->t_ns = now_ns;
	s->requests = t.requests;
	s->bad = slo_is_latency(j->o) ? t.requests - t.within : t.errors;
	return true;
}

static void judge(struct judged *j, const struct sample *now)
{
	struct slo_status *st = &j->status;
	double budget = 1.0 - j->o->target;
	for (int w = 0; w < SLO_RATE_WINDOWS; w++)
		st->burn[w] = bad_share(ring_start(&j->rings[w], now->t_ns), now) / budget;
	const struct sample *from = ring_start(&j->rings[BUDGET_RING], now->t_ns);
	st->requests = now->requests - from->requests;
	st->bad = now->bad - from->bad;
	st->watched_s = (double)(now->t_ns - from->t_ns) / 1e9;
	st->budget_left = 1.0 - bad_share(from, now) / budget;
	for (int a = 0; a < SLO_ALERTS; a++) {
		double limit = slo_alert_burn_rate(&slo_alerts[a], j->o);
		st->firing[a] = st->burn[slo_alerts[a].long_window] > limit &&
				st->burn[slo_alerts[a].short_window] > limit;
	}
}

/* Reads the counts, keeps them where a window needs them, judges. false: the target is gone. */
static bool observe(struct slo_tracker *tr, struct judged *j, uint64_t now_ns)
{
	struct sample now;
	if (!read_now(tr, j, now_ns, &now))
		return false;
	for (int r = 0; r < RINGS; r++)
		ring_push(&j->rings[r], &now);
	judge(j, &now);
	return true;
}

void slo_tracker_sample(struct slo_tracker *tr, uint64_t now_ns)
{
	if (!tr)
		return;
	pthread_mutex_lock(&tr->lock);
	for (size_t i = 0; i < tr->n; i++)
		observe(tr, &tr->judged[i], now_ns);
	pthread_mutex_unlock(&tr->lock);
}

int slo_tracker_add_target(struct slo_tracker *tr, int target, const char *service)
{
	if (!tr)
		return 0;
	uint64_t now_ns = clock_mono_ns();
	int added = 0;
	pthread_mutex_lock(&tr->lock);
	for (int k = 0; k < tr->nobjs; k++) {
		const struct slo_objective *o = &tr->objs[k];
		if (o->service[0] && strcmp(o->service, service ? service : ""))
			continue;
		if (tr->n == tr->cap) {
			size_t cap = tr->cap ? tr->cap * 2 : 8;
			struct judged *p = realloc(tr->judged, cap * sizeof(*p));
			if (!p) {
				pthread_mutex_unlock(&tr->lock);
				return -ENOMEM;
			}
			tr->judged = p, tr->cap = cap;
		}
		struct judged *j = &tr->judged[tr->n];
		memset(j, 0, sizeof(*j));
		j->target = target;
		j->o = o;
		j->bound_index =
			slo_is_latency(o) ? export_hist_bound_index((uint64_t)o->threshold_ms * 1000000) : -1;
		for (int w = 0; w < SLO_RATE_WINDOWS; w++)
			ring_init(&j->rings[w], (uint64_t)slo_rate_windows[w].seconds * 1000000000ull);
		ring_init(&j->rings[BUDGET_RING], (uint64_t)o->window_ms * 1000000ull);
		if (!observe(tr, j, now_ns))
			continue;
		tr->n++;
		added++;
	}
	pthread_mutex_unlock(&tr->lock);
	return added;
}

void slo_tracker_remove_target(struct slo_tracker *tr, int target)
{
	if (!tr)
		return;
	pthread_mutex_lock(&tr->lock);
	size_t o = 0;
	for (size_t i = 0; i < tr->n; i++)
		if (tr->judged[i].target != target)
			tr->judged[o++] = tr->judged[i];
	tr->n = o;
	pthread_mutex_unlock(&tr->lock);
}

int slo_tracker_status(struct slo_tracker *tr, int target, struct slo_status *out, int max)
{
	int n = 0;
	if (!tr)
		return 0;
	pthread_mutex_lock(&tr->lock);
	for (size_t i = 0; i < tr->n && n < max; i++)
		if (tr->judged[i].target == target) {
			out[n] = tr->judged[i].status;
			out[n++].o = tr->judged[i].o;
		}
	pthread_mutex_unlock(&tr->lock);
	return n;
}

static const char *severity_firing(const struct slo_status *s)
{
	const char *sev = NULL;
	for (int a = 0; a < SLO_ALERTS; a++)
		if (s->firing[a] && (!sev || !strcmp(slo_alerts[a].severity, "page")))
			sev = slo_alerts[a].severity;
	return sev;
}

void slo_tracker_status_line(struct slo_tracker *tr, int target, char *buf, size_t len)
{
	struct slo_status st[SLO_MAX];
	int n = slo_tracker_status(tr, target, st, SLO_MAX);
	size_t o = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && o < len; i++) {
		const char *sev = severity_firing(&st[i]);
		o += (size_t)snprintf(
			buf + o, len - o, "%sSLO %s %.6g%%: budget %.0f%% left, burn 1h %.1f 5m %.1f%s%s%s",
			i ? "; " : "", st[i].o->name, st[i].o->target * 100, st[i].budget_left * 100,
			st[i].burn[2], st[i].burn[0], sev ? " [" : "", sev ? sev : "", sev ? "]" : "");
	}
}

void slo_tracker_print_summary(struct slo_tracker *tr, int target, FILE *out)
{
	struct slo_status st[SLO_MAX];
	int n = slo_tracker_status(tr, target, st, SLO_MAX);
	for (int i = 0; i < n; i++) {
		const struct slo_status *s = &st[i];
		const char *sev = severity_firing(s);
		fprintf(out,
			"SLO %s (%s%s%s, target %.6g%%): %llu of %llu requests bad over %.0f s, "
			"error budget %.1f%% left, burn rate %.2f%s%s\n",
			s->o->name, s->o->objective, s->o->route[0] ? " of " : "", s->o->route,
			s->o->target * 100, (unsigned long long)s->bad, (unsigned long long)s->requests,
			s->watched_s, s->budget_left * 100,
			s->requests ? (double)s->bad / (double)s->requests / (1 - s->o->target) : 0,
			sev ? ", alert firing: " : "", sev ? sev : "");
	}
}

/* One objective's points of a gauge, into p[0..max): how many. */
typedef int (*objective_points_fn)(const struct judged *j, struct metric_point *p, int max);

/* The points of every objective judged for target, under the lock. */
static int target_points(struct slo_tracker *tr, int target, struct metric_point *p, int max,
			 objective_points_fn fn)
{
	int n = 0;
	pthread_mutex_lock(&tr->lock);
	for (size_t i = 0; i < tr->n && n < max; i++)
		if (tr->judged[i].target == target)
			n += fn(&tr->judged[i], p + n, max - n);
	pthread_mutex_unlock(&tr->lock);
	return n;
}

static int one_point(const struct judged *j, double value, struct metric_point *p, int max)
{
	if (max < 1)
		return 0;
	p[0] = (struct metric_point){ .attr_name = "slo", .attr_value = j->o->name, .value = value };
	return 1;
}

static int burn(const struct judged *j, struct metric_point *p, int max)
{
	int n = 0;
	for (int w = 0; w < SLO_RATE_WINDOWS && n < max; w++)
		p[n++] = (struct metric_point){ .attr_name = "slo",
						.attr_value = j->o->name,
						.attr2_name = "window",
						.attr2_value = slo_rate_windows[w].label,
						.value = j->status.burn[w] };
	return n;
}

static int budget(const struct judged *j, struct metric_point *p, int max)
{
	return one_point(j, j->status.budget_left, p, max);
}

static int objective(const struct judged *j, struct metric_point *p, int max)
{
	return one_point(j, j->o->target, p, max);
}

/* Per severity (page, ticket): how many of the scheme's alerts of that severity fire now, as
 * `glimpse slo rules` would have Prometheus decide from the same counts. */
static int firing(const struct judged *j, struct metric_point *p, int max)
{
	static const char *const severities[] = { "page", "ticket" };
	int n = 0;
	for (size_t k = 0; k < sizeof(severities) / sizeof(severities[0]) && n < max; k++) {
		int count = 0;
		for (int a = 0; a < SLO_ALERTS; a++)
			count += j->status.firing[a] && !strcmp(slo_alerts[a].severity, severities[k]);
		p[n++] = (struct metric_point){ .attr_name = "slo",
						.attr_value = j->o->name,
						.attr2_name = "severity",
						.attr2_value = severities[k],
						.value = count };
	}
	return n;
}

static int burn_points(void *ctx, int target, struct metric_point *p, int max)
{
	return target_points(ctx, target, p, max, burn);
}

static int budget_points(void *ctx, int target, struct metric_point *p, int max)
{
	return target_points(ctx, target, p, max, budget);
}

static int objective_points(void *ctx, int target, struct metric_point *p, int max)
{
	return target_points(ctx, target, p, max, objective);
}

static int firing_points(void *ctx, int target, struct metric_point *p, int max)
{
	return target_points(ctx, target, p, max, firing);
}

struct slo_tracker *slo_tracker_new(struct metrics_registry *reg, const struct slo_objective *objs, int n,
				    char *err, size_t errlen)
{
	if (n > SLO_MAX) {
		snprintf(err, errlen, "too many SLOs (%d); at most %d", n, SLO_MAX);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		if (slo_is_latency(&objs[i]) &&
		    export_hist_add_bound((uint64_t)objs[i].threshold_ms * 1000000) == -E2BIG) {
			snprintf(
				err, errlen,
				"too many distinct latency thresholds: at most %d beyond the default buckets",
				HIST_EXPORT_EXTRA_BOUNDS);
			return NULL;
		}
	struct slo_tracker *tr = calloc(1, sizeof(*tr));
	if (!tr) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&tr->lock, NULL);
	tr->reg = reg;
	memcpy(tr->objs, objs, (size_t)n * sizeof(objs[0]));
	tr->nobjs = n;
	if (metrics_registry_add_observer(reg, "glimpse.slo.burn_rate", "",
					  "How fast each SLO's error budget burns: the bad share of requests "
					  "over the window divided by the share the objective allows.",
					  METRIC_GAUGE, burn_points, tr) ||
	    metrics_registry_add_observer(reg, "glimpse.slo.error_budget.remaining", "1",
					  "Share of the SLO's error budget left over its period, as far as "
					  "glimpse has watched (below 0: overspent).",
					  METRIC_GAUGE, budget_points, tr) ||
	    metrics_registry_add_observer(reg, "glimpse.slo.target", "1",
					  "The SLO's objective: the share of requests that must be good.",
					  METRIC_GAUGE, objective_points, tr) ||
	    metrics_registry_add_observer(reg, "glimpse.slo.alerts.firing", "{alert}",
					  "The multiwindow burn-rate alerts of each SLO that fire now, by "
					  "severity (the alerts `glimpse slo rules` writes).",
					  METRIC_GAUGE, firing_points, tr)) {
		snprintf(err, errlen, "out of memory");
		slo_tracker_free(tr);
		return NULL;
	}
	return tr;
}

void slo_tracker_free(struct slo_tracker *tr)
{
	if (!tr)
		return;
	pthread_mutex_destroy(&tr->lock);
	free(tr->judged);
	free(tr);
}
