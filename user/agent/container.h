/* SPDX-License-Identifier: Apache-2.0 */
/* Which container and Kubernetes pod a process runs in, from its cgroup path (docker,
 * containerd/CRI, cri-o layouts, cgroup v1 and v2) and, for pod and namespace names, from
 * what the pod itself can see (downward-API variables, the service-account namespace file). */
#ifndef GLIMPSE_CONTAINER_H
#define GLIMPSE_CONTAINER_H

#include <stddef.h>
#include <sys/types.h>

struct container_info {
	char container_id[65]; /* 64 hex, "" outside containers */
	char pod_uid[37];      /* "" outside Kubernetes */
	char pod_name[254];
	char namespace_name[254];
};

/* Parses /proc/PID/cgroup content. */
void container_from_cgroup(const char *cgroup, struct container_info *out);
/* Fills what can be found for a live process; 0 or -errno. */
int container_for_pid(pid_t pid, struct container_info *out);

#endif
