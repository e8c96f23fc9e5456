// SPDX-License-Identifier: Apache-2.0
#include "sockcap/sock_spans.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uthash.h>

#include "traceparent.h"
#include "gotrace/route.h"
#include "gotrace/sql_text.h"
#include "metrics/registry.h"
#include "metrics/semconv.h"
#include "sockcap/sock_metrics.h"

struct thread_state {
	uint32_t tid;	  /* hash key */
	uint64_t serving; /* connection whose request it read and has not answered; 0: none */
	bool multiplexed; /* read a second connection's request while serving one */
	int nchildren, cap;
	struct span_record *children; /* grown on demand, up to SOCK_SPANS_MAX_CHILDREN */
	UT_hash_handle hh;
};

struct sock_spans {
	struct trace_pipeline *tp;
	struct thread_state *threads;
	uint64_t rng;
};

static uint64_t next_random(struct sock_spans *s)
{
	/* xorshift64*: ids need to be unique, not secret. */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t new_id(struct sock_spans *s)
{
	uint64_t id;
	while (!(id = next_random(s)))
		;
	return id;
}

static void new_trace_id(struct sock_spans *s, uint8_t out[16])
{
	uint64_t a = new_id(s), b = next_random(s);
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
}

struct sock_spans *sock_spans_new(struct trace_pipeline *tp)
{
	struct sock_spans *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->tp = tp;
	if (getrandom(&s->rng, sizeof(s->rng), 0) != sizeof(s->rng) || !s->rng)
		s->rng = 0x9E3779B97F4A7C15ULL;
	return s;
}

/* The thread's children go out as traces of their own (their request was never answered). */
static void release_children(struct sock_spans *s, struct thread_state *t)
{
	for (int i = 0; i < t->nchildren; i++) {
		new_trace_id(s, t->children[i].trace_id);
		t->children[i].parent_span_id = 0;
		t->children[i].local_child = false;
		trace_pipeline_span(s->tp, &t->children[i]);
	}
	t->nchildren = 0;
}

static struct thread_state *thread_get(struct sock_spans *s, uint32_t tid, bool create)
{
	struct thread_state *t;
	HASH_FIND(hh, s->threads, &tid, sizeof(tid), t);
	if (t || !create)
		return t;
	if (HASH_COUNT(s->threads) >= SOCK_SPANS_MAX_THREADS) {
		struct thread_state *oldest = s->threads; /* insertion order */
		release_children(s, oldest);
		HASH_DEL(s->threads, oldest);
		free(oldest->children);
		free(oldest);
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->tid = tid;
	HASH_ADD(hh, s->threads, tid, sizeof(t->tid), t);
	return t;
}

void sock_spans_request_read(struct sock_spans *s, uint32_t tid, uint64_t conn_id)
{
	struct thread_state *t = thread_get(s, tid, true);
	if (!t || t->serving == conn_id)
		return;
	if (t->serving) {
		/* A second connection's request before the first one's answer: an event loop. */
		t->multiplexed = true;
		release_children(s, t);
	}
	t->serving = conn_id;
}

static void span_times(struct sock_spans *s, const struct wire_call *w, int target, struct span_record *r)
{
	int64_t offset = trace_pipeline_builder(s->tp)->mono_to_unix_ns;
	r->target = target;
	r->span_id = new_id(s);
	r->start_unix_ns = w->start_ns + offset;
	r->end_unix_ns = (w->end_ns > w->start_ns ? w->end_ns : w->start_ns) + offset;
}

static void build_server(struct sock_spans *s, const struct sock_call *c, int target, struct span_record *r)
{
	const struct wire_call *w = c->wire;
	const struct span_builder_opts *o = &trace_pipeline_builder(s->tp)->opts;
	r->kind = SPAN_SERVER;
	snprintf(r->method, sizeof(r->method), "%s", http_method_normalize(w->method));
	r->status = w->status;
	route_for_request(c->go_pattern, w->path, w->status, r->route, sizeof(r->route));
	if (o->routes && r->route[0])
		metrics_registry_cap_route(o->routes, target, r->route, r->route, sizeof(r->route));
	if (o->url_path)
		snprintf(r->url_path, sizeof(r->url_path), "%.*s", (int)sizeof(r->url_path) - 1, w->path);
	snprintf(r->protocol_version, sizeof(r->protocol_version), "%s",
		 semconv_http_protocol_version(1, w->version_minor) ?: "");
	r->server_port = c->local_port;
	r->error = semconv_http_server_error(w->status);
	if (r->error)
		semconv_http_error_type(w->status, r->error_type, sizeof(r->error_type));
	if (r->route[0])
		snprintf(r->name, sizeof(r->name), "%s %s", r->method, r->route);
	else
		snprintf(r->name, sizeof(r->name), "%s", r->method);
	struct traceparent parent;
	size_t len = strnlen(w->traceparent, sizeof(w->traceparent));
	char value[TRACEPARENT_READ_LEN] = { 0 };
	memcpy(value, w->traceparent, len < sizeof(value) ? len : sizeof(value));
	if (len && traceparent_parse(value, len, &parent)) {
		memcpy(r->trace_id, parent.trace_id, sizeof(r->trace_id));
		r->parent_span_id = parent.parent_id;
		r->remote_parent = true;
		r->parent_sampled = parent.flags & TRACEPARENT_FLAG_SAMPLED;
	} else {
		new_trace_id(s, r->trace_id);
	}
}

static void build_client(struct sock_spans *s, const struct sock_call *c, struct span_record *r)
{
	const struct wire_call *w = c->wire;
	const struct span_builder_opts *o = &trace_pipeline_builder(s->tp)->opts;
	r->kind = SPAN_CLIENT;
	r->server_port = c->peer_port;
	snprintf(r->server_address, sizeof(r->server_address), "%s", c->peer_address);
	if (w->protocol == WIRE_HTTP1) {
		snprintf(r->method, sizeof(r->method), "%s", http_method_normalize(w->method));
		r->status = w->status;
		r->error = semconv_http_client_error(w->status);
		if (r->error)
			semconv_http_error_type(w->status, r->error_type, sizeof(r->error_type));
		snprintf(r->name, sizeof(r->name), "%s", r->method);
		return;
	}
	snprintf(r->db_system, sizeof(r->db_system), "%s", sock_db_system(w->protocol));
	sock_db_names(w, r->db_operation, sizeof(r->db_operation), r->db_collection,
		      sizeof(r->db_collection));
	if (w->protocol == WIRE_POSTGRES && o->raw_query)
		snprintf(r->db_query, sizeof(r->db_query), "%s", w->query);
	else if (w->protocol == WIRE_POSTGRES)
		sql_sanitize(w->query, strnlen(w->query, sizeof(w->query)), r->db_query, sizeof(r->db_query));
	r->error = w->error;
	if (r->error)
		snprintf(r->error_type, sizeof(r->error_type), "%s",
			 w->error_type[0] ? w->error_type : "_OTHER");
	if (r->db_operation[0] && r->db_collection[0])
		snprintf(r->name, sizeof(r->name), "%s %s", r->db_operation, r->db_collection);
	else
		snprintf(r->name, sizeof(r->name), "%s", r->db_operation[0] ? r->db_operation : r->db_system);
}

static void on_server(struct sock_spans *s, const struct sock_call *c, int target)
{
	struct span_record server = { 0 };
	span_times(s, c->wire, target, &server);
	build_server(s, c, target, &server);
	struct thread_state *t = thread_get(s, c->tid, false);
	if (t && t->serving == c->conn_id) {
		for (int i = 0; i < t->nchildren; i++) {
			struct span_record *child = &t->children[i];
			memcpy(child->trace_id, server.trace_id, sizeof(child->trace_id));
			child->parent_span_id = server.span_id;
			child->parent_sampled = server.parent_sampled;
			child->local_child = true;
			trace_pipeline_span(s->tp, child);
		}
		t->nchildren = 0;
		t->serving = 0;
	}
	trace_pipeline_span(s->tp, &server); /* last: the assembler decides the trace with it */
}

static bool hold_child(struct thread_state *t, const struct span_record *r)
{
	if (t->nchildren == t->cap) {
		int cap = t->cap ? t->cap * 2 : 4;
		if (cap > SOCK_SPANS_MAX_CHILDREN)
			return false;
		struct span_record *grown = realloc(t->children, (size_t)cap * sizeof(*grown));
		if (!grown)
			return false;
		t->children = grown;
		t->cap = cap;
	}
	t->children[t->nchildren++] = *r;
	return true;
}

void sock_spans_call(struct sock_spans *s, const struct sock_call *c, int target)
{
	if (c->server) {
		if (c->wire->protocol == WIRE_HTTP1)
			on_server(s, c, target);
		return;
	}
	struct span_record r = { 0 };
	span_times(s, c->wire, target, &r);
	build_client(s, c, &r);
	if (c->go && (c->go->flags & SOCKCAP_GO_CTX)) {
		/* A Go program: the kernel read, at the request's write, which request the
		 * goroutine served (its own, or the one that started it). */
		memcpy(r.trace_id, c->go->trace_id, sizeof(r.trace_id));
		r.parent_span_id = c->go->span_id;
		r.parent_sampled = c->go->go_flags & GOTRACE_F_SAMPLED;
		r.remote_parent = c->go->go_flags & GOTRACE_F_REMOTE_PARENT;
		r.local_child = true;
		trace_pipeline_span(s->tp, &r);
		return;
	}
	/* Threads say nothing of a Go program's requests (goroutines move between them). */
	struct thread_state *t = c->go ? NULL : thread_get(s, c->tid, false);
	if (t && t->serving && !t->multiplexed && hold_child(t, &r))
		return; /* ids filled in when its request is answered */
	new_trace_id(s, r.trace_id);
	trace_pipeline_span(s->tp, &r);
}

void sock_spans_free(struct sock_spans *s)
{
	if (!s)
		return;
	struct thread_state *t, *tmp;
	HASH_ITER (hh, s->threads, t, tmp) {
		release_children(s, t);
		HASH_DEL(s->threads, t);
		free(t->children);
		free(t);
	}
	free(s);
}
