// SPDX-License-Identifier: Apache-2.0
#include "sockcap/mux_learn.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bpf_child.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/procfs.h"
#include "cli/exit_codes.h"
#include "gomux.h"
#include "sockcap/mux_match.h"
#include "sockcap/mux_probe.h"
#include "sockcap/mux_read.h"

#define REREAD_NS 1000000000ull /* a request no pattern matched reads the mux again, at most this often */
/* And every mux is read again this often: a pattern registered later may be more specific than
 * one that matches already (a new "/api/" under a "/" catch-all), which no miss would reveal. */
#define REFRESH_NS 10000000000ull

enum port_state {
	PORT_MUX,	      /* a ServeMux, read */
	PORT_UNREADABLE,      /* a ServeMux whose tree could not be read */
	PORT_NOT_MUX,	      /* another handler */
	PORT_DEFAULT_UNKNOWN, /* http.DefaultServeMux, whose address is unknown */
	PORT_AMBIGUOUS,	      /* two servers on one port */
};

struct port_routes {
	uint16_t port;
	enum port_state state;
	uint64_t server, mux;
	struct mux_routes *routes;
	uint64_t read_ns;
	int err; /* of the last read */
};

struct mux_learn {
	pid_t pid;
	struct go_http_offsets off;
	uint32_t map_layout;
	enum mux_syntax syntax;
	uint64_t mux_serve_pc, default_mux_var; /* runtime addresses (0: unknown) */
	bool find_default; /* a nil Handler's mux comes from the (*ServeMux).ServeHTTP probe */
	int fds[MUX_NFDS];
	bool open; /* the uprobe is attached */
	struct port_routes ports[MUX_LEARN_MAX_PORTS];
	int nports;
	/* The process's listening TCP ports: the window closes once each has been seen. Read at
	 * start and again at most once a second (reading /proc takes milliseconds, during which
	 * every request traps). */
	uint16_t listening[MUX_LEARN_MAX_PORTS];
	int nlistening;
	uint64_t listening_ns;
	/* Ports whose requests came after the window closed, said once each. */
	uint16_t unlearned[MUX_LEARN_MAX_PORTS];
	int nunlearned;
};

/* A request on a port the window never saw: said once per port. */
static void say_unlearned(struct mux_learn *l, uint16_t port)
{
	for (int i = 0; i < l->nunlearned; i++)
		if (l->unlearned[i] == port)
			return;
	if (l->nunlearned == MUX_LEARN_MAX_PORTS)
		return;
	l->unlearned[l->nunlearned++] = port;
	log_warn("process %d: port %u served no request while the ServeMux learning window was open: its "
		 "http.route comes from the path heuristic",
		 (int)l->pid, port);
}

bool mux_learn_possible(const struct go_target *t, const char **why)
{
	const char *w = NULL;
	if (t->offsets.request_pat < 0)
		w = "Go before 1.22: no ServeMux patterns, on either path";
	else if (!t->hooks[GO_HOOK_SERVER].found)
		w = "no net/http server";
	else if (!mux_read_supported(&t->offsets, t->map_layout))
		w = "the ServeMux's struct offsets or map layout are unknown for this build";
	else if (!t->mux_serve_vaddr)
		w = "net/http.(*ServeMux).ServeHTTP is not in the binary";
	if (why)
		*why = w;
	return !w;
}

static int go_minor(const char *v)
{
	int major, minor;
	return sscanf(v, "go%d.%d", &major, &minor) == 2 ? minor : 0;
}

int mux_learn_start(const struct go_target *t, struct mux_learn **out)
{
	const char *why;
	*out = NULL;
	if (!mux_learn_possible(t, &why)) {
		log_warn("process %d: its ServeMux patterns are not read (%s): the socket path's http.route "
			 "comes from the path heuristic",
			 (int)t->pid, why);
		return GLIMPSE_EXIT_FAILURE;
	}
	struct mux_learn *l = calloc(1, sizeof(*l));
	if (!l)
		return GLIMPSE_EXIT_FAILURE;
	memset(l->fds, -1, sizeof(l->fds));
	l->pid = t->pid;
	l->off = t->offsets;
	l->map_layout = t->map_layout;
	l->syntax = go_minor(t->go_version) == 22 ? MUX_SYNTAX_GO122 : MUX_SYNTAX_GO123;
	l->mux_serve_pc = go_target_runtime_vaddr(&t->types, t->pid, t->mux_serve_vaddr);
	l->default_mux_var = go_target_runtime_vaddr(&t->types, t->pid, t->default_mux_vaddr);
	struct gotrace_types types;
	go_target_runtime_types(&t->types, t->pid, &types);
	const struct go_http_offsets *o = &t->offsets;
	struct gomux_config cfg = {
		.server_handler = o->server_handler,
		.response_conn = o->response_conn,
		.conn_rwc = o->conn_rwc,
		.netconn_fd = o->netconn_fd,
		.netfd_laddr = o->netfd_laddr,
		.tcpaddr_port = o->tcpaddr_port,
		.h1_writer = types.h1_writer,
		.tcp_conn = types.tcp_conn,
		.tcp_addr = types.tcp_addr,
	};
	/* Without DefaultServeMux's symbol, a nil Handler's mux is taken from the call serving
	 * the same request: (*ServeMux).ServeHTTP is probed too while the window is open. */
	if (!l->default_mux_var && t->types.text_vaddr && t->mux_serve_vaddr &&
	    t->mux_serve_vaddr + t->types.text_offset > t->types.text_vaddr)
		cfg.find_default = 1;
	const uint64_t params[MUX_NPARAMS] = {
		[MUX_PARAM_PID] = (uint64_t)t->pid,
		[MUX_PARAM_OFFSET] = t->hooks[GO_HOOK_SERVER].entry_offset,
		[MUX_PARAM_MUX_OFFSET] =
			cfg.find_default ? t->mux_serve_vaddr + t->types.text_offset - t->types.text_vaddr
					 : 0,
	};
	int rc = GLIMPSE_EXIT_FAILURE;
	if (!l->mux_serve_pc || o->server_handler < 0 || !cfg.h1_writer || !cfg.tcp_conn || !cfg.tcp_addr) {
		log_warn(
			"process %d: where its servers' handlers and ports lie is unknown: the socket path's "
			"http.route comes from the path heuristic",
			(int)t->pid);
		goto fail;
	}
	if ((rc = bpf_child_load(MUX_PROBE_NAME, params, MUX_NPARAMS, l->fds, MUX_NFDS)))
		goto fail;
	uint32_t key = (uint32_t)t->pid;
	l->find_default = cfg.find_default;
	if (bpf_map_update_elem(l->fds[MUX_FD_TARGETS], &key, &cfg, BPF_ANY)) {
		log_error("cannot configure the ServeMux learning probe: %s", strerror(errno));
		rc = GLIMPSE_EXIT_FAILURE;
		goto fail;
	}
	l->open = true;
	l->nlistening = proc_listening_ports(l->pid, l->listening, MUX_LEARN_MAX_PORTS);
	l->listening_ns = clock_mono_ns();
	*out = l;
	return 0;
fail:
	mux_learn_free(l);
	return rc;
}

int mux_learn_events_fd(const struct mux_learn *l)
{
	return l->fds[MUX_FD_EVENTS];
}

uint64_t mux_learn_hits(const struct mux_learn *l)
{
	uint32_t key = (uint32_t)l->pid;
	uint64_t hits = 0;
	if (l->fds[MUX_FD_HITS] >= 0)
		bpf_map_lookup_elem(l->fds[MUX_FD_HITS], &key, &hits);
	return hits;
}

bool mux_learn_window_open(const struct mux_learn *l)
{
	return l->open;
}

static void close_window(struct mux_learn *l, const char *why)
{
	if (!l->open)
		return;
	mux_learn_close(l);
	char learned[512];
	mux_learn_describe(l, learned, sizeof(learned));
	log_info("process %d: ServeMux learning window closed after %llu uprobe hit%s (%s): %s", (int)l->pid,
		 (unsigned long long)mux_learn_hits(l), mux_learn_hits(l) == 1 ? "" : "s", why,
		 learned[0] ? learned : "no HTTP server seen");
}

static const char *state_name(enum port_state s)
{
	switch (s) {
	case PORT_MUX:
		return "ServeMux";
	case PORT_UNREADABLE:
		return "ServeMux not readable (heuristic)";
	case PORT_NOT_MUX:
		return "handler is not a *http.ServeMux (heuristic)";
	case PORT_DEFAULT_UNKNOWN:
		return "http.DefaultServeMux, whose address is unknown (heuristic)";
	case PORT_AMBIGUOUS:
		return "several servers (heuristic)";
	}
	return "?";
}

void mux_learn_describe(const struct mux_learn *l, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < l->nports && used < len; i++) {
		const struct port_routes *p = &l->ports[i];
		if (p->state == PORT_MUX)
			used += (size_t)snprintf(buf + used, len - used, "%sport %u: ServeMux, %zu pattern%s",
						 i ? "; " : "", p->port, mux_routes_count(p->routes),
						 mux_routes_count(p->routes) == 1 ? "" : "s");
		else
			used += (size_t)snprintf(buf + used, len - used, "%sport %u: %s", i ? "; " : "",
						 p->port, state_name(p->state));
	}
}

static void read_routes(struct mux_learn *l, struct port_routes *p)
{
	struct mux_routes *r;
	p->read_ns = clock_mono_ns();
	p->err = mux_read(l->pid, p->mux, &l->off, l->map_layout, l->syntax, &r);
	if (p->err) {
		if (p->state == PORT_MUX) /* keep what was read before: the tree may be changing */
			return;
		p->state = PORT_UNREADABLE;
		log_warn("process %d: the ServeMux serving port %u cannot be read (%s): its http.route comes "
			 "from the path heuristic",
			 (int)l->pid, p->port, strerror(-p->err));
		return;
	}
	mux_routes_free(p->routes);
	p->routes = r;
	p->state = PORT_MUX;
}

static uint64_t peek_word(pid_t pid, uint64_t addr)
{
	uint64_t v = 0;
	return proc_mem_read(pid, addr, &v, sizeof(v)) ? 0 : v;
}

static struct port_routes *find_port(struct mux_learn *l, uint16_t port)
{
	for (int i = 0; i < l->nports; i++)
		if (l->ports[i].port == port)
			return &l->ports[i];
	return NULL;
}

/* A (server, port) the probe saw: what serves that port. */
static void learn(struct mux_learn *l, const struct gomux_key *k, const struct gomux_server *s)
{
	struct port_routes *p = find_port(l, k->port);
	if (p) {
		if (p->server != k->server && p->state != PORT_AMBIGUOUS) {
			p->state = PORT_AMBIGUOUS;
			mux_routes_free(p->routes);
			p->routes = NULL;
			log_warn("process %d: several HTTP servers take port %u: its http.route comes from "
				 "the "
				 "path heuristic",
				 (int)l->pid, p->port);
		}
		return;
	}
	if (l->nports == MUX_LEARN_MAX_PORTS)
		return;
	if (!s->handler_type && !l->default_mux_var && l->find_default && !s->handler)
		return; /* its request's (*ServeMux).ServeHTTP call is still to be seen */
	p = &l->ports[l->nports++];
	*p = (struct port_routes){ .port = k->port, .server = k->server };
	if (!s->handler_type) /* a nil Handler: serverHandler uses http.DefaultServeMux */
		p->mux = l->default_mux_var ? peek_word(l->pid, l->default_mux_var) : s->handler;
	else if (s->handler_type == l->mux_serve_pc)
		p->mux = s->handler;
	if (p->mux) {
		read_routes(l, p);
	} else {
		p->state = s->handler_type ? PORT_NOT_MUX : PORT_DEFAULT_UNKNOWN;
		log_warn(
			"process %d: the server on port %u: %s: its http.route comes from the path heuristic "
			"on the socket path",
			(int)l->pid, p->port,
			s->handler_type ? "its Handler is not a *http.ServeMux (a wrapper or a router, which "
					  "may rewrite the path)"
					: "its Handler is http.DefaultServeMux, whose address is unknown");
	}
}

/* Every server the probe has seen of this process that is not known yet. */
static void sync_servers(struct mux_learn *l)
{
	struct gomux_key key, next, *prev = NULL;
	int fd = l->fds[MUX_FD_SERVERS];
	for (int n = 0; fd >= 0 && n < 1024 && !bpf_map_get_next_key(fd, prev, &next); n++) {
		struct gomux_server s;
		key = next;
		prev = &key;
		if (key.tgid != (uint32_t)l->pid || !key.port || find_port(l, key.port))
			continue;
		if (!bpf_map_lookup_elem(fd, &key, &s))
			learn(l, &key, &s);
	}
}

int mux_learn_on_event(void *ctx, void *data, size_t len)
{
	(void)data;
	(void)len;
	struct mux_learn *l = ctx;
	sync_servers(l);
	mux_learn_tick(l);
	return 0;
}

void mux_learn_tick(struct mux_learn *l)
{
	if (!l)
		return;
	uint64_t now = clock_mono_ns();
	for (int i = 0; i < l->nports; i++)
		if (l->ports[i].state == PORT_MUX && now - l->ports[i].read_ns >= REFRESH_NS)
			read_routes(l, &l->ports[i]);
	if (!l->open)
		return;
	if (now - l->listening_ns >= REREAD_NS) {
		l->nlistening = proc_listening_ports(l->pid, l->listening, MUX_LEARN_MAX_PORTS);
		l->listening_ns = now;
	}
	bool all = l->nlistening > 0;
	for (int i = 0; i < l->nlistening && all; i++)
		all = find_port(l, l->listening[i]) != NULL;
	if (all)
		close_window(l, "every listening port seen");
	else if (mux_learn_hits(l) >= MUX_LEARN_MAX_HITS)
		close_window(l, "its hits are used up; ports not seen keep the path heuristic");
}

const char *mux_learn_pattern(struct mux_learn *l, uint16_t port, const char *method, const char *host,
			      const char *path)
{
	struct port_routes *p = find_port(l, port);
	if (!p && l->open) { /* the probe fired before this request's response was written */
		sync_servers(l);
		p = find_port(l, port);
	}
	if (!p && !l->open && port)
		say_unlearned(l, port);
	if (!p || p->state != PORT_MUX)
		return NULL;
	const char *m = mux_routes_match(p->routes, method, host, path);
	if (!m && clock_mono_ns() - p->read_ns >= REREAD_NS) {
		read_routes(l, p);
		m = mux_routes_match(p->routes, method, host, path);
	}
	return m;
}

static void *close_link(void *fd)
{
	bpf_child_close(fd, 1);
	return NULL;
}

void mux_learn_close(struct mux_learn *l)
{
	if (!l || !l->open)
		return;
	/* Each close waits for the kernel to retire its uprobe (~0.1-0.3 s here), while the other
	 * one still traps: the two are closed at once. */
	pthread_t closer;
	bool apart = pthread_create(&closer, NULL, close_link, &l->fds[MUX_FD_LINK_MUX]) == 0;
	bpf_child_close(l->fds + MUX_FD_LINK, apart ? 1 : 2);
	if (apart)
		pthread_join(closer, NULL);
	l->open = false;
}

void mux_learn_free(struct mux_learn *l)
{
	if (!l)
		return;
	bpf_child_close(l->fds, MUX_NFDS);
	for (int i = 0; i < l->nports; i++)
		mux_routes_free(l->ports[i].routes);
	free(l);
}
