// SPDX-License-Identifier: Apache-2.0
/* Thread-count target: commands on stdin, one a line.
 *   start N  starts N threads that block on a condition variable
 *   join     releases every started thread and joins them all
 * Prints "ready PID" at start and "ok THREADS" (threads of the process, main included)
 * after each command, once the change is complete. Exits at end of input. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int released;
static pthread_t tids[MAX_THREADS];
static int nthreads;

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!released)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(void)
{
	char line[128];
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		int n;
		if (sscanf(line, "start %d", &n) == 1 && n >= 0) {
			for (int i = 0; i < n && nthreads < MAX_THREADS; i++) {
				if (pthread_create(&tids[nthreads], NULL, waiter, NULL) != 0) {
					printf("error pthread_create\n");
					fflush(stdout);
					break;
				}
				nthreads++;
			}
		} else if (!strncmp(line, "join", 4)) {
			pthread_mutex_lock(&lock);
			released = 1;
			pthread_cond_broadcast(&cond);
			pthread_mutex_unlock(&lock);
			for (int i = 0; i < nthreads; i++)
				pthread_join(tids[i], NULL);
			nthreads = 0;
			pthread_mutex_lock(&lock);
			released = 0;
			pthread_mutex_unlock(&lock);
		} else {
			printf("error unknown command\n");
			fflush(stdout);
			continue;
		}
		printf("ok %d\n", nthreads + 1);
		fflush(stdout);
	}
	return 0;
}
