// SPDX-License-Identifier: Apache-2.0
#include "sockcap/sock_hold.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

struct held {
	struct sock_call call;
	struct wire_call wire;
	struct sockcap_go_ctx go;
	int target;
	uint64_t since_ns;
};

struct held_conn {
	uint64_t conn_id; /* hash key */
	struct held calls[SOCK_HOLD_PER_CONN];
	unsigned n;
	UT_hash_handle hh;
};

struct sock_hold {
	struct held_conn *conns; /* insertion order: the oldest first */
	unsigned nconns, ncalls;
};

struct sock_hold *sock_hold_new(void)
{
	return calloc(1, sizeof(struct sock_hold));
}

bool sock_hold_add(struct sock_hold *h, const struct sock_call *c, int target, uint64_t now_ns)
{
	struct held_conn *hc;
	HASH_FIND(hh, h->conns, &c->conn_id, sizeof(c->conn_id), hc);
	if (!hc) {
		if (h->nconns == SOCK_HOLD_CONNS || !(hc = calloc(1, sizeof(*hc))))
			return false;
		hc->conn_id = c->conn_id;
		HASH_ADD(hh, h->conns, conn_id, sizeof(hc->conn_id), hc);
		h->nconns++;
	}
	if (hc->n == SOCK_HOLD_PER_CONN)
		return false;
	struct held *x = &hc->calls[hc->n++];
	x->call = *c;
	x->wire = *c->wire;
	x->call.wire = &x->wire;
	if (c->go) {
		x->go = *c->go;
		x->call.go = &x->go;
	}
	x->target = target;
	x->since_ns = now_ns;
	h->ncalls++;
	return true;
}

static void conn_free(struct sock_hold *h, struct held_conn *hc)
{
	h->ncalls -= hc->n;
	h->nconns--;
	HASH_DEL(h->conns, hc);
	free(hc);
}

unsigned sock_hold_drop(struct sock_hold *h, uint64_t conn_id)
{
	struct held_conn *hc;
	HASH_FIND(hh, h->conns, &conn_id, sizeof(conn_id), hc);
	if (!hc)
		return 0;
	unsigned n = hc->n;
	conn_free(h, hc);
	return n;
}

void sock_hold_release(struct sock_hold *h, uint64_t before_ns, sock_hold_fn fn, void *ctx)
{
	struct held_conn *hc, *tmp;
	HASH_ITER (hh, h->conns, hc, tmp) {
		unsigned done = 0;
		while (done < hc->n && hc->calls[done].since_ns < before_ns) {
			/* The pointers inside point into hc->calls[done]: valid through the call. */
			fn(ctx, &hc->calls[done].call, hc->calls[done].target);
			done++;
		}
		if (done == hc->n) {
			conn_free(h, hc);
			continue;
		}
		for (unsigned i = done; i < hc->n; i++) {
			hc->calls[i - done] = hc->calls[i];
			hc->calls[i - done].call.wire = &hc->calls[i - done].wire;
			if (hc->calls[i - done].call.go)
				hc->calls[i - done].call.go = &hc->calls[i - done].go;
		}
		hc->n -= done;
		h->ncalls -= done;
	}
}

unsigned sock_hold_count(const struct sock_hold *h)
{
	return h->ncalls;
}

void sock_hold_free(struct sock_hold *h)
{
	if (!h)
		return;
	struct held_conn *hc, *tmp;
	HASH_ITER (hh, h->conns, hc, tmp)
		conn_free(h, hc);
	free(h);
}
