/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel names for a batch of addresses through the profiler's kallsyms iterator
 * (bpf/ksyms_iter.bpf.h): the same answers as binfmt/ksyms.h's pass over /proc/kallsyms for
 * well under half its CPU — the kernel walks its symbol list without formatting it, and only
 * the names wanted come back. */
#ifndef GLIMPSE_PROFILE_KALLSYMS_ITER_H
#define GLIMPSE_PROFILE_KALLSYMS_ITER_H

#include <stddef.h>
#include <stdint.h>

/* For each addrs[i], names[i] becomes a malloc'd "function" (or "function [module]") or NULL,
 * as ksyms_resolve names them. prog_fd: the loaded iterator program; slots_fd: its slots map.
 * 0; -EOPNOTSUPP when prog_fd is no iterator the kernel runs or the batch needs more than two
 * passes; -EPERM when the kernel hides symbol values from glimpse (kptr_restrict); another
 * -errno. On any error the caller reads /proc/kallsyms instead (kernel_names.c). */
int kallsyms_iter_resolve(int prog_fd, int slots_fd, const uint64_t *addrs, size_t n, char **names);

#endif
