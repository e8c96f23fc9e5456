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

/* True while pid runs: false once it is gone or a zombie. */
bool proc_exists(pid_t pid);
/* Reads a small /proc file into buf (NUL-terminated, trailing newline stripped). Returns length or -errno. */
ssize_t proc_read_small(const char *path, char *buf, size_t len);
/* comm of a thread (tid == pid for the process). */
int proc_comm(pid_t pid, pid_t tid, char *buf, size_t len);
/* Executable mappings of pid; *maps is malloc'd. */
int proc_exec_maps(pid_t pid, struct proc_map **maps, size_t *n);
/* Parses one /proc/PID/maps line; false if malformed. */
bool proc_parse_maps_line(const char *line, struct proc_map *m);
/* Parses a pid argument ("1234"); false if not a positive integer. */
bool parse_pid(const char *s, pid_t *pid);
/* Online CPU numbers from /sys/devices/system/cpu/online; *cpus is malloc'd. */
int online_cpus(int **cpus, int *n);

#endif
