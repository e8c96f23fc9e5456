// SPDX-License-Identifier: Apache-2.0
#include "sockcap/sock_probe.h"

#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "cli/exit_codes.h"
#include "gotrace/tracer.h"
#include "sockcap.skel.h"

static struct sockcap_bpf *loaded; /* until unloaded */

int sock_probe_load(const uint64_t *params, int nparams, int *fds)
{
	if (nparams != SOCK_NPARAMS)
		return -GLIMPSE_EXIT_USAGE;
	struct sockcap_bpf *skel = loaded = sockcap_bpf__open();
	if (!skel) {
		log_error("cannot open the socket probe's BPF object: %s", strerror(errno));
		return -GLIMPSE_EXIT_FAILURE;
	}
	skel->rodata->wakeup_bytes = params[SOCK_PARAM_WAKEUP_BYTES];
	if (go_tracer_size_inner_map(skel->maps.go_calls, params[SOCK_PARAM_GO_CALLS_VALUE],
				     "socket probe") ||
	    go_tracer_size_inner_map(skel->maps.go_inherited, params[SOCK_PARAM_GO_INHERITED_VALUE],
				     "socket probe"))
		return -GLIMPSE_EXIT_FAILURE;
	/* sys_exit runs for every system call of the machine: attached by user space only while
	 * some target's logs are read. */
	bpf_program__set_autoattach(skel->progs.sockcap_logs, false);
	int err = sockcap_bpf__load(skel);
	if (err) {
		log_error(
			"cannot load the socket probe's BPF programs: %s (run with -v for the verifier log)",
			strerror(-err));
		return -(err == -EPERM ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_NO_KERNEL_SUPPORT);
	}
	err = sockcap_bpf__attach(skel);
	if (err) {
		log_error("cannot attach the socket probe's tracepoints: %s", strerror(-err));
		return -(err == -EPERM || err == -EACCES ? GLIMPSE_EXIT_NO_PERMISSION
							 : GLIMPSE_EXIT_NO_KERNEL_SUPPORT);
	}
	fds[SOCK_FD_EVENTS] = bpf_map__fd(skel->maps.events);
	fds[SOCK_FD_PIDS] = bpf_map__fd(skel->maps.pids);
	fds[SOCK_FD_CONNS] = bpf_map__fd(skel->maps.conns);
	fds[SOCK_FD_COUNTERS] = bpf_map__fd(skel->maps.counters);
	fds[SOCK_FD_GO_PROCS] = bpf_map__fd(skel->maps.go_procs);
	fds[SOCK_FD_GO_CALLS] = bpf_map__fd(skel->maps.go_calls);
	fds[SOCK_FD_GO_INHERITED] = bpf_map__fd(skel->maps.go_inherited);
	fds[SOCK_FD_WATCHED] = bpf_map__fd(skel->maps.watched);
	fds[SOCK_FD_LOGS_PROG] = bpf_program__fd(skel->progs.sockcap_logs);
	fds[SOCK_FD_LINKS + 0] = bpf_link__fd(skel->links.sockcap_send);
	fds[SOCK_FD_LINKS + 1] = bpf_link__fd(skel->links.sockcap_recv);
	fds[SOCK_FD_LINKS + 2] = bpf_link__fd(skel->links.sockcap_tcp_state);
	fds[SOCK_FD_LINKS + 3] = bpf_link__fd(skel->links.sockcap_fork);
	fds[SOCK_FD_LINKS + 4] = bpf_link__fd(skel->links.sockcap_proc_exit);
	return SOCK_NFDS;
}

void sock_probe_unload(void)
{
	sockcap_bpf__destroy(loaded);
	loaded = NULL;
}
