/* SPDX-License-Identifier: Apache-2.0 */
/* Field offsets of the Go runtime structs the HTTP probes read, and of the runtime's own
 * structs go_runtime reads (goroutines, memory statistics). They change across Go versions, so
 * they come from the binary's own DWARF; stripped binaries fall back to a table generated from
 * reference builds of each Go version (scripts/gen-go-offsets.sh). */
#ifndef GLIMPSE_GO_OFFSETS_H
#define GLIMPSE_GO_OFFSETS_H

#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* -1 marks a field this Go version does not have (e.g. Request.pat before Go 1.22). */
struct go_http_offsets {
	int32_t request_method;	     /* net/http.Request.Method (string) */
	int32_t request_url;	     /* net/http.Request.URL (*url.URL) */
	int32_t request_pat;	     /* net/http.Request.pat (*pattern, Go 1.22+) */
	int32_t pattern_str;	     /* net/http.pattern.str (string, Go 1.22+) */
	int32_t url_path;	     /* net/url.URL.Path (string) */
	int32_t url_host;	     /* net/url.URL.Host (string) */
	int32_t response_status;     /* net/http.response.status (int): the server side */
	int32_t response_statuscode; /* net/http.Response.StatusCode (int): the client side */
	int32_t request_header;	     /* net/http.Request.Header (map[string][]string) */
	int32_t driverconn_ci;	     /* database/sql.driverConn.ci (driver.Conn), if linked */
	int32_t g_m;		     /* runtime.g.m (*m) */
	int32_t m_curg;		     /* runtime.m.curg (*g): the user goroutine an M runs */
	int32_t request_proto_major; /* net/http.Request.ProtoMajor (int) */
	int32_t request_proto_minor; /* net/http.Request.ProtoMinor (int) */
	/* net/http's HTTP/2 server: the ResponseWriter's state and the status in it (the bundled
	 * http2responseWriter(State) up to Go 1.26, net/http/internal/http2's from 1.27). */
	int32_t h2_writer_rws;	 /* .rws (*responseWriterState) */
	int32_t h2_state_status; /* responseWriterState.status (int) */
	int32_t stmt_query;	 /* database/sql.Stmt.query (string) */
	int32_t stmt_css;	 /* database/sql.Stmt.css ([]connStmt: the connections it is prepared on) */
	int32_t connstmt_dc;	 /* database/sql.connStmt.dc (*driverConn) */
	/* From a server request's writer to its connection's local port (server.port). */
	int32_t response_conn;	    /* net/http.response.conn (*conn) */
	int32_t conn_rwc;	    /* net/http.conn.rwc (net.Conn) */
	int32_t h2_state_conn;	    /* HTTP/2 responseWriterState.conn (*serverConn) */
	int32_t h2_serverconn_conn; /* HTTP/2 serverConn.conn (net.Conn) */
	int32_t tlsconn_conn;	    /* crypto/tls.Conn.conn (net.Conn) */
	int32_t unencrypted_conn;   /* net/http.unencryptedNetConnInTLSConn.conn (net.Conn; h2c, 1.24+) */
	int32_t netconn_fd;	    /* net.conn.fd (*netFD): TCPConn embeds conn */
	int32_t netfd_laddr;	    /* net.netFD.laddr (net.Addr) */
	int32_t tcpaddr_port;	    /* net.TCPAddr.Port (int) */
	/* database/sql's pool (metrics/sql_pool.h reads a *DB the probes saw, as DB.Stats does). */
	int32_t stmt_db;		 /* database/sql.Stmt.db (*DB) */
	int32_t db_wait_duration;	 /* DB.waitDuration (int64; atomic.Int64 since Go 1.20) */
	int32_t db_connector;		 /* DB.connector (driver.Connector): fixed for the DB's life */
	int32_t db_free_conn;		 /* DB.freeConn ([]*driverConn): the idle connections */
	int32_t db_conn_requests;	 /* DB.connRequests: a map up to Go 1.22, a connRequestSet since */
	int32_t conn_request_set_s;	 /* connRequestSet.s (slice; Go 1.23+, -1 before: the map) */
	int32_t db_num_open;		 /* DB.numOpen (int) */
	int32_t db_closed;		 /* DB.closed (bool) */
	int32_t db_max_open;		 /* DB.maxOpen (int; 0: unlimited) */
	int32_t db_wait_count;		 /* DB.waitCount (int64) */
	int32_t db_max_idle_closed;	 /* DB.maxIdleClosed (int64) */
	int32_t db_max_idle_time_closed; /* DB.maxIdleTimeClosed (int64) */
	int32_t db_max_lifetime_closed;	 /* DB.maxLifetimeClosed (int64) */
	int32_t request_host; /* net/http.Request.Host (string): a server request's Host or :authority */
	/* A server's handler and, when it is a Go 1.22+ ServeMux, its routing tree: the socket
	 * path reads the registered patterns (sockcap/mux_read.h). */
	int32_t server_handler; /* net/http.Server.Handler (Handler) */
	int32_t servemux_tree;	/* net/http.ServeMux.tree (routingNode) */
	int32_t node_pattern;	/* net/http.routingNode.pattern (*pattern) */
	int32_t node_children;	/* net/http.routingNode.children (mapping[string,*routingNode]) */
	int32_t node_multi;	/* net/http.routingNode.multiChild (*routingNode) */
	int32_t node_empty;	/* net/http.routingNode.emptyChild (*routingNode) */
	int32_t mapping_s;	/* net/http.mapping[string,*routingNode].s ([]entry) */
	int32_t mapping_m;	/* net/http.mapping[string,*routingNode].m (map[string]*routingNode) */
	int32_t entry_key;	/* net/http.entry[string,*routingNode].key (string) */
	int32_t entry_value;	/* net/http.entry[string,*routingNode].value (*routingNode) */
};

/* -1 marks a field the binary does not have. The mstats and gcControllerState fields beyond
 * numgc and heapInUse are not read: they identify the two variables in stripped binaries (a
 * runtime function that touches several fields of one struct at these relative offsets). */
struct go_runtime_offsets {
	int32_t g_atomicstatus;		 /* runtime.g.atomicstatus (uint32; atomic.Uint32 since 1.20) */
	int32_t g_startpc;		 /* runtime.g.startpc (uintptr) */
	int32_t mstats_last_gc_unix;	 /* runtime.mstats.last_gc_unix (uint64) */
	int32_t mstats_pause_total_ns;	 /* runtime.mstats.pause_total_ns (uint64) */
	int32_t mstats_numgc;		 /* runtime.mstats.numgc (uint32) = MemStats.NumGC */
	int32_t mstats_numforcedgc;	 /* runtime.mstats.numforcedgc (uint32) */
	int32_t mstats_last_gc_nanotime; /* runtime.mstats.last_gc_nanotime (uint64) */
	int32_t gcc_heap_inuse;		 /* runtime.gcControllerState.heapInUse = MemStats.HeapInuse */
	int32_t gcc_heap_released;	 /* runtime.gcControllerState.heapReleased */
	int32_t gcc_heap_free;		 /* runtime.gcControllerState.heapFree */
	int32_t gcc_mapped_ready;	 /* runtime.gcControllerState.mappedReady */
};

/* The sets of offsets, each an array of int32_t slots. The module sets are those of a Go
 * module's own structs at one version of it; their slots are in the order of gotrace's rows
 * (gotrace/module_offsets.c maps them), and offsets files carry them beside the Go ones. */
enum go_offsets_set {
	GO_OFFSETS_HTTP,    /* struct go_http_offsets */
	GO_OFFSETS_RUNTIME, /* struct go_runtime_offsets */
	GO_OFFSETS_GRPC,    /* google.golang.org/grpc: struct gotrace_grpc_offsets, then 3 flags */
	GO_OFFSETS_XNET,    /* golang.org/x/net/http2: struct gotrace_xnet_offsets */
	GO_OFFSETS_NSETS,
};
#define GO_OFFSETS_GRPC_SLOTS	    18
#define GO_OFFSETS_XNET_SLOTS	    6
#define GO_OFFSETS_MAX_MODULE_SLOTS GO_OFFSETS_GRPC_SLOTS

/* One module set: the module's version the offsets hold for, "" when the row has none. */
struct go_module_offsets {
	char version[48]; /* "v1.85.0" */
	int32_t slots[GO_OFFSETS_MAX_MODULE_SLOTS];
};
/* The module a set belongs to ("google.golang.org/grpc"), NULL for the Go sets. */
const char *go_offsets_module(enum go_offsets_set set);
size_t go_offsets_slots(enum go_offsets_set set);
/* "net/http.Request.Method" for a slot (in buf); NULL past the last. *required (if given): the
 * set is unusable without it. */
const char *go_offsets_field_name(enum go_offsets_set set, size_t slot, char *buf, size_t len,
				  bool *required);

/* Offsets for one Go minor version from outside the built-in table: an offsets file
 * (binfmt/go_offsets_file.h) written from a non-stripped build of that version. */
struct go_offsets_row {
	char go_version[32]; /* "go1.25.3": the minor version is what matches */
	struct go_http_offsets http;
	struct go_runtime_offsets runtime;
	struct go_module_offsets grpc, xnet; /* optional: version "" when the file has none */
};
/* Consulted before the built-in table by go_offsets_from_table and
 * go_runtime_offsets_from_table, for each set the row has every required field of (a second
 * row for the same minor version replaces the first).
 * 0, -EINVAL for a version not like "go1.N", -ENOSPC past 16 rows. */
int go_offsets_add_row(const struct go_offsets_row *row);
/* The offsets files' module set for a binary of go_version (its minor version) that links the
 * module at version (exactly): NULL when no file gives it. */
const struct go_module_offsets *go_offsets_module_row(const char *go_version, enum go_offsets_set set,
						      const char *version);
/* Where the table answer for this version's set (HTTP or runtime) comes from: "offsets file"
 * or "table" (a file whose set lacks a required field leaves that set to the table). */
const char *go_offsets_table_source(const char *go_version, enum go_offsets_set set);

/* 0, or -ENOENT when the binary has no DWARF or lacks one of the required structs. */
int go_offsets_from_dwarf(Elf *elf, struct go_http_offsets *out);
/* 0, or -ENOENT when the table has no entry for this version's minor release ("go1.22.x"). */
int go_offsets_from_table(const char *go_version, struct go_http_offsets *out);
/* The Go minor versions the table (and offsets files) know, comma separated (for error
 * messages). */
const char *go_offsets_table_versions(void);

/* Runtime offsets: 0, or -ENOENT without DWARF or without runtime.g's atomicstatus/startpc
 * (memory fields missing are left -1). */
int go_runtime_offsets_from_dwarf(Elf *elf, struct go_runtime_offsets *out);
/* 0, or -ENOENT when the table has no row for this Go minor version. */
int go_runtime_offsets_from_table(const char *go_version, struct go_runtime_offsets *out);
const char *go_runtime_offsets_table_versions(void);

/* One struct field wanted from DWARF, for go_offsets_fields_from_dwarf. */
struct wanted_field {
	const char *type, *field; /* "net/http.Request", "Method" */
	size_t out_index;	  /* index into the offsets struct viewed as int32_t[] */
	bool required;
};
/* Fills slots[out_index] for every wanted field (-1 if absent); -ENOENT without DWARF or
 * when a required field is missing. */
int go_offsets_fields_from_dwarf(Elf *elf, const struct wanted_field *w, size_t nw, int32_t *slots);

/* The same DWARF reads done in a short-lived child process: libdw decompresses and indexes all
 * of a Go binary's DWARF (~10 MB for a small service, far more for large ones), which then
 * stays out of the long-running agent's memory, and a malformed file cannot crash the agent.
 * Falls back to an in-process read if fork fails. */
int go_offsets_from_dwarf_isolated(Elf *elf, struct go_http_offsets *out);
int go_runtime_offsets_from_dwarf_isolated(Elf *elf, struct go_runtime_offsets *out);
/* Generic form: runs fn(elf, out) in a child and copies len bytes of out back; fn's result
 * (0 or -errno), -ENOENT if the child failed. */
int go_offsets_run_isolated(Elf *elf, int (*fn)(Elf *elf, void *out), void *out, size_t len);

#endif
