/* SPDX-License-Identifier: Apache-2.0 */
/* When each CPU sample was taken (OTLP's per-sample timestamps): the profiler sends one
 * struct profile_sample_time per sample counted (bpf/profile.bpf.c, record_times); this table
 * keeps them by generation and counts key until the cut that reads that counts entry takes
 * them. Private to user/profile/. */
#ifndef GLIMPSE_PROFILE_SAMPLE_TIMES_H
#define GLIMPSE_PROFILE_SAMPLE_TIMES_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

struct sample_times;

/* realtime_offset_ns: CLOCK_REALTIME - CLOCK_MONOTONIC, added to each sample's time. NULL when
 * out of memory. */
struct sample_times *sample_times_new(int64_t realtime_offset_ns);
/* A ring-buffer record (ring_buffer_sample_fn): 0, or -ENOMEM (the record is dropped). */
int sample_times_add(void *ctx, void *data, size_t len);
/* The times of key's samples in generation gen, ascending, ns since the epoch; the caller
 * frees *times. *n = 0 and NULL when none. */
uint64_t *sample_times_take(struct sample_times *st, uint32_t gen, const struct profile_key *key, size_t *n);
/* Forgets generation gen's times not taken. */
void sample_times_clear(struct sample_times *st, uint32_t gen);
void sample_times_free(struct sample_times *st);

#endif
