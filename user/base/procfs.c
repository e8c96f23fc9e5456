// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE /* process_vm_readv */
#include "base/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define USER_ADDR_MIN 4096		    /* the first page is never mapped */
#define USER_ADDR_MAX 0x00007fffffffffffull /* the top of user space (4-level page tables) */

int proc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	if (addr < USER_ADDR_MIN || addr > USER_ADDR_MAX || len > USER_ADDR_MAX - addr + 1)
		return -EFAULT;
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EFAULT;
}

char *proc_path(char *buf, size_t len, pid_t pid, const char *suffix, ...)
{
	int n = snprintf(buf, len, "/proc/%d", (int)pid);
	if (n >= 0 && (size_t)n < len) {
		va_list ap;
		va_start(ap, suffix);
		vsnprintf(buf + n, len - (size_t)n, suffix, ap);
		va_end(ap);
	}
	return buf;
}

bool proc_exists(pid_t pid)
{
	char path[64], stat[512];
	proc_path(path, sizeof(path), pid, "/stat");
	if (proc_read_small(path, stat, sizeof(stat)) < 0)
		return false;
	/* A zombie has no memory or threads left to observe: it has exited. */
	const char *state = strrchr(stat, ')');
	return !(state && state[1] == ' ' && (state[2] == 'Z' || state[2] == 'X'));
}

ssize_t proc_read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

int proc_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	proc_path(path, sizeof(path), pid, "/task/%d/comm", tid);
	ssize_t n = proc_read_small(path, buf, len);
	return n < 0 ? (int)n : 0;
}

bool proc_parse_maps_line(const char *line, struct proc_map *m)
{
	char perms[8];
	int path_at = -1;
	memset(m, 0, sizeof(*m));
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n", &m->start, &m->end,
		   perms, &m->offset, &m->dev_major, &m->dev_minor, &m->inode, &path_at) < 7)
		return false;
	if (m->end <= m->start || strlen(perms) < 4)
		return false;
	m->exec = perms[2] == 'x';
	if (path_at > 0) {
		snprintf(m->path, sizeof(m->path), "%s", line + path_at);
		m->path[strcspn(m->path, "\n")] = '\0';
	}
	return true;
}

int proc_exe_maps_read(pid_t pid, struct proc_exe_maps *x)
{
	char exe[64];
	struct stat st;
	memset(x, 0, sizeof(*x));
	if (stat(proc_path(exe, sizeof(exe), pid, "/exe"), &st))
		return -errno;
	x->ino = (uint64_t)st.st_ino;
	return proc_exec_maps(pid, &x->maps, &x->n);
}

uint64_t proc_exe_addr(const struct proc_exe_maps *x, uint64_t off)
{
	for (size_t i = 0; i < x->n; i++) {
		const struct proc_map *m = &x->maps[i];
		if (m->inode == x->ino && off >= m->offset && off - m->offset < m->end - m->start)
			return m->start + (off - m->offset);
	}
	return 0;
}

void proc_exe_maps_free(struct proc_exe_maps *x)
{
	free(x->maps);
	x->maps = NULL;
	x->n = 0;
}

int proc_exec_maps(pid_t pid, struct proc_map **maps, size_t *n)
{
	char path[64], line[PATH_MAX + 128];
	proc_path(path, sizeof(path), pid, "/maps");
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	size_t cap = 16, count = 0;
	struct proc_map *out = malloc(cap * sizeof(*out));
	if (!out) {
		fclose(f);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		struct proc_map m;
		if (!proc_parse_maps_line(line, &m) || !m.exec)
			continue;
		if (count == cap) {
			struct proc_map *grown = realloc(out, 2 * cap * sizeof(*out));
			if (!grown)
				break;
			out = grown;
			cap *= 2;
		}
		out[count++] = m;
	}
	fclose(f);
	*maps = out;
	*n = count;
	return 0;
}

bool parse_pid(const char *s, pid_t *pid)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return false;
	*pid = (pid_t)v;
	return true;
}

int online_cpus(int **cpus, int *n)
{
	char buf[1024];
	ssize_t len = proc_read_small("/sys/devices/system/cpu/online", buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	int cap = 64, count = 0;
	int *out = malloc(cap * sizeof(int));
	if (!out)
		return -ENOMEM;
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		int lo, hi;
		if (sscanf(tok, "%d-%d", &lo, &hi) != 2)
			hi = lo = atoi(tok);
		for (int c = lo; c <= hi && c >= 0; c++) {
			if (count == cap) {
				int *grown = realloc(out, 2 * cap * sizeof(int));
				if (!grown) {
					free(out);
					return -ENOMEM;
				}
				out = grown;
				cap *= 2;
			}
			out[count++] = c;
		}
	}
	*cpus = out;
	*n = count;
	return 0;
}

bool proc_parse_stat(const char *text, struct proc_stat *st)
{
	/* comm is the one field that may hold spaces or ')': everything after its last ')'. */
	const char *p = strrchr(text, ')');
	if (!p || p[1] != ' ')
		return false;
	p += 2;
	memset(st, 0, sizeof(*st));
	/* Fields are numbered as in proc(5): state is 3. */
	int field = 3;
	while (*p && field <= 24) {
		const char *tok = p;
		while (*p && *p != ' ')
			p++;
		if (p == tok)
			return false;
		if (field == 3) {
			if (p - tok != 1)
				return false;
			st->state = *tok;
		} else if (field == 4 || field == 9 || field == 14 || field == 15 || field == 20 ||
			   field == 22 || field == 24) {
			char *end;
			errno = 0;
			long long v = strtoll(tok, &end, 10);
			if (errno || end != p)
				return false;
			switch (field) {
			case 4:
				st->ppid = (pid_t)v;
				break;
			case 9:
				st->flags = (uint64_t)v;
				break;
			case 14:
				st->utime = (uint64_t)v;
				break;
			case 15:
				st->stime = (uint64_t)v;
				break;
			case 20:
				st->num_threads = v;
				break;
			case 22:
				st->starttime = (uint64_t)v;
				break;
			default:
				st->rss_pages = v > 0 ? (uint64_t)v : 0;
				break;
			}
		}
		field++;
		if (*p == ' ')
			p++;
	}
	return field > 24;
}

bool proc_is_kernel_thread(pid_t pid)
{
	char path[64], text[512];
	struct proc_stat st;
	proc_path(path, sizeof(path), pid, "/stat");
	/* PF_KTHREAD, from include/linux/sched.h: not exported to user space. */
	return proc_read_small(path, text, sizeof(text)) > 0 && proc_parse_stat(text, &st) &&
	       (st.flags & 0x00200000);
}

bool proc_status_value(const char *text, const char *key, uint64_t *value)
{
	size_t klen = strlen(key);
	const char *line = text;
	while (strncmp(line, key, klen) != 0 || line[klen] != ':') {
		line = strchr(line, '\n');
		if (!line)
			return false;
		line++;
	}
	const char *p = line + klen + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(p, NULL, 10);
	if (errno)
		return false;
	*value = v;
	return true;
}

int proc_tasks(pid_t pid, pid_t **tids, size_t *n)
{
	char path[64];
	proc_path(path, sizeof(path), pid, "/task");
	DIR *dir = opendir(path);
	if (!dir)
		return -errno;
	size_t cap = 16, count = 0;
	pid_t *out = malloc(cap * sizeof(*out));
	if (!out) {
		closedir(dir);
		return -ENOMEM;
	}
	struct dirent *de;
	while ((de = readdir(dir))) {
		pid_t tid;
		if (!parse_pid(de->d_name, &tid))
			continue;
		if (count == cap) {
			pid_t *grown = realloc(out, 2 * cap * sizeof(*out));
			if (!grown) {
				free(out);
				closedir(dir);
				return -ENOMEM;
			}
			out = grown;
			cap *= 2;
		}
		out[count++] = tid;
	}
	closedir(dir);
	*tids = out;
	*n = count;
	return 0;
}

/* Parents of every process, in one pass over /proc; *pids and *ppids are malloc'd. */
static int all_parents(pid_t **pids, pid_t **ppids, size_t *n)
{
	DIR *dir = opendir("/proc");
	if (!dir)
		return -errno;
	size_t cap = 256, count = 0;
	pid_t *p = malloc(cap * sizeof(*p)), *pp = malloc(cap * sizeof(*pp));
	struct dirent *de;
	while (p && pp && (de = readdir(dir))) {
		pid_t pid;
		char path[64], text[1024];
		struct proc_stat st;
		if (!parse_pid(de->d_name, &pid) ||
		    proc_read_small(proc_path(path, sizeof(path), pid, "/stat"), text, sizeof(text)) <= 0 ||
		    !proc_parse_stat(text, &st))
			continue;
		if (count == cap) {
			cap *= 2;
			pid_t *gp = realloc(p, cap * sizeof(*p));
			p = gp ? gp : p;
			pid_t *gpp = gp ? realloc(pp, cap * sizeof(*pp)) : NULL;
			pp = gpp ? gpp : pp;
			if (!gp || !gpp) {
				free(p);
				free(pp);
				p = pp = NULL;
				break;
			}
		}
		p[count] = pid;
		pp[count++] = st.ppid;
	}
	closedir(dir);
	if (!p || !pp) {
		free(p);
		free(pp);
		return -ENOMEM;
	}
	*pids = p;
	*ppids = pp;
	*n = count;
	return 0;
}

pid_t proc_parent(pid_t pid)
{
	char path[64], text[1024];
	struct proc_stat st;
	ssize_t n = proc_read_small(proc_path(path, sizeof(path), pid, "/stat"), text, sizeof(text));
	if (n < 0)
		return (pid_t)n;
	return proc_parse_stat(text, &st) ? st.ppid : -EINVAL;
}

int proc_descendants(pid_t pid, pid_t *out, int max)
{
	pid_t *pids, *ppids;
	size_t n;
	int err = all_parents(&pids, &ppids, &n);
	if (err)
		return err;
	/* Breadth first: out doubles as the queue of parents still to expand. */
	int count = 0;
	for (int head = -1; head < count; head++) {
		pid_t parent = head < 0 ? pid : out[head];
		for (size_t i = 0; i < n && count < max; i++)
			if (ppids[i] == parent && pids[i] != pid)
				out[count++] = pids[i];
	}
	free(pids);
	free(ppids);
	return count;
}

/* Listening sockets of the process's network namespace: inode → port. */
static int listening_inodes(pid_t pid, uint64_t *inodes, uint16_t *ports, int max)
{
	static const char *const tables[] = { "tcp", "tcp6" };
	int n = 0;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		char path[64], line[512];
		proc_path(path, sizeof(path), pid, "/net/%s", tables[t]);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f) && n < max) {
			char local[64];
			unsigned state, port;
			unsigned long long inode;
			/* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
			if (sscanf(line, " %*d: %63s %*s %x %*s %*s %*s %*u %*u %llu", local, &state,
				   &inode) != 3)
				continue;
			char *colon = strrchr(local, ':');
			if (state != 0x0A || !colon || sscanf(colon + 1, "%x", &port) != 1)
				continue;
			inodes[n] = inode;
			ports[n++] = (uint16_t)port;
		}
		fclose(f);
	}
	return n;
}

int proc_listening_ports(pid_t pid, uint16_t *ports, int max)
{
	enum {
		MAX_LISTEN = 256
	};
	uint64_t inodes[MAX_LISTEN];
	uint16_t all_ports[MAX_LISTEN];
	int nlisten = listening_inodes(pid, inodes, all_ports, MAX_LISTEN);
	if (nlisten <= 0)
		return nlisten;
	char path[64];
	proc_path(path, sizeof(path), pid, "/fd");
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		char link[PATH_MAX], target[64];
		proc_path(link, sizeof(link), pid, "/fd/%s", e->d_name);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		unsigned long long inode;
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%llu]", &inode) != 1)
			continue;
		for (int i = 0; i < nlisten; i++) {
			if (inodes[i] == inode) {
				ports[n++] = all_ports[i];
				break;
			}
		}
	}
	closedir(d);
	return n;
}

int proc_thread_run_delay(pid_t pid, pid_t tid, uint64_t *ns)
{
	char path[64], text[128];
	unsigned long long run, delay;
	proc_path(path, sizeof(path), pid, "/task/%d/schedstat", (int)tid);
	ssize_t n = proc_read_small(path, text, sizeof(text));
	if (n < 0)
		return (int)n;
	if (sscanf(text, "%llu %llu", &run, &delay) != 2)
		return -EINVAL;
	*ns = delay;
	return 0;
}
