// SPDX-License-Identifier: Apache-2.0
/* selector_match: which selector a process satisfies. Ground truth: fixtures of process facts
 * (with the lazily read facts — listening ports, Go build info — filled in and marked read,
 * so nothing touches /proc), then real processes whose facts the test controls: this test
 * binary (C, not Go) with and without a listening socket it opens itself, and httpsvc (Go)
 * listening on a port it reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_config.h"
#include "agent/selector.h"

static struct agent_config *config(const char *yaml)
{
	struct agent_config *c = malloc(sizeof(*c));
	assert_non_null(c);
	char err[512] = "";
	int rc = yaml ? agent_config_parse(c, "t.yaml", yaml, strlen(yaml), NULL, err, sizeof(err))
		      : agent_config_default(c, err, sizeof(err));
	if (rc)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	return c;
}

/* Selectors in order; the first that matches wins. */
static const char selectors_yaml[] =
	"selectors:\n"
	"  - {name: by-pid, match: {pids: [42, 43]}}\n"
	"  - {name: by-exe, match: {exe: \"/usr/bin/py*\"}}\n"
	"  - {name: by-comm-port, match: {process_name: \"api-*\", port: 8080}}\n"
	"  - {name: by-pod, match: {k8s_namespace: shop, k8s_pod: \"cart-*\"}}\n"
	"  - {name: by-container, match: {container_id: \"abc*\"}}\n"
	"  - {name: listening-go, match: {listening: true, go: true}}\n"
	"  - {name: listening, match: {listening: true}}\n";

struct fixture {
	const char *what;
	pid_t pid;
	const char *exe, *comm, *container, *ns, *pod;
	uint16_t port; /* 0: listens on nothing */
	bool go;
	int want; /* index in selectors_yaml, -1: none */
};

static const struct fixture fixtures[] = {
	{ "listed pid, anything else", 42, "/bin/sh", "sh", "", "", "", 0, false, 0 },
	{ "second listed pid", 43, "/usr/bin/python3", "python3", "", "", "", 0, false, 0 },
	{ "exe glob", 7, "/usr/bin/python3", "python3", "", "", "", 0, false, 1 },
	{ "deleted exe still matches its path", 7, "/usr/bin/python3 (deleted)", "python3", "", "", "", 0,
	  false, 1 },
	{ "comm glob and port", 8, "/srv/api", "api-v2", "", "", "", 8080, true, 2 },
	{ "comm glob, wrong port: falls to listening-go", 8, "/srv/api", "api-v2", "", "", "", 9090, true,
	  5 },
	{ "namespace and pod glob", 9, "/app", "app", "", "shop", "cart-7d9f", 0, false, 3 },
	{ "namespace without the pod", 9, "/app", "app", "", "shop", "web-1", 0, false, -1 },
	{ "container id glob", 10, "/app", "app", "abcdef", "", "", 0, false, 4 },
	{ "Go and listening", 11, "/srv/gosvc", "gosvc", "", "", "", 443, true, 5 },
	{ "listening, not Go", 12, "/usr/sbin/sshd", "sshd", "", "", "", 22, false, 6 },
	{ "Go, not listening", 13, "/srv/gojob", "gojob", "", "", "", 0, true, -1 },
	{ "nothing matches", 14, "/bin/true", "true", "", "", "", 0, false, -1 },
};

static void facts_from(const struct fixture *x, struct process_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->pid = x->pid;
	snprintf(f->exe, sizeof(f->exe), "%s", x->exe);
	snprintf(f->comm, sizeof(f->comm), "%s", x->comm);
	snprintf(f->container.container_id, sizeof(f->container.container_id), "%s", x->container);
	snprintf(f->container.namespace_name, sizeof(f->container.namespace_name), "%s", x->ns);
	snprintf(f->container.pod_name, sizeof(f->container.pod_name), "%s", x->pod);
	f->ports[0] = x->port;
	f->nports = x->port ? 1 : 0;
	f->ports_read = true;
	f->go = x->go;
	f->go_read = true;
}

static void test_fixtures(void **state)
{
	(void)state;
	struct agent_config *c = config(selectors_yaml), *d = config(NULL);
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		struct process_facts f;
		facts_from(&fixtures[i], &f);
		int got = selector_match(c, &f);
		if (got != fixtures[i].want)
			print_error("%s: got %d, want %d\n", fixtures[i].what, got, fixtures[i].want);
		assert_int_equal(got, fixtures[i].want);
		/* the built-in default: Go and listening, whatever else */
		facts_from(&fixtures[i], &f);
		assert_int_equal(selector_match(d, &f), fixtures[i].port && fixtures[i].go ? 0 : -1);
	}
	free(c);
	free(d);
}

static int listen_on_loopback(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* This process: C, so never "go"; listening only while its socket is open. */
static void test_self(void **state)
{
	(void)state;
	uint16_t port;
	int fd = listen_on_loopback(&port);
	char yaml[256];
	snprintf(yaml, sizeof(yaml),
		 "selectors:\n  - {name: go, match: {go: true}}\n  - {name: port, match: {port: %u}}\n"
		 "  - {name: listening, match: {listening: true}}\n",
		 (unsigned)port);
	struct agent_config *c = config(yaml), *d = config(NULL);
	struct process_facts f;
	assert_int_equal(process_facts_read(getpid(), &f), 0);
	assert_int_equal(selector_match(c, &f), 1);
	assert_true(f.ports_read && f.go_read && !f.go);
	assert_int_equal(selector_match(d, &f), -1);
	close(fd);
	assert_int_equal(process_facts_read(getpid(), &f), 0);
	assert_int_equal(selector_match(c, &f), -1);
	assert_int_equal(f.nports, 0);
	free(c);
	free(d);
}

/* httpsvc, a Go server: the built-in default selects it once it listens. */
static void test_go_server(void **state)
{
	(void)state;
	const char *apps = getenv("GLIMPSE_APPS");
	char path[4096], line[256];
	snprintf(path, sizeof(path), "%s/httpsvc-1.22", apps ? apps : "build/apps");
	if (access(path, X_OK))
		fail_msg("cannot run %s (run `make apps` or set GLIMPSE_APPS)", path);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		execl(path, path, "-t", "20", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	FILE *out = fdopen(pipefd[0], "r");
	assert_non_null(out);
	assert_non_null(fgets(line, sizeof(line), out)); /* "ready PID 127.0.0.1:PORT" */
	unsigned port = 0;
	assert_int_equal(sscanf(line, "ready %*d 127.0.0.1:%u", &port), 1);
	struct agent_config *d = config(NULL);
	char yaml[128];
	snprintf(yaml, sizeof(yaml), "selectors:\n  - {name: other-port, match: {port: %u, go: true}}\n",
		 port == 1 ? 2u : port - 1);
	struct agent_config *c = config(yaml);
	struct process_facts f;
	assert_int_equal(process_facts_read(pid, &f), 0);
	assert_int_equal(selector_match(d, &f), 0);
	assert_true(f.go);
	assert_int_equal(f.nports, 1);
	assert_int_equal(f.ports[0], port);
	assert_int_equal(selector_match(c, &f), -1);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	fclose(out);
	free(c);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_go_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
