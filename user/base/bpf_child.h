/* SPDX-License-Identifier: Apache-2.0 */
/* BPF objects loaded and attached by a short-lived child process — glimpse itself, run again
 * with a private first argument — which hands their maps and links back over a socket pair and
 * exits. Relocating and attaching a CO-RE object makes libbpf read the kernel's whole BTF (5.5
 * MB on disk, about twice that parsed); in the child that peak never counts against glimpse's
 * own memory, whose high-water mark would otherwise keep it for the life of the process.
 *
 * A probe family offers a load function (run in the child) under a name; cli/main.c routes the
 * private argument to bpf_child_main with the table of them. */
#ifndef GLIMPSE_BASE_BPF_CHILD_H
#define GLIMPSE_BASE_BPF_CHILD_H

#include <stdint.h>

#define BPF_CHILD_ARG	     "__load-probe"
#define BPF_CHILD_MAX_FDS    16
#define BPF_CHILD_MAX_PARAMS 8

/* In the child: open the object, configure it from params (the family's own meaning), load,
 * attach; write its descriptors to fds (the family's own order, at most BPF_CHILD_MAX_FDS) and
 * return how many; or log why and return -(exit code). */
typedef int (*bpf_child_load_fn)(const uint64_t *params, int nparams, int *fds);

struct bpf_child_probe {
	const char *name;
	bpf_child_load_fn load;
	/* Frees what load made, once its descriptors are sent (the receiver's copies keep the
	 * maps and the attachments alive: closing the child's detaches nothing). */
	void (*unload)(void);
};

/* In glimpse: runs probe `name` in a child and receives exactly nfds descriptors into fds
 * (close-on-exec). 0, or an exit code after logging why (the child logs BPF errors itself, on
 * the same stderr, at the same verbosity). */
int bpf_child_load(const char *name, const uint64_t *params, int nparams, int *fds, int nfds);
/* main() of the child: argv = { glimpse, BPF_CHILD_ARG, name, verbosity, json, params... },
 * the socket on descriptor 3. Returns its exit code. */
int bpf_child_main(int argc, char **argv, const struct bpf_child_probe *probes, int nprobes);
/* Closes n descriptors (those > 0) and sets them to -1. */
void bpf_child_close(int *fds, int n);

#endif
