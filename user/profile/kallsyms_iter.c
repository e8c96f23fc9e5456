// SPDX-License-Identifier: Apache-2.0
#include "profile/kallsyms_iter.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "binfmt/ksyms.h"
#include "ksyms_iter.h"

/* A pass walks the whole symbol list (~20 ms); three cost as much as reading /proc/kallsyms. */
#define MAX_PASSES 2

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Runs the iterator once over the whole symbol list (its program writes nothing to read). */
static int run_pass(int link_fd)
{
	int fd = bpf_iter_create(link_fd);
	if (fd < 0)
		return -errno;
	char buf[64];
	ssize_t got;
	while ((got = read(fd, buf, sizeof(buf))) > 0 || (got < 0 && errno == EINTR))
		;
	int err = got < 0 ? -errno : 0;
	close(fd);
	return err;
}

/* One pass for wanted[0, m): the picks into slots[0, m). */
static int pass(int link_fd, int slots_fd, const uint64_t *wanted, uint32_t m, struct ksyms_iter_slot *v,
		__u32 *keys, struct ksyms_slot *slots)
{
	memset(v, 0, m * sizeof(*v));
	for (uint32_t i = 0; i < m; i++) {
		keys[i] = i;
		v[i].wanted = wanted[i];
	}
	v[0].nwanted = m;
	__u32 count = m;
	if (bpf_map_update_batch(slots_fd, keys, v, &count, NULL))
		return -errno;
	int err = run_pass(link_fd);
	if (err)
		return err;
	__u32 out_batch = 0;
	count = m;
	if (bpf_map_lookup_batch(slots_fd, NULL, &out_batch, keys, v, &count, NULL) && errno != ENOENT)
		return -errno;
	if (count != m)
		return -EIO;
	if (v[0].hidden)
		return -EPERM;
	for (uint32_t i = 0; i < m; i++) {
		slots[i].addr = v[i].addr;
		slots[i].name[0] = '\0';
		v[i].name[sizeof(v[i].name) - 1] = v[i].module[sizeof(v[i].module) - 1] = '\0';
		if (!v[i].set)
			continue;
		if (v[i].module[0])
			snprintf(slots[i].name, sizeof(slots[i].name), "%s [%s]", v[i].name, v[i].module);
		else
			snprintf(slots[i].name, sizeof(slots[i].name), "%s", v[i].name);
	}
	return 0;
}

int kallsyms_iter_resolve(int prog_fd, int slots_fd, const uint64_t *addrs, size_t n, char **names)
{
	for (size_t i = 0; i < n; i++)
		names[i] = NULL;
	if (n == 0)
		return 0;
	if (prog_fd < 0 || slots_fd < 0 || n > (size_t)MAX_PASSES * KSYMS_ITER_SLOTS)
		return -EOPNOTSUPP;
	int link_fd = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, NULL);
	if (link_fd < 0)
		return -EOPNOTSUPP;
	size_t chunk = n < KSYMS_ITER_SLOTS ? n : KSYMS_ITER_SLOTS;
	uint64_t *wanted = malloc(n * sizeof(*wanted));
	struct ksyms_slot *slots = calloc(n, sizeof(*slots));
	struct ksyms_iter_slot *v = malloc(chunk * sizeof(*v));
	__u32 *keys = malloc(chunk * sizeof(*keys));
	int err = 0;
	if (!wanted || !slots || !v || !keys) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(wanted, addrs, n * sizeof(*wanted));
	qsort(wanted, n, sizeof(*wanted), u64_cmp);
	/* A later pass's first slot has no lower bound: it may pick what the previous pass's last
	 * slot picked, which the naming then treats alike (the nearest function below). */
	int passes = 0;
	for (size_t off = 0; off < n && !err; off += chunk, passes++) {
		uint32_t m = (uint32_t)(n - off < chunk ? n - off : chunk);
		err = pass(link_fd, slots_fd, wanted + off, m, v, keys, slots + off);
	}
	if (!err) {
		ksyms_slots_name(wanted, slots, n, addrs, names);
		log_debug("named %zu kernel addresses with the kallsyms iterator (%d passes)", n, passes);
	}
out:
	close(link_fd);
	free(keys);
	free(v);
	free(slots);
	free(wanted);
	return err;
}
