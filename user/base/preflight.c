// SPDX-License-Identifier: Apache-2.0
#include "base/preflight.h"

#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
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
	if (!has_cap(data, CAP_SYS_PTRACE) && geteuid() != 0)
		log_warn("without CAP_SYS_PTRACE, binaries of other users' processes cannot be read: "
			 "their frames stay unsymbolized");
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
