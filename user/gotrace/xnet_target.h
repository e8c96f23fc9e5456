/* SPDX-License-Identifier: Apache-2.0 */
/* golang.org/x/net/http2 used directly (http2.Server.ServeConn, h2c.NewHandler): its server
 * bypasses net/http's, so bpf/gotrace_xnet.bpf.h probes its own functions; the struct offsets
 * come from the binary's DWARF, or for stripped binaries from the table row of their x/net
 * version and Go release (scripts/gen-xnet-offsets.sh). Without them its requests are not
 * measured (said once), but still told from the HTTP/1 requests h2c took over, which are then
 * not counted as HTTP/1. From Go 1.27 x/net/http2 wraps net/http's internal server: its
 * requests are measured where net/http's http2Handler calls the handler
 * (bpf/gotrace_xnet_wrap.bpf.h), with net/http's own offsets. */
#ifndef GLIMPSE_GOTRACE_XNET_TARGET_H
#define GLIMPSE_GOTRACE_XNET_TARGET_H

#include <stdbool.h>

#include "gotrace.h"

struct elf_module;
struct go_hook;

enum xnet_hook_id {
	XNET_HOOK_RUN,	/* golang.org/x/net/http2.(*serverConn).runHandler */
	XNET_HOOK_DONE, /* golang.org/x/net/http2.(*responseWriter).handlerDone */
	XNET_HOOK_WRAP, /* Go 1.27+: golang.org/x/net/http2.(*Server).serveConn, the wrapper */
	/* Go 1.27+, with the wrapper: net/http.http2Handler.ServeHTTP's call of the handler (its
	 * `CALL RDX`), and the instruction that call returns to (entry_offset of each). */
	XNET_HOOK_H2_CALL,
	XNET_HOOK_H2_BACK,
	XNET_NR_HOOKS,
};

struct go_xnet_target {
	bool linked;		  /* the binary carries x/net/http2's server */
	bool measured;		  /* and its requests are measured */
	char why[224];		  /* linked, not measured: why (for the log and inspect) */
	char offsets_source[128]; /* "DWARF" or "table: golang.org/x/net v0.60.0, Go 1.26" */
	struct gotrace_xnet_offsets off;
};

/* Finds x/net/http2's server in an open Go binary (hooks: XNET_NR_HOOKS of them, entries past
 * their stack-bound check). Never fails: x->measured says whether its offsets are known. */
void xnet_target_open(struct elf_module *m, struct go_xnet_target *x, struct go_hook *hooks);

#endif
