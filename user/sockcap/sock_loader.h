/* SPDX-License-Identifier: Apache-2.0 */
/* The socket probe is loaded and attached by a short-lived child process — glimpse itself, run
 * again with a private first argument — which hands the maps and links back over a socket
 * pair and exits. Relocating and attaching it makes libbpf read the kernel's whole BTF (5.5 MB
 * on disk, about twice that parsed); in the child, that peak never counts against glimpse's
 * own memory, whose high-water mark would otherwise keep it for the life of the process. */
#ifndef GLIMPSE_SOCKCAP_SOCK_LOADER_H
#define GLIMPSE_SOCKCAP_SOCK_LOADER_H

#include <stdint.h>

#define SOCK_LOADER_ARG "__sockcap-loader"

/* The loaded probe, as descriptors this process owns (close them to detach and free). */
struct sock_probe_fds {
	int events, pids, conns, counters; /* maps */
	int links[4];			   /* sys_enter, sys_exit, fork, exit: closing detaches */
};

/* Runs the loader; wakeup_bytes is set in the probe's rodata. 0, or an exit code after
 * logging why (the loader logs the BPF errors itself, on the same stderr). */
int sock_loader_run(uint64_t wakeup_bytes, struct sock_probe_fds *out);
/* main() of the loader process: argv = { glimpse, SOCK_LOADER_ARG, verbosity, json,
 * wakeup_bytes }, the socket on descriptor 3. Returns its exit code. */
int sock_loader_main(int argc, char **argv);
/* Closes every descriptor of a probe (detaching it); safe on a zeroed or partial set (-1s). */
void sock_probe_fds_close(struct sock_probe_fds *fds);

#endif
