// SPDX-License-Identifier: Apache-2.0
/* Spends its time in the vDSO: read_clock() calls clock_gettime in a loop (libc, then the
 * kernel's vDSO, whose fast path sets up no frame). Built without frame pointers: only the vDSO's
 * and libc's unwind tables give main → read_clock → clock_gettime.
 * Usage: cclock [-t SECONDS]. Prints "ready PID" once running. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

__attribute__((noipa)) long read_clock(void)
{
	struct timespec ts;
	long sum = 0;
	for (int i = 0; i < 1000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sum += ts.tv_nsec;
	}
	return sum;
}

int main(int argc, char **argv)
{
	double seconds = argc == 3 && !strcmp(argv[1], "-t") ? atof(argv[2]) : 0;
	struct timespec start, now;
	long sum = 0;
	printf("ready %d\n", getpid());
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		sum += read_clock();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (seconds <= 0 || now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
	return (int)(sum & 1);
}
