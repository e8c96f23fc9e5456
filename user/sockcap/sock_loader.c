// SPDX-License-Identifier: Apache-2.0
#include "sockcap/sock_loader.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/exit_codes.h"
#include "sockcap.skel.h"

#define LOADER_FD      3
#define NFDS	       8
#define LOAD_TIMEOUT_MS 30000

extern char **environ;

/* What the loader answers: 0 and NFDS descriptors, or the exit code glimpse should fail with. */
struct loader_reply {
	int32_t rc;
};

static int send_reply(int sock, int rc, const int *fds, int nfds)
{
	struct loader_reply reply = { .rc = rc };
	struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
	union {
		char buf[CMSG_SPACE(NFDS * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &msg, 0) < 0 ? -errno : 0;
}

static int load_and_attach(uint64_t wakeup_bytes, int fds[NFDS])
{
	struct sockcap_bpf *skel = sockcap_bpf__open();
	if (!skel) {
		log_error("cannot open the socket probe's BPF object: %s", strerror(errno));
		return GLIMPSE_EXIT_FAILURE;
	}
	skel->rodata->wakeup_bytes = wakeup_bytes;
	int err = sockcap_bpf__load(skel);
	if (err) {
		log_error("cannot load the socket probe's BPF programs: %s (run with -v for the verifier log)",
			  strerror(-err));
		return err == -EPERM ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
	}
	err = sockcap_bpf__attach(skel);
	if (err) {
		log_error("cannot attach the socket probe's tracepoints: %s", strerror(-err));
		return err == -EPERM || err == -EACCES ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
	}
	/* In struct sock_probe_fds order. The skeleton is never destroyed here: the process exits
	 * once they are sent, and the kernel keeps what the receiver's copies hold. */
	int all[NFDS] = {
		bpf_map__fd(skel->maps.events),		bpf_map__fd(skel->maps.pids),
		bpf_map__fd(skel->maps.conns),		bpf_map__fd(skel->maps.counters),
		bpf_link__fd(skel->links.sockcap_enter), bpf_link__fd(skel->links.sockcap_exit),
		bpf_link__fd(skel->links.sockcap_fork), bpf_link__fd(skel->links.sockcap_proc_exit),
	};
	memcpy(fds, all, sizeof(all));
	return 0;
}

int sock_loader_main(int argc, char **argv)
{
	if (argc != 5)
		return GLIMPSE_EXIT_USAGE;
	log_setup(!strcmp(argv[3], "1"), atoi(argv[2]));
	log_install_libbpf();
	int fds[NFDS];
	int rc = load_and_attach(strtoull(argv[4], NULL, 10), fds);
	if (send_reply(LOADER_FD, rc, fds, rc ? 0 : NFDS))
		return GLIMPSE_EXIT_FAILURE;
	return rc;
}

static int receive_reply(int sock, pid_t child, struct sock_probe_fds *out)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	if (poll(&p, 1, LOAD_TIMEOUT_MS) <= 0) {
		log_error("the socket probe's loader (pid %d) did not answer within %d s", (int)child,
			  LOAD_TIMEOUT_MS / 1000);
		kill(child, SIGKILL);
		return GLIMPSE_EXIT_FAILURE;
	}
	struct loader_reply reply = { .rc = GLIMPSE_EXIT_FAILURE };
	struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
	union {
		char buf[CMSG_SPACE(NFDS * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(reply)) {
		log_error("the socket probe's loader (pid %d) ended without an answer", (int)child);
		return GLIMPSE_EXIT_FAILURE;
	}
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (reply.rc)
		return reply.rc; /* it said why on the same stderr */
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(NFDS * sizeof(int)) ||
	    (msg.msg_flags & MSG_CTRUNC)) {
		log_error("the socket probe's loader sent a malformed answer");
		return GLIMPSE_EXIT_FAILURE;
	}
	int fds[NFDS];
	memcpy(fds, CMSG_DATA(c), sizeof(fds));
	*out = (struct sock_probe_fds){ fds[0], fds[1], fds[2], fds[3], { fds[4], fds[5], fds[6], fds[7] } };
	return 0;
}

int sock_loader_run(uint64_t wakeup_bytes, struct sock_probe_fds *out)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		log_error("cannot start the socket probe's loader: %s", strerror(errno));
		return GLIMPSE_EXIT_FAILURE;
	}
	char verbosity[16], json[4], wakeup[32];
	snprintf(verbosity, sizeof(verbosity), "%d", log_verbosity());
	snprintf(json, sizeof(json), "%d", log_json() ? 1 : 0);
	snprintf(wakeup, sizeof(wakeup), "%" PRIu64, wakeup_bytes);
	char *argv[] = { "glimpse", SOCK_LOADER_ARG, verbosity, json, wakeup, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], LOADER_FD); /* dup2 clears close-on-exec */
	pid_t child;
	int err = posix_spawn(&child, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	int rc;
	if (err) {
		log_error("cannot start the socket probe's loader: %s", strerror(err));
		rc = GLIMPSE_EXIT_FAILURE;
	} else {
		rc = receive_reply(sv[0], child, out);
		int status;
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
	}
	close(sv[0]);
	return rc;
}

void sock_probe_fds_close(struct sock_probe_fds *fds)
{
	/* Links first: the probe stops before its maps go. */
	for (int i = 0; i < 4; i++)
		if (fds->links[i] > 0)
			close(fds->links[i]);
	int maps[] = { fds->events, fds->pids, fds->conns, fds->counters };
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (maps[i] > 0)
			close(maps[i]);
	memset(fds, -1, sizeof(*fds));
}
