// SPDX-License-Identifier: Apache-2.0
/* CPU burner without frame pointers whose work is called through libc: each round sorts the
 * same small array ten times with qsort — six times with cmp_a, three with cmp_b, once with
 * cmp_c — and each comparison burns the same amount in burn_a, burn_b or burn_c. The
 * comparisons per sort are the same for every comparator (same input, same algorithm), so the
 * work splits exactly 6:3:1, and every stack runs main → run_rounds → sort_with → qsort (libc,
 * which Debian builds without frame pointers) → cmp_x → burn_x.
 * Usage: cqsort [-t SECONDS]. Prints "ready PID" once running, and at exit the comparisons made
 * per comparator ("calls a=N b=N c=N"). Built with -fomit-frame-pointer (tests/apps/Makefile). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NELEM 24
#define BURN  4000

static volatile unsigned long sink;
static unsigned long calls[3];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define BURN_BODY(iters)                                    \
	do {                                                \
		unsigned long x = sink;                     \
		for (unsigned long i = 0; i < (iters); i++) \
			x = x * 6364136223846793005UL + i;  \
		sink = x;                                   \
	} while (0)

__attribute__((noipa)) void burn_a(unsigned long n)
{
	BURN_BODY(n);
}
__attribute__((noipa)) void burn_b(unsigned long n)
{
	BURN_BODY(n);
}
__attribute__((noipa)) void burn_c(unsigned long n)
{
	BURN_BODY(n);
}

static int order(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;
	return (a > b) - (a < b);
}

/* The burn comes first, so the comparison's result is still to compute: never a tail call. */
__attribute__((noipa)) int cmp_a(const void *x, const void *y)
{
	burn_a(BURN);
	calls[0]++;
	return order(x, y);
}
__attribute__((noipa)) int cmp_b(const void *x, const void *y)
{
	burn_b(BURN);
	calls[1]++;
	return order(x, y);
}
__attribute__((noipa)) int cmp_c(const void *x, const void *y)
{
	burn_c(BURN);
	calls[2]++;
	return order(x, y);
}

__attribute__((noipa)) void sort_with(int (*cmp)(const void *, const void *), unsigned seed)
{
	int v[NELEM];
	for (int i = 0; i < NELEM; i++)
		v[i] = (int)((seed + (unsigned)i * 2654435761u) % 1000);
	qsort(v, NELEM, sizeof(v[0]), cmp);
	sink += (unsigned long)v[0];
}

__attribute__((noipa)) void run_rounds(double deadline)
{
	for (unsigned round = 0; deadline == 0 || now() < deadline; round++) {
		for (int i = 0; i < 6; i++)
			sort_with(cmp_a, round);
		for (int i = 0; i < 3; i++)
			sort_with(cmp_b, round);
		sort_with(cmp_c, round);
	}
}

int main(int argc, char **argv)
{
	double deadline = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			deadline = now() + atof(argv[++i]);
		} else {
			fprintf(stderr, "usage: cqsort [-t SECONDS]\n");
			return 2;
		}
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	run_rounds(deadline);
	printf("calls a=%lu b=%lu c=%lu\n", calls[0], calls[1], calls[2]);
	return 0;
}
