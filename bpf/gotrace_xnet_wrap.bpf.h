/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Go 1.27+: golang.org/x/net/http2 used directly (ServeConn, h2c.NewHandler) hands its
 * connections to net/http's internal HTTP/2 server with the user's handler, so
 * serverHandler.ServeHTTP never runs for them. Every HTTP/2 request of that server goes
 * through net/http.http2Handler.ServeHTTP, which builds the *http.Request and calls
 * h.h.ServeHTTP(http2ResponseWriter{w}, req) with a `CALL RDX`: at that instruction the
 * registers hold what serverHandler.ServeHTTP's entry holds (receiver, the writer's itab and
 * data, the request), so the request is measured there and at the instruction the call returns
 * to, by serverHandler's own code (server_begin / server_end). Included by gotrace.bpf.c.
 *
 * Probe budget: 2 hits a request x/net serves. net/http's own HTTP/2 requests pass there too,
 * calling serverHandler.ServeHTTP (told by the code DX holds, by address), which measures them:
 * in a binary that links x/net's wrapper (the only ones probed here) they cost 4 hits instead
 * of 2, and are measured once.
 */
#ifndef GLIMPSE_BPF_GOTRACE_XNET_WRAP_BPF_H
#define GLIMPSE_BPF_GOTRACE_XNET_WRAP_BPF_H

SEC("uprobe")
int BPF_KPROBE(h2_handler_call)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	const struct gotrace_types *ty = bpf_map_lookup_elem(&types, &pid);
	if (!ty || !ty->server_handler || GO_CALL_TARGET(ctx) == ty->server_handler) {
		count(GOTRACE_PROBE_HITS); /* net/http's own: serverHandler's probes measure it */
		return 0;
	}
	return server_begin(ctx);
}

/* The instruction h.h.ServeHTTP returns to: the end of the request measured at the call, if
 * there is one (net/http's own requests have ended at serverHandler.ServeHTTP's RET). */
SEC("uprobe")
int BPF_KPROBE(h2_handler_back)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!traced(pid))
		return 0;
	struct call_key key = { .g = GO_G(ctx), .pid = pid, .kind = GOTRACE_SERVER };
	if (!bpf_map_lookup_elem(&calls, &key)) {
		count(GOTRACE_PROBE_HITS);
		return 0;
	}
	return server_end(ctx);
}

#endif
