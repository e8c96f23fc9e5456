// SPDX-License-Identifier: Apache-2.0
#include "gotrace/xnet_target.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "binfmt/disasm.h"
#include "binfmt/elf_module.h"
#include "binfmt/go_offsets.h"
#include "binfmt/gobinary.h"
#include "gotrace/module_offsets.h"
#include "gotrace/target.h"
#include "gotrace/xnet_offsets_table.h"

#define XNET_MODULE "golang.org/x/net"
#define XNET_PKG    XNET_MODULE "/http2"

static const char *const hook_functions[XNET_NR_HOOKS] = {
	[XNET_HOOK_RUN] = XNET_PKG ".(*serverConn).runHandler",
	[XNET_HOOK_DONE] = XNET_PKG ".(*responseWriter).handlerDone",
	[XNET_HOOK_WRAP] = XNET_PKG ".(*Server).serveConn",
	/* Not entries: named for inspect by what they are. */
	[XNET_HOOK_H2_CALL] = "net/http.http2Handler.ServeHTTP's call of the handler",
	[XNET_HOOK_H2_BACK] = "net/http.http2Handler.ServeHTTP after that call",
};

#define H2_HANDLER "net/http.http2Handler.ServeHTTP"

static const struct wanted_field xnet_fields[] = {
	{ XNET_PKG ".responseWriter", "rws", offsetof(struct gotrace_xnet_offsets, writer_rws) / 4, true },
	{ XNET_PKG ".responseWriterState", "status", offsetof(struct gotrace_xnet_offsets, state_status) / 4,
	  true },
	{ XNET_PKG ".responseWriterState", "conn", offsetof(struct gotrace_xnet_offsets, state_conn) / 4,
	  false },
	{ XNET_PKG ".serverConn", "conn", offsetof(struct gotrace_xnet_offsets, serverconn_conn) / 4, false },
	{ XNET_PKG "/h2c.bufConn", "Conn", offsetof(struct gotrace_xnet_offsets, bufconn_conn) / 4, false },
	{ XNET_PKG ".ServeConnOpts", "UpgradeRequest",
	  offsetof(struct gotrace_xnet_offsets, opts_upgrade) / 4, false },
};

/* Go 1.27's wrapper has no server of its own, so no writer state: the upgrade's offset, and
 * h2c's connection wrapper (the local port is read through it). */
static const struct wanted_field wrap_fields[] = {
	{ XNET_PKG ".ServeConnOpts", "UpgradeRequest",
	  offsetof(struct gotrace_xnet_offsets, opts_upgrade) / 4, true },
	{ XNET_PKG "/h2c.bufConn", "Conn", offsetof(struct gotrace_xnet_offsets, bufconn_conn) / 4, false },
};

static int wrap(Elf *elf, void *out)
{
	return go_offsets_fields_from_dwarf(elf, wrap_fields, sizeof(wrap_fields) / sizeof(wrap_fields[0]),
					    out);
}

/* Go 1.27+: the one `CALL RDX` of net/http.http2Handler.ServeHTTP (its call of the handler)
 * and the instruction after it, as the entry offsets of the two hooks; false when the code is
 * not that shape (then the wrapper's requests are not measured). */
static bool find_handler_call(struct elf_module *m, struct go_hook *call, struct go_hook *back)
{
	uint64_t entry, end, offset;
	uint8_t code[2048];
	uint32_t at[2], size[2];
	/* Its own HTTP/2 requests are told apart by serverHandler's address. */
	if (elf_module_find_function(m, "net/http.serverHandler.ServeHTTP", &entry, &end) ||
	    elf_module_find_function(m, H2_HANDLER, &entry, &end) || end <= entry ||
	    end - entry > sizeof(code) || elf_module_read(m, entry, code, end - entry) ||
	    find_dx_call_offsets(code, end - entry, entry, at, size, 2) != 1 ||
	    elf_module_vaddr_to_offset(m, entry + at[0], &offset))
		return false;
	call->entry_offset = offset;
	back->entry_offset = offset + size[0];
	return true;
}

/* Stripped binaries: the offsets file's x/net offsets for their x/net version and Go release,
 * else the table's row; 0 or -ENOENT. */
static int from_table(struct elf_module *m, struct gotrace_xnet_offsets *off, char *source, size_t len)
{
	char version[48], minor[24];
	const char *go = elf_module_go_version(m);
	int major, n;
	if (!go || sscanf(go, "go%d.%d", &major, &n) != 2 ||
	    go_buildinfo_dep_version(elf_module_elf(m), XNET_MODULE, version, sizeof(version)))
		return -ENOENT;
	snprintf(minor, sizeof(minor), "%d.%d", major, n);
	if (module_offsets_xnet(go, version, off)) {
		snprintf(source, len, "offsets file: " XNET_MODULE " %s, Go %s", version, minor);
		return 0;
	}
	for (size_t i = 0; i < sizeof(xnet_offsets_table) / sizeof(xnet_offsets_table[0]); i++)
		if (!strcmp(xnet_offsets_table[i].version, version) &&
		    !strcmp(xnet_offsets_table[i].go, minor)) {
			*off = xnet_offsets_table[i].off;
			snprintf(source, len, "table: " XNET_MODULE " %s, Go %s", version, minor);
			return 0;
		}
	return -ENOENT;
}

static int fields(Elf *elf, void *out)
{
	return go_offsets_fields_from_dwarf(elf, xnet_fields, sizeof(xnet_fields) / sizeof(xnet_fields[0]),
					    out);
}

void xnet_target_open(struct elf_module *m, struct go_xnet_target *x, struct go_hook *hooks)
{
	uint64_t entry, end;
	memset(x, 0, sizeof(*x));
	x->off = (struct gotrace_xnet_offsets){ -1, -1, -1, -1, -1, -1 };
	snprintf(x->offsets_source, sizeof(x->offsets_source), "DWARF");
	for (int i = 0; i < XNET_NR_HOOKS; i++) {
		hooks[i] = (struct go_hook){ .function = hook_functions[i] };
		if (i >= XNET_HOOK_H2_CALL)
			continue; /* not entries: found below, with the wrapper */
		hooks[i].found = !elf_module_find_function(m, hooks[i].function, &entry, &end) &&
				 !elf_module_vaddr_to_offset(m, entry, &hooks[i].entry_offset);
		go_hook_past_stack_check(m, &hooks[i]);
	}
	struct gotrace_xnet_offsets off;
	memset(&off, 0xff, sizeof(off));
	if (hooks[XNET_HOOK_RUN].found) { /* x/net's own server (before Go 1.27) */
		x->linked = true;
		hooks[XNET_HOOK_WRAP].found = false;
		if (hooks[XNET_HOOK_DONE].found &&
		    (!go_offsets_run_isolated(elf_module_elf(m), fields, &off, sizeof(off)) ||
		     !from_table(m, &off, x->offsets_source, sizeof(x->offsets_source))) &&
		    off.writer_rws >= 0 && off.state_status >= 0) {
			x->off = off;
			x->measured = true;
		} else {
			snprintf(x->offsets_source, sizeof(x->offsets_source), "-");
			snprintf(x->why, sizeof(x->why),
				 "no DWARF, and its x/net version and Go release are neither in an offsets "
				 "file nor in glimpse's table");
		}
	} else if (hooks[XNET_HOOK_WRAP].found) {
		x->linked = true;
		if (!go_offsets_run_isolated(elf_module_elf(m), wrap, &off, sizeof(off)) ||
		    !from_table(m, &off, x->offsets_source, sizeof(x->offsets_source))) {
			x->off.opts_upgrade = off.opts_upgrade;
			x->off.bufconn_conn = off.bufconn_conn;
		}
		/* Its requests are net/http's, measured with net/http's offsets; the upgrade's
		 * offset keeps h2c's HTTP/1 side from counting as a request: without it, that
		 * request would be counted twice, so none is measured. */
		bool call = find_handler_call(m, &hooks[XNET_HOOK_H2_CALL], &hooks[XNET_HOOK_H2_BACK]);
		if (x->off.opts_upgrade < 0)
			hooks[XNET_HOOK_WRAP].found = false;
		x->measured = call && hooks[XNET_HOOK_WRAP].found;
		hooks[XNET_HOOK_H2_CALL].found = hooks[XNET_HOOK_H2_BACK].found = x->measured;
		snprintf(x->why, sizeof(x->why), "%s",
			 !hooks[XNET_HOOK_WRAP].found
				 ? "Go 1.27+, where it wraps net/http's internal server; no DWARF, and its "
				   "x/net version and Go release are not in glimpse's table: its h2c "
				   "upgrades count as HTTP/1.1 requests lasting their connection"
				 : "Go 1.27+, where it wraps net/http's internal server, whose call of the "
				   "handler is not the one glimpse knows");
	}
	if (!x->measured)
		hooks[XNET_HOOK_DONE].found = false;
}
