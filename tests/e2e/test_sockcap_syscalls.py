# SPDX-License-Identifier: Apache-2.0
"""The socket path on kernels without the socket tracepoints (sock_send_length and
sock_recv_length came in Linux 6.3; Debian 12 runs 6.1): the same socket calls read at sys_exit
(bpf/sockcap_syscalls.bpf.h), forced here with GLIMPSE_SOCKET_SYSCALLS=1 on a kernel that has
both. It must give what the tracepoints give: the Go service's requests as the uprobes count
them, and every one of many short connections whose fd numbers the server's threads reuse
(whose closes, seen at sys_exit after the fd is free again, must not end the connection that
took the number). And glimpse says once which path it runs and what it costs."""
from conftest import metric_value, parse_prometheus, wait_for
from test_sockcap_go import DURATION, REQUESTS, SOCKET_SERIES, by_status, short_connections

SYSCALLS = {"GLIMPSE_SOCKET_SYSCALLS": "1"}
SAID = "this kernel has no sock:sock_send_length tracepoint"


def test_syscalls_path_agrees_with_uprobes(http_services, run_glimpse):
    svc = http_services("httpsvc-1.26")
    uprobes = run_glimpse("attach", "-p", str(svc.pid), "--no-live", name="uprobes", prometheus=True)
    sockets = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "socket", name="socket",
                          prometheus=True, env=SYSCALLS, ready="capture=socket")
    assert sockets.stderr().count(SAID) == 1, sockets.stderr()
    requests = [(p, n) for p, n in REQUESTS if p != "/call"]  # no peer here
    for path, n in requests:
        for _ in range(n):
            svc.get(path)
    total = sum(n for _, n in requests)
    assert wait_for(lambda: uprobes.value(DURATION + "_count") == total), uprobes.scrape_text()
    assert wait_for(lambda: sockets.value(DURATION + "_count") == total), sockets.scrape_text()
    samples = parse_prometheus(sockets.scrape_text())
    assert by_status(samples) == by_status(uprobes.scrape())
    for (route, status), n in SOCKET_SERIES.items():
        if route == "/call":
            continue
        assert metric_value(samples, DURATION + "_count", http_route=route,
                            http_response_status_code=status) == n, (route, status)
    for counter in ("unparseable", "unanswered", "events_dropped"):
        assert metric_value(samples, f"glimpse_socket_{counter}_total") == 0, counter
    assert sockets.stop() == 0 and uprobes.stop() == 0


def test_syscalls_path_short_connections_from_many_clients(http_services, run_glimpse):
    svc = http_services("httpsvc-1.26")
    g = run_glimpse("attach", "-p", str(svc.pid), "--no-live", "--capture", "socket", prometheus=True,
                    env=SYSCALLS, ready="capture=socket")
    short_connections(svc, g)
    assert g.stop() == 0
