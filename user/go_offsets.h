/* Field offsets of the Go runtime structs the HTTP probes read. They change across Go
 * versions, so they come from the binary's own DWARF; stripped binaries fall back to a table
 * generated from reference builds of each Go version (scripts/gen-go-offsets.sh). */
#ifndef GLIMPSE_GO_OFFSETS_H
#define GLIMPSE_GO_OFFSETS_H

#include <libelf.h>
#include <stdint.h>

/* -1 marks a field this Go version does not have (e.g. Request.pat before Go 1.22). */
struct go_http_offsets {
	int32_t request_method; /* net/http.Request.Method (string) */
	int32_t request_url;    /* net/http.Request.URL (*url.URL) */
	int32_t request_pat;    /* net/http.Request.pat (*pattern, Go 1.22+) */
	int32_t pattern_str;    /* net/http.pattern.str (string, Go 1.22+) */
	int32_t url_path;       /* net/url.URL.Path (string) */
	int32_t url_host;       /* net/url.URL.Host (string) */
	int32_t response_status;    /* net/http.response.status (int): the server side */
	int32_t response_statuscode; /* net/http.Response.StatusCode (int): the client side */
};

/* 0, or -ENOENT when the binary has no DWARF or lacks one of the required structs. */
int go_offsets_from_dwarf(Elf *elf, struct go_http_offsets *out);
/* 0, or -ENOENT when the table has no entry for this version's minor release ("go1.22.x"). */
int go_offsets_from_table(const char *go_version, struct go_http_offsets *out);
/* The Go minor versions the table knows, comma separated (for error messages). */
const char *go_offsets_table_versions(void);

#endif
