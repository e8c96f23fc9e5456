/* SPDX-License-Identifier: Apache-2.0 */
/* One place that turns SIGINT/SIGTERM/SIGHUP into a stop request for every poll loop. */
#ifndef GLIMPSE_SIGNALS_H
#define GLIMPSE_SIGNALS_H

#include <stdbool.h>

void signals_install(void);
bool stop_requested(void);
void request_stop(void);

#endif
