// SPDX-License-Identifier: GPL-2.0
/* CPU profiler: a perf_event (cpu-clock) program on every CPU counts samples in the kernel by
 * (pid, tid, user stack, kernel stack). User space reads the maps once at the end, so the
 * per-sample cost is the stack walks and two hash updates — no ring-buffer event per sample. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "glimpse.bpf.h"
#include "profile.h"

const volatile bool filter_pids = false;
const volatile bool include_kernel = true;
const volatile bool include_user = true;
const volatile bool include_idle = false;

/* Sized by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1);
} target_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct profile_stack);
	__uint(max_entries, 1);
} stacks SEC(".maps");

/* Per-CPU scratch: a stack is too large for the 512-byte BPF stack frame. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct profile_stack);
	__uint(max_entries, 1);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct profile_key);
	__type(value, struct profile_value);
	__uint(max_entries, 1);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1);
} seen_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} new_processes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, PROFILE_NR_COUNTERS);
} counters SEC(".maps");

static __always_inline void count(enum profile_counter which)
{
	__u32 key = which;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);
	if (v)
		(*v)++;
}

static __always_inline void announce_process(__u32 pid)
{
	__u8 one = 1;
	if (bpf_map_lookup_elem(&seen_pids, &pid))
		return;
	if (bpf_map_update_elem(&seen_pids, &pid, &one, BPF_NOEXIST))
		return;
	struct profile_new_process *ev = bpf_ringbuf_reserve(&new_processes, sizeof(*ev), 0);
	if (!ev) {
		count(PROFILE_NEW_PROCESS_DROPPED);
		return;
	}
	ev->pid = pid;
	/* New processes are rare; wake the reader at once so it reads maps while they live. */
	bpf_ringbuf_submit(ev, 0);
}

/* FNV-1a over whole frames, then a final mix; never returns 0 (0 means "no stack"). */
static __always_inline __u64 hash_stack(const struct profile_stack *st)
{
	__u64 h = 0xcbf29ce484222325ULL;
	for (__u32 i = 0; i < PROFILE_MAX_STACK_DEPTH; i++) {
		if (i >= st->depth)
			break;
		h ^= st->ips[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1;
}

static __always_inline __u64 store_stack(void *ctx, __u64 flags)
{
	__u32 zero = 0;
	struct profile_stack *st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st)
		return 0;
	long bytes = bpf_get_stack(ctx, st->ips, sizeof(st->ips), flags);
	if (bytes <= 0)
		return 0;
	st->depth = bytes / sizeof(__u64);
	__u64 hash = hash_stack(st);
	if (!bpf_map_lookup_elem(&stacks, &hash)) {
		long err = bpf_map_update_elem(&stacks, &hash, st, BPF_NOEXIST);
		if (err && err != -EEXIST) {
			count(PROFILE_STACKS_FULL);
			return 0;
		}
	}
	return hash;
}

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;

	if (tid == 0 && !include_idle)
		return 0;
	if (filter_pids && !bpf_map_lookup_elem(&target_pids, &pid))
		return 0;

	count(PROFILE_SAMPLES);
	struct profile_key key = { .pid = pid, .tid = tid };
	if (include_user && pid != 0)
		key.user_stack = store_stack(ctx, BPF_F_USER_STACK);
	if (include_kernel)
		key.kernel_stack = store_stack(ctx, 0);

	struct profile_value *val = bpf_map_lookup_elem(&counts, &key);
	if (val) {
		__sync_fetch_and_add(&val->count, 1);
	} else {
		struct profile_value init = { .count = 1 };
		bpf_get_current_comm(init.thread, sizeof(init.thread));
		long err = bpf_map_update_elem(&counts, &key, &init, BPF_NOEXIST);
		if (err == -EEXIST) {
			val = bpf_map_lookup_elem(&counts, &key);
			if (val)
				__sync_fetch_and_add(&val->count, 1);
		} else if (err) {
			count(PROFILE_COUNTS_FULL);
		}
	}
	if (pid != 0)
		announce_process(pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
