/* SPDX-License-Identifier: Apache-2.0 */
/* Distinct exit codes so scripts can tell failures apart (documented in README and --help). */
#ifndef GLIMPSE_EXIT_CODES_H
#define GLIMPSE_EXIT_CODES_H

enum glimpse_exit {
	GLIMPSE_EXIT_OK = 0,
	GLIMPSE_EXIT_FAILURE = 1,	     /* runtime failure (output not writable, BPF load failed, ...) */
	GLIMPSE_EXIT_USAGE = 2,		     /* bad flag or flag value */
	GLIMPSE_EXIT_NO_PROCESS = 3,	     /* a requested PID does not exist */
	GLIMPSE_EXIT_NO_PERMISSION = 4,	     /* not root / missing capabilities */
	GLIMPSE_EXIT_NO_KERNEL_SUPPORT = 5,  /* kernel without BPF, BTF or perf events */
	GLIMPSE_EXIT_UNSUPPORTED_TARGET = 6, /* target cannot be instrumented (e.g. not a Go binary) */
	/* 128 + N: stopped at once by a second signal N while shutting down (base/signals.c). */
};

#endif
