# SPDX-License-Identifier: Apache-2.0
"""Output files are created safely (base/outfile.c): never through a symbolic link another user
planted, never replacing a file without --force, checked before any work, and nothing left
behind when attaching fails. Ground truth: the files this test plants and their contents."""
import os
import pathlib
import pwd
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import APPS, GLIMPSE, HttpService, glimpse

SECRET = "root's own data\n"


@pytest.fixture
def sticky_dir():
    """A world-writable sticky directory like /tmp (in /tmp: pytest's own tmp_path is root's
    alone), where another user can plant names."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="glimpse-shared-", dir="/tmp"))
    os.chmod(d, 0o1777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def plant_link(directory, name, target):
    """`nobody` creates name → target, as an unprivileged user would in /tmp."""
    nobody = pwd.getpwnam("nobody")
    link = directory / name
    subprocess.run(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
                    "ln", "-s", str(target), str(link)], check=True)
    assert os.lstat(link).st_uid == nobody.pw_uid
    return link


@pytest.mark.parametrize("cmd", ["spans", "profile"])
def test_symlink_planted_by_another_user_is_refused(cmd, sticky_dir, tmp_path, go_service):
    victim = tmp_path / "victim"  # root's file, outside the shared directory
    victim.write_text(SECRET)
    link = plant_link(sticky_dir, "out", victim)
    args = ["attach", "-p", str(go_service.pid), "-d", "1", "--no-live", "--no-prometheus", "--spans-out", str(link)] \
        if cmd == "spans" else ["profile", "-p", str(go_service.pid), "-d", "1", "-o", str(link)]
    r = glimpse(*args, "--force")  # not even --force writes through a link
    assert r.returncode == 2, r.stderr
    assert "symbolic link" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert victim.read_text() == SECRET
    assert os.path.islink(link)


def test_existing_file_needs_force(tmp_path, go_service):
    out = tmp_path / "spans.jsonl"
    out.write_text("mine\n")
    r = glimpse("attach", "-p", str(go_service.pid), "-d", "1", "--no-live", "--no-prometheus", "--spans-out", str(out))
    assert r.returncode == 2 and "exists; use --force" in r.stderr, r.stderr
    assert out.read_text() == "mine\n"
    r = glimpse("attach", "-p", str(go_service.pid), "-d", "2", "--no-live", "--no-prometheus", "--spans-out", str(out),
                "--force")
    assert r.returncode == 0, r.stderr
    assert "mine" not in out.read_text()


def test_failed_attach_leaves_no_file(tmp_path):
    out = tmp_path / "spans.jsonl"
    r = glimpse("attach", "-p", "999999", "--spans-out", str(out))
    assert r.returncode == 3, r.stderr
    assert not out.exists()
    # A process that is not Go, asked to be probed with uprobes: refused; no file is left.
    c = subprocess.Popen([os.path.join(APPS, "cburner")], stdout=subprocess.PIPE, text=True)
    try:
        c.stdout.readline()
        r = glimpse("attach", "-p", str(c.pid), "--capture", "uprobes", "--spans-out", str(out))
        assert r.returncode != 0
        assert not out.exists(), r.stderr
    finally:
        c.kill()
        c.wait()


def test_missing_output_directory_fails_before_profiling(tmp_path, go_service):
    t0 = time.monotonic()
    r = glimpse("profile", "-p", str(go_service.pid), "-d", "5", "-o", str(tmp_path / "missing" / "cpu.pb.gz"))
    took = time.monotonic() - t0
    assert r.returncode == 2 and "does not exist" in r.stderr, r.stderr
    assert took < 1.0, f"failed only after {took:.1f} s: the profile ran first"
