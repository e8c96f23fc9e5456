/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between bpf/ksyms_iter.bpf.h (a kallsyms iterator) and user space
 * (user/profile/kallsyms_iter.c). Fixed-width types only. */
#ifndef GLIMPSE_BPF_KSYMS_ITER_H
#define GLIMPSE_BPF_KSYMS_ITER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Addresses named per pass of the iterator (the ksym_slots map's size). */
#define KSYMS_ITER_SLOTS    2048
#define KSYMS_ITER_NAME_LEN 256 /* names cut to 255 bytes, as binfmt/ksyms.c cuts them */
#define KSYMS_ITER_MOD_LEN  56	/* the kernel's MODULE_NAME_LEN */
/* Farther below an address than this, a symbol does not name it (binfmt/ksyms.c's rule). */
#define KSYMS_ITER_MAX_DISTANCE (1u << 20)

/* One wanted address (sorted ascending over the first nwanted slots) and, after a pass, the
 * highest function symbol at or below it and above the previous wanted address, the first
 * listed of several at one address: what binfmt/ksyms.c's pass over /proc/kallsyms keeps. Its
 * name stays empty when it lies KSYMS_ITER_MAX_DISTANCE or more below: it names nothing. */
struct ksyms_iter_slot {
	__u64 wanted;
	__u64 addr;
	__u32 nwanted; /* slot 0 only: how many slots are in use (written by user space) */
	__u32 hidden;  /* slot 0 only: the kernel hides symbol values from this reader */
	__u32 set;     /* addr, name and module hold a symbol */
	__u32 pad;
	char name[KSYMS_ITER_NAME_LEN];
	char module[KSYMS_ITER_MOD_LEN]; /* "" in the kernel itself */
};

#endif
