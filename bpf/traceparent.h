/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one W3C Trace Context `traceparent` parser, compiled both into bpf/gotrace.bpf.c (which
 * reads the header off a Go request) and into user space (tests/unit/test_traceparent.c), so
 * what is tested is what runs. Fixed-width types, no libc, loops of constant bound for the
 * verifier. The rules (https://www.w3.org/TR/trace-context/#traceparent-header):
 *   version "-" trace-id "-" parent-id "-" trace-flags, all lowercase hex;
 *   version is 2 hex digits and not "ff"; version 00 is exactly 55 characters;
 *   a higher version may be longer only if character 55 is '-' (its extra fields are ignored);
 *   trace-id (32 hex) and parent-id (16 hex) are not all zero; flags are 2 hex digits.
 * A request carrying more than one traceparent header has no valid parent either: the caller
 * checks that (traceparent_parse sees one value). */
#ifndef GLIMPSE_BPF_TRACEPARENT_H
#define GLIMPSE_BPF_TRACEPARENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define TRACEPARENT_LEN 55 /* version 00: "00-" 32 hex "-" 16 hex "-" 2 hex */
/* Bytes a caller hands over: one more than TRACEPARENT_LEN, to see a higher version's '-'. */
#define TRACEPARENT_READ_LEN	 56

#define TRACEPARENT_FLAG_SAMPLED 0x01

struct traceparent {
	__u8 trace_id[16];
	__u64 parent_id; /* the 16 hex digits as a big-endian number */
	__u8 flags;
};

static __always_inline int traceparent_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case too: the format is lowercase only */
}

/* tp: the value's first min(len, TRACEPARENT_READ_LEN) bytes (the rest of the buffer is not
 * looked at); len: the value's whole length. 1 and *out filled if valid, else 0. */
static __always_inline int traceparent_parse(const char tp[TRACEPARENT_READ_LEN], __u64 len,
					     struct traceparent *out)
{
	if (len < TRACEPARENT_LEN)
		return 0;
	int v_hi = traceparent_hex(tp[0]), v_lo = traceparent_hex(tp[1]);
	if (v_hi < 0 || v_lo < 0 || (v_hi == 15 && v_lo == 15))
		return 0;
	if (v_hi == 0 && v_lo == 0) {
		if (len != TRACEPARENT_LEN)
			return 0;
	} else if (len > TRACEPARENT_LEN && tp[TRACEPARENT_LEN] != '-') {
		return 0;
	}
	if (tp[2] != '-' || tp[35] != '-' || tp[52] != '-')
		return 0;
	__u8 any = 0;
	for (int i = 0; i < 16; i++) {
		int hi = traceparent_hex(tp[3 + 2 * i]), lo = traceparent_hex(tp[4 + 2 * i]);
		if (hi < 0 || lo < 0)
			return 0;
		out->trace_id[i] = (__u8)(hi << 4 | lo);
		any |= out->trace_id[i];
	}
	__u64 parent = 0;
	for (int i = 0; i < 16; i++) {
		int d = traceparent_hex(tp[36 + i]);
		if (d < 0)
			return 0;
		parent = parent << 4 | (__u64)d;
	}
	int f_hi = traceparent_hex(tp[53]), f_lo = traceparent_hex(tp[54]);
	if (!any || !parent || f_hi < 0 || f_lo < 0)
		return 0;
	out->parent_id = parent;
	out->flags = (__u8)(f_hi << 4 | f_lo);
	return 1;
}

#endif
