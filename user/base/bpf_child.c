// SPDX-License-Identifier: Apache-2.0
#include "base/bpf_child.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "cli/exit_codes.h"

#define CHILD_FD	3
#define LOAD_TIMEOUT_MS 30000

extern char **environ;

/* The child's answer: 0 and the descriptors, or the exit code glimpse should fail with. */
struct child_reply {
	int32_t rc;
	int32_t nfds;
};

union fd_control {
	char buf[CMSG_SPACE(BPF_CHILD_MAX_FDS * sizeof(int))];
	struct cmsghdr align;
};

static int send_reply(int sock, int rc, const int *fds, int nfds)
{
	struct child_reply reply = { .rc = rc, .nfds = nfds };
	struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
	union fd_control control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > 0) {
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	return sendmsg(sock, &msg, 0) < 0 ? -errno : 0;
}

int bpf_child_main(int argc, char **argv, const struct bpf_child_probe *probes, int nprobes)
{
	if (argc < 5 || argc - 5 > BPF_CHILD_MAX_PARAMS)
		return GLIMPSE_EXIT_USAGE;
	log_setup(!strcmp(argv[4], "1"), atoi(argv[3]));
	log_install_libbpf();
	uint64_t params[BPF_CHILD_MAX_PARAMS];
	int nparams = argc - 5;
	for (int i = 0; i < nparams; i++)
		params[i] = strtoull(argv[5 + i], NULL, 10);
	int fds[BPF_CHILD_MAX_FDS], n = -GLIMPSE_EXIT_USAGE;
	const struct bpf_child_probe *probe = NULL;
	for (int i = 0; i < nprobes && !probe; i++)
		if (!strcmp(probes[i].name, argv[2]))
			probe = &probes[i];
	if (probe)
		n = probe->load(params, nparams, fds);
	if (n > BPF_CHILD_MAX_FDS)
		n = -GLIMPSE_EXIT_FAILURE;
	int rc = n < 0 ? -n : 0;
	if (send_reply(CHILD_FD, rc, fds, n < 0 ? 0 : n))
		rc = GLIMPSE_EXIT_FAILURE;
	if (probe)
		probe->unload();
	return rc;
}

static int receive_reply(int sock, pid_t child, const char *name, int *fds, int nfds)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	/* A signal (Ctrl-C while attaching) interrupts the wait, not the load: the caller sees the
	 * stop request once the probe is in and leaves through its one cleanup path. */
	uint64_t deadline = clock_mono_ns() + (uint64_t)LOAD_TIMEOUT_MS * 1000000ull;
	int ready;
	do {
		uint64_t now = clock_mono_ns();
		int left = now < deadline ? (int)((deadline - now + 999999) / 1000000) : 0;
		ready = poll(&p, 1, left);
	} while (ready < 0 && errno == EINTR);
	if (ready <= 0) {
		log_error("loading the %s probe took more than %d s; gave up", name, LOAD_TIMEOUT_MS / 1000);
		kill(child, SIGKILL);
		return GLIMPSE_EXIT_FAILURE;
	}
	struct child_reply reply = { .rc = GLIMPSE_EXIT_FAILURE };
	struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
	union fd_control control;
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(reply)) {
		log_error("the process loading the %s probe ended without an answer", name);
		return GLIMPSE_EXIT_FAILURE;
	}
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	int got = c && c->cmsg_type == SCM_RIGHTS ? (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int)) : 0;
	int received[BPF_CHILD_MAX_FDS];
	if (got > 0)
		memcpy(received, CMSG_DATA(c), (size_t)got * sizeof(int));
	if (reply.rc || got != nfds || reply.nfds != nfds || (msg.msg_flags & MSG_CTRUNC)) {
		bpf_child_close(received, got);
		if (reply.rc)
			return reply.rc; /* it said why on the same stderr */
		log_error("the process loading the %s probe sent %d descriptors, not %d", name, got, nfds);
		return GLIMPSE_EXIT_FAILURE;
	}
	memcpy(fds, received, (size_t)nfds * sizeof(int));
	return 0;
}

int bpf_child_load(const char *name, const uint64_t *params, int nparams, int *fds, int nfds)
{
	if (nparams > BPF_CHILD_MAX_PARAMS || nfds > BPF_CHILD_MAX_FDS)
		return GLIMPSE_EXIT_FAILURE;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		log_error("cannot start loading the %s probe: %s", name, strerror(errno));
		return GLIMPSE_EXIT_FAILURE;
	}
	char verbosity[16], json[4], values[BPF_CHILD_MAX_PARAMS][24];
	char *argv[5 + BPF_CHILD_MAX_PARAMS + 1] = { "glimpse", BPF_CHILD_ARG, (char *)name, verbosity,
						     json };
	snprintf(verbosity, sizeof(verbosity), "%d", log_verbosity());
	snprintf(json, sizeof(json), "%d", log_json() ? 1 : 0);
	for (int i = 0; i < nparams; i++) {
		snprintf(values[i], sizeof(values[i]), "%" PRIu64, params[i]);
		argv[5 + i] = values[i];
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], CHILD_FD); /* dup2 clears close-on-exec */
	pid_t child;
	int err = posix_spawn(&child, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	int rc;
	if (err) {
		log_error("cannot start loading the %s probe: %s", name, strerror(err));
		rc = GLIMPSE_EXIT_FAILURE;
	} else {
		rc = receive_reply(sv[0], child, name, fds, nfds);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	close(sv[0]);
	return rc;
}

void bpf_child_close(int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		if (fds[i] > 0)
			close(fds[i]);
		fds[i] = -1;
	}
}
