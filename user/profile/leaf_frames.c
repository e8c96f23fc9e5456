// SPDX-License-Identifier: Apache-2.0
#include "profile/leaf_frames.h"

#include <string.h>

bool leaf_frames_restore(uint64_t *ips, int *n, int max, const uint64_t words[2],
			 leaf_frames_sp_delta_fn delta, void *ctx)
{
	int32_t d;
	if (*n < 1 || *n >= max || (!words[0] && !words[1]) || delta(ctx, ips[0], &d))
		return false;
	/* Deeper than 8 the function has pushed BP and set it up, so its frame is walked. */
	if (d != 0 && d != 8)
		return false;
	uint64_t ret = words[d / 8];
	if (!ret || (*n > 1 && ips[1] == ret))
		return false;
	memmove(&ips[2], &ips[1], (size_t)(*n - 1) * sizeof(*ips));
	ips[1] = ret;
	(*n)++;
	return true;
}
