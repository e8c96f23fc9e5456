/* SPDX-License-Identifier: Apache-2.0 */
/* The socket probe (bpf/sockcap.bpf.c) as descriptors: what its loader, run in a child process
 * (base/bpf_child.h), hands back. */
#ifndef GLIMPSE_SOCKCAP_SOCK_PROBE_H
#define GLIMPSE_SOCKCAP_SOCK_PROBE_H

#include <stdint.h>

#define SOCK_PROBE_NAME "sockcap"
/* Set (to anything but 0) in glimpse's environment: socket calls are read at sys_exit even
 * where the kernel has the socket tracepoints (for tests of the older kernels' path). */
#define SOCKET_SYSCALLS_ENV "GLIMPSE_SOCKET_SYSCALLS"

enum sock_probe_fd {
	SOCK_FD_EVENTS, /* maps */
	SOCK_FD_PIDS,
	SOCK_FD_CONNS,
	SOCK_FD_COUNTERS,
	SOCK_FD_GO_PROCS,
	SOCK_FD_GO_CALLS, /* outer maps: tgid → a Go tracer's map */
	SOCK_FD_GO_INHERITED,
	SOCK_FD_WATCHED,   /* the pids map's bits, mmapped by user space (sock_tracer.c) */
	SOCK_FD_LOGS_PROG, /* the sys_exit program of logs: loaded, attached by user space only
			    * while some target's logs are read (sock_tracer.c) */
	SOCK_FD_LINKS,	   /* send, recv (or sys_exit twice), TCP state, fork, exit: closing
			    * them detaches */
	SOCK_NFDS = SOCK_FD_LINKS + 5,
};

enum sock_probe_param {
	SOCK_PARAM_WAKEUP_BYTES,
	/* Value sizes of the Go tracer's calls and inherited maps (go_tracer_context_layout), which
	 * the probe's inner-map templates must have for the kernel to take them (0: unknown). */
	SOCK_PARAM_GO_CALLS_VALUE,
	SOCK_PARAM_GO_INHERITED_VALUE,
	SOCK_NPARAMS,
};

/* bpf_child_load_fn of the socket probe (runs in the child). */
int sock_probe_load(const uint64_t *params, int nparams, int *fds);
void sock_probe_unload(void);

#endif
