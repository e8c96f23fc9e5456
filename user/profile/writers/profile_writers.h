/* SPDX-License-Identifier: Apache-2.0 */
/* Writers for a collected struct prof. Each returns 0 on success or a negative errno,
 * and writes nothing partial: output goes to a temporary file renamed into place. */
#ifndef GLIMPSE_PROFILE_WRITERS_H
#define GLIMPSE_PROFILE_WRITERS_H

#include <time.h>

#include "profile/profile_data.h"

/* gzip-compressed profile.proto (pprof). */
int pprof_write(const struct prof *p, const char *path);
/* Encoded, uncompressed profile.proto bytes; caller frees *out. */
int pprof_encode(const struct prof *p, uint8_t **out, size_t *len);

/* flamegraph.pl "folded" format: "process;root;...;leaf count\n", root first. */
int folded_write(const struct prof *p, const char *path);
int folded_fprint(const struct prof *p, FILE *out);

/* Self-contained interactive SVG flame graph (inline JS: click to zoom, search, hover details). */
int flamegraph_write_svg(const struct prof *p, const char *path, const char *title);

/* The file of one interval of a continuous profile: DIR/KIND-YYYYmmddTHHMMSSZ.EXT (UTC). */
void profile_interval_path(char *buf, size_t len, const char *dir, const char *kind, const char *ext,
			   time_t when);

/* Table of the n hottest functions by flat share, with cumulative share. */
void top_print(const struct prof *p, FILE *out, int n);

#endif
