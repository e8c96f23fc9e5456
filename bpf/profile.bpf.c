// SPDX-License-Identifier: GPL-2.0
/* CPU profiler: a perf_event (cpu-clock) program on every CPU counts samples in the kernel by
 * (pid, tid, user stack, kernel stack, request). User space reads the maps at the end of the
 * profile or of each interval (stacks.bpf.h's generations), so the per-sample cost is the stack
 * walks and two hash updates — no ring-buffer event per sample. The maps and the stack store
 * are shared with the off-CPU profiler (stacks.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "stacks.bpf.h"
#include "gocalls.bpf.h"
#include "gotrace.h"
#include "ksyms_iter.bpf.h"

const volatile bool include_idle = false;

/* Per Go process whose requests label its samples: the Go tracer's calls in flight. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 64);
	__type(key, __u32);
	__array(values, struct go_ctx_map);
} go_calls SEC(".maps");

/* Sized by user space: a page when sample times are not recorded. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} sample_times SEC(".maps");

static __always_inline void record_time(const struct profile_key *key, __u32 gen)
{
	struct profile_sample_time *ev = bpf_ringbuf_reserve(&sample_times, sizeof(*ev), 0);
	if (!ev) {
		count(PROFILE_TIMES_DROPPED);
		return;
	}
	ev->key = *key;
	ev->time_ns = bpf_ktime_get_ns();
	ev->gen = gen;
	ev->pad = 0;
	/* Read at each cut: no wakeup per sample. */
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
}

/* runtime.g starts with its stack bounds, in every Go version: stack{lo, hi uintptr}. */
struct go_stack {
	__u64 lo, hi;
};

/* The server span of the HTTP request the sampled goroutine serves, if any. Under Go's register
 * ABI (Go 1.17+) R14 holds g in Go code, but not in C (cgo, libc), and runtime assembly may use
 * it for anything: a candidate g is taken only when it is a goroutine the Go tracer saw enter
 * ServeHTTP and not leave, and only if the user stack pointer lies inside that goroutine's own
 * stack — which holds exactly when that goroutine is the one running. On the system stack (g0:
 * the scheduler, GC work, cgo calls) or in a signal handler the pointer is elsewhere and the
 * sample stays unlabelled. The user registers are the task's saved ones: at a sample in the
 * kernel (a system call), where the goroutine entered it. */
static __always_inline void label_request(__u32 pid, struct profile_key *key)
{
	void *calls = bpf_map_lookup_elem(&go_calls, &pid);
	if (!calls)
		return;
	/* The kernel saves user registers in the user ABI's layout (glimpse.bpf.h) on x86 and arm64. */
	const struct user_regs_abi *regs = (const void *)bpf_task_pt_regs(bpf_get_current_task_btf());
	struct go_call_key ck = { .pid = pid, .kind = GOTRACE_SERVER };
	__u64 sp = 0;
	if (bpf_probe_read_kernel(&ck.g, sizeof(ck.g), &GO_G(regs)) ||
	    bpf_probe_read_kernel(&sp, sizeof(sp), &regs->sp))
		return;
	const struct go_trace_ctx *ctx = bpf_map_lookup_elem(calls, &ck);
	if (!ctx || !ctx->span_id)
		return;
	struct go_stack stack = {};
	if (bpf_probe_read_user(&stack, sizeof(stack), (void *)ck.g) || sp < stack.lo || sp >= stack.hi)
		return;
	key->span_id = ctx->span_id;
	__builtin_memcpy(key->trace_id, ctx->trace_id, sizeof(key->trace_id));
}

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
	__u32 gen = current_generation();
	struct profile_key key = { .pid = pid, .tid = tid };
	if (stack_config.include_user && pid != 0) {
		key.user_stack = store_user_stack(ctx, pid, gen);
		if (key.user_stack)
			read_sp_words(key.sp_words);
	}
	if (stack_config.include_kernel)
		key.kernel_stack = store_stack(ctx, 0, gen);
	if (stack_config.label_requests && pid != 0)
		label_request(pid, &key);
	if (counts_add(&key, 0, NULL, gen) && stack_config.record_times)
		record_time(&key, gen);
	if (pid != 0)
		announce_process(pid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
