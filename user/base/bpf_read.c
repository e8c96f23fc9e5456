// SPDX-License-Identifier: Apache-2.0
#include "base/bpf_read.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>

uint64_t bpf_percpu_counter(int map_fd, uint32_t key)
{
	int ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return 0;
	__u64 *vals = calloc((size_t)ncpus, sizeof(*vals));
	uint64_t total = 0;
	if (vals && !bpf_map_lookup_elem(map_fd, &key, vals))
		for (int i = 0; i < ncpus; i++)
			total += vals[i];
	free(vals);
	return total;
}

int bpf_ring_drain(struct ring_buffer *rb, int timeout_ms)
{
	int n = ring_buffer__poll(rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	int more = ring_buffer__consume(rb);
	return more < 0 ? more : (n > 0 ? n : 0) + more;
}
