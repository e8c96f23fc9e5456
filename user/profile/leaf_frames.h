/* SPDX-License-Identifier: Apache-2.0 */
/* Puts back the caller a frame-pointer walk skips. The walk reads each return address at
 * BP + 8, which is right only once the function running has pushed BP and pointed BP at its
 * frame; in a Go function that has no frame (a small leaf) or is in its prologue or epilogue,
 * BP is still its caller's, and the walk goes from the function straight to its caller's
 * caller. The function's own return address is then at SP + its SP delta at that pc (0 or 8
 * there), which the pclntab's pcsp table gives: the BPF program sends the two words at SP
 * (bpf/profile.h: sp_words) and the missing frame is inserted from the right one. */
#ifndef GLIMPSE_LEAF_FRAMES_H
#define GLIMPSE_LEAF_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

/* The SP delta at pc (0 or -ENOENT when unknown: not Go code). */
typedef int (*leaf_frames_sp_delta_fn)(void *ctx, uint64_t pc, int32_t *delta);

/* ips[0..*n) is a user stack, leaf first (at most max entries); words the two words at SP
 * (0 where not a code address). Inserts the skipped caller at ips[1] when the word at SP + the
 * leaf's delta is a return address the walk did not already give. True if it did. */
bool leaf_frames_restore(uint64_t *ips, int *n, int max, const uint64_t words[2],
			 leaf_frames_sp_delta_fn delta, void *ctx);

#endif
