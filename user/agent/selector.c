// SPDX-License-Identifier: Apache-2.0
#include "agent/selector.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/procfs.h"
#include "binfmt/gobinary.h"

int process_facts_read(pid_t pid, struct process_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->pid = pid;
	char path[64];
	proc_path(path, sizeof(path), pid, "/exe");
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

static void read_ports(struct process_facts *f)
{
	if (f->ports_read)
		return;
	int n = proc_listening_ports(f->pid, f->ports, FACTS_MAX_PORTS);
	f->nports = n < 0 ? 0 : n; /* gone, or its fds are not ours to read: no ports */
	f->ports_read = true;
}

static bool has_port(struct process_facts *f, uint16_t port)
{
	read_ports(f);
	for (int i = 0; i < f->nports; i++)
		if (f->ports[i] == port)
			return true;
	return false;
}

static bool listens(struct process_facts *f)
{
	read_ports(f);
	return f->nports > 0;
}

/* Go build info is what every Go toolchain the tracer supports writes; whether the tracer
 * can probe this build is decided (and logged) when the agent attaches. */
static bool is_go(struct process_facts *f)
{
	if (f->go_read)
		return f->go;
	f->go_read = true;
	char path[64];
	proc_path(path, sizeof(path), f->pid, "/exe");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	char version[32];
	f->go = elf && go_buildinfo_version(elf, version, sizeof(version)) == 0;
	if (elf)
		elf_end(elf);
	close(fd);
	return f->go;
}

/* later: a server that has just exec'd has not opened its socket yet; with later set, the socket
 * predicates (port, listening) count as satisfied so the agent knows to look again. */
static bool matches(const struct agent_match *m, struct process_facts *f, bool later)
{
	if (m->npids) {
		bool listed = false;
		for (int i = 0; i < m->npids; i++)
			listed |= m->pids[i] == f->pid;
		if (!listed)
			return false;
	}
	/* A deleted executable shows as "path (deleted)": match the path. The lazy facts come
	 * last, cheapest first: reading an ELF header costs less than the network namespace's
	 * whole socket table. */
	char exe[PATH_MAX];
	snprintf(exe, sizeof(exe), "%s", f->exe);
	char *deleted = strstr(exe, " (deleted)");
	if (deleted && deleted[10] == '\0')
		*deleted = '\0';
	return glob(m->exe, exe) && glob(m->process_name, f->comm) &&
	       glob(m->container_id, f->container.container_id) &&
	       glob(m->k8s_namespace, f->container.namespace_name) &&
	       glob(m->k8s_pod, f->container.pod_name) && (!m->go || is_go(f)) &&
	       (later || !m->port || has_port(f, m->port)) && (later || !m->listening || listens(f));
}

int selector_match(const struct agent_config *c, struct process_facts *f)
{
	for (int i = 0; i < c->nselectors; i++)
		if (matches(&c->selectors[i].match, f, false))
			return i;
	return -1;
}

bool selector_may_match_later(const struct agent_config *c, struct process_facts *f)
{
	for (int i = 0; i < c->nselectors; i++) {
		const struct agent_match *m = &c->selectors[i].match;
		if ((m->port || m->listening) && matches(m, f, true))
			return true;
	}
	return false;
}
