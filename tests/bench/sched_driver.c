// SPDX-License-Identifier: Apache-2.0
/* Bench-only driver: glimpse's scheduler tracking (sched_stats) for every process on the
 * system, the way scripts/bench-sched.sh measures its cost against runqlat and offcputime.
 *
 * Usage: sched_driver [-d SECONDS] [PID ...]
 * Prints "ready" on stdout once the tracepoints are attached, runs until SIGINT/SIGTERM or
 * -d, then prints one line per PID given (run-queue latency count, p50, p99, off-CPU seconds,
 * context switches) and one line of totals. Exit codes as glimpse's (exit_codes.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/exit_codes.h"
#include "base/bpf_child.h"
#include "base/log.h"
#include "base/procfs.h"
#include "metrics/sched_probe.h"
#include "metrics/sched_stats.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	/* sched_stats loads its probe in a child that runs this program again (base/bpf_child.h). */
	if (argc > 1 && !strcmp(argv[1], BPF_CHILD_ARG)) {
		static const struct bpf_child_probe probe = { SCHED_PROBE_NAME, sched_probe_load,
							      sched_probe_unload };
		return bpf_child_main(argc, argv, &probe, 1);
	}
	double seconds = 0;
	pid_t pids[64];
	int npids = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d") && i + 1 < argc) {
			seconds = atof(argv[++i]);
		} else if (npids < 64 && parse_pid(argv[i], &pids[npids])) {
			npids++;
		} else {
			fprintf(stderr, "usage: sched_driver [-d SECONDS] [PID ...]\n");
			return GLIMPSE_EXIT_USAGE;
		}
	}
	log_setup(false, 0);
	log_install_libbpf();
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct sched_stats *s;
	int rc = sched_stats_open_all(&s);
	if (rc)
		return rc;
	printf("ready\n");
	fflush(stdout);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop) {
		usleep(100 * 1000);
		clock_gettime(CLOCK_MONOTONIC, &now);
		double t = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
		if (seconds > 0 && t >= seconds)
			break;
	}
	for (int i = 0; i < npids; i++) {
		struct sched_process_stats st;
		if (sched_stats_read(s, pids[i], &st))
			continue;
		printf("pid=%d runq_count=%llu runq_p50_us=%.1f runq_p99_us=%.1f offcpu_s=%.3f "
		       "ctx_voluntary=%llu "
		       "ctx_involuntary=%llu\n",
		       (int)pids[i], (unsigned long long)st.runq_count,
		       sched_runq_quantile(&st, NULL, 0.5) * 1e6, sched_runq_quantile(&st, NULL, 0.99) * 1e6,
		       (double)st.offcpu_ns / 1e9, (unsigned long long)st.ctx_voluntary,
		       (unsigned long long)st.ctx_involuntary);
	}
	printf("dropped=%llu\n", (unsigned long long)sched_stats_dropped(s));
	sched_stats_close(s);
	return GLIMPSE_EXIT_OK;
}
