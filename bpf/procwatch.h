/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between bpf/procwatch.bpf.c and user space: fixed-width types only. */
#ifndef GLIMPSE_BPF_PROCWATCH_H
#define GLIMPSE_BPF_PROCWATCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum procwatch_kind {
	PROCWATCH_EXEC = 1,
	PROCWATCH_EXIT = 2,
};

struct procwatch_event {
	__u32 pid;
	__u32 kind;
};

#endif
