// SPDX-License-Identifier: Apache-2.0
/* Totals over a target's server series, for the objectives that judge them (metrics/slo.c):
 * HTTP requests, and the gRPC calls it served (on no route: gRPC has methods, not routes). */
#include "metrics/registry.h"
#include "metrics/registry_internal.h"
#include "metrics/semconv.h"

#include <errno.h>
#include <string.h>

static uint64_t count_within(const struct export_hist *h, int bound_index)
{
	uint64_t n = 0;
	for (int b = 0; b <= bound_index && b < (int)hist_export_nbounds; b++)
		n += h->buckets[b];
	return n;
}

int metrics_registry_server_totals(struct metrics_registry *reg, int target, const char *route,
				   int bound_index, struct http_server_totals *out)
{
	memset(out, 0, sizeof(*out));
	int rc = -ENOENT;
	pthread_mutex_lock(&reg->lock);
	if (target >= 0 && (size_t)target < reg->ntargets && reg->targets[target]) {
		const struct target *t = reg->targets[target];
		const struct server_series *all = t->server.p;
		for (size_t i = 0; i < t->server.n; i++) {
			const struct server_series *ss = &all[i];
			if (route && strcmp(ss->route ? ss->route : "", route))
				continue;
			out->requests += ss->h.count;
			if (semconv_http_server_error(ss->status))
				out->errors += ss->h.count;
			out->within += count_within(&ss->h, bound_index);
		}
		const struct rpc_series *rpc = t->rpc.p;
		for (size_t i = 0; !route && i < t->rpc.n; i++) {
			if (rpc[i].key[0] != 's') /* the server's side */
				continue;
			out->requests += rpc[i].h.count;
			if (rpc[i].error) /* the RPC conventions' server errors (semconv.h) */
				out->errors += rpc[i].h.count;
			out->within += count_within(&rpc[i].h, bound_index);
		}
		rc = 0;
	}
	pthread_mutex_unlock(&reg->lock);
	return rc;
}
