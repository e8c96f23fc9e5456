/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between the BPF programs that filter on processes (bpf/watched.bpf.h) and user space
 * (user/base/watched.c): fixed-width types only. A bitmap, one bit per tgid, in an mmapable
 * array map: the test a program running on every system call, wakeup or context switch of the
 * machine pays before anything else. */
#ifndef GLIMPSE_BPF_WATCHED_BITS_H
#define GLIMPSE_BPF_WATCHED_BITS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* PID_MAX_LIMIT on 64-bit (4M): a tgid at or past it never has a bit. */
#define WATCHED_PID_LIMIT (1u << 22)
/* 64-bit words of the bitmap: 512 KiB of kernel memory, resident only where bits are set. */
#define WATCHED_WORDS (WATCHED_PID_LIMIT / 64)
/* Where tgid's bit is: the word, and the bit within it (both sides use these). */
#define WATCHED_WORD(tgid) ((__u32)(tgid) / 64)
#define WATCHED_BIT(tgid)  (1ull << ((__u32)(tgid) % 64))

#endif
