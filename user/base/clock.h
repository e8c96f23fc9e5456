/* SPDX-License-Identifier: Apache-2.0 */
/* The two clocks glimpse reads. Monotonic is the clock of bpf_ktime_get_ns(), so BPF event
 * times and user-space deadlines compare directly; realtime is for what leaves the host
 * (OTLP timestamps, log lines). */
#ifndef GLIMPSE_BASE_CLOCK_H
#define GLIMPSE_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}
static inline uint64_t clock_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}
static inline double clock_mono_s(void)
{
	return (double)clock_mono_ns() / 1e9;
}
/* What to add to a monotonic time (a BPF event's) to get realtime, as of now. */
static inline int64_t clock_mono_to_real_ns(void)
{
	return (int64_t)(clock_real_ns() - clock_mono_ns());
}

#endif
