# SPDX-License-Identifier: Apache-2.0
"""Native stacks without frame pointers, unwound in BPF with the binaries' .eh_frame
(bpf/unwind.bpf.h). Ground truth: tests/apps/cqsort.c, built with -fomit-frame-pointer, splits its
work 6:3:1 between burn_a, burn_b and burn_c, each called from a qsort comparator, so every stack
crosses Debian's libc (no frame pointers either); the program counts its comparisons per
comparator. And `perf record --call-graph dwarf` (perf's own DWARF unwinder, in user space, over
copied stacks) on the same process at the same time."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import APPS, glimpse

TRUTH = {"burn_a": 60.0, "burn_b": 30.0, "burn_c": 10.0}
TOLERANCE_PP = 5.0
# cqsort's own functions (and crt1's _start): the frames of its stacks in its binary.
CQSORT_FUNCS = {"_start", "main", "run_rounds", "sort_with", "cmp_a", "cmp_b", "cmp_c", "burn_a", "burn_b", "burn_c"}


def chain(x):
    """cqsort's frames of a burn_x stack, root first (libc's sit between sort_with and cmp_x)."""
    return ["_start", "main", "run_rounds", "sort_with", f"cmp_{x}", f"burn_{x}"]


def folded_stacks(path, process):
    """[(user frames root first, count)] from glimpse's folded output, kernel frames dropped."""
    stacks = []
    for line in path.read_text().splitlines():
        frames, count = line.rsplit(" ", 1)
        frames = frames.split(";")
        assert frames[0] == process, line
        stacks.append(([f for f in frames[1:] if not f.endswith("_[k]")], int(count)))
    return stacks


def perf_stacks(data):
    """[(frames root first as (symbol, dso), 1)] from `perf script`, kernel frames dropped."""
    out = subprocess.run(["perf", "script", "-i", str(data), "-F", "ip,sym,dso"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    stacks = []
    for block in out.split("\n\n"):
        frames = []
        for line in block.splitlines():
            m = re.match(r"\s*[0-9a-f]+ (.+) \((.+)\)$", line)
            if m and "kernel.kallsyms" not in m.group(2):
                frames.append((m.group(1), m.group(2)))
        if frames:
            stacks.append((frames[::-1], 1))
    return stacks


def leaf_shares(stacks, name=lambda f: f):
    total = sum(c for _, c in stacks)
    assert total > 0
    shares = {}
    for frames, c in stacks:
        if frames:
            shares[name(frames[-1])] = shares.get(name(frames[-1]), 0) + 100.0 * c / total
    return shares


def assert_shares(shares, want, what):
    for func, share in want.items():
        assert abs(shares.get(func, 0.0) - share) <= TOLERANCE_PP, f"{what} {func}: {shares.get(func)}% vs {share}% ({shares})"


def test_qsort_comparators_through_libc_without_frame_pointers(tmp_path):
    perf = shutil.which("perf")
    app = subprocess.Popen([os.path.join(APPS, "cqsort"), "-t", "6"], stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout.readline().startswith("ready ")
        perf_data = tmp_path / "perf.data"
        # perf samples the same process over the same window, with its own DWARF unwinder.
        rec = subprocess.Popen([perf, "record", "-q", "-e", "cpu-clock", "-F", "199", "--call-graph", "dwarf,16384",
                                "-p", str(app.pid), "-o", str(perf_data), "--", "sleep", "3"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) if perf else None
        folded = tmp_path / "cpu.folded"
        r = glimpse("profile", "-p", str(app.pid), "-F", "499", "-d", "3", "--folded", str(folded), "--top", "0")
        assert r.returncode == 0, r.stderr
        if rec:
            assert rec.wait(timeout=30) == 0, rec.stderr.read()
        out, _ = app.communicate(timeout=30)
    finally:
        app.kill()
        app.wait()
    # The program's own accounting: the work it did split 6:3:1 (to within its last round).
    calls = dict((k, int(v)) for k, v in re.findall(r"(\w)=(\d+)", out))
    total = sum(calls.values())
    assert total > 0 and all(abs(100.0 * calls[x] / total - TRUTH[f"burn_{x}"]) < 0.5 for x in "abc"), out

    # Every stack walked with the tables, none stopped early.
    m = re.search(r"unwound (\d+) user stacks of 1 processes with call frame information \((\d+) tables.*; (\d+) "
                  r"stopped early", r.stderr)
    assert m and int(m.group(1)) > 0 and int(m.group(2)) >= 2 and m.group(3) == "0", r.stderr
    assert "truncated" not in r.stderr, r.stderr  # no truncation warning of any kind

    stacks = folded_stacks(folded, "cqsort")
    assert_shares(leaf_shares(stacks), TRUTH, "glimpse")
    # Whole stacks: cqsort's callers, with libc's qsort_r (its exported name) and its internal
    # merge sort (named from libc6-dbg) between sort_with and the comparator.
    burn = [(f, c) for f, c in stacks if f and f[-1] in TRUTH]
    whole = 0
    for frames, c in burn:
        x = frames[-1][-1]
        own = [f for f in frames if f in CQSORT_FUNCS]
        between = frames[frames.index("sort_with") + 1:frames.index(f"cmp_{x}")] if own == chain(x) else []
        if own == chain(x) and between[0] == "qsort_r" and all(f.startswith("msort_with_tmp") for f in between[1:]) \
                and len(between) >= 2:
            whole += c
    assert whole == sum(c for _, c in burn), [f for f, _ in burn][:5]

    if not rec:
        pytest.skip("perf is not installed (scripts/install-deps.sh installs linux-perf): compared with the truth only")
    pstacks = perf_stacks(perf_data)
    pshares = leaf_shares(pstacks, name=lambda f: f[0])
    assert_shares(pshares, TRUTH, "perf")
    gshares = leaf_shares(stacks)
    assert_shares(gshares, {f: pshares.get(f, 0.0) for f in TRUTH}, "glimpse vs perf")
    # perf's stacks have the same frames in cqsort, and libc frames between sort_with and cmp_x.
    pburn = [f for f, _ in pstacks if f[-1][0] in TRUTH]
    agree = 0
    for frames in pburn:
        x = frames[-1][0][-1]
        names = [s for s, _ in frames]
        if [s for s, dso in frames if dso.endswith("/cqsort")] == chain(x):
            between = frames[names.index("sort_with") + 1:names.index(f"cmp_{x}")]
            agree += any("libc.so" in dso for _, dso in between)
    assert agree >= 0.95 * len(pburn), pburn[:3]


def test_frame_pointer_free_binary_has_whole_stacks(tmp_path, start_app):
    app = start_app("cburner-nofp")
    folded = tmp_path / "cpu.folded"
    r = glimpse("profile", "-p", str(app.pid), "-F", "499", "-d", "2", "--folded", str(folded), "--top", "0")
    assert r.returncode == 0, r.stderr
    assert "frame pointers" not in r.stderr and "truncated" not in r.stderr, r.stderr
    burn = [(f, c) for f, c in folded_stacks(folded, "cburner-nofp") if f and f[-1] in ("burn_a", "burn_b", "burn_c")]
    assert burn
    # Every one from the thread's root: _start → libc's start code → main → worker → burn_x.
    bad = [f for f, _ in burn if f[0] != "_start" or f[-4:-1] != ["__libc_start_call_main", "main", "worker"]]
    assert not bad, bad[:3]


def test_vdso_and_libc_callers(tmp_path, start_app):
    """The vDSO's clock_gettime sets up no frame: its table (compiled from glimpse's own copy of
    the kernel's vDSO) gives its caller in libc, and libc's the program's."""
    app = start_app("cclock")
    folded = tmp_path / "cpu.folded"
    r = glimpse("profile", "-p", str(app.pid), "-F", "499", "-d", "2", "--folded", str(folded), "--top", "0")
    assert r.returncode == 0, r.stderr
    assert re.search(r"unwound \d+ user stacks .*\(4 tables, .*; 0 stopped early", r.stderr), r.stderr
    stacks = folded_stacks(folded, "cclock")
    vdso = [(f, c) for f, c in stacks if f and f[-1].startswith("[vdso")]
    assert sum(c for _, c in vdso) >= 0.5 * sum(c for _, c in stacks), stacks[:3]
    # main reads the clock once per thousand reads of read_clock's.
    via_loop = sum(c for f, c in vdso if f[-4:-1] == ["main", "read_clock", "__clock_gettime"])
    bad = [f for f, _ in vdso if f[0] != "_start" or f[-4:-1] != ["main", "read_clock", "__clock_gettime"]
           and f[-3:-1] != ["main", "__clock_gettime"]]
    assert not bad and via_loop >= 0.9 * sum(c for _, c in vdso), (bad[:3], vdso[:3])
