/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The Go tracer's maps as other BPF programs read them (bpf/sockcap.bpf.c ties database calls
 * made at the sockets to their request, bpf/profile.bpf.c labels CPU samples with it), laid
 * out as in bpf/gotrace.bpf.c: calls in flight keyed by (g, pid, kind), each value starting
 * with the trace context its children take; contexts inherited by goroutines a request
 * started, keyed by (g, pid). A reader holds them as inner maps of a hash of maps keyed by
 * process (user space puts each Go tracer's maps in); before load user space sizes the
 * templates' values as the Go tracer's (go_tracer_context_layout), so the kernel accepts its
 * maps. Only the trace context at the value's start is read. */
#ifndef GLIMPSE_GOCALLS_BPF_H
#define GLIMPSE_GOCALLS_BPF_H

struct go_call_key {
	__u64 g;
	__u32 pid;
	__u32 kind; /* gotrace_kind; 0 in inherited's keys */
};

struct go_trace_ctx {
	__u8 trace_id[16];
	__u64 span_id;
	__u8 flags;
};

/* Sizes, not types: the types would reach BTF only as forward declarations here. */
struct go_ctx_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(struct go_call_key));
	__uint(value_size, sizeof(struct go_trace_ctx));
};

#endif
