// SPDX-License-Identifier: Apache-2.0
#include "sockcap/sock_probe.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/exit_codes.h"
#include "gotrace/tracer.h"
#include "sockcap.skel.h"

static struct sockcap_bpf *loaded; /* until unloaded */

/* Whether the kernel has sock:sock_send_length and sock:sock_recv_length (Linux 6.3+): else
 * the socket calls are read at sys_exit (bpf/sockcap_syscalls.bpf.h). SOCKET_SYSCALLS_ENV=1
 * takes sys_exit anyway: the tests run that path on a kernel that has both. */
static bool socket_tracepoints(void)
{
	const char *force = getenv(SOCKET_SYSCALLS_ENV);
	if (force && *force && strcmp(force, "0"))
		return false;
	/* One parse of the kernel's BTF (tens of ms) for both, not one each. */
	struct btf *vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return false;
	bool both = btf__find_by_name_kind(vmlinux, "btf_trace_sock_send_length", BTF_KIND_TYPEDEF) > 0 &&
		    btf__find_by_name_kind(vmlinux, "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF) > 0;
	btf__free(vmlinux);
	return both;
}

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
	bool tracepoints = socket_tracepoints();
	bpf_program__set_autoload(skel->progs.sockcap_send, tracepoints);
	bpf_program__set_autoload(skel->progs.sockcap_recv, tracepoints);
	bpf_program__set_autoload(skel->progs.sockcap_syscalls, !tracepoints);
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
	/* On sys_exit one link does both (sent twice: sock_tracer.c tells the paths apart so). */
	fds[SOCK_FD_LINKS + 0] =
		bpf_link__fd(tracepoints ? skel->links.sockcap_send : skel->links.sockcap_syscalls);
	fds[SOCK_FD_LINKS + 1] =
		bpf_link__fd(tracepoints ? skel->links.sockcap_recv : skel->links.sockcap_syscalls);
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
