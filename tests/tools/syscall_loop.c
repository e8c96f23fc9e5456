// SPDX-License-Identifier: Apache-2.0
/* syscall_loop: a process glimpse does not watch, doing nothing but system calls, and what each
 * loop costs it in CPU time (user + system, immune to other processes on the CPU):
 *
 *   pipe  write 1 byte to a pipe, read it back (2 system calls a loop, no socket)
 *   unix  the same over a Unix stream socket pair (2 socket calls a loop)
 *
 * Usage: syscall_loop pipe|unix [LOOPS]   (default 1000000); prints "MODE LOOPS NS_PER_LOOP".
 * The socket path's tracepoints run on every system call of the machine (sys_exit) or only on
 * socket calls (sock_send_length, sock_recv_length): the two modes tell them apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "pipe") && strcmp(argv[1], "unix"))) {
		fprintf(stderr, "usage: syscall_loop pipe|unix [LOOPS]\n");
		return 2;
	}
	long loops = argc > 2 ? atol(argv[2]) : 1000000;
	int fds[2];
	if (!strcmp(argv[1], "pipe") ? pipe(fds) : socketpair(AF_UNIX, SOCK_STREAM, 0, fds)) {
		perror("syscall_loop");
		return 1;
	}
	char c = 'x';
	double t0 = cpu_ns();
	for (long i = 0; i < loops; i++)
		if (write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1) {
			perror("syscall_loop");
			return 1;
		}
	printf("%s %ld %.1f\n", argv[1], loops, (cpu_ns() - t0) / (double)loops);
	return 0;
}
