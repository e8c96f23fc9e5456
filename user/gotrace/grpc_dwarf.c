// SPDX-License-Identifier: Apache-2.0
/* gRPC's struct offsets and the parameter order of the probed functions, from DWARF. The
 * probes read arguments from registers by position, so each function's leading parameters
 * must be the ones the BPF code expects, by name: a release that reorders them is refused,
 * never read at the wrong register. */
#include "gotrace/grpc_target.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <string.h>

#include "binfmt/go_offsets.h"

#define GRPC_PKG      "google.golang.org/grpc"
#define TRANSPORT_PKG GRPC_PKG "/internal/transport"
#define STATUS_PKG    GRPC_PKG "/internal/status"

enum field_id {
	F_SERVERSTREAM_STREAM, /* ServerStream embeds *Stream (1.6x-1.7x), Stream (1.8x) */
	F_STREAM_METHOD,
	F_STATUS_S,
	F_SPB_CODE,
	F_ERROR_S,
	F_CC_TARGET,
	F_WRAPPER_STREAM,
	F_SERVER_LADDR, /* before 1.6x */
	F_SERVER_PEER,
	F_PEER_LOCALADDR,
	F_VALUECTX_PARENT,
	F_VALUECTX_KEY,
	F_VALUECTX_VAL,
	F_CANCELCTX_PARENT,
	F_STREAM_CTX,
	F_ERROR_E, /* before 1.3x's Error held a *Status, it held the proto itself */
	NFIELDS,
};

static const struct {
	const char *type, *field;
} fields[NFIELDS] = {
	[F_SERVERSTREAM_STREAM] = { TRANSPORT_PKG ".ServerStream", "Stream" },
	[F_STREAM_METHOD] = { TRANSPORT_PKG ".Stream", "method" },
	[F_STATUS_S] = { STATUS_PKG ".Status", "s" },
	[F_SPB_CODE] = { "google.golang.org/genproto/googleapis/rpc/status.Status", "Code" },
	[F_ERROR_S] = { STATUS_PKG ".Error", "s" },
	[F_CC_TARGET] = { GRPC_PKG ".ClientConn", "target" },
	[F_WRAPPER_STREAM] = { GRPC_PKG ".clientStreamWrapper", "ClientStream" },
	[F_SERVER_LADDR] = { TRANSPORT_PKG ".http2Server", "localAddr" },
	[F_SERVER_PEER] = { TRANSPORT_PKG ".http2Server", "peer" },
	[F_PEER_LOCALADDR] = { GRPC_PKG "/peer.Peer", "LocalAddr" },
	[F_VALUECTX_PARENT] = { "context.valueCtx", "Context" },
	[F_VALUECTX_KEY] = { "context.valueCtx", "key" },
	[F_VALUECTX_VAL] = { "context.valueCtx", "val" },
	[F_CANCELCTX_PARENT] = { "context.cancelCtx", "Context" },
	[F_STREAM_CTX] = { TRANSPORT_PKG ".Stream", "ctx" },
	[F_ERROR_E] = { STATUS_PKG ".Error", "e" },
};

/* Types whose runtime type descriptors the traceparent walk compares (DW_AT_go_runtime_type:
 * an offset from runtime.types). */
#define DW_AT_GO_RUNTIME_TYPE 0x2904
static const char *const runtime_types[GRPC_NR_RUNTIME_TYPES] = {
	[GRPC_RTYPE_MD_KEY] = GRPC_PKG "/metadata.mdIncomingKey",
	[GRPC_RTYPE_MD] = GRPC_PKG "/metadata.MD",
};

/* The leading parameters each probe reads, in register order (receiver first). */
enum func_id {
	FN_PROCESS_RPC,
	FN_PROCESS_UNARY,
	FN_PROCESS_STREAMING,
	FN_WRITE_STATUS,
	FN_WRITE_STATUS_OLD,
	FN_NEW_CLIENT_STREAM,
	FN_FINISH,
	NFUNCS,
};

static const struct {
	const char *name;
	const char *params[4];
} funcs[NFUNCS] = {
	/* The probe reads only the stream (arg 4) and info (arg 5): before grpc-go 1.6x the
	 * interface in args 2-3 was the transport, not the context. */
	[FN_PROCESS_RPC] = { GRPC_PKG ".(*Server).processRPC", { "s", "ctx", "stream", "info" } },
	[FN_PROCESS_UNARY] = { GRPC_PKG ".(*Server).processUnaryRPC", { "s", "ctx|t", "stream", "info" } },
	[FN_PROCESS_STREAMING] = { GRPC_PKG ".(*Server).processStreamingRPC",
				   { "s", "ctx|t", "stream", "info" } },
	[FN_WRITE_STATUS] = { TRANSPORT_PKG ".(*http2Server).writeStatus", { "t", "s", "st" } },
	[FN_WRITE_STATUS_OLD] = { TRANSPORT_PKG ".(*http2Server).WriteStatus", { "t", "s", "st" } },
	[FN_NEW_CLIENT_STREAM] = { GRPC_PKG ".newClientStream", { "ctx", "desc", "cc", "method" } },
	[FN_FINISH] = { GRPC_PKG ".(*clientStream).finish", { "cs", "err" } },
};

/* 1: found with the expected leading parameters, -1: found with others, 0: absent. */
struct dwarf_result {
	int32_t at[NFIELDS];
	bool by_value[NFIELDS]; /* the member is a struct, not a pointer (ServerStream.Stream) */
	int funcs[NFUNCS];
	uint64_t rtype[GRPC_NR_RUNTIME_TYPES];
};

static void read_members(Dwarf_Die *type, const char *name, struct dwarf_result *r)
{
	Dwarf_Die member;
	if (dwarf_child(type, &member) != 0)
		return;
	do {
		Dwarf_Attribute attr;
		Dwarf_Word offset;
		const char *field = dwarf_diename(&member);
		if (dwarf_tag(&member) != DW_TAG_member || !field ||
		    !dwarf_attr(&member, DW_AT_data_member_location, &attr) ||
		    dwarf_formudata(&attr, &offset))
			continue;
		for (int i = 0; i < NFIELDS; i++) {
			if (strcmp(fields[i].type, name) || strcmp(fields[i].field, field))
				continue;
			r->at[i] = (int32_t)offset;
			Dwarf_Die t;
			if (!dwarf_attr(&member, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &t))
				continue;
			/* Go names its types through a typedef of the struct (or of the pointer). */
			while (dwarf_tag(&t) == DW_TAG_typedef && dwarf_attr(&t, DW_AT_type, &attr) &&
			       dwarf_formref_die(&attr, &t))
				;
			r->by_value[i] = dwarf_tag(&t) == DW_TAG_structure_type;
		}
	} while (dwarf_siblingof(&member, &member) == 0);
}

/* Whether name is one of the '|'-separated names in want. */
static bool name_in(const char *name, const char *want)
{
	size_t n = strlen(name);
	for (const char *w = want; w; w = strchr(w, '|') ? strchr(w, '|') + 1 : NULL)
		if (!strncmp(w, name, n) && (w[n] == '|' || !w[n]))
			return true;
	return false;
}

static int check_params(Dwarf_Die *fn, int f)
{
	Dwarf_Die p;
	int n = 0;
	if (dwarf_child(fn, &p) != 0)
		return -1;
	do {
		if (dwarf_tag(&p) != DW_TAG_formal_parameter)
			continue;
		const char *want = n < 4 ? funcs[f].params[n] : NULL;
		if (!want)
			return 1;
		const char *name = dwarf_diename(&p);
		if (!name || !name_in(name, want))
			return -1;
		n++;
	} while (dwarf_siblingof(&p, &p) == 0);
	return n >= 4 || !funcs[f].params[n] ? 1 : -1;
}

static void read_die(Dwarf_Die *die, struct dwarf_result *r)
{
	const char *name = dwarf_diename(die);
	if (name && !strncmp(name, "context.", 8) && dwarf_tag(die) == DW_TAG_structure_type)
		read_members(die, name, r);
	if (!name || strncmp(name, "google.golang.org/", 18))
		return;
	for (int i = 0; i < GRPC_NR_RUNTIME_TYPES; i++) {
		Dwarf_Attribute attr;
		Dwarf_Word at;
		Dwarf_Addr addr;
		if (r->rtype[i] || strcmp(name, runtime_types[i]) ||
		    !dwarf_attr(die, DW_AT_GO_RUNTIME_TYPE, &attr))
			continue;
		/* Go writes it as an address-form attribute holding the offset. */
		if (!dwarf_formaddr(&attr, &addr))
			r->rtype[i] = addr;
		else if (!dwarf_formudata(&attr, &at))
			r->rtype[i] = at;
	}
	if (dwarf_tag(die) == DW_TAG_structure_type) {
		read_members(die, name, r);
	} else if (dwarf_tag(die) == DW_TAG_subprogram) {
		for (int i = 0; i < NFUNCS; i++)
			if (!strcmp(funcs[i].name, name))
				r->funcs[i] = check_params(die, i);
	}
}

static int read_dwarf(Elf *elf, void *out)
{
	struct dwarf_result *r = out;
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < NFIELDS; i++)
		r->at[i] = -1;
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		return -ENOENT;
	Dwarf_Off off = 0, next;
	size_t hdr;
	while (dwarf_nextcu(dw, off, &next, &hdr, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;
		if (dwarf_offdie(dw, off + hdr, &cu) && dwarf_child(&cu, &die) == 0) {
			do
				read_die(&die, r);
			while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	dwarf_end(dw);
	return 0;
}

static int from_dwarf(Elf *elf, bool isolated, struct gotrace_grpc_offsets *off, uint64_t *rtypes,
		      bool *server_ok, bool *client_ok)
{
	struct dwarf_result r;
	*server_ok = *client_ok = false;
	if (isolated ? go_offsets_run_isolated(elf, read_dwarf, &r, sizeof(r)) : read_dwarf(elf, &r))
		return -ENOENT;
	/* Since grpc-go 1.6x the server's stream is a ServerStream embedding Stream, through a
	 * pointer up to 1.7x, by value since 1.8x; before, the probes get a *Stream. */
	int32_t method = r.at[F_STREAM_METHOD], stream_ctx = r.at[F_STREAM_CTX], stream_ptr = -1;
	if (r.at[F_SERVERSTREAM_STREAM] >= 0 && !r.by_value[F_SERVERSTREAM_STREAM]) {
		stream_ptr = r.at[F_SERVERSTREAM_STREAM];
	} else if (r.at[F_SERVERSTREAM_STREAM] >= 0) {
		method = method >= 0 ? r.at[F_SERVERSTREAM_STREAM] + method : -1;
		stream_ctx = stream_ctx >= 0 ? r.at[F_SERVERSTREAM_STREAM] + stream_ctx : -1;
	}
	*off = (struct gotrace_grpc_offsets){
		.stream_method = method,
		.status_s = r.at[F_STATUS_S],
		.spb_code = r.at[F_SPB_CODE],
		.error_s = r.at[F_ERROR_S] >= 0 ? r.at[F_ERROR_S] : r.at[F_ERROR_E],
		.error_proto = r.at[F_ERROR_S] < 0 && r.at[F_ERROR_E] >= 0,
		.stream_ctx = stream_ctx,
		.cc_target = r.at[F_CC_TARGET],
		.wrapper_stream = r.at[F_WRAPPER_STREAM],
		/* The listener's address: http2Server.peer.LocalAddr, or localAddr before. */
		.server_laddr =
			r.at[F_SERVER_PEER] >= 0 && r.by_value[F_SERVER_PEER] && r.at[F_PEER_LOCALADDR] >= 0
				? r.at[F_SERVER_PEER] + r.at[F_PEER_LOCALADDR]
				: r.at[F_SERVER_LADDR],
		.tcpaddr_port = -1,
		.valuectx_parent = r.at[F_VALUECTX_PARENT],
		.valuectx_key = r.at[F_VALUECTX_KEY],
		.valuectx_val = r.at[F_VALUECTX_VAL],
		.cancelctx_parent = r.at[F_CANCELCTX_PARENT],
		.stream_ptr = stream_ptr,
	};
	memcpy(rtypes, r.rtype, sizeof(r.rtype));
	bool status = off->status_s >= 0 && off->spb_code >= 0;
	bool entry = r.funcs[FN_PROCESS_RPC] == 1 ||
		     (r.funcs[FN_PROCESS_UNARY] == 1 && r.funcs[FN_PROCESS_STREAMING] == 1);
	bool bad_entry = r.funcs[FN_PROCESS_RPC] < 0 || r.funcs[FN_PROCESS_UNARY] < 0 ||
			 r.funcs[FN_PROCESS_STREAMING] < 0;
	bool write = r.funcs[FN_WRITE_STATUS] == 1 || r.funcs[FN_WRITE_STATUS_OLD] == 1;
	*server_ok = status && method >= 0 && entry && !bad_entry && write;
	*client_ok = status && off->error_s >= 0 && off->cc_target >= 0 &&
		     r.funcs[FN_NEW_CLIENT_STREAM] == 1 && r.funcs[FN_FINISH] == 1;
	return 0;
}

int grpc_offsets_from_dwarf(Elf *elf, struct gotrace_grpc_offsets *off, uint64_t *rtypes, bool *server_ok,
			    bool *client_ok)
{
	return from_dwarf(elf, false, off, rtypes, server_ok, client_ok);
}

int grpc_offsets_from_dwarf_isolated(Elf *elf, struct gotrace_grpc_offsets *off, uint64_t *rtypes,
				     bool *server_ok, bool *client_ok)
{
	return from_dwarf(elf, true, off, rtypes, server_ok, client_ok);
}
