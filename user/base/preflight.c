// SPDX-License-Identifier: Apache-2.0
#include "base/preflight.h"

#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/exit_codes.h"
#include "base/log.h"
#include "base/procfs.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

/* Whether this process has cap in its effective set (false if that cannot be read). */
static bool have_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = { 0 };
	return syscall(SYS_capget, &hdr, data) == 0 && has_cap(data, cap);
}

/* Linux 6.16 reverted uprobe creation to needing CAP_SYS_ADMIN (also backported to stable
 * kernels, so older versions may need it too: this only decides whether to refuse early). */
static bool uprobes_need_sys_admin(void)
{
	struct utsname u;
	int major = 0, minor = 0;
	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 16);
}

int preflight_privileges(bool uprobes)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = { 0 };
	if (syscall(SYS_capget, &hdr, data) != 0) {
		log_error("cannot read this process's capabilities; run glimpse as root (or with sudo)");
		return GLIMPSE_EXIT_NO_PERMISSION;
	}
	bool bpf = has_cap(data, CAP_SYS_ADMIN) || (has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON));
	if (!bpf) {
		log_error("permission denied: loading BPF programs needs root or CAP_BPF+CAP_PERFMON "
			  "(running as uid %d without them); run glimpse as root (or with sudo)",
			  (int)geteuid());
		return GLIMPSE_EXIT_NO_PERMISSION;
	}
	if (uprobes && !has_cap(data, CAP_SYS_ADMIN) && uprobes_need_sys_admin()) {
		log_error("permission denied: this kernel allows uprobes only with CAP_SYS_ADMIN (Linux 6.16 "
			  "and "
			  "later); grant it, or run glimpse as root (or with sudo)");
		return GLIMPSE_EXIT_NO_PERMISSION;
	}
	/* Root too: without the capability, root cannot read other users' processes either. */
	if (!has_cap(data, CAP_SYS_PTRACE))
		log_warn("without CAP_SYS_PTRACE, binaries and memory of other users' processes cannot be "
			 "read: their frames stay unsymbolized, their runtime metrics missing");
	return 0;
}

int preflight_kernel(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		log_error("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing); glimpse needs a "
			  "kernel built with CONFIG_DEBUG_INFO_BTF=y (Linux 5.8 or later)");
		return GLIMPSE_EXIT_NO_KERNEL_SUPPORT;
	}
	return 0;
}

int preflight_pids(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++) {
		if (!proc_exists(pids[i])) {
			log_error("process %d does not exist; check the PID (ps -p %d) and that it is still "
				  "running",
				  (int)pids[i], (int)pids[i]);
			return GLIMPSE_EXIT_NO_PROCESS;
		}
	}
	return 0;
}

int preflight_target_error(pid_t pid, int err, const char *doing)
{
	if (!proc_exists(pid) || err == -ESRCH) {
		log_error("process %d exited while glimpse was attaching", (int)pid);
		return GLIMPSE_EXIT_NO_PROCESS;
	}
	if (proc_is_kernel_thread(pid)) {
		log_error("process %d is a kernel thread; nothing to attach to (it has no executable or user "
			  "memory; 'glimpse profile' samples kernel threads)",
			  (int)pid);
		return GLIMPSE_EXIT_UNSUPPORTED_TARGET;
	}
	if ((err == -EACCES || err == -EPERM) && !have_cap(CAP_SYS_PTRACE)) {
		log_error("cannot %s process %d: permission denied: another user's process can be read only "
			  "with CAP_SYS_PTRACE; grant it (or run glimpse as that user)",
			  doing, (int)pid);
		return GLIMPSE_EXIT_NO_PERMISSION;
	}
	log_error("cannot %s process %d: %s", doing, (int)pid, strerror(-err));
	return err == -EACCES || err == -EPERM ? GLIMPSE_EXIT_NO_PERMISSION : GLIMPSE_EXIT_FAILURE;
}

int preflight_target(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	proc_path(path, sizeof(path), pid, "/exe");
	/* A kernel thread has no exe (ENOENT); another user's process needs CAP_SYS_PTRACE (EACCES). */
	if (readlink(path, exe, sizeof(exe)) >= 0)
		return 0;
	return preflight_target_error(pid, -errno, "read the executable of");
}
