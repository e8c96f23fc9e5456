// SPDX-License-Identifier: Apache-2.0
#include "sockcap/sock_streams.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uthash.h>

/* A message's first bytes may come a few at a time (a client writing byte by byte): up to this
 * many are gathered, in one direction, before a protocol is looked for in vain. */
#define PREFIX_MAX 64
/* A Go target's last writes per connection, by start time: a finished call finds the one that
 * carried its request's first byte (a pipeline's requests are all in the last few writes). */
#define GO_WRITES 8

struct go_writes {
	uint64_t start_ns[GO_WRITES];
	struct sockcap_go_ctx ctx[GO_WRITES];
	unsigned next;
};

struct stream {
	struct sockcap_conn_key key; /* hash key */
	uint64_t conn_id;
	const struct wire_parser_ops *ops; /* NULL until recognized */
	struct wire_parser *parser;
	bool server, given_up;
	/* Before its protocol is known: the bytes gathered so far in one direction, and in which
	 * directions a full PREFIX_MAX (or a whole chunk as long) matched nothing. */
	uint8_t prefix[PREFIX_MAX];
	uint8_t prefix_len, prefix_dir;
	uint64_t prefix_start_ns;
	bool tried[2];
	/* Who the connection links, from its first event. */
	uint32_t root;
	uint16_t family, local_port, peer_port;
	uint8_t peer_addr[16];
	struct go_writes *go; /* only for a Go target's connections */
	bool go_sql;	      /* has carried a database/sql call */
	UT_hash_handle hh;
};

struct sock_streams {
	struct stream *streams;
	unsigned count;
	struct sock_streams_callbacks cb;
	void *ctx;
	struct sock_stream_stats stats;
	struct stream *current; /* the stream whose parser is calling back */
	uint32_t current_tid;	/* ... and the thread of the chunk it was fed */
};

struct sock_streams *sock_streams_new(const struct sock_streams_callbacks *cb, void *ctx)
{
	struct sock_streams *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cb = *cb;
	s->ctx = ctx;
	return s;
}

static void stream_drop(struct sock_streams *s, struct stream *st)
{
	if (st->ops && st->parser)
		st->ops->close(st->parser, &s->stats.wire);
	HASH_DEL(s->streams, st);
	s->count--;
	free(st->go);
	free(st);
}

/* The connection followed longest (the table keeps insertion order): O(1), where finding the
 * least recently active one would walk every connection on each new one in a connection storm. */
static void evict_oldest(struct sock_streams *s)
{
	if (s->streams) {
		stream_drop(s, s->streams);
		s->stats.evicted++;
	}
}

static struct stream *stream_for(struct sock_streams *s, const struct sockcap_event *ev)
{
	struct sockcap_conn_key key = { .tgid = ev->tgid, .fd = ev->fd };
	struct stream *st;
	HASH_FIND(hh, s->streams, &key, sizeof(key), st);
	if (st && st->conn_id == ev->conn_id)
		return st;
	if (st) /* the fd now names another connection: the old one closed unseen */
		stream_drop(s, st);
	if (s->count >= SOCK_STREAMS_MAX)
		evict_oldest(s);
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->key = key;
	st->conn_id = ev->conn_id;
	st->root = ev->root;
	st->family = ev->family;
	st->local_port = ev->local_port;
	st->peer_port = ev->peer_port;
	memcpy(st->peer_addr, ev->peer_addr, sizeof(st->peer_addr));
	HASH_ADD(hh, s->streams, key, sizeof(st->key), st);
	s->count++;
	return st;
}

static void give_up(struct sock_streams *s, struct stream *st, bool encrypted)
{
	st->given_up = true;
	s->stats.unrecognized++;
	if (encrypted)
		s->stats.encrypted++;
	if (s->cb.skip)
		s->cb.skip(s->ctx, st->key.tgid, st->key.fd, st->conn_id);
}

/* A TLS record header (handshake or application data, TLS 1.0-1.3): its bytes are ciphertext. */
static bool is_tls_record(const uint8_t *d, size_t len)
{
	return len >= 3 && (d[0] == 0x16 || d[0] == 0x17) && d[1] == 3 && d[2] <= 4;
}

static const struct sockcap_go_ctx *go_write(const struct stream *st, uint64_t start_ns)
{
	if (!st->go)
		return NULL;
	for (unsigned i = 0; i < GO_WRITES; i++)
		if (st->go->start_ns[i] == start_ns && st->go->ctx[i].flags)
			return &st->go->ctx[i];
	return NULL;
}

static void go_remember(struct stream *st, const struct sockcap_event *ev)
{
	if (!(ev->go.flags & SOCKCAP_GO_SEEN))
		return;
	if (!st->go && !(st->go = calloc(1, sizeof(*st->go))))
		return;
	unsigned i = st->go->next++ % GO_WRITES;
	st->go->start_ns[i] = ev->start_ns;
	st->go->ctx[i] = ev->go;
}

static void on_wire_call(void *ctx, const struct wire_call *w)
{
	struct sock_streams *s = ctx;
	struct stream *st = s->current;
	struct sock_call c = {
		.wire = w,
		.server = st->server,
		.pid = st->key.tgid,
		.root = st->root,
		.tid = s->current_tid,
		.conn_id = st->conn_id,
		.family = st->family,
		.local_port = st->local_port,
		.peer_port = st->peer_port,
	};
	if (!st->server && (c.go = go_write(st, w->start_ns)) && (c.go->flags & SOCKCAP_GO_IN_SQL))
		st->go_sql = true;
	c.go_sql_conn = st->go_sql;
	if (st->family == AF_INET || st->family == AF_INET6)
		inet_ntop(st->family, st->peer_addr, c.peer_address, sizeof(c.peer_address));
	if (w->protocol < sizeof(s->stats.calls) / sizeof(s->stats.calls[0]))
		s->stats.calls[w->protocol]++;
	s->cb.call(s->ctx, &c);
}

static bool start_parser(struct sock_streams *s, struct stream *st, enum wire_protocol p, uint8_t dir)
{
	/* A client's message that glimpse read means it watches the server, and the reverse. */
	st->server = dir == SOCKCAP_INGRESS;
	st->ops = wire_parser_ops_for(p);
	st->parser = st->ops ? st->ops->open() : NULL;
	if (st->parser)
		return true;
	st->ops = NULL;
	give_up(s, st, false);
	return false;
}

static uint64_t chunk_start_ns(const struct sockcap_event *ev)
{
	/* Bytes read arrived when the read returned: a blocking read's start is idle time. */
	return ev->dir == SOCKCAP_INGRESS ? ev->end_ns : ev->start_ns;
}

static void feed(struct sock_streams *s, struct stream *st, const struct sockcap_event *ev,
		 const struct wire_chunk *chunk)
{
	if (chunk->from_client && st->server && s->cb.request_read)
		s->cb.request_read(s->ctx, ev->tid, st->conn_id);
	s->current = st;
	s->current_tid = ev->tid;
	st->ops->feed(st->parser, chunk, &s->stats.wire, on_wire_call, s);
	s->current = NULL;
}

/* Looks for the connection's protocol in the bytes gathered before ev and in ev. Recognized:
 * the parser starts with one chunk of all of them. A connection whose bytes matched nothing in
 * both directions (a full PREFIX_MAX, or all one side said before the other spoke: one opened
 * before glimpse attached may first show the end of a reply, then a request), or that carries
 * TLS, is given up on. */
static void recognize(struct sock_streams *s, struct stream *st, const struct sockcap_event *ev)
{
	if (!ev->len)
		return; /* sendfile: no bytes to look at */
	if (st->prefix_len && (ev->dir != st->prefix_dir || ev->len != ev->total)) {
		/* Not a continuation: what was gathered was all that side said, and matched nothing. */
		st->tried[st->prefix_dir & 1] = true;
		st->prefix_len = 0;
	}
	if (!st->prefix_len) {
		st->prefix_dir = ev->dir;
		st->prefix_start_ns = chunk_start_ns(ev);
	}
	uint8_t joined[PREFIX_MAX + SOCKCAP_DATA_MAX];
	size_t len = st->prefix_len;
	memcpy(joined, st->prefix, len);
	memcpy(joined + len, ev->data, ev->len);
	len += ev->len;
	enum wire_protocol p = wire_detect(joined, len);
	if (p != WIRE_UNKNOWN) {
		if (s->cb.accept && !s->cb.accept(s->ctx, st->root, p)) {
			st->given_up = true;
			s->stats.declined++;
			if (s->cb.skip)
				s->cb.skip(s->ctx, st->key.tgid, st->key.fd, st->conn_id);
			return;
		}
		if (!start_parser(s, st, p, ev->dir))
			return;
		struct wire_chunk chunk = {
			.from_client = (ev->dir == SOCKCAP_INGRESS) == st->server,
			.data = joined,
			.len = len,
			.total = st->prefix_len + (size_t)ev->total,
			.start_ns = st->prefix_start_ns,
			.end_ns = ev->end_ns,
		};
		st->prefix_len = 0;
		feed(s, st, ev, &chunk);
		return;
	}
	if (is_tls_record(joined, len)) {
		give_up(s, st, true);
		return;
	}
	if (len >= PREFIX_MAX || ev->len != ev->total) {
		st->prefix_len = 0;
		st->tried[ev->dir & 1] = true;
	} else {
		memcpy(st->prefix, joined, len); /* too few bytes to tell yet */
		st->prefix_len = (uint8_t)len;
	}
	if (st->tried[0] && st->tried[1])
		give_up(s, st, false);
}

static void on_data(struct sock_streams *s, const struct sockcap_event *ev)
{
	struct stream *st = stream_for(s, ev);
	if (!st || st->given_up)
		return;
	if (ev->dir == SOCKCAP_EGRESS)
		go_remember(st, ev);
	if (!st->ops) {
		recognize(s, st, ev);
		return;
	}
	struct wire_chunk chunk = {
		.from_client = (ev->dir == SOCKCAP_INGRESS) == st->server,
		.data = ev->data,
		.len = ev->len,
		.total = ev->total,
		.start_ns = chunk_start_ns(ev),
		.end_ns = ev->end_ns,
	};
	feed(s, st, ev, &chunk);
}

void sock_streams_event(struct sock_streams *s, const struct sockcap_event *ev)
{
	switch (ev->kind) {
	case SOCKCAP_DATA:
		on_data(s, ev);
		break;
	case SOCKCAP_CLOSE: {
		struct sockcap_conn_key key = { .tgid = ev->tgid, .fd = ev->fd };
		struct stream *st;
		HASH_FIND(hh, s->streams, &key, sizeof(key), st);
		if (st && st->conn_id == ev->conn_id)
			stream_drop(s, st);
		break;
	}
	case SOCKCAP_PROC_EXIT:
		sock_streams_forget_process(s, ev->tgid);
		break;
	default:
		break;
	}
}

void sock_streams_forget_process(struct sock_streams *s, uint32_t tgid)
{
	struct stream *st, *tmp;
	HASH_ITER (hh, s->streams, st, tmp)
		if (st->key.tgid == tgid)
			stream_drop(s, st);
}

const struct sock_stream_stats *sock_streams_stats(const struct sock_streams *s)
{
	return &s->stats;
}

unsigned sock_streams_count(const struct sock_streams *s)
{
	return s->count;
}

void sock_streams_free(struct sock_streams *s)
{
	if (!s)
		return;
	struct stream *st, *tmp;
	HASH_ITER (hh, s->streams, st, tmp)
		stream_drop(s, st);
	free(s);
}
