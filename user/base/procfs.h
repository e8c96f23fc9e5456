/* SPDX-License-Identifier: Apache-2.0 */
/* /proc readers shared by every command. All take the pid explicitly; none caches. */
#ifndef GLIMPSE_PROCFS_H
#define GLIMPSE_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_map {
	uint64_t start, end, offset;
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	bool exec;
	char path[256]; /* "" for anonymous; "[vdso]" etc. for special mappings */
};

/* Reads len bytes at addr of pid's memory (process_vm_readv: the target does not stop): 0;
 * -EFAULT when the range is not user space (nil, the first page, past 0x7fffffffffff) or the
 * read comes short; else -errno (-ESRCH once the process is gone, -EPERM). */
int proc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);
/* True while pid runs: false once it is gone or a zombie. */
bool proc_exists(pid_t pid);
/* The one place a /proc/PID path is spelled: "/proc/<pid>" followed by suffix (printf-style,
 * e.g. "/task/%d/stat"). Returns buf; a path longer than len is cut (and then fails to open). */
char *proc_path(char *buf, size_t len, pid_t pid, const char *suffix, ...)
	__attribute__((format(printf, 4, 5)));
/* Reads a small /proc file into buf (NUL-terminated, trailing newline stripped). Returns length or -errno. */
ssize_t proc_read_small(const char *path, char *buf, size_t len);
/* comm of a thread (tid == pid for the process). */
int proc_comm(pid_t pid, pid_t tid, char *buf, size_t len);
/* Executable mappings of pid; *maps is malloc'd. */
int proc_exec_maps(pid_t pid, struct proc_map **maps, size_t *n);
/* pid's executable as the kernel mapped it: the executable mappings of /proc/PID/exe's inode,
 * to turn the file offsets read from the binary into the process's addresses. */
struct proc_exe_maps {
	struct proc_map *maps;
	size_t n;
	uint64_t ino;
};
/* 0 or -errno (the process gone, /proc unreadable); proc_exe_maps_free after success. */
int proc_exe_maps_read(pid_t pid, struct proc_exe_maps *x);
/* Where the executable's file offset off is mapped; 0 when no mapping holds it. */
uint64_t proc_exe_addr(const struct proc_exe_maps *x, uint64_t off);
void proc_exe_maps_free(struct proc_exe_maps *x);
/* Parses one /proc/PID/maps line; false if malformed. */
bool proc_parse_maps_line(const char *line, struct proc_map *m);
/* Parses a pid argument ("1234"); false if not a positive integer. */
bool parse_pid(const char *s, pid_t *pid);
/* Online CPU numbers from /sys/devices/system/cpu/online; *cpus is malloc'd. */
int online_cpus(int **cpus, int *n);

/* The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) that glimpse uses. */
struct proc_stat {
	char state; /* R, S, D, Z, ... */
	pid_t ppid;
	uint64_t flags; /* PF_* */
	uint64_t utime; /* clock ticks (sysconf(_SC_CLK_TCK)); whole process in PID/stat */
	uint64_t stime;
	int64_t num_threads;
	uint64_t starttime; /* clock ticks after boot */
	uint64_t rss_pages;
};
/* Parses stat text; comm may hold spaces and parentheses. False if malformed. */
bool proc_parse_stat(const char *text, struct proc_stat *st);
/* True if pid is a kernel thread (no executable, no user memory); false if not or gone. */
bool proc_is_kernel_thread(pid_t pid);
/* The number on a "Key:\tvalue" line of /proc/PID/status text ("VmRSS:\t  1234 kB" gives
 * 1234: units are the caller's business). False if the key is absent or not a number. */
bool proc_status_value(const char *text, const char *key, uint64_t *value);
/* Thread ids of pid (/proc/PID/task), in directory order; *tids is malloc'd. 0 or -errno. */
int proc_tasks(pid_t pid, pid_t **tids, size_t *n);
/* A thread's run-queue wait total from /proc/PID/task/TID/schedstat (its second field: the
 * kernel's sched_info.run_delay, ns). 0, or -errno (-ENOENT: gone; -EINVAL: unparsable). */
int proc_thread_run_delay(pid_t pid, pid_t tid, uint64_t *ns);

/* pid's parent, or -errno when pid is gone. */
pid_t proc_parent(pid_t pid);
/* Every live descendant of pid (children, their children, ...), at most max; count or -errno. */
int proc_descendants(pid_t pid, pid_t *out, int max);

/* Listening TCP ports (IPv4 and IPv6) of pid's sockets, at most max; count or -errno. */
int proc_listening_ports(pid_t pid, uint16_t *ports, int max);

#endif
