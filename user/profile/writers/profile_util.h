/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the profile writers (pprof, folded, SVG, top table). Internal. */
#ifndef GLIMPSE_PROFILE_UTIL_H
#define GLIMPSE_PROFILE_UTIL_H

#include "profile/profile_data.h"

/* Interned strings: each distinct string gets a dense index, in insertion order. */
struct strtab_ent;
struct strtab {
	char **strs; /* owned copies, by index */
	size_t n, cap;
	struct strtab_ent *by_str; /* uthash: string -> index */
};

void strtab_init(struct strtab *t);
void strtab_free(struct strtab *t);
/* Index of s (added if new), or -1 when out of memory. */
int64_t strtab_intern(struct strtab *t, const char *s);

/* Map from a three-word key to a value. */
struct keymap_ent;
struct keymap {
	struct keymap_ent *ents; /* uthash */
	size_t n;
};

void keymap_free(struct keymap *m);
/* Returns the value slot for the key, inserting it with *v = def if new; NULL when out of memory.
 * The pointer is valid until keymap_free. *isnew tells whether it was inserted. */
uint64_t *keymap_get(struct keymap *m, uint64_t a, uint64_t b, uint64_t c, uint64_t def, bool *isnew);

/* A fast hash of bytes (the flame graph's colours come from a frame name's hash). */
uint64_t prof_hash(const void *data, size_t len, uint64_t seed);

/* Display name of a frame: its symbol, else "[module+0xoffset]", else "[unknown]".
 * Returns f->func or buf. */
const char *prof_frame_name(const struct prof *p, const struct prof_frame *f, char *buf, size_t len);
#define PROF_NAME_MAX 256

/* The mapping a frame belongs to, for the writers that emit mappings (pprof, OTLP): its own;
 * for a kernel frame that comes without one, the profile's PROF_KERNEL_FILE mapping, else a
 * kernel mapping the writer adds, spanning the addresses of every such frame (k, zeroed
 * before the first frame, collects them). Returns an index into p->mappings, PROF_NO_MAPPING
 * or PROF_WRITER_KERNEL_MAPPING (the writer's own). */
#define PROF_NO_MAPPING		   (-1)
#define PROF_WRITER_KERNEL_MAPPING (-2)
struct prof_kernel_span {
	bool looked;	   /* p's mappings searched for the kernel's */
	int32_t mapping;   /* p's kernel mapping, PROF_WRITER_KERNEL_MAPPING when it has none */
	uint64_t min, max; /* the writer's kernel mapping's addresses, when min <= max */
};
int32_t prof_frame_mapping(const struct prof *p, struct prof_kernel_span *k, const struct prof_frame *f);
/* The writer's kernel mapping's start and limit; false when no frame went to it. */
bool prof_kernel_span_range(const struct prof_kernel_span *k, uint64_t *start, uint64_t *limit);

const char *prof_process_name(const struct prof_sample *s);

/* A sample's request's trace and span ids in lowercase hex (W3C traceparent's form). */
void prof_request_ids_hex(const struct prof_request *r, char trace[33], char span[17]);

/* What a sample weighs in folded stacks, the flame graph and the top table: CPU profiles
 * count samples; off-CPU profiles weigh the time blocked, in microseconds (flamegraph.pl
 * convention for off-CPU stacks). */
uint64_t prof_sample_weight(const struct prof *p, const struct prof_sample *s);
/* The unit of those weights: "samples" or "us". */
const char *prof_weight_unit(const struct prof *p);

#endif
