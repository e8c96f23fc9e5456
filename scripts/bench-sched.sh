#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark: what does tracking the scheduler cost, with glimpse and with libbpf-tools' runqlat
# and offcputime?
#
# Usage: scripts/bench-sched.sh <abs build dir>   (run by `make bench-sched`)
# Env:   BENCH_LOOPS (default 200000)  round trips per `perf bench sched pipe` run
#        BENCH_REPS  (default 5)       runs per configuration (the median is reported)
#
# `perf bench sched pipe -l BENCH_LOOPS`, pinned to one CPU (taskset) so that every round trip
# is two wakeups and two context switches on that CPU, measures the scheduler's cost directly.
# It runs BENCH_REPS times in each of four configurations, interleaved (one run of each in
# turn, so drift in the machine's load spreads evenly), each tracer started fresh per run and
# tracing the whole system:
#   (a) no tracer;
#   (b) glimpse's scheduler tracking (run-queue latency histogram, off-CPU time and context
#       switches per process, for every process) through the bench-only driver
#       BUILD/bench/sched_driver (tests/bench/sched_driver.c, the same code glimpse watch uses);
#   (c) runqlat -P (libbpf-tools: run-queue latency histogram per process);
#   (d) offcputime (libbpf-tools: off-CPU time by stack).
# It prints the median operations/s, the ratio against (a) and the added cost per context
# switch.  This is a benchmark, not a test: it exits non-zero only when a tool is missing or
# broken.  runqlat and offcputime are optional (package libbpf-tools).
set -euo pipefail

BENCH_NAME=bench-sched
. "$(dirname "$0")/bench-lib.sh"

BUILD=${1:?usage: bench-sched.sh <abs build dir>}
LOOPS=${BENCH_LOOPS:-200000}
REPS=${BENCH_REPS:-5}
DRIVER=$BUILD/bench/sched_driver
RUNQLAT=$(command -v runqlat || echo /usr/sbin/runqlat)
OFFCPUTIME=$(command -v offcputime || echo /usr/sbin/offcputime)

CONFIGS=()                 # configurations that run, in order
declare -A OPS=()          # per configuration: ops/s of each run, space-separated
declare -A MEDIAN=()
declare -A LABEL=([none]="no tracer" [glimpse]="glimpse sched" [runqlat]="runqlat -P" [offcputime]="offcputime")
PIDS=()                    # everything we started that may still run
CPU=""
G_DROPPED=0
tmp=""


cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "$tmp" ] && rm -rf "$tmp"
}


# bpf_links PID: how many BPF tracing / raw tracepoint links PID holds (from its fdinfo).
bpf_links() {
	awk '$1 == "link_type:" && ($2 == "tracing" || $2 == "raw_tracepoint") { n++ } END { print n + 0 }' \
		/proc/"$1"/fdinfo/* 2>/dev/null || echo 0
}

# wait_attached PID SECONDS: until PID holds BPF links and their number held still for 0.5 s.
wait_attached() {
	local pid=$1 tenths=$(($2 * 10)) n prev=0 still=0 i
	for ((i = 0; i < tenths; i++)); do
		alive "$pid" || return 1
		n=$(bpf_links "$pid")
		if [ "$n" -gt 0 ] && [ "$n" = "$prev" ]; then
			still=$((still + 1))
			[ "$still" -ge 5 ] && return 0
		else
			still=0
		fi
		prev=$n
		sleep 0.1
	done
	return 1
}

# run_pipe NAME: one pinned perf bench sched pipe run; appends its ops/s to OPS[NAME].
run_pipe() {
	local name=$1 out=$tmp/pipe.out ops
	taskset -c "$CPU" perf bench sched pipe -l "$LOOPS" >"$out" 2>&1 || { cat "$out" >&2; die "perf bench sched pipe failed"; }
	# "         190723 ops/sec"
	ops=$(awk '$2 == "ops/sec" { print $1; exit }' "$out")
	[[ $ops =~ ^[0-9]+$ ]] || { cat "$out" >&2; die "cannot parse perf bench's output"; }
	OPS[$name]="${OPS[$name]:-} $ops"
	printf ' %s' "$ops"
}

# with_tracer NAME CMD...: starts CMD in the background, waits until it has attached, runs the
# pipe benchmark, stops CMD with SIGINT (each tool then prints its summary and exits 0).
with_tracer() {
	local name=$1 pid rc=0
	shift
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	PIDS+=("$pid")
	if ! wait_attached "$pid" 30; then
		alive "$pid" || wait "$pid" || rc=$?
		echo >&2
		echo "bench-sched: $name did not attach (status $rc); its stderr:" >&2
		tail -n 20 "$tmp/$name.err" >&2
		exit 1
	fi
	run_pipe "$name"
	if ! alive "$pid"; then
		wait "$pid" || rc=$?
		echo "bench-sched: $name exited (status $rc) during the run; its stderr:" >&2
		tail -n 20 "$tmp/$name.err" >&2
		exit 1
	fi
	stop "$pid" INT 100 || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "bench-sched: $name failed (exit $rc after SIGINT); its stderr:" >&2
		tail -n 20 "$tmp/$name.err" >&2
		exit 1
	fi
}

run_config() {
	case $1 in
	none) run_pipe none ;;
	glimpse)
		with_tracer glimpse "$DRIVER"
		local d
		d=$(awk -F= '$1 == "dropped" { print $2 }' "$tmp/glimpse.out")
		G_DROPPED=$((G_DROPPED + ${d:-0}))
		;;
	runqlat) with_tracer runqlat "$RUNQLAT" -P 86400 1 ;;
	offcputime) with_tracer offcputime "$OFFCPUTIME" ;;
	esac
}

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

report() {
	local t c
	echo
	echo "== summary: perf bench sched pipe -l $LOOPS pinned to CPU $CPU, median of $REPS runs," \
		"$(nproc) CPUs, load average at start $LOAD_AT_START"
	printf '%-16s %12s %10s %22s   %s\n' configuration "ops/s" "vs none" "added ns/ctx switch" "runs"
	for t in "${CONFIGS[@]}"; do
		MEDIAN[$t]=$(median <<<"${OPS[$t]}")
	done
	for t in "${CONFIGS[@]}"; do
		# One round trip = two wakeups and two context switches.
		if [ "$t" = none ]; then c=-; else c=$(calc %.0f "(1e9 / ${MEDIAN[$t]} - 1e9 / ${MEDIAN[none]}) / 2"); fi
		printf '%-16s %12s %9sx %22s  %s\n' "${LABEL[$t]}" "${MEDIAN[$t]}" \
			"$(calc %.3f "${MEDIAN[$t]} / ${MEDIAN[none]}")" "$c" "${OPS[$t]}"
	done
	if [ -n "${MEDIAN[glimpse]:-}" ]; then
		for t in runqlat offcputime; do
			[ -n "${MEDIAN[$t]:-}" ] || continue
			local g r
			g=$(calc %.6f "1e9 / ${MEDIAN[glimpse]} - 1e9 / ${MEDIAN[none]}")
			r=$(calc %.6f "1e9 / ${MEDIAN[$t]} - 1e9 / ${MEDIAN[none]}")
			if [ "$(calc %d "$r > 0")" = 1 ]; then
				echo "glimpse's added cost / ${LABEL[$t]}'s: $(calc %.2f "$g / $r")x"
			fi
		done
		echo "glimpse: intervals lost to full maps over all runs: $G_DROPPED"
	fi
	echo "(glimpse records run-queue latency, off-CPU time and context switches; runqlat only the"
	echo " first, offcputime only the second but with stacks. Pinned runs on a shared machine still"
	echo " vary by ~10 %: use BENCH_REPS=9 or more for numbers worth comparing)"
}

main() {
	[[ $LOOPS =~ ^[1-9][0-9]*$ ]] || die "BENCH_LOOPS must be a positive integer (got '$LOOPS')"
	[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPS must be a positive integer (got '$REPS')"
	[ "$(id -u)" -eq 0 ] || die "must run as root (tracers need CAP_BPF/CAP_PERFMON)"
	have perf || die "perf not found: install package linux-perf"
	have taskset || die "taskset not found: install package util-linux"
	[ -x "$DRIVER" ] || die "$DRIVER not found: run make bench-sched"

	tmp=$(mktemp -d /tmp/bench-sched.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM

	CPU=$(($(nproc) - 1))
	CONFIGS=(none glimpse)
	if [ -x "$RUNQLAT" ]; then CONFIGS+=(runqlat); else note "runqlat not installed (package libbpf-tools): skipped"; fi
	if [ -x "$OFFCPUTIME" ]; then CONFIGS+=(offcputime); else note "offcputime not installed (package libbpf-tools): skipped"; fi

	LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
	local r t
	for ((r = 1; r <= REPS; r++)); do
		echo "== round $r/$REPS (ops/s):"
		for t in "${CONFIGS[@]}"; do
			printf '   %-14s' "${LABEL[$t]}"
			run_config "$t"
			echo
		done
	done
	report
}

main
