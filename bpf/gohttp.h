/* Shared between bpf/gohttp.bpf.c and user space: fixed-width types only. */
#ifndef GLIMPSE_BPF_GOHTTP_H
#define GLIMPSE_BPF_GOHTTP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define GOHTTP_METHOD_LEN 16
#define GOHTTP_PATH_LEN 128
#define GOHTTP_HOST_LEN 64

enum gohttp_kind {
	GOHTTP_SERVER = 1,
	GOHTTP_CLIENT = 2,
};

/* One finished request, sent at the probed function's return. */
struct gohttp_event {
	__u64 start_ns, end_ns;
	__u32 pid;
	__u16 status; /* 0: server handler wrote nothing (Go answers 200); client: no response */
	__u8 kind;
	__u8 method_len;
	__u8 path_len;
	__u8 route_len; /* ServeMux pattern (Go 1.22+), 0 if none */
	__u8 host_len;  /* client: URL.Host ("host:port") */
	__u8 truncated; /* bit 0: path longer than GOHTTP_PATH_LEN */
	char method[GOHTTP_METHOD_LEN];
	char path[GOHTTP_PATH_LEN];  /* server: URL.Path; client: URL.Path */
	char route[GOHTTP_PATH_LEN];
	char host[GOHTTP_HOST_LEN];
};

/* Struct field offsets, set by user space per binary before load (-1: absent). */
struct gohttp_offsets {
	__s32 request_method, request_url, request_pat, pattern_str;
	__s32 url_path, url_host, response_status, response_statuscode;
};

enum gohttp_counter {
	GOHTTP_EVENTS_DROPPED,
	GOHTTP_STATE_MISSING, /* a return with no matching entry (attached mid-request) */
	GOHTTP_NR_COUNTERS,
};

#endif
