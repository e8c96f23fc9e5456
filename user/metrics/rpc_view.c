// SPDX-License-Identifier: Apache-2.0
/* The run's gRPC totals for the attach summary: calls served and made, by method and status,
 * from the registry's RPC series (addresses and ports summed). */
#include "metrics/registry.h"
#include "metrics/registry_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct rpc_op_row *row_for(struct rpc_summary *out, const struct rpc_parts *p, uint64_t count)
{
	for (size_t j = 0; j < out->n; j++)
		if (out->rows[j].server == p->server && !strcmp(out->rows[j].method, p->method) &&
		    !strcmp(out->rows[j].status, p->status))
			return &out->rows[j];
	if (out->n == RPC_SUMMARY_MAX_ROWS) {
		out->left_out += count;
		return NULL;
	}
	struct rpc_op_row *r = &out->rows[out->n++];
	r->server = p->server;
	snprintf(r->method, sizeof(r->method), "%s", p->method);
	snprintf(r->status, sizeof(r->status), "%s", p->status);
	return r;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct rpc_op_row *x = a, *y = b;
	int c;
	if (x->server != y->server)
		return x->server ? -1 : 1; /* served first */
	if ((c = strcmp(x->method, y->method)))
		return c;
	return strcmp(x->status, y->status);
}

int metrics_registry_rpc_summary(struct metrics_registry *reg, int target, struct rpc_summary *out)
{
	struct rpc_parts *p = malloc(sizeof(*p));
	memset(out, 0, sizeof(*out));
	if (!p)
		return -ENOMEM;
	pthread_mutex_lock(&reg->lock);
	struct target *t = target >= 0 && (size_t)target < reg->ntargets ? reg->targets[target] : NULL;
	const struct rpc_series *rs = t ? t->rpc.p : NULL;
	for (size_t i = 0; t && i < t->rpc.n; i++) {
		registry_rpc_split(rs[i].key, p);
		struct rpc_op_row *r = row_for(out, p, rs[i].h.count);
		if (!r)
			continue;
		r->count += rs[i].h.count;
		r->error |= rs[i].error;
		r->mean_s += (double)rs[i].h.sum_ns / 1e9; /* a sum until divided below */
	}
	pthread_mutex_unlock(&reg->lock);
	free(p);
	if (!t)
		return -ENOENT;
	for (size_t j = 0; j < out->n; j++)
		out->rows[j].mean_s = out->rows[j].count ? out->rows[j].mean_s / out->rows[j].count : 0;
	qsort(out->rows, out->n, sizeof(out->rows[0]), cmp_rows);
	return 0;
}
