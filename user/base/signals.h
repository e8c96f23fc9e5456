/* SPDX-License-Identifier: Apache-2.0 */
/* One place that turns SIGINT/SIGTERM/SIGHUP into a stop request for every poll loop. The
 * handlers are installed first thing in main, so a signal is never lost in start-up, and an
 * ignore inherited from the parent is undone. A second signal while stopping exits at once
 * (exit code 128 + the signal's number), saying what it dropped. */
#ifndef GLIMPSE_SIGNALS_H
#define GLIMPSE_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>

void signals_install(void);
bool stop_requested(void);
void request_stop(void);
/* A forced exit reports *count (read without a lock) as the number of `what` it drops. */
void signals_report_on_forced_exit(const char *what, const volatile size_t *count);

#endif
