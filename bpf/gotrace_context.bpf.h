/* SPDX-License-Identifier: GPL-2.0 */
/* The Go tracer's trace context: joined from a request's traceparent (HTTP's Traceparent
 * header, gRPC's metadata), made fresh (trace and span ids), or found for the current
 * goroutine (its own server request, or the one it inherited when it was started). Included by
 * gotrace.bpf.c after its maps and helpers. */

/* A valid traceparent → ctx (the remote span becomes the parent). */
static __always_inline bool join_traceparent(const char *tp, __u64 len, struct call_state *st)
{
	struct traceparent p = {};
	if (!traceparent_parse(tp, len, &p))
		return false;
	__builtin_memcpy(st->ctx.trace_id, p.trace_id, sizeof(p.trace_id));
	st->parent_span_id = p.parent_id;
	st->flags |= GOTRACE_F_REMOTE_PARENT | GOTRACE_F_HAS_PARENT;
	if (p.flags & TRACEPARENT_FLAG_SAMPLED)
		st->flags |= GOTRACE_F_SAMPLED;
	return true;
}

/* Joins the trace of a header's values ([]string): HTTP's Traceparent, gRPC's traceparent. */
static __always_inline bool join_header_values(const struct go_slice_header *hv, struct call_state *st)
{
	struct go_slice_header values = *hv;
	/* More than one value means the request carried several traceparent headers, which W3C
	 * says to treat as none (a new trace). */
	struct go_string_header first = {};
	char tp[TRACEPARENT_READ_LEN] = {};
	if (values.len != 1 || bpf_probe_read_user(&first, sizeof(first), (void *)values.ptr) ||
	    first.len < TRACEPARENT_LEN || bpf_probe_read_user(tp, TRACEPARENT_LEN, (void *)first.ptr))
		return false;
	/* Only a longer value's next byte matters (a higher version's '-'). */
	if (first.len > TRACEPARENT_LEN &&
	    bpf_probe_read_user(&tp[TRACEPARENT_LEN], 1, (void *)(first.ptr + TRACEPARENT_LEN)))
		return false;
	return join_traceparent(tp, first.len, st);
}

/* Joins the trace of the request's "Traceparent" header (the canonical key), if valid. */
static __always_inline bool read_traceparent(__u64 request, struct call_state *st)
{
	static const char key[] = "Traceparent";
	struct go_slice_header values = {};
	enum gomap_result r = gomap_find_string_key(read_word(request, off.request_header), map_layout, key,
						    sizeof(key) - 1, &values);
	if (r == GOMAP_TOO_BIG)
		count(GOTRACE_HEADERS_TOO_BIG);
	return r == GOMAP_FOUND && join_header_values(&values, st);
}

static __always_inline __u64 random_id(void)
{
	__u64 id = (__u64)bpf_get_prandom_u32() << 32 | bpf_get_prandom_u32();
	return id ? id : 1;
}

static __always_inline void new_trace(struct trace_ctx *ctx)
{
	for (int i = 0; i < 16; i += 4) {
		__u32 r = bpf_get_prandom_u32();
		__builtin_memcpy(&ctx->trace_id[i], &r, 4);
	}
	ctx->trace_id[0] |= 1; /* never all zero */
}

/* The context the current goroutine runs under: its own server request, or one inherited
 * from the goroutine that started it. */
static __always_inline bool current_ctx(__u64 g, __u32 pid, struct trace_ctx *out)
{
	struct call_key key = { .g = g, .pid = pid, .kind = GOTRACE_SERVER };
	struct call_state *server = bpf_map_lookup_elem(&calls, &key);
	if (!server) {
		key.kind = GOTRACE_GRPC_SERVER;
		server = bpf_map_lookup_elem(&calls, &key);
	}
	if (server) {
		*out = server->ctx;
		return true;
	}
	struct goroutine_key gk = { .g = g, .pid = pid };
	struct trace_ctx *inh = bpf_map_lookup_elem(&inherited, &gk);
	if (inh) {
		*out = *inh;
		return true;
	}
	return false;
}
