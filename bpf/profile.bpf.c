// SPDX-License-Identifier: GPL-2.0
/* CPU profiler: a perf_event (cpu-clock) program on every CPU counts samples in the kernel by
 * (pid, tid, user stack, kernel stack). User space reads the maps once at the end, so the
 * per-sample cost is the stack walks and two hash updates — no ring-buffer event per sample.
 * The maps and the stack store are shared with the off-CPU profiler (stacks.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "stacks.bpf.h"

const volatile bool include_idle = false;

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;

	if (tid == 0 && !include_idle)
		return 0;
	if (!is_target(pid))
		return 0;

	count(PROFILE_SAMPLES);
	struct profile_key key = { .pid = pid, .tid = tid };
	if (stack_config.include_user && pid != 0) {
		key.user_stack = store_user_stack(ctx, pid);
		if (key.user_stack)
			read_sp_words(key.sp_words);
	}
	if (stack_config.include_kernel)
		key.kernel_stack = store_stack(ctx, 0);
	counts_add(&key, 0, NULL);
	if (pid != 0)
		announce_process(pid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
