# SPDX-License-Identifier: Apache-2.0
"""The command line itself: --help made from the option tables, the version, and failing fast
with the right exit code and one line (user/cli/exit_codes.h) on bad targets and addresses.
Ground truth: the README's flag table, the VERSION file and the chart, and targets each test
makes itself (a FIFO, a text file, kthreadd, a port it holds, a service it kills, a service
run as another user)."""
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import APPS, GLIMPSE, SRC, HttpService, free_port, glimpse

COMMANDS = ("profile", "attach", "watch", "agent", "inspect")
EXIT_USAGE, EXIT_NO_PROCESS, EXIT_NO_PERMISSION, EXIT_UNSUPPORTED = 2, 3, 4, 6
# An option line of --help: "  -p, --pid PID   help" or "      --max-stacks N   help".
OPTION_LINE = re.compile(r"^  (?:-\w, |    )--([a-z][\w-]*)")


def help_text(cmd):
    out = glimpse(cmd, "--help", timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_one_option_per_line_ending_with_newline(cmd):
    text = help_text(cmd)
    assert text.endswith("\n")
    options = [m.group(1) for m in map(OPTION_LINE.match, text.splitlines()) if m]
    assert "help" in options and "verbose" in options and "log-format" in options
    assert len(options) == len(set(options)), options
    for line in text.splitlines():
        if OPTION_LINE.match(line):
            # A second option in the same line ("-U ... -K ...") is two lines' worth.
            assert not re.search(r"\s{2,}-{1,2}[a-zA-Z][\w-]*,? ", line[6:]), line


def test_readme_profile_flags_are_in_help():
    with open(os.path.join(SRC, "README.md")) as f:
        readme = f.read()
    section = readme.split("## glimpse profile", 1)[1].split("\n## ", 1)[0]
    flags = set(re.findall(r"`(-{1,2}[a-zA-Z][\w-]*)", "\n".join(
        line.split("|")[1] for line in section.splitlines() if line.startswith("| `"))))
    assert {"-p", "-a", "-F", "-d", "-o", "--folded", "--svg", "--top", "-U", "--off-cpu"} <= flags
    text = help_text("profile")
    listed = set()
    for line in text.splitlines():
        m = re.match(r"^  (?:(-\w), |    )(--[\w-]+)", line)
        if m:
            listed |= {m.group(1), m.group(2)} - {None}
    assert flags <= listed, flags - listed


def test_version_is_the_version_file_and_the_chart_app_version():
    with open(os.path.join(SRC, "VERSION")) as f:
        version = f.read().strip()
    out = glimpse("--version", timeout=10)
    assert out.returncode == 0 and out.stdout == f"glimpse {version}\n"
    with open(os.path.join(SRC, "helm/glimpse/Chart.yaml")) as f:
        chart = f.read()
    assert re.search(rf'^appVersion: "{re.escape(version)}"$', chart, re.M), chart


def test_inspect_fifo_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    start = time.monotonic()
    out = glimpse("inspect", str(fifo), timeout=10)
    assert time.monotonic() - start < 2
    assert out.returncode == EXIT_UNSUPPORTED, out.stderr
    assert out.stderr == f"glimpse: error: {fifo} is not a regular file; give the path of a Go executable\n"


@pytest.mark.parametrize("path", ["/dev/null", "/tmp"])
def test_inspect_device_and_directory_refused(path):
    out = glimpse("inspect", path, timeout=10)
    assert out.returncode == EXIT_UNSUPPORTED, out.stderr
    assert "is not a regular file" in out.stderr and out.stderr.count("\n") == 1


def test_inspect_non_elf(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a program\n")
    out = glimpse("inspect", str(text), timeout=10)
    assert out.returncode == EXIT_UNSUPPORTED, out.stderr
    assert out.stderr == f"glimpse: error: {text} is not an ELF executable; give the path of a Go executable\n"


def kthreadd():
    with open("/proc/2/comm") as f:
        assert f.read().strip() == "kthreadd"
    return "2"


@pytest.mark.parametrize("cmd", [["attach", "--no-live", "--no-prometheus", "-d", "1"], ["inspect"]])
def test_kernel_thread_is_unsupported(cmd):
    out = glimpse(*cmd, "-p", kthreadd(), timeout=20)
    assert out.returncode == EXIT_UNSUPPORTED, out.stderr
    assert "process 2 is a kernel thread; nothing to attach to" in out.stderr
    assert out.stderr.count("\n") == 1, out.stderr


@pytest.fixture
def service():
    s = HttpService("httpsvc-1.22")
    yield s
    s.stop()


@pytest.mark.parametrize("cmd", ["attach", "watch"])
def test_taken_port_fails_before_attaching(service, cmd):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        start = time.monotonic()
        out = glimpse(cmd, "-p", str(service.pid), "--no-live", "-d", "5", "--prometheus-addr",
                      f"127.0.0.1:{port}", timeout=20)
        elapsed = time.monotonic() - start
    assert out.returncode == EXIT_USAGE, out.stderr
    assert out.stderr == (f"glimpse: error: 127.0.0.1:{port} is already in use; "
                          "pick another with --prometheus-addr\n")
    # Attaching takes ~2 s (BPF load, uprobes); the check comes before it.
    assert elapsed < 1, elapsed


@pytest.mark.parametrize("addr", ["localhost", "::1:9464", "127.0.0.1:99999", "[::1]9464"])
def test_bad_address_syntax_is_usage_error(service, addr):
    start = time.monotonic()
    out = glimpse("attach", "-p", str(service.pid), "--no-live", "-d", "5", "--prometheus-addr", addr,
                  timeout=20)
    assert out.returncode == EXIT_USAGE, out.stderr
    assert out.stderr.startswith(f"glimpse: error: --prometheus-addr: bad address {addr}")
    assert time.monotonic() - start < 1


@pytest.mark.parametrize("cmd", ["attach", "watch"])
def test_target_exiting_mid_attach_is_no_process(cmd):
    """The target dies at delays spread over the ~2 s attach: before attaching finished the
    exit code is 3, after it glimpse detaches cleanly (0); never a generic failure (1)."""
    seen = set()
    for delay in (0.0, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5):
        svc = HttpService("httpsvc-1.22")
        g = subprocess.Popen([GLIMPSE, cmd, "-p", str(svc.pid), "--no-live", "--prometheus-addr",
                              f"127.0.0.1:{free_port()}", "-d", "10"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        svc.proc.kill()
        _, err = g.communicate(timeout=30)
        svc.proc.wait()
        ready = "attached" in err or "watching" in err
        assert g.returncode == (0 if ready else EXIT_NO_PROCESS), (delay, g.returncode, err)
        if not ready:
            assert f"process {svc.pid} " in err and ("exited" in err or "does not exist" in err), err
        seen.add(ready)
    assert False in seen  # at least one run really died mid-attach


def test_missing_cap_sys_ptrace_is_named(tmp_path):
    """A service of user nobody, glimpse as root without CAP_SYS_PTRACE: its executable
    cannot be read, and the message says which capability is missing."""
    svc = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            os.path.join(APPS, "httpsvc-1.22")], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    try:
        pid = svc.stdout.readline().split()[1]
        for cmd in (f"{GLIMPSE} attach -p {pid} --no-live --no-prometheus -d 1", f"{GLIMPSE} inspect -p {pid}"):
            out = subprocess.run(["capsh", "--drop=cap_sys_ptrace", "--", "-c", cmd], capture_output=True,
                                 text=True, timeout=30)
            assert out.returncode == EXIT_NO_PERMISSION, out.stderr
            assert (f"glimpse: error: cannot read the executable of process {pid}: permission denied: "
                    "another user's process can be read only with CAP_SYS_PTRACE") in out.stderr
    finally:
        svc.kill()
        svc.wait()
