// SPDX-License-Identifier: Apache-2.0
#include "metrics/sql_pools.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/procfs.h"

/* One scrape calls every observer: they share one reading of a target's pools. */
#define CACHE_NS 100000000LL
/* A reading taken while the pool changes can mix two states (the read is not under its
 * lock): one that does not check out is taken again before the pool is given up. */
#define READ_TRIES 3
#define MAX_SPAN   4096
#define MAX_NAMES  256

struct pool {
	uint64_t db;
	char system[24];
	unsigned ordinal;
	const char *name; /* interned: valid until sql_pools_free, whatever happens to the pool */
	bool have;	  /* stats is a checked reading */
	struct sql_pool_stats stats;
};

struct target_pools {
	int target;
	pid_t pid;
	struct sql_pool_layout layout;
	struct pool pools[SQL_POOLS_MAX];
	size_t n;
	int64_t read_at;
	unsigned found; /* pools announced so far: the first ones are logged */
	bool said_full, said_unreadable;
};

struct sql_pools {
	pthread_mutex_t lock;
	struct target_pools **targets;
	size_t n, cap;
	char names[MAX_NAMES][48];
	size_t nnames;
};

static struct target_pools *find_target(struct sql_pools *p, int target)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->targets[i]->target == target)
			return p->targets[i];
	return NULL;
}

static const char *intern(struct sql_pools *p, const char *name)
{
	for (size_t i = 0; i < p->nnames; i++)
		if (!strcmp(p->names[i], name))
			return p->names[i];
	if (p->nnames == MAX_NAMES)
		return NULL;
	snprintf(p->names[p->nnames], sizeof(p->names[0]), "%s", name);
	return p->names[p->nnames++];
}

/* The smallest ordinal no live pool of that system has: a pool closed and opened again keeps
 * its name. */
static unsigned free_ordinal(const struct target_pools *t, const char *system)
{
	for (unsigned n = 1;; n++) {
		bool used = false;
		for (size_t i = 0; i < t->n && !used; i++)
			used = t->pools[i].ordinal == n && !strcmp(t->pools[i].system, system);
		if (!used)
			return n;
	}
}

void sql_pools_saw(struct sql_pools *p, int target, uint64_t db, const char *system)
{
	if (!p || !db)
		return;
	pthread_mutex_lock(&p->lock);
	struct target_pools *t = find_target(p, target);
	bool known = !t;
	for (size_t i = 0; t && i < t->n && !known; i++)
		known = t->pools[i].db == db;
	if (known)
		goto out;
	if (t->n == SQL_POOLS_MAX) {
		if (!t->said_full)
			log_warn("process %d has more than %d database/sql pools: the others' pool metrics "
				 "are not read",
				 (int)t->pid, SQL_POOLS_MAX);
		t->said_full = true;
		goto out;
	}
	struct pool *np = &t->pools[t->n];
	char name[48];
	*np = (struct pool){ .db = db };
	snprintf(np->system, sizeof(np->system), "%s", system && system[0] ? system : "other_sql");
	np->ordinal = free_ordinal(t, np->system);
	sql_pool_name(np->system, np->ordinal, name, sizeof(name));
	if (!(np->name = intern(p, name)))
		goto out;
	t->n++;
	log_msg(t->found++ < SQL_POOLS_MAX ? LOG_INFO : LOG_DEBUG,
		"process %d: database/sql pool %s (the *sql.DB at %#llx): its connections are read at "
		"each scrape",
		(int)t->pid, np->name, (unsigned long long)db);
out:
	pthread_mutex_unlock(&p->lock);
}

/* One checked reading of a pool: 0, -ESRCH once the process is gone, or -EINVAL with why. */
static int read_pool(const struct target_pools *t, const struct pool *pl, struct sql_pool_stats *out,
		     const char **why)
{
	uint8_t buf[MAX_SPAN];
	for (int attempt = 0; attempt < READ_TRIES; attempt++) {
		int err = proc_mem_read(t->pid, pl->db, buf, t->layout.span);
		if (err == -ESRCH)
			return err;
		if (err) {
			*why = "its memory cannot be read";
			return -EINVAL;
		}
		int64_t map_count = 0;
		uint64_t map = sql_pool_requests_map(&t->layout, buf, t->layout.span);
		if (map && proc_mem_read(t->pid, map, &map_count, sizeof(map_count)))
			map_count = -1;
		*why = sql_pool_decode(&t->layout, buf, t->layout.span, map_count, out);
		if (!*why && pl->have)
			*why = sql_pool_follows(&pl->stats, out);
		if (!*why)
			return 0;
	}
	return -EINVAL;
}

static void drop_pool(struct target_pools *t, size_t i)
{
	t->pools[i] = t->pools[--t->n];
}

/* Called with the lock held. */
static void refresh(struct target_pools *t, bool force)
{
	int64_t now = (int64_t)clock_mono_ns();
	if (!force && t->read_at && now - t->read_at < CACHE_NS)
		return;
	t->read_at = now;
	for (size_t i = 0; i < t->n;) {
		struct pool *pl = &t->pools[i];
		struct sql_pool_stats cur;
		const char *why = NULL;
		int err = read_pool(t, pl, &cur, &why);
		if (err == -ESRCH) { /* the process is gone: its last reading stands */
			i++;
			continue;
		}
		if (!err && cur.closed) {
			log_info("process %d: database/sql pool %s was closed: its metrics stop", (int)t->pid,
				 pl->name);
			drop_pool(t, i);
			continue;
		}
		if (err) {
			/* Wrong data is worse than none: the pool is given up until a query shows a
			 * *sql.DB at that address again. */
			if (!t->said_unreadable)
				log_warn("process %d: database/sql pool %s (%#llx) no longer reads as a "
					 "sql.DB "
					 "(%s): its metrics stop until its next query",
					 (int)t->pid, pl->name, (unsigned long long)pl->db, why);
			t->said_unreadable = true;
			drop_pool(t, i);
			continue;
		}
		pl->stats = cur;
		pl->have = true;
		i++;
	}
}

/* The target's checked pools, copied out under the lock. */
static size_t snapshot(struct sql_pools *p, int target, bool force, struct pool *out)
{
	size_t n = 0;
	pthread_mutex_lock(&p->lock);
	struct target_pools *t = find_target(p, target);
	if (t) {
		refresh(t, force);
		for (size_t i = 0; i < t->n; i++)
			if (t->pools[i].have)
				out[n++] = t->pools[i];
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

#define POOL_ATTR  "db.client.connection.pool.name"
#define STATE_ATTR "db.client.connection.state"
#define CLOSE_ATTR "go.sql.connection.close_reason"

static struct metric_point pool_point(const struct pool *pl, double value)
{
	return (struct metric_point){ .attr_name = POOL_ATTR, .attr_value = pl->name, .value = value };
}

static int obs_count(void *ctx, int target, struct metric_point *pts, int max)
{
	struct pool pools[SQL_POOLS_MAX];
	size_t n = snapshot(ctx, target, false, pools);
	int k = 0;
	for (size_t i = 0; i < n && k + 2 <= max; i++) {
		pts[k] = pool_point(&pools[i], (double)pools[i].stats.idle);
		pts[k].attr2_name = STATE_ATTR;
		pts[k++].attr2_value = "idle";
		pts[k] = pool_point(&pools[i], (double)pools[i].stats.in_use);
		pts[k].attr2_name = STATE_ATTR;
		pts[k++].attr2_value = "used";
	}
	return k;
}

enum pool_figure {
	FIG_MAX,
	FIG_PENDING,
	FIG_WAIT_COUNT,
	FIG_WAIT_DURATION,
};

/* One point per pool that has the figure. */
static int figure_points(void *ctx, int target, struct metric_point *pts, int max, enum pool_figure fig)
{
	struct pool pools[SQL_POOLS_MAX];
	size_t n = snapshot(ctx, target, false, pools);
	int k = 0;
	for (size_t i = 0; i < n && k < max; i++) {
		const struct sql_pool_stats *s = &pools[i].stats;
		if (fig == FIG_MAX && s->max_open > 0)
			pts[k++] = pool_point(&pools[i], (double)s->max_open);
		else if (fig == FIG_PENDING && s->pending >= 0)
			pts[k++] = pool_point(&pools[i], (double)s->pending);
		else if (fig == FIG_WAIT_COUNT)
			pts[k++] = pool_point(&pools[i], (double)s->wait_count);
		else if (fig == FIG_WAIT_DURATION)
			pts[k++] = pool_point(&pools[i], s->wait_duration_ns / 1e9);
	}
	return k;
}

static int obs_max(void *ctx, int target, struct metric_point *pts, int max)
{
	return figure_points(ctx, target, pts, max, FIG_MAX);
}

static int obs_pending(void *ctx, int target, struct metric_point *pts, int max)
{
	return figure_points(ctx, target, pts, max, FIG_PENDING);
}

static int obs_wait_count(void *ctx, int target, struct metric_point *pts, int max)
{
	return figure_points(ctx, target, pts, max, FIG_WAIT_COUNT);
}

static int obs_wait_duration(void *ctx, int target, struct metric_point *pts, int max)
{
	return figure_points(ctx, target, pts, max, FIG_WAIT_DURATION);
}

static int obs_closed(void *ctx, int target, struct metric_point *pts, int max)
{
	struct pool pools[SQL_POOLS_MAX];
	size_t n = snapshot(ctx, target, false, pools);
	int k = 0;
	for (size_t i = 0; i < n && k + 3 <= max; i++) {
		const struct sql_pool_stats *s = &pools[i].stats;
		const struct {
			const char *reason;
			int64_t v;
		} by[] = { { "max_idle", s->closed_max_idle },
			   { "max_idle_time", s->closed_max_idle_time },
			   { "max_lifetime", s->closed_max_lifetime } };
		for (size_t j = 0; j < 3; j++) {
			pts[k] = pool_point(&pools[i], (double)by[j].v);
			pts[k].attr2_name = CLOSE_ATTR;
			pts[k++].attr2_value = by[j].reason;
		}
	}
	return k;
}

_Static_assert(SQL_POOLS_MAX * 3 <= METRIC_MAX_POINTS, "every pool's points fit");

static const struct {
	const char *name, *unit, *help;
	enum metric_type type;
	metric_points_fn fn;
} observers[] = {
	{ "db.client.connection.count", "{connection}",
	  "Connections of a database/sql pool by state (DBStats.Idle, DBStats.InUse).", METRIC_GAUGE,
	  obs_count },
	{ "db.client.connection.max", "{connection}",
	  "The pool's limit on open connections (SetMaxOpenConns); absent when it has none.", METRIC_GAUGE,
	  obs_max },
	{ "db.client.connection.pending_requests", "{request}",
	  "Requests waiting for a connection of the pool now.", METRIC_GAUGE, obs_pending },
	{ "go.sql.connection.wait_count", "{request}",
	  "Requests that waited for a connection (DBStats.WaitCount).", METRIC_COUNTER, obs_wait_count },
	{ "go.sql.connection.wait_duration", "s",
	  "Total time requests waited for a connection (DBStats.WaitDuration).", METRIC_COUNTER,
	  obs_wait_duration },
	{ "go.sql.connection.closed", "{connection}",
	  "Connections the pool closed, by the limit that closed them (DBStats.MaxIdleClosed, "
	  "MaxIdleTimeClosed, MaxLifetimeClosed).",
	  METRIC_COUNTER, obs_closed },
};

struct sql_pools *sql_pools_new(struct metrics_registry *reg)
{
	struct sql_pools *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	for (size_t i = 0; i < sizeof(observers) / sizeof(observers[0]); i++)
		if (metrics_registry_add_observer(reg, observers[i].name, observers[i].unit,
						  observers[i].help, observers[i].type, observers[i].fn, p)) {
			sql_pools_free(p);
			return NULL;
		}
	return p;
}

int sql_pools_add_target(struct sql_pools *p, int target, pid_t pid, const struct go_http_offsets *o,
			 uint32_t map_layout)
{
	struct sql_pool_layout layout;
	const char *why = sql_pool_layout_from_offsets(o, map_layout, &layout);
	if (!why && layout.span > MAX_SPAN)
		why = "database/sql.DB is larger than glimpse reads";
	if (why) {
		log_warn("process %d: database/sql pool metrics are not measured: %s", (int)pid, why);
		return -ENOTSUP;
	}
	if (layout.requests == SQL_POOL_REQUESTS_UNKNOWN)
		log_warn(
			"process %d: database/sql's waiting requests (db.client.connection.pending_requests) "
			"are not measured: its DB.connRequests is neither a bucket map nor a connRequestSet",
			(int)pid);
	struct target_pools *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct target_pools){ .target = target, .pid = pid, .layout = layout };
	pthread_mutex_lock(&p->lock);
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 4;
		struct target_pools **grown = realloc(p->targets, cap * sizeof(*grown));
		if (!grown) {
			pthread_mutex_unlock(&p->lock);
			free(t);
			return -ENOMEM;
		}
		p->targets = grown;
		p->cap = cap;
	}
	p->targets[p->n++] = t;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void sql_pools_remove_target(struct sql_pools *p, int target)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n; i++)
		if (p->targets[i]->target == target) {
			free(p->targets[i]);
			p->targets[i] = p->targets[--p->n];
			break;
		}
	pthread_mutex_unlock(&p->lock);
}

size_t sql_pools_rows(struct sql_pools *p, int target, struct sql_pool_row *rows, size_t max)
{
	struct pool pools[SQL_POOLS_MAX];
	size_t n = p ? snapshot(p, target, true, pools) : 0;
	for (size_t i = 0; i < n && i < max; i++) {
		snprintf(rows[i].name, sizeof(rows[i].name), "%s", pools[i].name);
		rows[i].db = pools[i].db;
		rows[i].stats = pools[i].stats;
	}
	return n < max ? n : max;
}

/* max as "-" without a limit, pending as "-" when it cannot be read. */
static void limit_texts(const struct sql_pool_stats *s, char *max, char *pending, size_t len)
{
	snprintf(max, len, "-");
	snprintf(pending, len, "-");
	if (s->max_open > 0)
		snprintf(max, len, "%lld", (long long)s->max_open);
	if (s->pending >= 0)
		snprintf(pending, len, "%lld", (long long)s->pending);
}

void sql_pools_append_status(struct sql_pools *p, int target, char *buf, size_t len)
{
	struct sql_pool_row rows[SQL_POOLS_MAX];
	size_t n = sql_pools_rows(p, target, rows, SQL_POOLS_MAX), used = strlen(buf);
	for (size_t i = 0; i < n && used + 1 < len; i++) {
		const struct sql_pool_stats *s = &rows[i].stats;
		char max[24], waiting[24];
		limit_texts(s, max, waiting, sizeof(max));
		int w = snprintf(buf + used, len - used, "%spool %s used=%lld/%s idle=%lld waiting=%s",
				 used && buf[used - 1] != ' ' ? " " : "", rows[i].name, (long long)s->in_use,
				 max, (long long)s->idle, waiting);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

void sql_pools_print_summary(struct sql_pools *p, int target, FILE *out)
{
	struct sql_pool_row rows[SQL_POOLS_MAX];
	size_t n = sql_pools_rows(p, target, rows, SQL_POOLS_MAX);
	if (!n)
		return;
	fprintf(out, "Connection pools (database/sql):\n%-16s %6s %6s %6s %6s %8s %10s %10s\n", "POOL",
		"OPEN", "USED", "IDLE", "MAX", "WAITING", "WAITS", "WAITED");
	for (size_t i = 0; i < n; i++) {
		const struct sql_pool_stats *s = &rows[i].stats;
		char max[24], pending[24];
		limit_texts(s, max, pending, sizeof(max));
		fprintf(out, "%-16s %6lld %6lld %6lld %6s %8s %10lld %9.3fs\n", rows[i].name,
			(long long)s->open, (long long)s->in_use, (long long)s->idle, max, pending,
			(long long)s->wait_count, s->wait_duration_ns / 1e9);
	}
}

void sql_pools_free(struct sql_pools *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->targets[i]);
	free(p->targets);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
