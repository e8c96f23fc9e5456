// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness for the service name glimpse reads from a target's environment
 * (user/agent/resource.c over user/base/kv_pairs.c): /proc/PID/environ is the target's bytes,
 * anything at all. Checked besides memory safety (ASan/UBSan): the name is NUL-terminated within
 * its buffer whatever its size, and a list's items come in order, each inside the input. */
#include <stdint.h>
#include <string.h>

#include "agent/resource.h"
#include "base/kv_pairs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *env = (const char *)data;
	static const size_t sizes[] = { 1, 2, 5, 64, 256 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char out[256];
		memset(out, 'x', sizeof(out));
		if (resource_service_from_environ(env, size, out, sizes[i]) && !memchr(out, '\0', sizes[i]))
			__builtin_trap();
	}
	struct kv_pair kv = { 0 };
	size_t pos = 0;
	int last = 0;
	while (kv_pairs_next(env, size, &pos, &kv)) {
		if (kv.item <= last || kv.key < env || kv.value + kv.value_len > env + size ||
		    kv.key + kv.key_len > env + size)
			__builtin_trap();
		last = kv.item;
		char val[16];
		long n = kv_percent_decode(kv.value, kv.value_len, val, sizeof(val));
		/* The decoded length (a value may hold NUL bytes: strlen can only be shorter). */
		if (n > (long)kv.value_len || (n >= 0 && strlen(val) > (size_t)(n < 15 ? n : 15)))
			__builtin_trap();
	}
	return 0;
}
