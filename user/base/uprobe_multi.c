// SPDX-License-Identifier: Apache-2.0
#include "base/uprobe_multi.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The kernel's values and BPF_LINK_CREATE layout (include/uapi/linux/bpf.h, Linux 6.6+), absent
 * from the system's older linux/bpf.h. */
#define UPROBE_MULTI_ATTACH_TYPE 48 /* BPF_TRACE_UPROBE_MULTI */
#define UPROBE_MULTI_LINK_CREATE 28 /* BPF_LINK_CREATE */

struct uprobe_multi_link_attr {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t multi_flags;
	uint32_t pid;
	uint32_t pad[7]; /* the rest of union bpf_attr's link_create, zero */
};

bool uprobe_multi_usable(void)
{
	static int usable = -1;
	if (usable < 0) {
		struct utsname u;
		int major = 0, minor = 0;
		usable = uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
			 (major > 6 || (major == 6 && minor >= 10));
	}
	return usable;
}

void uprobe_multi_prepare(struct bpf_program *prog)
{
	bpf_program__set_expected_attach_type(prog, (enum bpf_attach_type)UPROBE_MULTI_ATTACH_TYPE);
}

int uprobe_multi_attach(const struct bpf_program *prog, const char *binary, const uint64_t *offsets,
			uint32_t cnt, pid_t pid)
{
	struct uprobe_multi_link_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (uint32_t)bpf_program__fd(prog);
	attr.attach_type = UPROBE_MULTI_ATTACH_TYPE;
	attr.path = (uint64_t)(uintptr_t)binary;
	attr.offsets = (uint64_t)(uintptr_t)offsets;
	attr.cnt = cnt;
	attr.pid = pid > 0 ? (uint32_t)pid : 0;
	long fd = syscall(__NR_bpf, UPROBE_MULTI_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : (int)fd;
}
