// SPDX-License-Identifier: Apache-2.0
#include "base/signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
/* What a forced exit drops, read in the handler: a plain load of a word the owner updates. */
static const char *pending_what;
static const volatile size_t *pending_count;

static size_t put_str(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at < cap)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, size_t v)
{
	char digits[24];
	size_t n = 0;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(digits));
	while (n && at < cap)
		buf[at++] = digits[--n];
	return at;
}

/* Async-signal-safe: write(2) and _exit(2) only. */
static void on_signal(int sig)
{
	if (!stop) {
		stop = 1;
		return;
	}
	/* A second signal while stopping: the user does not want to wait for the flush. */
	char msg[160];
	size_t n = put_str(msg, 0, sizeof(msg), "glimpse: stopping now on a second signal");
	if (pending_what && pending_count) {
		n = put_str(msg, n, sizeof(msg), "; dropped ");
		n = put_num(msg, n, sizeof(msg), *pending_count);
		n = put_str(msg, n, sizeof(msg), " queued ");
		n = put_str(msg, n, sizeof(msg), pending_what);
	}
	n = put_str(msg, n, sizeof(msg), "\n");
	ssize_t w = write(STDERR_FILENO, msg, n);
	(void)w;
	_exit(128 + sig);
}

void signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: blocking polls return EINTR so loops notice the stop at once. Setting a
	 * handler also undoes an ignore inherited from the parent (a script's `glimpse ... &`). */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* An inherited blocked mask would hold the signals back just the same. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void signals_report_on_forced_exit(const char *what, const volatile size_t *count)
{
	pending_count = count;
	pending_what = what;
}

bool stop_requested(void)
{
	return stop != 0;
}

void request_stop(void)
{
	stop = 1;
}
