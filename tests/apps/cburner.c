// SPDX-License-Identifier: Apache-2.0
/* CPU burner with known shares of work: burn_a 50 %, burn_b 30 %, burn_c 20 % of each round.
 * Usage: cburner [-t SECONDS] [-j THREADS] [--syscalls]
 *   -t: exit after SECONDS (default: run until killed)   -j: worker threads (default 1)
 *   --syscalls: instead of burning, read /dev/zero in a loop (kernel-heavy workload).
 * Prints "ready PID" on stdout once running. Built with frame pointers so stacks are whole. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
static double deadline;
static int syscall_mode;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Identical loop bodies so one iteration costs the same in each function. */
#define BURN_BODY(iters)                                    \
	do {                                                \
		unsigned long x = sink;                     \
		for (unsigned long i = 0; i < (iters); i++) \
			x = x * 6364136223846793005UL + i;  \
		sink = x;                                   \
	} while (0)

__attribute__((noinline)) void burn_a(unsigned long iters)
{
	BURN_BODY(iters);
}
__attribute__((noinline)) void burn_b(unsigned long iters)
{
	BURN_BODY(iters);
}
__attribute__((noinline)) void burn_c(unsigned long iters)
{
	BURN_BODY(iters);
}

__attribute__((noinline)) void read_zero_loop(int fd)
{
	static char buf[1 << 16];
	if (read(fd, buf, sizeof(buf)) < 0)
		exit(1);
}

static void *worker(void *arg)
{
	(void)arg;
	/* A random round length keeps rounds from falling into lockstep with the sampling
	 * period (which would bias the shares); each round still splits 50/30/20. */
	unsigned long rng = (unsigned long)pthread_self() | 1;
	int fd = syscall_mode ? open("/dev/zero", O_RDONLY) : -1;
	while (deadline == 0 || now() < deadline) {
		if (syscall_mode) {
			read_zero_loop(fd);
			continue;
		}
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		unsigned long unit = 10000 + rng % 20000;
		burn_a(5 * unit);
		burn_b(3 * unit);
		burn_c(2 * unit);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc)
			deadline = now() + atof(argv[++i]);
		else if (!strcmp(argv[i], "-j") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--syscalls"))
			syscall_mode = 1;
		else {
			fprintf(stderr, "usage: cburner [-t SECONDS] [-j THREADS] [--syscalls]\n");
			return 2;
		}
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	pthread_t tids[64];
	if (threads > 64)
		threads = 64;
	for (int i = 1; i < threads; i++)
		pthread_create(&tids[i], NULL, worker, NULL);
	worker(NULL);
	for (int i = 1; i < threads; i++)
		pthread_join(tids[i], NULL);
	return 0;
}
