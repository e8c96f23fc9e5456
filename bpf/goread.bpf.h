/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading a Go program's memory from a uprobe: a word at an offset (0 when the base is nil or
 * the offset unknown, < 0), and an interface value with the method that names its type. The
 * Go tracer and the ServeMux learning window (gomux.bpf.c) read with these. */
#ifndef GLIMPSE_GOREAD_BPF_H
#define GLIMPSE_GOREAD_BPF_H

static __always_inline __u64 read_word(__u64 base, __s32 offset)
{
	__u64 v = 0;
	if (base && offset >= 0)
		bpf_probe_read_user(&v, sizeof(v), (void *)(base + offset));
	return v;
}

/* The interface value (itab, data) at iface_at, and its itab's first method, which says the
 * type it holds (0 if unreadable): two reads. */
static __always_inline __u64 read_iface(__u64 iface_at, __u64 *data)
{
	struct {
		__u64 itab, data;
	} v = {};
	if (iface_at < 4096 || bpf_probe_read_user(&v, sizeof(v), (void *)iface_at))
		return 0;
	*data = v.data;
	return read_word(v.itab, 24); /* itab: inter, _type, hash + pad, fun[0] */
}

#endif
