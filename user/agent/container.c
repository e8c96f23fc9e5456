// SPDX-License-Identifier: Apache-2.0
#include "agent/container.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/procfs.h"

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* The last 64-hex run in a path component: "docker-<id>.scope", "cri-containerd-<id>.scope",
 * "crio-<id>.scope", ".../docker/<id>", ".../kubepods/.../<id>". */
static void find_container_id(const char *line, char *out)
{
	for (const char *p = line; *p; p++) {
		if (hex_run(p, 64) && (p == line || !isxdigit((unsigned char)p[-1])) &&
		    !isxdigit((unsigned char)p[64])) {
			memcpy(out, p, 64);
			out[64] = '\0';
			p += 63;
		}
	}
}

/* "pod<uid>" with the uid's dashes (cgroupfs) or underscores (systemd slices). */
static void find_pod_uid(const char *line, char *out)
{
	const char *p = strstr(line, "pod");
	while (p) {
		const char *u = p + 3;
		size_t n = 0;
		char uid[37];
		while (n < 36 && (isxdigit((unsigned char)u[n]) || u[n] == '-' || u[n] == '_')) {
			uid[n] = u[n] == '_' ? '-' : u[n];
			n++;
		}
		if (n == 36 && uid[8] == '-' && uid[13] == '-' && uid[18] == '-' && uid[23] == '-') {
			uid[36] = '\0';
			memcpy(out, uid, sizeof(uid));
			return;
		}
		p = strstr(p + 3, "pod");
	}
}

void container_from_cgroup(const char *cgroup, struct container_info *out)
{
	char line[1024];
	const char *p = cgroup;
	while (*p) {
		size_t n = strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1), p);
		if (strstr(line, "kubepods"))
			find_pod_uid(line, out->pod_uid);
		find_container_id(line, out->container_id);
		p += n;
		if (*p)
			p++;
	}
}

static void env_value(const char *env, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	for (size_t i = 0; i < len;) {
		const char *e = env + i;
		size_t elen = strnlen(e, len - i);
		if (elen > nlen && !strncmp(e, name, nlen) && e[nlen] == '=' && !out[0])
			snprintf(out, outlen, "%.*s", (int)(elen - nlen - 1), e + nlen + 1);
		i += elen + 1;
	}
}

int container_for_pid(pid_t pid, struct container_info *out)
{
	memset(out, 0, sizeof(*out));
	char path[96], buf[8192];
	proc_path(path, sizeof(path), pid, "/cgroup");
	ssize_t n = proc_read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	container_from_cgroup(buf, out);
	if (!out->pod_uid[0])
		return 0;
	/* Names: the downward API variables pods commonly set, then the defaults every pod has
	 * (HOSTNAME is the pod name; the service-account mount names the namespace). */
	enum {
		ENV_MAX = 256 * 1024
	};
	char *env = malloc(ENV_MAX);
	proc_path(path, sizeof(path), pid, "/environ");
	ssize_t elen = env ? proc_read_small(path, env, ENV_MAX) : -ENOMEM;
	if (elen > 0) {
		static const char *const pod_vars[] = { "K8S_POD_NAME", "POD_NAME", "HOSTNAME" };
		static const char *const ns_vars[] = { "K8S_NAMESPACE", "POD_NAMESPACE",
						       "K8S_POD_NAMESPACE" };
		for (size_t i = 0; i < sizeof(pod_vars) / sizeof(pod_vars[0]); i++)
			env_value(env, (size_t)elen, pod_vars[i], out->pod_name, sizeof(out->pod_name));
		for (size_t i = 0; i < sizeof(ns_vars) / sizeof(ns_vars[0]); i++)
			env_value(env, (size_t)elen, ns_vars[i], out->namespace_name,
				  sizeof(out->namespace_name));
	}
	free(env);
	if (!out->namespace_name[0]) {
		proc_path(path, sizeof(path), pid,
			  "/root/var/run/secrets/kubernetes.io/serviceaccount/namespace");
		if (proc_read_small(path, buf, sizeof(buf)) > 0)
			snprintf(out->namespace_name, sizeof(out->namespace_name), "%.253s", buf);
	}
	return 0;
}
