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

/* 0 if pid's executable can be read (what attach and inspect -p need), else an exit code
 * after logging why (preflight_target_error). */
int preflight_target(pid_t pid);
/* After reading pid's /proc files or memory failed with err (-errno): logs one line in the
 * user's terms and returns the exit code: the process exited (ESRCH, ENOENT, gone) → 3; a
 * kernel thread → 6; permission denied → 4, naming CAP_SYS_PTRACE when it is missing; else 1.
 * doing completes "cannot DOING process N". */
int preflight_target_error(pid_t pid, int err, const char *doing);

#endif
