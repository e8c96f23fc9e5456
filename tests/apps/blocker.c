// SPDX-License-Identifier: Apache-2.0
/* Off-CPU test target with known blocking. Each round of a worker thread:
 *   sleep_phase(): 30 ms in nanosleep;
 *   pipe_phase():  20 ms in read() on a pipe that the worker's helper thread writes to 20 ms
 *                  after the worker asks it to.
 * Usage: blocker [-j THREADS] [-n ROUNDS] [--wait]
 *   -j: worker threads, each with its own helper (default 1)
 *   -n: rounds per worker, then print the totals and exit (default: run until killed)
 *   --wait: start the rounds only when a line arrives on stdin (so that a profiler can attach
 *           first and see every round whole)
 * Prints "ready PID" once started; with -n, at the end, "sleep_ns=N pipe_ns=N rounds=N" — the
 * time spent in the blocking calls, measured with CLOCK_MONOTONIC around each — then one line
 * per call, "sleep NS" or "pipe NS": the ground truth for the off-CPU profile, also for a
 * minimum block time filter.
 *
 * Built with frame pointers; Debian's libc is not. A frame-pointer walk from inside libc's
 * nanosleep or read recovers the return address into their caller only if that caller has a
 * frame of its own above, so the libc calls sit in small wrappers (sleep_for, read_byte):
 * sleep_phase and pipe_phase stay on the stack, as in a program with a deeper call chain. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLEEP_MS 30
#define PIPE_MS	 20

struct worker {
	pthread_t thread, helper;
	int request[2]; /* worker → helper: "write in PIPE_MS" */
	int reply[2];	/* helper → worker */
	long rounds;
	long long sleep_ns, pipe_ns;
	long long *sleeps, *pipes; /* with -n: each call's duration */
};

static long max_rounds; /* 0: forever */

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) void sleep_for(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts))
		;
}

__attribute__((noinline)) char read_byte(int fd)
{
	char c = 0;
	if (read(fd, &c, 1) != 1)
		exit(1);
	return c;
}

__attribute__((noinline)) void sleep_phase(struct worker *w)
{
	long long t = now_ns();
	sleep_for(SLEEP_MS);
	t = now_ns() - t;
	w->sleep_ns += t;
	if (w->sleeps)
		w->sleeps[w->rounds] = t;
}

__attribute__((noinline)) void pipe_phase(struct worker *w)
{
	char c = 'x';
	if (write(w->request[1], &c, 1) != 1)
		exit(1);
	long long t = now_ns();
	read_byte(w->reply[0]);
	t = now_ns() - t;
	w->pipe_ns += t;
	if (w->pipes)
		w->pipes[w->rounds] = t;
}

/* Answers each request PIPE_MS later. Its own waits are in helper_wait and helper_delay. */
__attribute__((noinline)) int helper_wait(int fd)
{
	char c;
	return read(fd, &c, 1) == 1;
}

__attribute__((noinline)) void helper_delay(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	while (nanosleep(&ts, &ts))
		;
}

static void *helper(void *arg)
{
	struct worker *w = arg;
	char c = 'y';
	while (helper_wait(w->request[0])) {
		helper_delay(PIPE_MS);
		if (write(w->reply[1], &c, 1) != 1)
			exit(1);
	}
	return NULL;
}

static void *worker(void *arg)
{
	struct worker *w = arg;
	while (max_rounds == 0 || w->rounds < max_rounds) {
		sleep_phase(w);
		pipe_phase(w);
		w->rounds++;
	}
	close(w->request[1]); /* the helper sees end of file and returns */
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 1, wait_go = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			max_rounds = atol(argv[++i]);
		else if (!strcmp(argv[i], "--wait"))
			wait_go = 1;
		else {
			fprintf(stderr, "usage: blocker [-j THREADS] [-n ROUNDS] [--wait]\n");
			return 2;
		}
	}
	if (threads < 1 || threads > 64 || max_rounds < 0) {
		fprintf(stderr, "blocker: -j 1..64, -n >= 0\n");
		return 2;
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (wait_go) {
		char line[64];
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	struct worker *ws = calloc(threads, sizeof(*ws));
	if (!ws)
		return 1;
	for (int i = 0; i < threads && max_rounds; i++) {
		ws[i].sleeps = calloc(max_rounds, sizeof(long long));
		ws[i].pipes = calloc(max_rounds, sizeof(long long));
		if (!ws[i].sleeps || !ws[i].pipes)
			return 1;
	}
	for (int i = 0; i < threads; i++) {
		if (pipe(ws[i].request) || pipe(ws[i].reply) ||
		    pthread_create(&ws[i].helper, NULL, helper, &ws[i]) ||
		    pthread_create(&ws[i].thread, NULL, worker, &ws[i])) {
			perror("blocker");
			return 1;
		}
	}
	long long sleep_ns = 0, pipe_ns = 0;
	long rounds = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(ws[i].thread, NULL);
		pthread_join(ws[i].helper, NULL);
		sleep_ns += ws[i].sleep_ns;
		pipe_ns += ws[i].pipe_ns;
		rounds += ws[i].rounds;
	}
	printf("sleep_ns=%lld pipe_ns=%lld rounds=%ld\n", sleep_ns, pipe_ns, rounds);
	for (int i = 0; i < threads; i++)
		for (long r = 0; r < ws[i].rounds; r++)
			printf("sleep %lld\npipe %lld\n", ws[i].sleeps[r], ws[i].pipes[r]);
	return 0;
}
