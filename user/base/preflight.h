/* SPDX-License-Identifier: Apache-2.0 */
/* Checks before loading BPF, each failing with one line that says what to do and a
 * distinct exit code (exit_codes.h). */
#ifndef GLIMPSE_PREFLIGHT_H
#define GLIMPSE_PREFLIGHT_H

#include <stdbool.h>
#include <sys/types.h>

/* 0 if we may load BPF and read other processes, else an exit code after logging why.
 * uprobes: the command creates uprobes, which Linux 6.16 and later allow only with
 * CAP_SYS_ADMIN. */
int preflight_privileges(bool uprobes);
/* 0 if the kernel has BTF and BPF, else an exit code after logging why. */
int preflight_kernel(void);
/* 0 if every pid exists, else GLIMPSE_EXIT_NO_PROCESS after logging which does not. */
int preflight_pids(const pid_t *pids, int n);

#endif
