// SPDX-License-Identifier: Apache-2.0
#include "export/prometheus.h"

#include "base/log.h"
#include "export/dashboard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

struct prom_exporter {
	struct MHD_Daemon *daemon;
	struct metrics_registry *reg;
	struct dashboard *dashboard;
	int port;
	char url[300]; /* http://HOST:PORT/metrics with the port listened on */
};

int prom_parse_addr(const char *addr, struct sockaddr_storage *ss, size_t *sslen, char *err, size_t errlen)
{
	char host[256];
	const char *port_s;
	if (!addr || !*addr)
		addr = PROM_DEFAULT_ADDR;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(close - addr - 1), addr + 1);
		port_s = close + 2;
	} else {
		const char *colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
		if (strchr(host, ':')) {
			snprintf(err, errlen,
				 "bad address %s: write IPv6 addresses in brackets, "
				 "e.g. [::1]:9464",
				 addr);
			return -EINVAL;
		}
		port_s = colon + 1;
	}
	char *end;
	long port = strtol(port_s, &end, 10);
	if (!*port_s || *end || port < 0 || port > 65535 || port_s[0] == '-' || port_s[0] == '+')
		goto bad;

	memset(ss, 0, sizeof(*ss));
	if (!host[0]) {
		/* ":port" is the explicit request for every interface. */
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_ANY);
		in->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*in);
		return 0;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res;
	int rc = getaddrinfo(host, port_s, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "bad address %s: %s", addr, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	snprintf(err, errlen, "bad address %s: expected host:port, [ipv6]:port or :port", addr);
	return -EINVAL;
}

/* Binds and listens on a socket the way libmicrohttpd will, then closes it: 0 or the errno.
 * Used up front (so a taken port fails before the work, not after) and after a failed start
 * (libmicrohttpd only says that starting failed, not why). */
static int probe_listen(const struct sockaddr_storage *ss, size_t sslen)
{
	int e = 0, one = 1;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ss->ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)ss, sslen) < 0 || listen(fd, 1) < 0)
		e = errno;
	close(fd);
	return e;
}

static void describe_listen_error(const char *addr, int e, char *err, size_t errlen)
{
	if (e == EADDRINUSE)
		snprintf(err, errlen, "%s is already in use; pick another with --prometheus-addr", addr);
	else if (e == EADDRNOTAVAIL)
		snprintf(err, errlen,
			 "%s is not an address of this machine; pick another with "
			 "--prometheus-addr",
			 addr);
	else if (e == EACCES)
		snprintf(err, errlen,
			 "cannot listen on %s: permission denied (ports below 1024 "
			 "need root); pick another with --prometheus-addr",
			 addr);
	else if (e)
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(e));
	else
		snprintf(err, errlen, "cannot start the HTTP server on %s", addr);
}

int prom_check_addr(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	size_t sslen;
	if (!addr || !*addr)
		addr = PROM_DEFAULT_ADDR;
	int rc = prom_parse_addr(addr, &ss, &sslen, err, errlen);
	if (rc)
		return rc;
	int e = probe_listen(&ss, sslen);
	if (e) {
		describe_listen_error(addr, e, err, errlen);
		return -e;
	}
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, char *body, size_t len,
			     bool owned, const char *type)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer_with_free_callback(len, body, owned ? free : NULL);
	if (!resp) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result reply_static(struct MHD_Connection *conn, unsigned int status, const char *body)
{
	return reply(conn, status, (char *)body, strlen(body), false, "text/plain; charset=utf-8");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size,
			      void **req_cls)
{
	struct prom_exporter *e = cls;
	(void)version, (void)upload_data, (void)upload_data_size, (void)req_cls;
	/* HEAD is GET without a body (libmicrohttpd drops it), which scrapers may probe with. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (!strcmp(url, "/healthz"))
		return reply_static(conn, MHD_HTTP_OK, "ok\n");
	if (dashboard_serves(url))
		return dashboard_reply(e->dashboard, conn, url);
	if (strcmp(url, "/metrics"))
		return reply_static(conn, MHD_HTTP_NOT_FOUND,
				    "not found; metrics are at /metrics, the dashboard at /\n");

	char *buf;
	size_t len;
	if (metrics_registry_render_prometheus(e->reg, &buf, &len))
		return reply_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	if (!len) {
		free(buf);
		return reply(conn, MHD_HTTP_OK, (char *)"", 0, false, CONTENT_TYPE_METRICS);
	}
	return reply(conn, MHD_HTTP_OK, buf, len, true, CONTENT_TYPE_METRICS);
}

struct prom_exporter *prom_exporter_start(const char *addr, struct metrics_registry *reg, char *err,
					  size_t errlen)
{
	struct sockaddr_storage ss;
	size_t sslen;
	if (!addr || !*addr)
		addr = PROM_DEFAULT_ADDR;
	if (prom_parse_addr(addr, &ss, &sslen, err, errlen))
		return NULL;
	struct prom_exporter *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->reg = reg;
	if (!(e->dashboard = dashboard_start(reg))) {
		snprintf(err, errlen, "out of memory");
		free(e);
		return NULL;
	}
	/* A thread per connection: a dashboard stream waits for the next tick in its reader,
	 * which would stall every other client of a single server thread. */
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* A scrape is one small request: a few connections and a short timeout keep a stuck
	 * or hostile client from holding a thread (a dashboard stream sends every second). */
	e->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, e, MHD_OPTION_SOCK_ADDR,
				     (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
	if (!e->daemon) {
		describe_listen_error(addr, probe_listen(&ss, sslen), err, errlen);
		dashboard_free(e->dashboard);
		free(e);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(e->daemon, MHD_DAEMON_INFO_BIND_PORT);
	e->port = info ? info->port : 0;
	/* The host as given ("127.0.0.1", "[::1]", "" for every interface), the port as bound:
	 * with port 0 only the latter says where to scrape. */
	if (!addr || !*addr)
		addr = PROM_DEFAULT_ADDR;
	const char *colon = strrchr(addr, ':');
	int host_len = colon ? (int)(colon - addr) : (int)strlen(addr);
	snprintf(e->url, sizeof(e->url), "http://%.*s:%d/metrics", host_len, addr, e->port);
	log_debug("serving Prometheus metrics on %s and the dashboard at /", e->url);
	return e;
}

void prom_exporter_set_profile(struct prom_exporter *e, struct dash_profile *profile)
{
	dashboard_set_profile(e->dashboard, profile);
}

void prom_exporter_set_traces(struct prom_exporter *e, struct trace_recent *recent)
{
	dashboard_set_traces(e->dashboard, recent);
}

int prom_exporter_port(const struct prom_exporter *e)
{
	return e->port;
}

const char *prom_exporter_url(const struct prom_exporter *e)
{
	return e->url;
}

void prom_exporter_stop(struct prom_exporter *e)
{
	if (!e)
		return;
	dashboard_shutdown(e->dashboard);
	MHD_stop_daemon(e->daemon);
	dashboard_free(e->dashboard);
	free(e);
}
