// SPDX-License-Identifier: Apache-2.0
#include "gotrace/tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bpf_read.h"
#include "base/uprobe_multi.h"
#include "cli/exit_codes.h"
#include "gotrace.skel.h"
#include "base/log.h"

#define MAX_LINKS \
	((GO_NR_HOOKS + GRPC_NR_HOOKS) * (1 + GO_HOOK_MAX_RETS) + GOTRACE_NR_POOLED + 2) /* + router probes */

/* A probe to attach: add_probe lists them in the order they must begin to fire; attach_all
 * makes them one uprobe_multi link per program, in the order each program first appears. */
struct go_probe {
	struct bpf_program *prog;
	uint64_t offset;
};

struct go_tracer {
	struct gotrace_bpf *skel;
	struct ring_buffer *rb;
	struct go_probe probes[MAX_LINKS];
	int nprobes;
	bool multi;		  /* uprobe_multi_usable: the probes are uprobe_multi links */
	int multi_fds[MAX_LINKS]; /* uprobe_multi links, in attach order */
	int nmulti;
	struct bpf_link *links[MAX_LINKS]; /* perf-event uprobes (!multi) */
	int nlinks;
	go_event_fn fn;
	void *ctx;
	bool shared;
	struct go_grpc_target grpc; /* where each process's gRPC types are (go_tracer_set_types) */
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct go_tracer *tr = ctx;
	if (len >= sizeof(struct gotrace_event))
		tr->fn(tr->ctx, data);
	return 0;
}

static int add_probe(struct go_tracer *tr, struct bpf_program *prog, uint64_t offset)
{
	if (tr->nprobes >= MAX_LINKS)
		return -E2BIG;
	tr->probes[tr->nprobes++] = (struct go_probe){ prog, offset };
	return 0;
}

/* One perf event per probe, in the listed order (kernels before 6.10, see uprobe_multi.h). */
static int attach_each(struct go_tracer *tr, const struct go_target *t, pid_t pid)
{
	for (int i = 0; i < tr->nprobes; i++) {
		struct bpf_link *link = bpf_program__attach_uprobe(tr->probes[i].prog, false, pid, t->binary,
								   tr->probes[i].offset);
		if (!link)
			return -errno;
		tr->links[tr->nlinks++] = link;
	}
	return 0;
}

static int attach_all(struct go_tracer *tr, const struct go_target *t)
{
	pid_t pid = tr->shared || !t->pid ? -1 : t->pid;
	if (!tr->multi)
		return attach_each(tr, t, pid);
	uint64_t offsets[MAX_LINKS];
	bool done[MAX_LINKS] = { false };
	for (int i = 0; i < tr->nprobes; i++) {
		if (done[i])
			continue;
		uint32_t n = 0;
		for (int j = i; j < tr->nprobes; j++)
			if (tr->probes[j].prog == tr->probes[i].prog) {
				offsets[n++] = tr->probes[j].offset;
				done[j] = true;
			}
		int fd = uprobe_multi_attach(tr->probes[i].prog, t->binary, offsets, n, pid);
		if (fd < 0)
			return fd;
		tr->multi_fds[tr->nmulti++] = fd;
	}
	return 0;
}

static int attach_returns(struct go_tracer *tr, const struct go_hook *h, struct bpf_program *leave)
{
	for (uint32_t i = 0; h->found && i < h->nrets; i++) {
		int err = add_probe(tr, leave, h->ret_offsets[i]);
		if (err)
			return err;
	}
	return 0;
}

static int attach_hook(struct go_tracer *tr, const struct go_hook *h, struct bpf_program *enter,
		       struct bpf_program *leave)
{
	if (!h->found)
		return 0;
	/* Returns first: a request that starts while we attach then never leaves a dangling entry. */
	int err = attach_returns(tr, h, leave);
	return err ? err : add_probe(tr, enter, h->entry_offset);
}

/* gRPC's hooks (grpc_target.h): entries only, but newClientStream's RETs too. */
static int attach_grpc(struct go_tracer *tr, const struct go_target *t)
{
	__typeof__(tr->skel->progs) *p = &tr->skel->progs;
	struct bpf_program *enter[GRPC_NR_HOOKS] = {
		[GRPC_HOOK_SERVER] = p->grpc_server_enter,
		[GRPC_HOOK_SERVER_UNARY] = p->grpc_server_enter,
		[GRPC_HOOK_SERVER_STREAMING] = p->grpc_server_enter,
		[GRPC_HOOK_STATUS] = p->grpc_server_status,
		[GRPC_HOOK_CLIENT] = p->grpc_client_enter,
		[GRPC_HOOK_FINISH] = p->grpc_client_finish,
	};
	int err = 0;
	/* The ends first: a call that starts while we attach then never leaves a dangling entry. */
	if (t->grpc_hooks[GRPC_HOOK_STATUS].found)
		err = add_probe(tr, p->grpc_server_status, t->grpc_hooks[GRPC_HOOK_STATUS].entry_offset);
	if (!err && t->grpc_hooks[GRPC_HOOK_FINISH].found)
		err = add_probe(tr, p->grpc_client_finish, t->grpc_hooks[GRPC_HOOK_FINISH].entry_offset);
	if (!err)
		err = attach_returns(tr, &t->grpc_hooks[GRPC_HOOK_CLIENT], p->grpc_client_created);
	for (int i = 0; i < GRPC_NR_HOOKS && !err; i++)
		if (t->grpc_hooks[i].found && i != GRPC_HOOK_STATUS && i != GRPC_HOOK_FINISH)
			err = add_probe(tr, enter[i], t->grpc_hooks[i].entry_offset);
	return err;
}

int go_tracer_start(const struct go_target *t, const struct go_tracer_opts *opts, go_event_fn fn, void *ctx,
		    struct go_tracer **out)
{
	struct go_tracer *tr = calloc(1, sizeof(*tr));
	if (!tr)
		return GLIMPSE_EXIT_FAILURE;
	tr->fn = fn;
	tr->ctx = ctx;
	tr->shared = opts->shared;
	int rc = GLIMPSE_EXIT_FAILURE, err;
	tr->skel = gotrace_bpf__open();
	if (!tr->skel) {
		log_error("cannot open the Go tracer's BPF object: %s", strerror(errno));
		goto fail;
	}
	const struct go_http_offsets *o = &t->offsets;
	tr->skel->rodata->off = (struct gotrace_offsets){
		.request_method = o->request_method,
		.request_url = o->request_url,
		.request_pat = o->request_pat,
		.pattern_str = o->pattern_str,
		.url_path = o->url_path,
		.url_host = o->url_host,
		.response_status = o->response_status,
		.response_statuscode = o->response_statuscode,
		.request_header = o->request_header,
		.driverconn_ci = o->driverconn_ci,
		.g_m = o->g_m,
		.m_curg = o->m_curg,
		.request_proto_major = o->request_proto_major,
		.request_proto_minor = o->request_proto_minor,
		.h2_writer_rws = o->h2_writer_rws,
		.h2_state_status = o->h2_state_status,
		.stmt_query = o->stmt_query,
		.stmt_css = o->stmt_css,
		.connstmt_dc = o->connstmt_dc,
		.response_conn = o->response_conn,
		.conn_rwc = o->conn_rwc,
		.h2_state_conn = o->h2_state_conn,
		.h2_serverconn_conn = o->h2_serverconn_conn,
		.tlsconn_conn = o->tlsconn_conn,
		.unencrypted_conn = o->unencrypted_conn,
		.netconn_fd = o->netconn_fd,
		.netfd_laddr = o->netfd_laddr,
		.tcpaddr_port = o->tcpaddr_port,
		.stmt_db = o->stmt_db,
		.request_host = o->request_host,
	};
	tr->skel->rodata->router_off = t->routers.off;
	tr->skel->rodata->grpc_off = t->grpc.off;
	tr->skel->rodata->xnet_off = t->xnet.off;
	tr->skel->rodata->xnet_measured = t->xnet.measured;
	tr->grpc = t->grpc;
	tr->skel->rodata->filter_pids = opts->shared;
	tr->skel->rodata->tracing = opts->tracing;
	tr->skel->rodata->map_layout = t->map_layout;
	tr->multi = uprobe_multi_usable();
	struct bpf_program *prog;
	bpf_object__for_each_program (prog, tr->skel->obj)
		if (tr->multi)
			uprobe_multi_prepare(prog);
	err = gotrace_bpf__load(tr->skel);
	if (err) {
		log_error("cannot load the Go tracer's BPF programs: %s (run with -v for the verifier log)",
			  strerror(-err));
		rc = err == -EPERM ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
		goto fail;
	}
	if (!opts->shared && opts->types && (err = go_tracer_set_types(tr, t->pid, opts->types))) {
		log_error("cannot set up the Go tracer's type map: %s", strerror(-err));
		goto fail;
	}
	tr->rb = ring_buffer__new(bpf_map__fd(tr->skel->maps.events), on_event, tr, NULL);
	if (!tr->rb) {
		log_error("cannot open the Go tracer's ring buffer: %s", strerror(errno));
		goto fail;
	}
	__typeof__(tr->skel->progs) *p = &tr->skel->progs;
	struct bpf_program *progs[GO_NR_HOOKS][2] = {
		[GO_HOOK_SERVER] = { p->server_enter, p->server_return },
		[GO_HOOK_CLIENT] = { p->client_enter, p->client_return },
		[GO_HOOK_SQL_QUERY] = { p->sql_query_enter, p->sql_query_return },
		[GO_HOOK_SQL_EXEC] = { p->sql_exec_enter, p->sql_exec_return },
		[GO_HOOK_STMT_QUERY] = { p->stmt_query_enter, p->stmt_query_return },
		[GO_HOOK_STMT_EXEC] = { p->stmt_exec_enter, p->stmt_exec_return },
		[GO_HOOK_SPAWN] = { NULL, p->spawn_return }, /* returns only: see gotrace.bpf.c */
	};
	err = 0;
	for (int i = 0; i < GO_NR_HOOKS && !err; i++)
		if (i == GO_HOOK_SPAWN)
			err = opts->lineage && t->offsets.g_m >= 0 && t->offsets.m_curg >= 0
				      ? attach_returns(tr, &t->hooks[i], progs[i][1])
				      : 0;
		else
			err = attach_hook(tr, &t->hooks[i], progs[i][0], progs[i][1]);
	/* Router templates: one probe per router (gotrace_router.bpf.h). */
	for (int i = 0; i < GOTRACE_NR_POOLED && !err; i++)
		if (t->routers.put_site[i])
			err = add_probe(tr, p->router_pool_put, t->routers.put_site[i]);
	if (!err && t->routers.mux_route)
		err = add_probe(tr, p->router_mux_route, t->routers.mux_route);
	if (!err && t->routers.httprouter)
		err = add_probe(tr, p->router_httprouter, t->routers.httprouter);
	if (!err)
		err = attach_grpc(tr, t);
	/* x/net/http2's server: its end first, as above. */
	if (!err && t->xnet_hooks[XNET_HOOK_DONE].found)
		err = add_probe(tr, p->xnet_server_done, t->xnet_hooks[XNET_HOOK_DONE].entry_offset);
	if (!err && t->xnet_hooks[XNET_HOOK_RUN].found)
		err = add_probe(tr, p->xnet_server_enter, t->xnet_hooks[XNET_HOOK_RUN].entry_offset);
	if (!err && t->xnet_hooks[XNET_HOOK_WRAP].found)
		err = add_probe(tr, p->xnet_serve_conn, t->xnet_hooks[XNET_HOOK_WRAP].entry_offset);
	if (!err && t->xnet_hooks[XNET_HOOK_H2_BACK].found)
		err = add_probe(tr, p->h2_handler_back, t->xnet_hooks[XNET_HOOK_H2_BACK].entry_offset);
	if (!err && t->xnet_hooks[XNET_HOOK_H2_CALL].found)
		err = add_probe(tr, p->h2_handler_call, t->xnet_hooks[XNET_HOOK_H2_CALL].entry_offset);
	if (!err)
		err = attach_all(tr, t);
	if (err) {
		if (t->pid && access(t->binary, F_OK) != 0) {
			log_error("process %d exited while glimpse was attaching", (int)t->pid);
			rc = GLIMPSE_EXIT_NO_PROCESS;
		} else {
			log_error("cannot attach uprobes to %s: %s", t->binary, strerror(-err));
			rc = err == -EPERM || err == -EACCES ? GLIMPSE_EXIT_NO_PERMISSION
							     : GLIMPSE_EXIT_FAILURE;
		}
		goto fail;
	}
	*out = tr;
	return 0;
fail:
	go_tracer_stop(tr);
	return rc;
}

int go_tracer_add_pid(struct go_tracer *tr, pid_t pid)
{
	__u32 key = (__u32)pid;
	__u8 one = 1;
	return bpf_map_update_elem(bpf_map__fd(tr->skel->maps.target_pids), &key, &one, BPF_ANY) ? -errno : 0;
}

int go_tracer_remove_pid(struct go_tracer *tr, pid_t pid)
{
	__u32 key = (__u32)pid;
	bpf_map_delete_elem(bpf_map__fd(tr->skel->maps.active), &key);
	bpf_map_delete_elem(bpf_map__fd(tr->skel->maps.types), &key);
	bpf_map_delete_elem(bpf_map__fd(tr->skel->maps.grpc_types), &key);
	return bpf_map_delete_elem(bpf_map__fd(tr->skel->maps.target_pids), &key) ? -errno : 0;
}

int go_tracer_poll(struct go_tracer *tr, int timeout_ms)
{
	return bpf_ring_drain(tr->rb, timeout_ms);
}

int64_t go_tracer_active_requests(const struct go_tracer *tr, pid_t pid)
{
	__u32 key = (__u32)pid;
	__s64 v = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(tr->skel->maps.active), &key, &v))
		return 0;
	return v > 0 ? v : 0;
}

static uint64_t counter_total(const struct go_tracer *tr, enum gotrace_counter which)
{
	return bpf_percpu_counter(bpf_map__fd(tr->skel->maps.counters), which);
}

uint64_t go_tracer_events_dropped(const struct go_tracer *tr)
{
	return counter_total(tr, GOTRACE_EVENTS_DROPPED);
}

uint64_t go_tracer_headers_too_big(const struct go_tracer *tr)
{
	return counter_total(tr, GOTRACE_HEADERS_TOO_BIG);
}

int go_tracer_set_types(struct go_tracer *tr, pid_t pid, const struct gotrace_types *types)
{
	__u32 key = (__u32)pid;
	struct gotrace_grpc_types grpc;
	grpc_target_runtime_types(&tr->grpc, pid, &grpc);
	log_debug("gRPC types of %d: status error %#llx, stream %#llx, wrapper %#llx, tcp %#llx, EOF %#llx, "
		  "valueCtx %#llx, cancelCtx %#llx, metadata key %#llx, MD %#llx",
		  (int)pid, (unsigned long long)grpc.status_error, (unsigned long long)grpc.client_stream,
		  (unsigned long long)grpc.stream_wrapper, (unsigned long long)grpc.tcp_addr,
		  (unsigned long long)grpc.eof_var, (unsigned long long)grpc.value_ctx,
		  (unsigned long long)grpc.cancel_ctx, (unsigned long long)grpc.md_key_type,
		  (unsigned long long)grpc.md_type);
	if (tr->grpc.linked &&
	    bpf_map_update_elem(bpf_map__fd(tr->skel->maps.grpc_types), &key, &grpc, BPF_ANY))
		return -errno;
	return bpf_map_update_elem(bpf_map__fd(tr->skel->maps.types), &key, types, BPF_ANY) ? -errno : 0;
}

void go_tracer_context_map_fds(const struct go_tracer *tr, int *calls_fd, int *inherited_fd)
{
	*calls_fd = bpf_map__fd(tr->skel->maps.calls);
	*inherited_fd = bpf_map__fd(tr->skel->maps.inherited);
}

int go_tracer_context_layout(uint32_t *calls_value, uint32_t *inherited_value)
{
	struct gotrace_bpf *skel = gotrace_bpf__open();
	if (!skel)
		return -errno;
	*calls_value = bpf_map__value_size(skel->maps.calls);
	*inherited_value = bpf_map__value_size(skel->maps.inherited);
	gotrace_bpf__destroy(skel);
	return 0;
}

uint64_t go_tracer_probe_hits(const struct go_tracer *tr)
{
	return counter_total(tr, GOTRACE_PROBE_HITS);
}

int go_tracer_probe_count(const struct go_tracer *tr)
{
	return tr->nprobes;
}

void go_tracer_stop(struct go_tracer *tr)
{
	if (!tr)
		return;
	/* Entries first, so no new request starts being tracked while returns are detached. */
	for (int i = tr->nmulti - 1; i >= 0; i--)
		close(tr->multi_fds[i]);
	tr->nmulti = 0;
	for (int i = tr->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(tr->links[i]);
	tr->nlinks = 0;
	if (tr->rb) {
		ring_buffer__consume(tr->rb);
		ring_buffer__free(tr->rb);
	}
	gotrace_bpf__destroy(tr->skel);
	free(tr);
}

int go_tracer_size_inner_map(struct bpf_map *outer, uint64_t value_size, const char *probe)
{
	if (!value_size)
		return 0;
	struct bpf_map *inner = bpf_map__inner_map(outer);
	int err = inner ? bpf_map__set_value_size(inner, (__u32)value_size) : -ENOENT;
	if (err)
		log_error("cannot size the %s's view of the Go tracer's maps: %s", probe, strerror(-err));
	return err;
}
