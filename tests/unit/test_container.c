// SPDX-License-Identifier: Apache-2.0
/* user/agent/container.c: container id and pod uid from /proc/PID/cgroup. Ground truth: the
 * cgroup path layouts docker, containerd (CRI), cri-o and podman write, with cgroupfs and
 * systemd drivers, cgroup v1 and v2; ids and uids are chosen here, so each fixture's answer
 * is known. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/container.h"

#define CID  "3f4e1bb9a0c2d7e85f6a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e"
#define CID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID  "5c2a1f7e-8d3b-4e6a-9f1c-2b7d8e4a6c30"
#define UID_ "5c2a1f7e_8d3b_4e6a_9f1c_2b7d8e4a6c30"

struct cgroup_case {
	const char *what, *cgroup, *container_id, *pod_uid;
};

static const struct cgroup_case cases[] = {
	{ "docker, cgroup v1 cgroupfs",
	  "12:memory:/docker/" CID "\n11:cpu,cpuacct:/docker/" CID "\n1:name=systemd:/docker/" CID "\n", CID,
	  "" },
	{ "docker, cgroup v2 systemd", "0::/system.slice/docker-" CID ".scope\n", CID, "" },
	{ "containerd CRI, cgroup v1 cgroupfs",
	  "11:memory:/kubepods/burstable/pod" UID "/" CID "\n10:pids:/kubepods/burstable/pod" UID "/" CID
	  "\n",
	  CID, UID },
	{ "containerd CRI, cgroup v2 systemd",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/cri-containerd-" CID ".scope\n",
	  CID, UID },
	{ "cri-o, cgroup v2 systemd",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/crio-" CID
	  ".scope\n",
	  CID, UID },
	{ "cri-o, cgroup v1 systemd",
	  "4:memory:/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" CID ".scope\n", CID, UID },
	{ "guaranteed pod, cgroup v2 cgroupfs", "0::/kubepods/pod" UID "/" CID "\n", CID, UID },
	{ "podman, cgroup v2",
	  "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" CID ".scope\n", CID, "" },
	{ "a pod's own cgroup, no container", "0::/kubepods.slice/kubepods-pod" UID_ ".slice\n", "", UID },
	{ "the host, cgroup v2", "0::/user.slice/user-0.slice/session-3.scope\n", "", "" },
	{ "the host, cgroup v1", "12:memory:/user.slice\n1:name=systemd:/init.scope\n", "", "" },
	{ "no trailing newline", "0::/system.slice/docker-" CID ".scope", CID, "" },
	/* junk */
	{ "empty", "", "", "" },
	{ "blank lines", "\n\n\n", "", "" },
	{ "another id", "0::/docker/" CID2 "\n", CID2, "" },
	{ "65 hex digits are not an id", "0::/docker/a" CID "\n", "", "" },
	{ "uid with a bad shape", "0::/kubepods/pod5c2a1f7e8-d3b-4e6a-9f1c-2b7d8e4a6c30/" CID "\n", CID, "" },
	{ "pod outside kubepods", "0::/system.slice/pod" UID ".scope\n", "", "" },
	{ "non-hex in the id",
	  "0::/docker/"
	  "3f4e1bb9a0c2d7e85f6a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3g"
	  "\n",
	  "", "" },
};

static void test_cgroup_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cgroup_case *c = &cases[i];
		struct container_info info;
		memset(&info, 0, sizeof(info));
		container_from_cgroup(c->cgroup, &info);
		if (strcmp(info.container_id, c->container_id) || strcmp(info.pod_uid, c->pod_uid)) {
			print_error("case %zu (%s):\n  got  '%s' '%s'\n  want '%s' '%s'\n", i, c->what,
				    info.container_id, info.pod_uid, c->container_id, c->pod_uid);
			fail();
		}
	}
}

/* 63 hex digits: one short of an id. */
static void test_short_id(void **state)
{
	(void)state;
	char cg[128];
	snprintf(cg, sizeof(cg), "0::/docker/%.63s\n", CID);
	struct container_info info;
	memset(&info, 0, sizeof(info));
	container_from_cgroup(cg, &info);
	assert_string_equal(info.container_id, "");
}

/* A line longer than any real one: parsed without overflow, and an id in its readable part
 * still found. */
static void test_long_line(void **state)
{
	(void)state;
	static char cg[8192];
	int n = snprintf(cg, sizeof(cg), "0::/docker/%s/", CID);
	memset(cg + n, 'z', sizeof(cg) - (size_t)n - 2);
	cg[sizeof(cg) - 2] = '\n';
	struct container_info info;
	memset(&info, 0, sizeof(info));
	container_from_cgroup(cg, &info);
	assert_string_equal(info.container_id, CID);
}

/* This very process, from the real /proc: the answer /proc/self/cgroup's own text gives. */
static void test_self(void **state)
{
	(void)state;
	char buf[8192];
	FILE *f = fopen("/proc/self/cgroup", "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	struct container_info want, got;
	memset(&want, 0, sizeof(want));
	container_from_cgroup(buf, &want);
	assert_int_equal(container_for_pid(getpid(), &got), 0);
	assert_string_equal(got.container_id, want.container_id);
	assert_string_equal(got.pod_uid, want.pod_uid);
	assert_true(container_for_pid(0x7ffffff0, &got) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_fixtures),
		cmocka_unit_test(test_short_id),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
