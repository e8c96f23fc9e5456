/* SPDX-License-Identifier: Apache-2.0 */
/* What user space reads back from the probe families: the per-CPU counter arrays every one keeps
 * (bpf/maps.bpf.h counter_inc), summed, and ring buffers whose wakeups are batched, drained. */
#ifndef GLIMPSE_BASE_BPF_READ_H
#define GLIMPSE_BASE_BPF_READ_H

#include <stdint.h>

struct ring_buffer;

/* Slot key of the per-CPU __u64 array map_fd, summed over every possible CPU; 0 when it cannot
 * be read (the counters are diagnostics: a missing one is not worth failing over). */
uint64_t bpf_percpu_counter(int map_fd, uint32_t key);
/* Waits up to timeout_ms for a wakeup, then reads everything queued either way: a producer that
 * batches its wakeups leaves records behind a timeout. Records handled, or -errno. */
int bpf_ring_drain(struct ring_buffer *rb, int timeout_ms);

#endif
