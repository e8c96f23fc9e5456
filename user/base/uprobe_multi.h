/* SPDX-License-Identifier: Apache-2.0 */
/* Uprobes through one BPF uprobe_multi link per program (Linux 6.6+) instead of one perf event
 * per address. Why: detaching a perf-event uprobe waits for RCU grace periods under the kernel's
 * global event_mutex, one after the other, so a tracer of 20 to 40 probes took 2 to 8 s to stop
 * on a loaded machine; a multi link waits once for all its addresses. libbpf here (1.1) predates
 * uprobe_multi: the link is made with the bpf syscall itself. */
#ifndef GLIMPSE_UPROBE_MULTI_H
#define GLIMPSE_UPROBE_MULTI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;

/* Whether this kernel's uprobe_multi links can be used: Linux 6.10+, which has "bpf: fix
 * multi-uprobe PID filtering logic" (46ba0e49b642). Before it, a link for a pid could drop the
 * hits of the process's other threads: a Go service's requests, served on any thread, would go
 * unseen. Older kernels get one perf event per probe. */
bool uprobe_multi_usable(void);
/* Before the object's load, when usable: the program can then be attached only through
 * uprobe_multi_attach. */
void uprobe_multi_prepare(struct bpf_program *prog);
/* Entry uprobes at offsets (file offsets in binary) for pid (-1: every process running it), all
 * in one link: its descriptor (close it to detach all), or -errno. */
int uprobe_multi_attach(const struct bpf_program *prog, const char *binary, const uint64_t *offsets,
			uint32_t cnt, pid_t pid);

#endif
