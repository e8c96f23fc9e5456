// SPDX-License-Identifier: Apache-2.0
#include "binfmt/go_offsets.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "binfmt/go_offsets_table.h"

/* The order of each struct's slots (go_offsets.h), as read from DWARF and written to files. */
static const struct wanted_field wanted[] = {
	{ "net/http.Request", "Method", 0, true },
	{ "net/http.Request", "URL", 1, true },
	{ "net/http.Request", "pat", 2, false },
	{ "net/http.pattern", "str", 3, false },
	{ "net/url.URL", "Path", 4, true },
	{ "net/url.URL", "Host", 5, true },
	{ "net/http.response", "status", 6, true },
	{ "net/http.Response", "StatusCode", 7, true },
	{ "net/http.Request", "Header", 8, false },
	{ "database/sql.driverConn", "ci", 9, false },
	{ "runtime.g", "m", 10, false },
	{ "runtime.m", "curg", 11, false },
	{ "net/http.Request", "ProtoMajor", 12, true },
	{ "net/http.Request", "ProtoMinor", 13, true },
	/* A binary has one of the two HTTP/2 servers' types; both fill the same slots. */
	{ "net/http.http2responseWriter", "rws", 14, false },
	{ "net/http/internal/http2.responseWriter", "rws", 14, false },
	{ "net/http.http2responseWriterState", "status", 15, false },
	{ "net/http/internal/http2.responseWriterState", "status", 15, false },
	{ "database/sql.Stmt", "query", 16, false },
	{ "database/sql.Stmt", "css", 17, false },
	{ "database/sql.connStmt", "dc", 18, false },
	{ "net/http.response", "conn", 19, false },
	{ "net/http.conn", "rwc", 20, false },
	{ "net/http.http2responseWriterState", "conn", 21, false },
	{ "net/http/internal/http2.responseWriterState", "conn", 21, false },
	{ "net/http.http2serverConn", "conn", 22, false },
	{ "net/http/internal/http2.serverConn", "conn", 22, false },
	{ "crypto/tls.Conn", "conn", 23, false },
	{ "net/http.unencryptedNetConnInTLSConn", "conn", 24, false },
	{ "net.conn", "fd", 25, false },
	{ "net.netFD", "laddr", 26, false },
	{ "net.TCPAddr", "Port", 27, false },
	{ "database/sql.Stmt", "db", 28, false },
	{ "database/sql.DB", "waitDuration", 29, false },
	{ "database/sql.DB", "connector", 30, false },
	{ "database/sql.DB", "freeConn", 31, false },
	{ "database/sql.DB", "connRequests", 32, false },
	{ "database/sql.connRequestSet", "s", 33, false },
	{ "database/sql.DB", "numOpen", 34, false },
	{ "database/sql.DB", "closed", 35, false },
	{ "database/sql.DB", "maxOpen", 36, false },
	{ "database/sql.DB", "waitCount", 37, false },
	{ "database/sql.DB", "maxIdleClosed", 38, false },
	{ "database/sql.DB", "maxIdleTimeClosed", 39, false },
	{ "database/sql.DB", "maxLifetimeClosed", 40, false },
	{ "net/http.Request", "Host", 41, false },
	{ "net/http.Server", "Handler", 42, false },
	{ "net/http.ServeMux", "tree", 43, false },
	{ "net/http.routingNode", "pattern", 44, false },
	{ "net/http.routingNode", "children", 45, false },
	{ "net/http.routingNode", "multiChild", 46, false },
	{ "net/http.routingNode", "emptyChild", 47, false },
	{ "net/http.mapping[string,*net/http.routingNode]", "s", 48, false },
	{ "net/http.mapping[string,*net/http.routingNode]", "m", 49, false },
	{ "net/http.entry[string,*net/http.routingNode]", "key", 50, false },
	{ "net/http.entry[string,*net/http.routingNode]", "value", 51, false },
};
#define NWANTED	    (sizeof(wanted) / sizeof(wanted[0]))
#define NHTTP_SLOTS (sizeof(struct go_http_offsets) / sizeof(int32_t))

/* The memory fields are not required here: without them go_runtime reports no memory. */
static const struct wanted_field runtime_wanted[] = {
	{ "runtime.g", "atomicstatus", 0, true },
	{ "runtime.g", "startpc", 1, true },
	{ "runtime.mstats", "last_gc_unix", 2, false },
	{ "runtime.mstats", "pause_total_ns", 3, false },
	{ "runtime.mstats", "numgc", 4, false },
	{ "runtime.mstats", "numforcedgc", 5, false },
	{ "runtime.mstats", "last_gc_nanotime", 6, false },
	{ "runtime.gcControllerState", "heapInUse", 7, false },
	{ "runtime.gcControllerState", "heapReleased", 8, false },
	{ "runtime.gcControllerState", "heapFree", 9, false },
	{ "runtime.gcControllerState", "mappedReady", 10, false },
};
#define NRUNTIME_WANTED (sizeof(runtime_wanted) / sizeof(runtime_wanted[0]))
_Static_assert(sizeof(struct go_runtime_offsets) == NRUNTIME_WANTED * sizeof(int32_t), "one slot per field");

static void read_struct(Dwarf_Die *type, const char *name, const struct wanted_field *w, size_t nw,
			int32_t *slots)
{
	Dwarf_Die member;
	if (dwarf_child(type, &member) != 0)
		return;
	do {
		if (dwarf_tag(&member) != DW_TAG_member)
			continue;
		const char *field = dwarf_diename(&member);
		Dwarf_Attribute attr;
		Dwarf_Word offset;
		if (!field || !dwarf_attr(&member, DW_AT_data_member_location, &attr) ||
		    dwarf_formudata(&attr, &offset) != 0)
			continue;
		for (size_t i = 0; i < nw; i++)
			if (!strcmp(w[i].type, name) && !strcmp(w[i].field, field))
				slots[w[i].out_index] = (int32_t)offset;
	} while (dwarf_siblingof(&member, &member) == 0);
}

static bool is_wanted_type(const char *name, const struct wanted_field *w, size_t nw)
{
	for (size_t i = 0; i < nw; i++)
		if (!strcmp(w[i].type, name))
			return true;
	return false;
}

int go_offsets_fields_from_dwarf(Elf *elf, const struct wanted_field *w, size_t nw, int32_t *slots)
{
	for (size_t i = 0; i < nw; i++)
		slots[w[i].out_index] = -1;
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		return -ENOENT;
	Dwarf_Off off = 0, next;
	size_t hdr;
	/* Go emits its types as top-level DIEs of the compilation units. */
	while (dwarf_nextcu(dw, off, &next, &hdr, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;
		if (dwarf_offdie(dw, off + hdr, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				if (dwarf_tag(&die) != DW_TAG_structure_type)
					continue;
				const char *name = dwarf_diename(&die);
				if (name && is_wanted_type(name, w, nw))
					read_struct(&die, name, w, nw, slots);
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	dwarf_end(dw);
	for (size_t i = 0; i < nw; i++)
		if (w[i].required && slots[w[i].out_index] < 0)
			return -ENOENT;
	return 0;
}

int go_offsets_from_dwarf(Elf *elf, struct go_http_offsets *out)
{
	return go_offsets_fields_from_dwarf(elf, wanted, NWANTED, (int32_t *)out);
}

int go_runtime_offsets_from_dwarf(Elf *elf, struct go_runtime_offsets *out)
{
	return go_offsets_fields_from_dwarf(elf, runtime_wanted, NRUNTIME_WANTED, (int32_t *)out);
}

static int http_from_dwarf(Elf *elf, void *out)
{
	return go_offsets_from_dwarf(elf, out);
}

static int runtime_from_dwarf(Elf *elf, void *out)
{
	return go_runtime_offsets_from_dwarf(elf, out);
}

int go_offsets_from_dwarf_isolated(Elf *elf, struct go_http_offsets *out)
{
	return go_offsets_run_isolated(elf, http_from_dwarf, out, sizeof(*out));
}

int go_runtime_offsets_from_dwarf_isolated(Elf *elf, struct go_runtime_offsets *out)
{
	return go_offsets_run_isolated(elf, runtime_from_dwarf, out, sizeof(*out));
}

int go_offsets_run_isolated(Elf *elf, int (*fn)(Elf *elf, void *out), void *out, size_t len)
{
	int fds[2];
	if (pipe(fds))
		return fn(elf, out);
	pid_t child = fork();
	if (child < 0) {
		close(fds[0]);
		close(fds[1]);
		return fn(elf, out);
	}
	if (child == 0) {
		close(fds[0]);
		int rc = fn(elf, out);
		if (rc == 0 && write(fds[1], out, len) != (ssize_t)len)
			rc = -EIO;
		_exit(rc == 0 ? 0 : 1);
	}
	close(fds[1]);
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fds[0], (char *)out + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	return got == len && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENOENT;
}

/* "go1.22.12" → "1.22"; false if not of that shape. */
static bool minor_version(const char *v, char *buf, size_t len)
{
	int major, minor;
	if (sscanf(v, "go%d.%d", &major, &minor) != 2)
		return false;
	snprintf(buf, len, "%d.%d", major, minor);
	return true;
}

/* The module sets' slot names, in the order gotrace's rows keep (gotrace/module_offsets.c). */
static const char *const grpc_slot_names[GO_OFFSETS_GRPC_SLOTS] = {
	"stream_method",   "status_s",	   "spb_code",	     "error_s",		 "error_proto",
	"stream_ctx",	   "cc_target",	   "wrapper_stream", "server_laddr",	 "tcpaddr_port",
	"valuectx_parent", "valuectx_key", "valuectx_val",   "cancelctx_parent", "stream_ptr",
	"legacy_status",   "server_ok",	   "client_ok",
};
static const char *const xnet_slot_names[GO_OFFSETS_XNET_SLOTS] = {
	"writer_rws", "state_status", "state_conn", "serverconn_conn", "bufconn_conn", "opts_upgrade",
};

const char *go_offsets_module(enum go_offsets_set set)
{
	return set == GO_OFFSETS_GRPC	? "google.golang.org/grpc"
	       : set == GO_OFFSETS_XNET ? "golang.org/x/net"
					: NULL;
}

const char *go_offsets_field_name(enum go_offsets_set set, size_t slot, char *buf, size_t len, bool *required)
{
	if (set == GO_OFFSETS_GRPC || set == GO_OFFSETS_XNET) {
		if (slot >= go_offsets_slots(set))
			return NULL;
		if (required)
			*required = false;
		snprintf(buf, len, "%s.%s", set == GO_OFFSETS_GRPC ? "grpc" : "xnet",
			 set == GO_OFFSETS_GRPC ? grpc_slot_names[slot] : xnet_slot_names[slot]);
		return buf;
	}
	const struct wanted_field *w = set == GO_OFFSETS_HTTP ? wanted : runtime_wanted;
	size_t n = set == GO_OFFSETS_HTTP ? NWANTED : NRUNTIME_WANTED;
	for (size_t i = 0; i < n; i++)
		if (w[i].out_index == slot) {
			if (required)
				*required = w[i].required;
			snprintf(buf, len, "%s.%s", w[i].type, w[i].field);
			return buf;
		}
	return NULL;
}

size_t go_offsets_slots(enum go_offsets_set set)
{
	switch (set) {
	case GO_OFFSETS_HTTP:
		return NHTTP_SLOTS;
	case GO_OFFSETS_RUNTIME:
		return NRUNTIME_WANTED;
	case GO_OFFSETS_GRPC:
		return GO_OFFSETS_GRPC_SLOTS;
	case GO_OFFSETS_XNET:
		return GO_OFFSETS_XNET_SLOTS;
	default:
		return 0;
	}
}

/* Rows the user supplied (go_offsets_add_row), looked up before the built-in table. */
#define MAX_USER_ROWS 16
static struct go_offsets_row user_rows[MAX_USER_ROWS];
static size_t nuser_rows;

int go_offsets_add_row(const struct go_offsets_row *row)
{
	char minor[16];
	if (!minor_version(row->go_version, minor, sizeof(minor)))
		return -EINVAL;
	for (size_t i = 0; i < nuser_rows; i++) {
		char other[16];
		if (minor_version(user_rows[i].go_version, other, sizeof(other)) && !strcmp(other, minor)) {
			user_rows[i] = *row;
			return 0;
		}
	}
	if (nuser_rows == MAX_USER_ROWS)
		return -ENOSPC;
	user_rows[nuser_rows++] = *row;
	return 0;
}

static const struct go_offsets_row *user_row(const char *minor)
{
	for (size_t i = 0; i < nuser_rows; i++) {
		char other[16];
		if (minor_version(user_rows[i].go_version, other, sizeof(other)) && !strcmp(other, minor))
			return &user_rows[i];
	}
	return NULL;
}

const struct go_module_offsets *go_offsets_module_row(const char *go_version, enum go_offsets_set set,
						      const char *version)
{
	char minor[16];
	const struct go_offsets_row *row =
		go_version && minor_version(go_version, minor, sizeof(minor)) ? user_row(minor) : NULL;
	const struct go_module_offsets *mod = !row		       ? NULL
					      : set == GO_OFFSETS_GRPC ? &row->grpc
					      : set == GO_OFFSETS_XNET ? &row->xnet
								       : NULL;
	return mod && mod->version[0] && version && !strcmp(mod->version, version) ? mod : NULL;
}

static bool has_required(const int32_t *slots, const struct wanted_field *w, size_t nw)
{
	for (size_t i = 0; i < nw; i++)
		if (w[i].required && slots[w[i].out_index] < 0)
			return false;
	return true;
}

/* The user row for this minor version that can speak for a set (its required fields all
 * there): a file from a program without net/http gives runtime offsets only, and the built-in
 * table still answers for HTTP. */
static const struct go_offsets_row *usable_row(const char *minor, enum go_offsets_set set)
{
	const struct go_offsets_row *row = user_row(minor);
	if (row && set == GO_OFFSETS_HTTP && !has_required((const int32_t *)&row->http, wanted, NWANTED))
		return NULL;
	if (row && set == GO_OFFSETS_RUNTIME &&
	    !has_required((const int32_t *)&row->runtime, runtime_wanted, NRUNTIME_WANTED))
		return NULL;
	return row;
}

const char *go_offsets_table_source(const char *go_version, enum go_offsets_set set)
{
	char minor[16];
	return go_version && minor_version(go_version, minor, sizeof(minor)) && usable_row(minor, set)
		       ? "offsets file"
		       : "table";
}

int go_offsets_from_table(const char *go_version, struct go_http_offsets *out)
{
	char minor[16];
	if (!go_version || !minor_version(go_version, minor, sizeof(minor)))
		return -ENOENT;
	const struct go_offsets_row *row = usable_row(minor, GO_OFFSETS_HTTP);
	if (row) {
		*out = row->http;
		return 0;
	}
	for (size_t i = 0; i < sizeof(go_offsets_table) / sizeof(go_offsets_table[0]); i++) {
		if (!strcmp(go_offsets_table[i].version, minor)) {
			*out = go_offsets_table[i].offsets;
			return 0;
		}
	}
	return -ENOENT;
}

int go_runtime_offsets_from_table(const char *go_version, struct go_runtime_offsets *out)
{
	char minor[16];
	if (!go_version || !minor_version(go_version, minor, sizeof(minor)))
		return -ENOENT;
	const struct go_offsets_row *row = usable_row(minor, GO_OFFSETS_RUNTIME);
	if (row) {
		*out = row->runtime;
		return 0;
	}
	for (size_t i = 0; i < sizeof(go_runtime_offsets_table) / sizeof(go_runtime_offsets_table[0]); i++) {
		if (!strcmp(go_runtime_offsets_table[i].version, minor)) {
			*out = go_runtime_offsets_table[i].offsets;
			return 0;
		}
	}
	return -ENOENT;
}

/* Appends the user rows' versions to a list of the built-in ones. */
static const char *with_user_versions(char *list, size_t len, size_t used)
{
	for (size_t i = 0; i < nuser_rows && used < len; i++) {
		char minor[16];
		if (minor_version(user_rows[i].go_version, minor, sizeof(minor)))
			used += snprintf(list + used, len - used, ", %s (offsets file)", minor);
	}
	return list;
}

const char *go_offsets_table_versions(void)
{
	static char list[512];
	size_t used = 0;
	for (size_t i = 0; i < sizeof(go_offsets_table) / sizeof(go_offsets_table[0]); i++)
		used += snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
				 go_offsets_table[i].version);
	return with_user_versions(list, sizeof(list), used);
}

/* scripts/gen-go-offsets.sh writes both tables from the same reference builds: one row of
 * each per version. */
_Static_assert(sizeof(go_offsets_table) / sizeof(go_offsets_table[0]) ==
		       sizeof(go_runtime_offsets_table) / sizeof(go_runtime_offsets_table[0]),
	       "the two tables have the same versions");

const char *go_runtime_offsets_table_versions(void)
{
	return go_offsets_table_versions();
}
