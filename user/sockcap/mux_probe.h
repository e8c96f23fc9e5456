/* SPDX-License-Identifier: Apache-2.0 */
/* The ServeMux learning probe (bpf/gomux.bpf.c) as descriptors: what its loader, run in a child
 * process (base/bpf_child.h), hands back. One probe per Go process, attached to that process
 * only. */
#ifndef GLIMPSE_SOCKCAP_MUX_PROBE_H
#define GLIMPSE_SOCKCAP_MUX_PROBE_H

#include <stdint.h>

#define MUX_PROBE_NAME "gomux"

enum mux_probe_fd {
	MUX_FD_TARGETS, /* maps */
	MUX_FD_SERVERS,
	MUX_FD_HITS,
	MUX_FD_EVENTS,
	MUX_FD_LINK,	 /* the uprobe: closing it detaches */
	MUX_FD_LINK_MUX, /* the (*ServeMux).ServeHTTP uprobe (not attached: MUX_FD_LINK again) */
	MUX_NFDS,
};

enum mux_probe_param {
	MUX_PARAM_PID,
	MUX_PARAM_OFFSET,     /* file offset of net/http.serverHandler.ServeHTTP's entry */
	MUX_PARAM_MUX_OFFSET, /* of net/http.(*ServeMux).ServeHTTP's (0: not attached) */
	MUX_NPARAMS,
};

/* bpf_child_load_fn of the learning probe (runs in the child). */
int mux_probe_load(const uint64_t *params, int nparams, int *fds);
void mux_probe_unload(void);

#endif
