/* SPDX-License-Identifier: Apache-2.0 */
/* OpenTelemetry resource of a target process: who the telemetry is about. */
#ifndef GLIMPSE_RESOURCE_H
#define GLIMPSE_RESOURCE_H

#include <stddef.h>
#include <sys/types.h>

struct resource {
	char service_name[256];	   /* service.name */
	char executable_name[256]; /* process.executable.name */
	char host_name[256];	   /* host.name */
	pid_t pid;		   /* process.pid */
	/* Where it runs (the agent fills these; "" outside containers / Kubernetes). */
	char container_id[65];	      /* container.id */
	char k8s_pod_uid[37];	      /* k8s.pod.uid */
	char k8s_pod_name[254];	      /* k8s.pod.name */
	char k8s_namespace_name[254]; /* k8s.namespace.name */
};

/* Fills out for a running process. service.name is the target's own OTEL_SERVICE_NAME, else
 * service.name in its OTEL_RESOURCE_ATTRIBUTES, else the executable's base name — so glimpse
 * reports under the name the service would use itself. 0, or -errno when the process is gone. */
int resource_for_pid(pid_t pid, struct resource *out);

/* service.name from a NUL-separated environment block (/proc/PID/environ), following the
 * precedence above; 0 when neither variable names one. */
int resource_service_from_environ(const char *env, size_t len, char *out, size_t outlen);

#endif
