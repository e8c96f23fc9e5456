// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The Go ServeMux learning window of the socket path (user/sockcap/mux_learn.c): one uprobe on
 * the entry of net/http.serverHandler.ServeHTTP, attached to one process only while glimpse
 * learns which handler each of its servers has and on which local port, then detached. Each
 * hit is counted; each (server, port) is reported once. The port is read from the request's
 * *response → conn → rwc (a *net.TCPConn) → fd → laddr (a *net.TCPAddr), every interface's type
 * checked first; the handler is read from the Server, its type left to user space to name. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "glimpse.bpf.h"
#include "gomux.h"
#include "goread.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct gomux_config);
	__uint(max_entries, 256);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct gomux_key);
	__type(value, struct gomux_server);
	__uint(max_entries, 1024);
} servers SEC(".maps");

/* Uprobe hits per process. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct gomux_goroutine);
	__type(value, struct gomux_pending);
	__uint(max_entries, 1024);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

static __always_inline void count_hit(__u32 tgid)
{
	__u64 one = 1, *n = bpf_map_lookup_elem(&hits, &tgid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&hits, &tgid, &one, BPF_NOEXIST);
}

static __always_inline __u16 local_port(const struct gomux_config *c, __u64 rw_itab, __u64 rw)
{
	if (!c->h1_writer || !c->tcp_conn || !c->tcp_addr || read_word(rw_itab, 24) != c->h1_writer)
		return 0;
	__u64 conn = read_word(rw, c->response_conn), tcp = 0;
	if (!conn || c->conn_rwc < 0 || read_iface(conn + c->conn_rwc, &tcp) != c->tcp_conn || !tcp)
		return 0;
	return read_tcpconn_local_port(tcp, c->tcp_addr, c->netconn_fd, c->netfd_laddr, c->tcpaddr_port);
}

/* serverHandler.ServeHTTP(rw ResponseWriter, req *Request): the receiver (one *Server) in arg
 * 1, the ResponseWriter's itab and data in args 2-3. */
SEC("uprobe")
int BPF_KPROBE(gomux_server_enter)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	count_hit(tgid);
	const struct gomux_config *c = bpf_map_lookup_elem(&targets, &tgid);
	if (!c)
		return 0;
	struct gomux_event ev = {};
	ev.key.tgid = tgid;
	ev.key.server = GO_ARG1(ctx);
	ev.key.port = local_port(c, GO_ARG2(ctx), GO_ARG3(ctx));
	if (!ev.key.server || bpf_map_lookup_elem(&servers, &ev.key))
		return 0;
	__u64 data = 0;
	if (c->server_handler >= 0) {
		ev.server.handler_type = read_iface(ev.key.server + c->server_handler, &data);
		ev.server.handler = data;
	}
	if (bpf_map_update_elem(&servers, &ev.key, &ev.server, BPF_NOEXIST))
		return 0;
	if (!ev.server.handler_type && c->find_default) {
		struct gomux_pending p = { .key = ev.key, .request = GO_ARG4(ctx) };
		struct gomux_goroutine g = { .tgid = tgid, .g = GO_G(ctx) };
		bpf_map_update_elem(&pending, &g, &p, BPF_ANY);
	}
	bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
	return 0;
}

/* (*ServeMux).ServeHTTP(w ResponseWriter, r *Request), attached only while a nil Handler's mux
 * is looked for: the receiver in arg 1, the request in arg 4. The call that gets the very request
 * a nil Handler's serverHandler.ServeHTTP got, on the same goroutine, is the one serverHandler
 * made on http.DefaultServeMux (nothing else runs between them). */
SEC("uprobe")
int BPF_KPROBE(gomux_mux_enter)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	count_hit(tgid);
	struct gomux_goroutine g = { .tgid = tgid, .g = GO_G(ctx) };
	struct gomux_pending *p = bpf_map_lookup_elem(&pending, &g);
	if (!p)
		return 0;
	struct gomux_event ev = { .key = p->key };
	__u64 request = p->request;
	bpf_map_delete_elem(&pending, &g);
	if (request != GO_ARG4(ctx))
		return 0;
	struct gomux_server *s = bpf_map_lookup_elem(&servers, &ev.key);
	if (!s || s->handler_type || s->handler)
		return 0;
	s->handler = GO_ARG1(ctx);
	ev.server = *s;
	bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
	return 0;
}
