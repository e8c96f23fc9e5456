// SPDX-License-Identifier: Apache-2.0
/* Run-queue contention target: spinners N CPU starts N threads that spin forever, all pinned
 * to CPU (so N > 1 of them queue for it), prints "ready PID" once all are pinned, and runs
 * until killed. spinners N CPU burst: the threads sleep instead, and each command "burst MS"
 * on stdin makes all of them spin MS ms of wall time on CPU at once and sleep again, answered
 * "ok" once every one has finished (the process then only waits: its run-queue totals in
 * /proc/PID/task/TID/schedstat are settled). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int cpu;
static pthread_barrier_t pinned;
static volatile unsigned long sink;

/* Burst mode: generation counts bursts asked for; done counts threads through the current. */
static bool burst_mode;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static unsigned generation, done;
static long burst_ms;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void bursts(void)
{
	unsigned seen = 0;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (generation == seen)
			pthread_cond_wait(&go, &lock);
		seen = generation;
		double until = now_ms() + (double)burst_ms;
		pthread_mutex_unlock(&lock);
		for (unsigned long x = 1; now_ms() < until;
		     x = x * 6364136223846793005UL + 1442695040888963407UL)
			sink = x;
		pthread_mutex_lock(&lock);
		done++;
		pthread_cond_signal(&finished);
		pthread_mutex_unlock(&lock);
	}
}

static void *spin(void *arg)
{
	(void)arg;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		perror("sched_setaffinity");
		exit(1);
	}
	pthread_barrier_wait(&pinned);
	if (burst_mode)
		bursts();
	for (unsigned long x = 1;; x = x * 6364136223846793005UL + 1442695040888963407UL)
		sink = x;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "burst"))) {
		fprintf(stderr, "usage: spinners N CPU [burst]\n");
		return 2;
	}
	burst_mode = argc == 4;
	int n = atoi(argv[1]);
	cpu = atoi(argv[2]);
	if (n < 1 || n > 256 || cpu < 0 || cpu >= CPU_SETSIZE) {
		fprintf(stderr, "spinners: N must be 1..256 and CPU a CPU number\n");
		return 2;
	}
	pthread_barrier_init(&pinned, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, spin, NULL) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	pthread_barrier_wait(&pinned);
	printf("ready %d\n", getpid());
	fflush(stdout);
	char line[64];
	while (burst_mode && fgets(line, sizeof(line), stdin)) {
		long ms;
		if (sscanf(line, "burst %ld", &ms) != 1 || ms < 1 || ms > 60000) {
			printf("error: expected burst MS\n");
			fflush(stdout);
			continue;
		}
		pthread_mutex_lock(&lock);
		burst_ms = ms;
		done = 0;
		generation++;
		pthread_cond_broadcast(&go);
		while (done < (unsigned)n)
			pthread_cond_wait(&finished, &lock);
		pthread_mutex_unlock(&lock);
		printf("ok\n");
		fflush(stdout);
	}
	for (;;)
		pause();
}
