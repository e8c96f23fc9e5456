/* SPDX-License-Identifier: Apache-2.0 */
/* The per-CPU counter arrays every probe family keeps (bpf/maps.bpf.h counter_inc), summed. */
#ifndef GLIMPSE_BASE_BPF_COUNTERS_H
#define GLIMPSE_BASE_BPF_COUNTERS_H

#include <stdint.h>

/* Slot key of the per-CPU __u64 array map_fd, summed over every possible CPU; 0 when it cannot
 * be read (the counters are diagnostics: a missing one is not worth failing over). */
uint64_t bpf_percpu_counter(int map_fd, uint32_t key);

#endif
