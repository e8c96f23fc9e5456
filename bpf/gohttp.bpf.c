// SPDX-License-Identifier: GPL-2.0
/* Go net/http RED metrics. Per server request: one uprobe at the entry of
 * net/http.serverHandler.ServeHTTP and one at whichever RET it leaves by — 2 hits, the
 * minimum that gives a duration. ServeHTTP is the one function every HTTP/1 server request
 * passes through with both the *Request and the *response in hand; by its return the handler
 * has set the status and (Go 1.22+) the mux has matched the pattern, so all fields are read
 * there from memory that is still live. Client: net/http.(*Transport).roundTrip entry and
 * RETs, 2 hits per outgoing exchange. State is keyed by (pid, goroutine): the g pointer in
 * R14 under Go's register ABI. Never uretprobes: they break when Go moves a goroutine stack. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "glimpse.bpf.h"
#include "gohttp.h"

const volatile struct gohttp_offsets off = {};
/* Wake the reader only when this much is queued; otherwise it drains on its poll timeout. */
const volatile __u32 wakeup_bytes = 32 * 1024;

struct call_key {
	__u64 g;
	__u32 pid;
	__u32 kind;
};

struct call_state {
	__u64 start_ns;
	__u64 request;
	__u64 response; /* server: *http.response */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct call_key);
	__type(value, struct call_state);
	__uint(max_entries, 16384);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Requests in flight per process (http.server.active_requests). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __s64);
	__uint(max_entries, 1024);
} active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, GOHTTP_NR_COUNTERS);
} counters SEC(".maps");

static __always_inline void count(enum gohttp_counter which)
{
	__u32 key = which;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);
	if (v)
		(*v)++;
}

static __always_inline void add_active(__u32 pid, __s64 delta)
{
	__s64 *v = bpf_map_lookup_elem(&active, &pid);
	if (v) {
		__sync_fetch_and_add(v, delta);
		return;
	}
	if (delta > 0)
		bpf_map_update_elem(&active, &pid, &delta, BPF_NOEXIST);
}

static __always_inline __u64 read_ptr(__u64 base, __s32 offset)
{
	__u64 v = 0;
	if (base && offset >= 0)
		bpf_probe_read_user(&v, sizeof(v), (void *)(base + offset));
	return v;
}

/* Copies the Go string at base+offset into dst (max bytes); returns the copied length. */
static __always_inline __u8 read_go_string(__u64 base, __s32 offset, char *dst, __u32 max, __u8 *truncated)
{
	struct {
		__u64 ptr, len;
	} s = {};
	if (!base || offset < 0 || bpf_probe_read_user(&s, sizeof(s), (void *)(base + offset)))
		return 0;
	__u32 len = s.len > max ? max : (__u32)s.len;
	if (s.len > max && truncated)
		*truncated = 1;
	if (len == 0 || bpf_probe_read_user(dst, len, (void *)s.ptr))
		return 0;
	return len;
}

static __always_inline int enter(struct pt_regs *ctx, __u32 kind, __u64 request, __u64 response)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct call_key key = { .g = GO_G(ctx), .pid = pid, .kind = kind };
	struct call_state st = { .start_ns = bpf_ktime_get_ns(), .request = request, .response = response };
	bpf_map_update_elem(&calls, &key, &st, BPF_ANY);
	if (kind == GOHTTP_SERVER)
		add_active(pid, 1);
	return 0;
}

static __always_inline void submit(struct gohttp_event *ev)
{
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
										     : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(ev, flags);
}

static __always_inline int leave(struct pt_regs *ctx, __u32 kind)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct call_key key = { .g = GO_G(ctx), .pid = pid, .kind = kind };
	struct call_state *st = bpf_map_lookup_elem(&calls, &key);
	if (!st) {
		count(GOHTTP_STATE_MISSING);
		return 0;
	}
	struct call_state call = *st;
	bpf_map_delete_elem(&calls, &key);
	if (kind == GOHTTP_SERVER)
		add_active(pid, -1);

	struct gohttp_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(GOHTTP_EVENTS_DROPPED);
		return 0;
	}
	ev->start_ns = call.start_ns;
	ev->end_ns = bpf_ktime_get_ns();
	ev->pid = pid;
	ev->kind = kind;
	ev->truncated = 0;
	ev->route_len = 0;
	ev->host_len = 0;
	ev->method_len = read_go_string(call.request, off.request_method, ev->method, GOHTTP_METHOD_LEN, NULL);
	__u64 url = read_ptr(call.request, off.request_url);
	ev->path_len = read_go_string(url, off.url_path, ev->path, GOHTTP_PATH_LEN, &ev->truncated);
	if (kind == GOHTTP_SERVER) {
		ev->status = (__u16)read_ptr(call.response, off.response_status);
		__u64 pat = read_ptr(call.request, off.request_pat);
		ev->route_len = read_go_string(pat, off.pattern_str, ev->route, GOHTTP_PATH_LEN, NULL);
	} else {
		/* roundTrip returns (*Response, error): the *Response is in RAX, nil on error. */
		ev->status = (__u16)read_ptr(GO_ARG1(ctx), off.response_statuscode);
		ev->host_len = read_go_string(url, off.url_host, ev->host, GOHTTP_HOST_LEN, NULL);
	}
	submit(ev);
	return 0;
}

/* serverHandler.ServeHTTP(rw ResponseWriter, req *Request): receiver in RAX, the interface
 * (itab, data) in RBX, RCX, the request in RDI. */
SEC("uprobe")
int BPF_KPROBE(server_enter)
{
	return enter(ctx, GOHTTP_SERVER, GO_ARG4(ctx), GO_ARG3(ctx));
}

SEC("uprobe")
int BPF_KPROBE(server_return)
{
	return leave(ctx, GOHTTP_SERVER);
}

/* (*Transport).roundTrip(req *Request): receiver in RAX, the request in RBX. */
SEC("uprobe")
int BPF_KPROBE(client_enter)
{
	return enter(ctx, GOHTTP_CLIENT, GO_ARG2(ctx), 0);
}

SEC("uprobe")
int BPF_KPROBE(client_return)
{
	return leave(ctx, GOHTTP_CLIENT);
}

char LICENSE[] SEC("license") = "GPL";
