// SPDX-License-Identifier: Apache-2.0
/* syscall_floor: attaches an empty program (r0 = 0; exit) to the raw tracepoint sys_exit (the
 * one the socket probe uses; `both`: sys_enter too) and holds it until SIGINT or SIGTERM: what
 * any syscall-tracepoint design costs before its program does anything. Attaching sets a flag on
 * every task that sends each system call of every process through the kernel's slow path, then
 * one indirect call per tracepoint. scripts/bench-http.sh measures an unwatched process beside
 * it ("sys_exit attached, empty program"), the floor under the socket path's own cost.
 *
 * `sock`: the socket tracepoints sock_send_length and sock_recv_length instead, which only socket
 * sends and receives reach (what a socket-only design would pay).
 *
 * Usage: syscall_floor [exit|both|sock]   (default exit); prints "attached N" once attached. */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int attach_empty(const char *tp)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int prog = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "floor_empty", "GPL", insns, 2, NULL);
	if (prog < 0) {
		fprintf(stderr, "syscall_floor: cannot load the empty program: %s\n", strerror(errno));
		return -1;
	}
	int link = bpf_raw_tracepoint_open(tp, prog);
	if (link < 0) {
		fprintf(stderr, "syscall_floor: cannot attach to raw tracepoint %s: %s\n", tp,
			strerror(errno));
		return -1;
	}
	return link;
}

int main(int argc, char **argv)
{
	const char *mode = argc == 2 ? argv[1] : "exit";
	const char *tps[2] = { "sys_exit", NULL };
	if (!strcmp(mode, "both"))
		tps[1] = "sys_enter";
	else if (!strcmp(mode, "sock"))
		tps[0] = "sock_send_length", tps[1] = "sock_recv_length";
	if (argc > 2 || (strcmp(mode, "exit") && strcmp(mode, "both") && strcmp(mode, "sock"))) {
		fprintf(stderr, "usage: syscall_floor [exit|both|sock]\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (attach_empty(tps[0]) < 0 || (tps[1] && attach_empty(tps[1]) < 0))
		return 1;
	printf("attached %d\n", tps[1] ? 2 : 1);
	fflush(stdout);
	while (!stop)
		pause();
	return 0;
}
