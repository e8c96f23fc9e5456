// SPDX-License-Identifier: Apache-2.0
/* sockcap/sock_streams.c: from the socket probe's events to calls. Which side glimpse watches
 * (who read the client's message), a message whose first bytes come a few at a time, a
 * connection first seen mid-reply, giving up on what no parser reads (and telling the kernel),
 * and what a close, a reused fd or a process exit does to the requests still waiting. Ground
 * truth: the events each test makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sockcap/sock_streams.h"

struct sink {
	struct sock_streams *s;
	struct sock_call calls[8];
	struct wire_call wires[8];
	struct sockcap_go_ctx go[8]; /* calls[i].go points here when set */
	int ncalls, nskips, nreads;
	uint32_t read_tid;
	uint64_t skipped_conn;
};

static void on_call(void *ctx, const struct sock_call *c)
{
	struct sink *k = ctx;
	assert_true(k->ncalls < 8);
	k->wires[k->ncalls] = *c->wire;
	k->calls[k->ncalls] = *c;
	k->calls[k->ncalls].wire = &k->wires[k->ncalls];
	if (c->go) {
		k->go[k->ncalls] = *c->go;
		k->calls[k->ncalls].go = &k->go[k->ncalls];
	}
	k->ncalls++;
}

static void on_skip(void *ctx, uint32_t tgid, int32_t fd, uint64_t conn_id)
{
	struct sink *k = ctx;
	(void)tgid, (void)fd;
	k->nskips++;
	k->skipped_conn = conn_id;
}

static void on_request_read(void *ctx, uint32_t tid, uint64_t conn_id)
{
	struct sink *k = ctx;
	(void)conn_id;
	k->nreads++;
	k->read_tid = tid;
}

static uint64_t clock_ns;
static struct sockcap_go_ctx next_go; /* what the kernel says of the next write's goroutine */

static void sink_open(struct sink *k)
{
	static const struct sock_streams_callbacks cb = { on_call, on_skip, on_request_read, NULL };
	memset(k, 0, sizeof(*k));
	memset(&next_go, 0, sizeof(next_go));
	clock_ns = 1000;
	k->s = sock_streams_new(&cb, k);
	assert_non_null(k->s);
}

/* One system call of process 42 on fd 7 (connection conn), tid 42 unless told. */
static void data(struct sink *k, uint64_t conn, uint8_t dir, const char *bytes, size_t len, uint32_t tid)
{
	struct sockcap_event *ev = calloc(1, sizeof(*ev));
	assert_non_null(ev);
	ev->kind = SOCKCAP_DATA;
	ev->dir = dir;
	ev->tgid = 42;
	ev->root = 40;
	ev->tid = tid;
	ev->fd = 7;
	ev->conn_id = conn;
	ev->family = AF_INET;
	ev->local_port = 8080;
	ev->peer_port = 5432;
	memcpy(ev->peer_addr, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	ev->start_ns = clock_ns;
	ev->end_ns = clock_ns + 10;
	clock_ns += 100;
	ev->len = (uint16_t)len;
	ev->total = (uint32_t)len;
	if (dir == SOCKCAP_EGRESS)
		ev->go = next_go;
	memcpy(ev->data, bytes, len);
	sock_streams_event(k->s, ev);
	free(ev);
}

static void in(struct sink *k, uint64_t conn, const char *s)
{
	data(k, conn, SOCKCAP_INGRESS, s, strlen(s), 42);
}

static void out(struct sink *k, uint64_t conn, const char *s)
{
	data(k, conn, SOCKCAP_EGRESS, s, strlen(s), 43);
}

static void notice(struct sink *k, uint8_t kind, uint64_t conn)
{
	struct sockcap_event ev = { .kind = kind, .tgid = 42, .root = 40, .fd = 7, .conn_id = conn };
	sock_streams_event(k->s, &ev);
}

static const char REQUEST[] = "GET /users/7?x=secret HTTP/1.1\r\nHost: a\r\n\r\n";
static const char RESPONSE[] = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";

static void test_server_side(void **state)
{
	(void)state;
	struct sink k;
	sink_open(&k);
	in(&k, 1, REQUEST);
	out(&k, 1, RESPONSE);
	assert_int_equal(k.ncalls, 1);
	const struct sock_call *c = &k.calls[0];
	assert_true(c->server);
	assert_int_equal(c->pid, 42);
	assert_int_equal(c->root, 40);
	assert_int_equal(c->tid, 43); /* the thread that answered */
	assert_int_equal(c->conn_id, 1);
	assert_int_equal(c->local_port, 8080);
	assert_int_equal(c->wire->status, 201);
	assert_string_equal(c->wire->path, "/users/7");
	/* The request's bytes arrived when the read returned, not when it began waiting. */
	assert_int_equal(c->wire->start_ns, 1010);
	assert_int_equal(k.nreads, 1);
	assert_int_equal(k.read_tid, 42);
	assert_int_equal(sock_streams_stats(k.s)->calls[WIRE_HTTP1], 1);
	sock_streams_free(k.s);
}

static void test_client_side(void **state)
{
	(void)state;
	struct sink k;
	sink_open(&k);
	out(&k, 1, REQUEST);
	in(&k, 1, RESPONSE);
	assert_int_equal(k.ncalls, 1);
	assert_false(k.calls[0].server);
	assert_string_equal(k.calls[0].peer_address, "10.0.0.1");
	assert_int_equal(k.calls[0].peer_port, 5432);
	assert_int_equal(k.calls[0].wire->start_ns, 1000); /* a write starts when it is made */
	assert_int_equal(k.nreads, 0);			   /* a client's writes serve no request */
	sock_streams_free(k.s);
}

static void test_request_a_byte_at_a_time(void **state)
{
	(void)state;
	struct sink k;
	sink_open(&k);
	for (const char *p = REQUEST; *p; p++)
		data(&k, 1, SOCKCAP_INGRESS, p, 1, 42);
	out(&k, 1, RESPONSE);
	assert_int_equal(k.ncalls, 1);
	assert_true(k.calls[0].server);
	assert_string_equal(k.calls[0].wire->method, "GET");
	assert_int_equal(k.calls[0].wire->start_ns, 1010); /* the first byte's */
	assert_int_equal(k.nskips, 0);
	sock_streams_free(k.s);
}

static void test_connection_seen_mid_reply(void **state)
{
	(void)state;
	struct sink k;
	sink_open(&k);
	/* The tail of a reply to a request made before glimpse attached, twice: nothing to pair. */
	out(&k, 1, "dy of an earlier reply that is long enough to be more than sixty-four bytes....");
	out(&k, 1, "and more of it, again longer than the sixty-four bytes looked at for a protocol.");
	assert_int_equal(k.ncalls, 0);
	in(&k, 1, REQUEST);
	out(&k, 1, RESPONSE);
	assert_int_equal(k.ncalls, 1);
	assert_true(k.calls[0].server);
	assert_int_equal(k.nskips, 0);
	sock_streams_free(k.s);
}

static void test_unknown_protocol_given_up(void **state)
{
	(void)state;
	struct sink k;
	sink_open(&k);
	static const char greeting[] = "J\x00\x00\x00\x0a"
				       "8.0.36\x00 a server greeting of a protocol glimpse does not parse...";
	static const char answer[] = "\x20\x00\x00\x01 and the client's answer, also longer than 64 bytes...";
	data(&k, 5, SOCKCAP_EGRESS, greeting, sizeof(greeting) - 1, 43);
	assert_int_equal(k.nskips, 0); /* one direction only: may be a reply seen mid-way */
	data(&k, 5, SOCKCAP_INGRESS, answer, sizeof(answer) - 1, 42);
	assert_int_equal(k.nskips, 0); /* a short message: it may go on in the next write */
	out(&k, 5, "OK");	       /* the other side speaks: the client's message was all there was */
	assert_int_equal(k.nskips, 1);
	assert_int_equal(k.skipped_conn, 5);
	in(&k, 5, REQUEST); /* too late: the connection is given up on */
	out(&k, 5, RESPONSE);
	assert_int_equal(k.ncalls, 0);
	assert_int_equal(sock_streams_stats(k.s)->unrecognized, 1);
	assert_int_equal(sock_streams_stats(k.s)->encrypted, 0);
	sock_streams_free(k.s);
}

static void test_tls_given_up_at_once(void **state)
{
	(void)state;
	struct sink k;
	sink_open(&k);
	data(&k, 9, SOCKCAP_INGRESS, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, 42);
	assert_int_equal(k.nskips, 1);
	assert_int_equal(sock_streams_stats(k.s)->encrypted, 1);
	sock_streams_free(k.s);
}

static void test_close_reuse_and_exit_count_unanswered(void **state)
{
	(void)state;
	struct sink k;
	sink_open(&k);
	in(&k, 1, REQUEST);
	notice(&k, SOCKCAP_CLOSE, 1);
	assert_int_equal(sock_streams_stats(k.s)->wire.unanswered, 1);
	assert_int_equal(sock_streams_count(k.s), 0);
	in(&k, 2, REQUEST);
	in(&k, 3, REQUEST); /* fd 7 is another connection now: the first one closed unseen */
	assert_int_equal(sock_streams_stats(k.s)->wire.unanswered, 2);
	out(&k, 2, RESPONSE); /* a reply on the old connection id is a new, unknown stream */
	assert_int_equal(k.ncalls, 0);
	notice(&k, SOCKCAP_PROC_EXIT, 0);
	assert_int_equal(sock_streams_count(k.s), 0);
	assert_int_equal(sock_streams_stats(k.s)->wire.unanswered, 3);
	sock_streams_free(k.s);
}

static void test_bounded_by_evicting_the_oldest(void **state)
{
	(void)state;
	struct sink k;
	sink_open(&k);
	/* A request waiting on each of SOCK_STREAMS_MAX + 1 connections (fd 7 of as many processes
	 * would do too: the key is the connection id here). */
	struct sockcap_event *ev = calloc(1, sizeof(*ev));
	assert_non_null(ev);
	ev->kind = SOCKCAP_DATA;
	ev->dir = SOCKCAP_INGRESS;
	ev->len = ev->total = (uint32_t)strlen(REQUEST);
	memcpy(ev->data, REQUEST, strlen(REQUEST));
	for (uint32_t i = 0; i <= SOCK_STREAMS_MAX; i++) {
		ev->tgid = 1000 + i;
		ev->fd = 3;
		ev->conn_id = i + 1;
		sock_streams_event(k.s, ev);
	}
	assert_int_equal(sock_streams_count(k.s), SOCK_STREAMS_MAX);
	assert_int_equal(sock_streams_stats(k.s)->evicted, 1);
	assert_int_equal(sock_streams_stats(k.s)->wire.unanswered, 1);
	/* The first one went: its answer pairs with nothing; the last one's does. */
	ev->dir = SOCKCAP_EGRESS;
	ev->len = ev->total = (uint32_t)strlen(RESPONSE);
	memcpy(ev->data, RESPONSE, strlen(RESPONSE));
	ev->tgid = 1000;
	ev->conn_id = 1;
	sock_streams_event(k.s, ev);
	assert_int_equal(k.ncalls, 0);
	ev->tgid = 1000 + SOCK_STREAMS_MAX;
	ev->conn_id = SOCK_STREAMS_MAX + 1;
	sock_streams_event(k.s, ev);
	assert_int_equal(k.ncalls, 1);
	free(ev);
	sock_streams_free(k.s);
}

static const char PING[] = "*1\r\n$4\r\nPING\r\n";

static void go_write(uint64_t g, uint8_t flags, uint64_t span)
{
	memset(&next_go, 0, sizeof(next_go));
	next_go.g = g;
	next_go.flags = SOCKCAP_GO_SEEN | flags;
	next_go.span_id = span;
	next_go.trace_id[0] = (uint8_t)span;
}

/* A Go program's call carries what the kernel said of the goroutine that wrote its request,
 * found by the request's start; a pipeline's calls each find their own write. */
static void test_go_context_of_the_request_write(void **state)
{
	(void)state;
	struct sink k;
	sink_open(&k);
	go_write(0xa000, SOCKCAP_GO_CTX, 7);
	out(&k, 1, PING);
	memset(&next_go, 0, sizeof(next_go));
	in(&k, 1, "+PONG\r\n"); /* the reply's read says nothing: the write did */
	go_write(0xb000, 0, 0);
	out(&k, 1, PING);
	go_write(0xc000, SOCKCAP_GO_CTX, 9);
	out(&k, 1, PING);
	in(&k, 1, "+PONG\r\n+PONG\r\n");
	assert_int_equal(k.ncalls, 3);
	assert_non_null(k.calls[0].go);
	assert_int_equal(k.calls[0].go->g, 0xa000);
	assert_int_equal(k.calls[0].go->span_id, 7);
	assert_true(k.calls[0].go->flags & SOCKCAP_GO_CTX);
	assert_int_equal(k.calls[1].go->g, 0xb000);
	assert_false(k.calls[1].go->flags & SOCKCAP_GO_CTX);
	assert_int_equal(k.calls[2].go->g, 0xc000);
	assert_int_equal(k.calls[2].go->span_id, 9);
	for (int i = 0; i < 3; i++)
		assert_false(k.calls[i].go_sql_conn);
	/* A program that is not Go (or not flagged): no context at all. */
	memset(&next_go, 0, sizeof(next_go));
	out(&k, 2, PING);
	in(&k, 2, "+PONG\r\n");
	assert_int_equal(k.ncalls, 4);
	assert_null(k.calls[3].go);
	sock_streams_free(k.s);
}

/* Once a connection carried a call made inside database/sql, its later calls are marked too:
 * the connection is database/sql's (a Prepare or BEGIN outside the probed calls included). */
static void test_database_sql_connection_marked(void **state)
{
	(void)state;
	struct sink k;
	sink_open(&k);
	go_write(0xa000, 0, 0);
	out(&k, 1, PING);
	in(&k, 1, "+PONG\r\n");
	go_write(0xa000, SOCKCAP_GO_IN_SQL, 0);
	out(&k, 1, PING);
	in(&k, 1, "+PONG\r\n");
	go_write(0xa000, 0, 0);
	out(&k, 1, PING);
	in(&k, 1, "+PONG\r\n");
	assert_int_equal(k.ncalls, 3);
	assert_false(k.calls[0].go_sql_conn);
	assert_true(k.calls[1].go_sql_conn);
	assert_true(k.calls[2].go_sql_conn);
	sock_streams_free(k.s);
}

static bool decline_http(void *ctx, uint32_t root, enum wire_protocol p)
{
	(void)ctx;
	assert_int_equal(root, 40);
	return p != WIRE_HTTP1;
}

/* A protocol another path measures is given up on at once (the kernel told), counted apart
 * from the unrecognized. */
static void test_declined_protocol(void **state)
{
	(void)state;
	struct sink k;
	memset(&k, 0, sizeof(k));
	memset(&next_go, 0, sizeof(next_go));
	static const struct sock_streams_callbacks cb = { on_call, on_skip, on_request_read, decline_http };
	k.s = sock_streams_new(&cb, &k);
	assert_non_null(k.s);
	in(&k, 1, REQUEST);
	out(&k, 1, RESPONSE);
	out(&k, 2, PING);
	in(&k, 2, "+PONG\r\n");
	assert_int_equal(k.ncalls, 1);
	assert_int_equal(k.calls[0].wire->protocol, WIRE_REDIS);
	assert_int_equal(k.nskips, 1);
	assert_int_equal(k.skipped_conn, 1);
	assert_int_equal(sock_streams_stats(k.s)->declined, 1);
	assert_int_equal(sock_streams_stats(k.s)->unrecognized, 0);
	sock_streams_free(k.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_side),
		cmocka_unit_test(test_client_side),
		cmocka_unit_test(test_request_a_byte_at_a_time),
		cmocka_unit_test(test_connection_seen_mid_reply),
		cmocka_unit_test(test_unknown_protocol_given_up),
		cmocka_unit_test(test_tls_given_up_at_once),
		cmocka_unit_test(test_close_reuse_and_exit_count_unanswered),
		cmocka_unit_test(test_bounded_by_evicting_the_oldest),
		cmocka_unit_test(test_go_context_of_the_request_write),
		cmocka_unit_test(test_database_sql_connection_marked),
		cmocka_unit_test(test_declined_protocol),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
