// SPDX-License-Identifier: Apache-2.0
#include "sockcap/mux_probe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cli/exit_codes.h"
#include "gomux.skel.h"

static struct gomux_bpf *loaded; /* until unloaded */

int mux_probe_load(const uint64_t *params, int nparams, int *fds)
{
	if (nparams != MUX_NPARAMS)
		return -GLIMPSE_EXIT_USAGE;
	struct gomux_bpf *skel = loaded = gomux_bpf__open_and_load();
	if (!skel) {
		log_error("cannot load the ServeMux learning probe: %s", strerror(errno));
		return -(errno == EPERM ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_NO_KERNEL_SUPPORT);
	}
	char exe[64];
	pid_t pid = (pid_t)params[MUX_PARAM_PID];
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	LIBBPF_OPTS(bpf_uprobe_opts, opts);
	skel->links.gomux_server_enter = bpf_program__attach_uprobe_opts(
		skel->progs.gomux_server_enter, pid, exe, (size_t)params[MUX_PARAM_OFFSET], &opts);
	if (!skel->links.gomux_server_enter) {
		log_error("cannot attach the ServeMux learning probe to process %d: %s", (int)pid,
			  strerror(errno));
		return -GLIMPSE_EXIT_FAILURE;
	}
	if (params[MUX_PARAM_MUX_OFFSET]) {
		skel->links.gomux_mux_enter = bpf_program__attach_uprobe_opts(
			skel->progs.gomux_mux_enter, pid, exe, (size_t)params[MUX_PARAM_MUX_OFFSET], &opts);
		if (!skel->links.gomux_mux_enter) {
			log_error("cannot attach the ServeMux learning probe to process %d: %s", (int)pid,
				  strerror(errno));
			return -GLIMPSE_EXIT_FAILURE;
		}
	}
	fds[MUX_FD_TARGETS] = bpf_map__fd(skel->maps.targets);
	fds[MUX_FD_SERVERS] = bpf_map__fd(skel->maps.servers);
	fds[MUX_FD_HITS] = bpf_map__fd(skel->maps.hits);
	fds[MUX_FD_EVENTS] = bpf_map__fd(skel->maps.events);
	fds[MUX_FD_LINK] = bpf_link__fd(skel->links.gomux_server_enter);
	fds[MUX_FD_LINK_MUX] =
		skel->links.gomux_mux_enter ? bpf_link__fd(skel->links.gomux_mux_enter) : fds[MUX_FD_LINK];
	return MUX_NFDS;
}

void mux_probe_unload(void)
{
	gomux_bpf__destroy(loaded);
	loaded = NULL;
}
