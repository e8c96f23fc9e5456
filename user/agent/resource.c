// SPDX-License-Identifier: Apache-2.0
#include "agent/resource.h"

#include "base/kv_pairs.h"
#include "base/procfs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void copy_str(char *dst, size_t dstlen, const char *src, size_t n)
{
	if (!dstlen)
		return;
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* service.name out of OTEL_RESOURCE_ATTRIBUTES's "k=v,k=v"; false if absent, empty or not
 * percent-encoded as the variable requires (the executable's name serves then: a guess at what
 * a malformed value meant would be a wrong name). Other bad items are the target's own. */
static int attrs_service_name(const char *attrs, size_t len, char *out, size_t outlen)
{
	struct kv_pair kv = { 0 };
	size_t pos = 0;
	while (kv_pairs_next(attrs, len, &pos, &kv))
		if (kv.key_len == 12 && !memcmp(kv.key, "service.name", 12) && kv.value_len)
			return kv_percent_decode(kv.value, kv.value_len, out, outlen) > 0;
	return 0;
}

int resource_service_from_environ(const char *env, size_t len, char *out, size_t outlen)
{
	static const char svc[] = "OTEL_SERVICE_NAME=", attrs[] = "OTEL_RESOURCE_ATTRIBUTES=";
	const char *end = env + len, *from_attrs = NULL;
	size_t attrs_len = 0;
	while (env < end) {
		const char *nul = memchr(env, '\0', end - env);
		size_t n = nul ? (size_t)(nul - env) : (size_t)(end - env);
		/* OTEL_SERVICE_NAME wins over the attribute whatever the order (OTel SDK spec). */
		if (n > sizeof(svc) - 1 && !memcmp(env, svc, sizeof(svc) - 1)) {
			copy_str(out, outlen, env + sizeof(svc) - 1, n - (sizeof(svc) - 1));
			return 1;
		}
		if (n >= sizeof(attrs) - 1 && !memcmp(env, attrs, sizeof(attrs) - 1)) {
			from_attrs = env + sizeof(attrs) - 1;
			attrs_len = n - (sizeof(attrs) - 1);
		}
		env += n + 1;
	}
	return from_attrs && attrs_service_name(from_attrs, attrs_len, out, outlen);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Environments are usually a few KiB; one large read covers all but pathological ones. */
#define ENVIRON_MAX (256 * 1024)

int resource_for_pid(pid_t pid, struct resource *out)
{
	char path[64], exe[PATH_MAX];
	memset(out, 0, sizeof(*out));
	out->pid = pid;
	if (!proc_exists(pid))
		return -ESRCH;

	proc_path(path, sizeof(path), pid, "/exe");
	ssize_t n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* A replaced or deleted binary reads as "/path/app (deleted)". */
		char *del = strstr(exe, " (deleted)");
		if (del && !del[10])
			*del = '\0';
		copy_str(out->executable_name, sizeof(out->executable_name), base_name(exe),
			 strlen(base_name(exe)));
	} else if (proc_comm(pid, pid, out->executable_name, sizeof(out->executable_name)) < 0) {
		return proc_exists(pid) ? -EACCES : -ESRCH;
	}

	char *env = malloc(ENVIRON_MAX);
	proc_path(path, sizeof(path), pid, "/environ");
	ssize_t len = env ? proc_read_small(path, env, ENVIRON_MAX) : -ENOMEM;
	if (len <= 0 ||
	    !resource_service_from_environ(env, len, out->service_name, sizeof(out->service_name)) ||
	    !out->service_name[0])
		copy_str(out->service_name, sizeof(out->service_name), out->executable_name,
			 strlen(out->executable_name));
	free(env);

	if (gethostname(out->host_name, sizeof(out->host_name) - 1) < 0)
		copy_str(out->host_name, sizeof(out->host_name), "localhost", 9);
	return 0;
}
