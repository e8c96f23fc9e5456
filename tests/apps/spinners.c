// SPDX-License-Identifier: Apache-2.0
/* Run-queue contention target: spinners N CPU starts N threads that spin forever, all pinned
 * to CPU (so N > 1 of them queue for it), prints "ready PID" once all are pinned, and runs
 * until killed. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int cpu;
static pthread_barrier_t pinned;
static volatile unsigned long sink;

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
	for (unsigned long x = 1;; x = x * 6364136223846793005UL + 1442695040888963407UL)
		sink = x;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: spinners N CPU\n");
		return 2;
	}
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
	for (;;)
		pause();
}
