// SPDX-License-Identifier: Apache-2.0
#include "agent/selector.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/procfs.h"

int process_facts_read(pid_t pid, struct process_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->pid = pid;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, f->exe, sizeof(f->exe) - 1);
	if (n <= 0)
		return -ESRCH; /* gone, or a kernel thread */
	f->exe[n] = '\0';
	if (proc_comm(pid, pid, f->comm, sizeof(f->comm)))
		return -ESRCH;
	return container_for_pid(pid, &f->container);
}

static bool glob(const char *pattern, const char *value)
{
	return !*pattern || fnmatch(pattern, value, 0) == 0;
}

static bool has_port(struct process_facts *f, uint16_t port)
{
	if (!f->ports_read) {
		f->nports = proc_listening_ports(f->pid, f->ports, FACTS_MAX_PORTS);
		f->ports_read = true;
	}
	for (int i = 0; i < f->nports; i++)
		if (f->ports[i] == port)
			return true;
	return false;
}

static bool matches(const struct agent_match *m, struct process_facts *f)
{
	if (m->npids) {
		bool listed = false;
		for (int i = 0; i < m->npids; i++)
			listed |= m->pids[i] == f->pid;
		if (!listed)
			return false;
	}
	/* A deleted executable shows as "path (deleted)": match the path. */
	char exe[PATH_MAX];
	snprintf(exe, sizeof(exe), "%s", f->exe);
	char *deleted = strstr(exe, " (deleted)");
	if (deleted && deleted[10] == '\0')
		*deleted = '\0';
	return glob(m->exe, exe) && glob(m->process_name, f->comm) &&
	       glob(m->container_id, f->container.container_id) &&
	       glob(m->k8s_namespace, f->container.namespace_name) &&
	       glob(m->k8s_pod, f->container.pod_name) && (!m->port || has_port(f, m->port));
}

int selector_match(const struct agent_config *c, struct process_facts *f)
{
	for (int i = 0; i < c->nselectors; i++)
		if (matches(&c->selectors[i].match, f))
			return i;
	return -1;
}
