#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark: what does profiling a busy process cost with glimpse, perf and bpftrace?
#
# Usage: scripts/bench-profile.sh <abs build dir>   (run by `make bench-profile`)
# Env:   BENCH_SECONDS (default 30)  profiling duration per tool
#        BENCH_HZ      (default 99)  sampling frequency
#        BENCH_ALL_SECONDS (default 60) the whole-machine run below
#        BENCH_UNWIND_HZ (default 999) sampling frequency of the .eh_frame walk's run
#
# Each tool profiles a fresh 2-thread CPU burner (apps/cburner -j 2) for BENCH_SECONDS at
# BENCH_HZ.  Then glimpse alone profiles apps/cqsort (no frame pointers, stacks through libc's
# qsort: every sample walked with the .eh_frame tables) at BENCH_UNWIND_HZ, user stacks only,
# and the kernel's run counters of its BPF program give the time per walk: how many stacks the
# .eh_frame walk can unwind per second on one CPU.  The profiler's own CPU time (user+sys) and peak RSS come from GNU time.  This is
# a benchmark, not a test: it prints numbers, ratios and the goals' PASS/MISS, and exits
# non-zero only when a tool is missing or broken.  perf and bpftrace are optional.
#
# Two more glimpse runs, with their own goals: `glimpse profile -a -F 19` on every process of
# the machine for BENCH_ALL_SECONDS (the continuous-profiling setting: its CPU, against 1 % of
# one core, and peak RSS), and a profile of a large Go binary, Debian's Prometheus (50 MB,
# 14 MB of pclntab), when it is installed: peak RSS against the same 20 MB as any target.
set -euo pipefail

BENCH_NAME=bench-profile
. "$(dirname "$0")/bench-lib.sh"

BUILD=${1:?usage: bench-profile.sh <abs build dir>}
SECS=${BENCH_SECONDS:-30}
HZ=${BENCH_HZ:-99}
GLIMPSE=$BUILD/glimpse
BURNER=$BUILD/apps/cburner
UNWIND_HZ=${BENCH_UNWIND_HZ:-999}
QSORT=$BUILD/apps/cqsort
GNU_TIME=/usr/bin/time

# Goals from the issue.
GOAL_CPU_VS_PERF=0.5 # glimpse CPU <= 0.5x perf record+report
GOAL_CORE_PCT=1      # glimpse < 1 % of one core
GOAL_RSS_MB=20       # glimpse peak RSS <= 20 MB (any single target, a large Go binary too)
ALL_SECS=${BENCH_ALL_SECONDS:-60}
ALL_HZ=19
PROMETHEUS=/usr/bin/prometheus

declare -A CPU=() RSS=() SAMPLES=() # per measured run: seconds, MB, samples
BURNER_PIDS=()
MEASURED_PID=""     # the GNU time process of the measured command running in the background
BPF_RUN_NS="" BPF_RUN_CNT="" BPF_AT=""
UNWIND_RESULT=""
tmp=""


cleanup() {
	local p
	if [ -n "$MEASURED_PID" ]; then
		for p in $(pgrep -P "$MEASURED_PID" || true); do kill "$p" 2>/dev/null || true; done
		kill "$MEASURED_PID" 2>/dev/null || true
	fi
	for p in "${BURNER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	restore_bpf_stats
	[ -n "$tmp" ] && rm -rf "$tmp"
}

# ---- burner --------------------------------------------------------------------------------

# start_burner: starts a fresh 2-thread burner, sets BURNER_PID once it printed "ready PID".
start_burner() {
	local out=$tmp/burner.${#BURNER_PIDS[@]}.out i
	: >"$out" # exists before the background job opens it
	# -t is only a safety net (the trap kills it); long enough for bpftrace's startup too.
	"$BURNER" -j 2 -t $((SECS + 120)) >"$out" &
	BURNER_PIDS+=("$!")
	for ((i = 0; i < 100; i++)); do
		BURNER_PID=$(awk '$1 == "ready" { print $2; exit }' "$out")
		[ -n "$BURNER_PID" ] && return 0
		sleep 0.05
	done
	die "cburner did not print 'ready PID'"
}

stop_burner() {
	kill "$BURNER_PID" 2>/dev/null || true
	wait "$BURNER_PID" 2>/dev/null || true
}

# ---- measured commands ---------------------------------------------------------------------

# measure_start NAME CMD...: runs CMD under GNU time in the background (stderr to $tmp/NAME.err,
# stdout wherever the caller redirected it).  Sets MEASURED_PID (the GNU time process).
measure_start() {
	local name=$1
	shift
	"$GNU_TIME" -o "$tmp/$name.time" -f '%U %S %M' "$@" 2>"$tmp/$name.err" &
	MEASURED_PID=$!
}

# measured_command_pid: the PID of the command GNU time runs (its only child).
measured_command_pid() { pgrep -P "$MEASURED_PID" | head -n 1; }

# measure_wait NAME: waits for the measured command; sets CPU[NAME] (user+sys s) and RSS[NAME]
# (peak MB).  A failing command means a broken tool: show its stderr and exit.
measure_wait() {
	local name=$1 rc=0 user sys rss_kb
	wait "$MEASURED_PID" || rc=$?
	MEASURED_PID=""
	if [ "$rc" -ne 0 ]; then
		echo "bench-profile: $name failed (exit $rc); its stderr:" >&2
		tail -n 20 "$tmp/$name.err" >&2
		exit 1
	fi
	# GNU time may prefix a "Command exited/terminated ..." line: our format is the last line.
	read -r user sys rss_kb < <(tail -n 1 "$tmp/$name.time")
	CPU[$name]=$(calc %.2f "$user + $sys")
	RSS[$name]=$(calc %.1f "$rss_kb / 1024")
}

# measure NAME CMD...: runs CMD to completion under GNU time.
measure() {
	measure_start "$@"
	measure_wait "$1"
}

# measure_hwm NAME CMD...: measure, also setting HWM[NAME] (MB): the measured process's own
# peak (VmHWM, read while it runs).  GNU time's peak is the larger of it and its children's:
# glimpse loads its BPF objects in a short-lived child (base/bpf_child.h), whose peak — glimpse's
# shared libraries plus libbpf's parse of the kernel's BTF — then shows instead.
declare -A HWM=()
measure_hwm() {
	local name=$1 pid="" kb=0 v i
	measure_start "$@"
	for ((i = 0; i < 100; i++)); do
		pid=$(measured_command_pid) || true
		[ -n "$pid" ] && break
		sleep 0.01
	done
	while [ -n "$pid" ] && v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) && [ -n "$v" ]; do
		[ "$v" -gt "$kb" ] && kb=$v
		sleep 0.05
	done
	measure_wait "$name"
	HWM[$name]=$(calc %.1f "$kb / 1024")
}

# ---- glimpse's in-kernel cost --------------------------------------------------------------



# read_bpf_stats: sums run_time_ns/run_cnt of the on_cpu_sample programs held open by the
# measured glimpse (found through its fds, since other glimpse instances may be running).
read_bpf_stats() {
	local gpid ids id json ns=0 cnt=0 found=0
	gpid=$(measured_command_pid) || true
	[ -n "$gpid" ] || return 0
	ids=$(sed -n 's/^prog_id:[[:space:]]*//p' /proc/"$gpid"/fdinfo/* 2>/dev/null | sort -un) || true
	for id in $ids; do
		json=$(bpftool -j prog show id "$id" 2>/dev/null) || continue
		[[ $json == *'"name":"on_cpu_sample"'* ]] || continue
		ns=$((ns + $(sed -n 's/.*"run_time_ns":\([0-9]*\).*/\1/p' <<<"$json")))
		cnt=$((cnt + $(sed -n 's/.*"run_cnt":\([0-9]*\).*/\1/p' <<<"$json")))
		found=1
	done
	if [ "$found" = 1 ]; then BPF_RUN_NS=$ns BPF_RUN_CNT=$cnt; fi
}

# interrupt PID NAME: SIGINTs PID until it exits.  Rarely, bpftrace misses the first SIGINT and
# would run forever: resend every 2 s, give up (SIGTERM, fail) after 60 s.
interrupt() {
	local pid=$1 name=$2 tries i
	for ((tries = 1; tries <= 30; tries++)); do
		kill -INT "$pid" 2>/dev/null || return 0
		for ((i = 0; i < 20; i++)); do
			sleep 0.1
			if ! kill -0 "$pid" 2>/dev/null; then
				if [ "$tries" -gt 1 ]; then note "$name needed $tries SIGINTs to stop"; fi
				return 0
			fi
		done
	done
	kill -TERM "$pid" 2>/dev/null || true
	die "$name did not exit on SIGINT"
}

# ---- the tools -----------------------------------------------------------------------------

bench_glimpse() {
	local stats=0 at
	echo "== glimpse: profile -p PID -F $HZ -d $SECS -o glimpse.pb.gz --top 0"
	start_burner
	if have bpftool && enable_bpf_stats "glimpse's in-kernel cost"; then stats=1; fi
	measure_start glimpse "$GLIMPSE" profile -p "$BURNER_PID" -F "$HZ" -d "$SECS" \
		-o "$tmp/glimpse.pb.gz" --top 0
	if [ "$stats" = 1 ]; then
		# The program goes away with glimpse: sample it shortly before the end.
		at=0.5
		[ "$SECS" -gt 1 ] && at=$((SECS - 1))
		sleep "$at"
		read_bpf_stats
		BPF_AT=$at
	fi
	measure_wait glimpse
	restore_bpf_stats
	stop_burner
	SAMPLES[glimpse]=$(sed -n 's/.*profile collected.*samples=\([0-9]*\).*/\1/p' "$tmp/glimpse.err" | tail -n 1)
	[ -s "$tmp/glimpse.pb.gz" ] || die "glimpse wrote no profile"
	echo "   CPU ${CPU[glimpse]} s, peak RSS ${RSS[glimpse]} MB, samples ${SAMPLES[glimpse]:-?}"
	if [ -n "$BPF_RUN_CNT" ] && [ "$BPF_RUN_CNT" -gt 0 ]; then
		echo "   in-kernel (on_cpu_sample, first ${BPF_AT} s): $BPF_RUN_CNT runs," \
			"$(calc %.0f "$BPF_RUN_NS / $BPF_RUN_CNT") ns per sample (run)," \
			"$(calc %.2f "$BPF_RUN_NS / 1e6") ms total" \
			"($(calc %.4f "$BPF_RUN_NS / 1e7 / $BPF_AT") % of one core)"
		echo "   (BPF time is charged to the interrupted task, not to glimpse's CPU above)"
	elif [ "$stats" = 1 ]; then
		note "on_cpu_sample program of glimpse not found: in-kernel cost not measured"
	fi
}

# The .eh_frame walk: glimpse -U on cqsort, every sample's user stack walked with the tables.
bench_unwind() {
	local out pid i frames stacks
	echo "== glimpse, .eh_frame walk: profile -p PID -U -F $UNWIND_HZ -d $SECS on cqsort (no frame pointers)"
	if ! have bpftool || ! enable_bpf_stats "the .eh_frame walk's time"; then
		note "no BPF run counters: the .eh_frame walk is not measured"
		return 0
	fi
	out=$tmp/cqsort.out
	: >"$out"
	"$QSORT" -t $((SECS + 60)) >"$out" &
	BURNER_PIDS+=("$!")
	pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^ready' "$out" && break
		sleep 0.05
	done
	BPF_RUN_NS="" BPF_RUN_CNT=""
	measure_start unwind "$GLIMPSE" profile -p "$pid" -U -F "$UNWIND_HZ" -d "$SECS" \
		--folded "$tmp/unwind.folded" --top 0
	sleep $((SECS > 1 ? SECS - 1 : 1))
	read_bpf_stats
	measure_wait unwind
	restore_bpf_stats
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	grep -E 'unwound|warning' "$tmp/unwind.err" | sed 's/^/   /' || true
	# Mean frames per stack, weighted by samples (folded: "process;f1;...;fn count").
	frames=$(awk '{ n = split($1, f, ";"); s += (n - 1) * $2; c += $2 } END { if (c) printf "%.1f", s / c }' \
		"$tmp/unwind.folded")
	if [ -n "$BPF_RUN_CNT" ] && [ "$BPF_RUN_CNT" -gt 0 ]; then
		stacks=$(calc %.0f "1e9 * $BPF_RUN_CNT / $BPF_RUN_NS")
		UNWIND_RESULT="$stacks stacks/s on one CPU ($(calc %.0f "$BPF_RUN_NS / $BPF_RUN_CNT") ns per sample, ${frames:-?} frames per stack)"
		echo "   .eh_frame walk: $UNWIND_RESULT"
		echo "   (the whole sampling program's time per run: the walk, the stack's hash and store, the count)"
	else
		note "on_cpu_sample program of glimpse not found: the .eh_frame walk is not measured"
	fi
}

bench_perf() {
	echo "== perf: record -F $HZ -g -p PID -- sleep $SECS, then report --stdio"
	start_burner
	measure perf-record perf record -F "$HZ" -g -p "$BURNER_PID" -o "$tmp/perf.data" -- sleep "$SECS"
	stop_burner
	measure perf-report perf report -i "$tmp/perf.data" --stdio >/dev/null
	# record + report run one after the other: CPU adds up, peak RSS is the larger one.
	CPU[perf]=$(calc %.2f "${CPU[perf-record]} + ${CPU[perf-report]}")
	RSS[perf]=$(calc %.1f "${RSS[perf-record]} > ${RSS[perf-report]} ? ${RSS[perf-record]} : ${RSS[perf-report]}")
	SAMPLES[perf-record]=$(sed -n 's/.*perf record: Captured.*(\([0-9]*\) samples).*/\1/p' "$tmp/perf-record.err")
	SAMPLES[perf]=${SAMPLES[perf-record]}
	echo "   record: CPU ${CPU[perf-record]} s, peak RSS ${RSS[perf-record]} MB, samples ${SAMPLES[perf-record]:-?}"
	echo "   report: CPU ${CPU[perf-report]} s, peak RSS ${RSS[perf-report]} MB"
}

bench_bpftrace() {
	local prog bpid tenths attach="?"
	echo "== bpftrace: profile:hz:$HZ /pid == PID/ { @[ustack, kstack] = count(); }, SIGINT after $SECS s"
	start_burner
	prog="profile:hz:$HZ /pid == $BURNER_PID/ { @[ustack, kstack] = count(); }"
	measure_start bpftrace bpftrace -e "$prog" >"$tmp/bpftrace.out"
	# Note when it attached (it prints "Attaching N probes..."), to show its startup time.
	for ((tenths = 1; tenths < SECS * 10; tenths++)); do
		sleep 0.1
		if grep -q '^Attaching' "$tmp/bpftrace.out"; then attach=$(calc %.1f "$tenths / 10"); break; fi
	done
	sleep "$(calc %.1f "$SECS - $tenths / 10")"
	# SIGINT bpftrace itself (GNU time ignores it); it prints the map and exits 0.
	bpid=$(measured_command_pid) || true
	[ -n "$bpid" ] && interrupt "$bpid" bpftrace
	measure_wait bpftrace
	stop_burner
	SAMPLES[bpftrace]=$(awk '/\]: [0-9]+$/ { n += $NF } END { print n + 0 }' "$tmp/bpftrace.out")
	echo "   CPU ${CPU[bpftrace]} s, peak RSS ${RSS[bpftrace]} MB, samples ${SAMPLES[bpftrace]} (attached after ~$attach s)"
	echo "   (its CPU includes startup: parsing, LLVM codegen, loading, plus stack symbolization at exit)"
}

# ---- report --------------------------------------------------------------------------------

# ratio A B: A/B with 2 decimals, "n/a" if either is missing or B is zero.
# bench_all: glimpse on every process of the machine at ALL_HZ, the burner running.
bench_all() {
	echo "== glimpse: profile -a -F $ALL_HZ -d $ALL_SECS -o all.pb.gz --top 0 (every process)"
	start_burner
	measure all "$GLIMPSE" profile -a -F "$ALL_HZ" -d "$ALL_SECS" -o "$tmp/all.pb.gz" --top 0
	stop_burner
	SAMPLES[all]=$(sed -n 's/.*profile collected.*samples=\([0-9]*\).*/\1/p' "$tmp/all.err" | tail -n 1)
	echo "   CPU ${CPU[all]} s ($(calc %.3f "${CPU[all]} * 100 / $ALL_SECS") % of one core)," \
		"peak RSS ${RSS[all]} MB, samples ${SAMPLES[all]:-?}"
}

# bench_large_go: glimpse on Prometheus (a private instance on a free port, its data in tmp)
# while a client queries it, for its peak RSS.
bench_large_go() {
	local ppid port i
	if [ ! -x "$PROMETHEUS" ]; then
		note "$PROMETHEUS not installed (package prometheus): the large Go binary run is skipped"
		return 0
	fi
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	echo "== glimpse: profile -p PID -F $HZ -d 10 of $PROMETHEUS (queried in a loop)"
	"$PROMETHEUS" --config.file=/dev/null --storage.tsdb.path="$tmp/prometheus" \
		--web.listen-address="127.0.0.1:$port" >"$tmp/prometheus.log" 2>&1 &
	ppid=$!
	BURNER_PIDS+=("$ppid")
	for ((i = 0; i < 100; i++)); do
		curl -fsS -o /dev/null "http://127.0.0.1:$port/-/ready" 2>/dev/null && break
		sleep 0.1
	done
	(while kill -0 "$ppid" 2>/dev/null; do curl -fs -o /dev/null "http://127.0.0.1:$port/api/v1/query?query=up" || sleep 0.1; done) &
	BURNER_PIDS+=("$!")
	measure_hwm large-go "$GLIMPSE" profile -p "$ppid" -F "$HZ" -d 10 -o "$tmp/large-go.pb.gz" --top 0
	kill "$ppid" 2>/dev/null || true
	wait "$ppid" 2>/dev/null || true
	echo "   CPU ${CPU[large-go]} s, peak RSS ${RSS[large-go]} MB (glimpse process alone: ${HWM[large-go]} MB)"
}

ratio() {
	if [ -z "${1:-}" ] || [ -z "${2:-}" ] || [ "$(calc %d "$2 == 0")" = 1 ]; then
		echo n/a
	else
		echo "$(calc %.2f "$1 / $2")x"
	fi
}

# goal TEXT CONDITION: prints PASS/MISS; CONDITION is an awk expression.
goal() { printf '  %-48s %s\n' "$1" "$([ "$(calc %d "$2")" = 1 ] && echo PASS || echo MISS)"; }

report() {
	local t label
	echo
	echo "== summary: ${SECS} s at ${HZ} Hz, 2-thread burner, $(nproc) CPUs, load average at start $LOAD_AT_START"
	printf '%-20s %8s %14s %12s %9s\n' tool "CPU s" "% of 1 core" "peak RSS MB" samples
	for t in glimpse perf-record perf-report perf bpftrace; do
		[ -n "${CPU[$t]:-}" ] || continue
		case $t in
		perf-record) label="perf record" ;;
		perf-report) label="perf report" ;;
		perf) label="perf record+report" ;;
		*) label=$t ;;
		esac
		printf '%-20s %8s %13s%% %12s %9s\n' "$label" "${CPU[$t]}" \
			"$(calc %.2f "${CPU[$t]} * 100 / $SECS")" "${RSS[$t]}" "${SAMPLES[$t]:--}"
	done
	echo "(CPU = user+sys from GNU time, 10 ms resolution; % of one core over the ${SECS} s run;"
	echo " at most $((HZ * SECS * 2)) samples: fewer means the burner shared the CPUs with other load)"
	if [ -n "${RSS[large-go]:-}" ]; then
		printf '%-20s %8s %14s %12s %9s\n' "glimpse, Prometheus" "${CPU[large-go]}" "(10 s run)" \
			"${RSS[large-go]}" -
		printf '%-20s %8s %14s %12s %9s\n' "  its process alone" - - "${HWM[large-go]}" -
		echo "(GNU time's peak RSS includes the short-lived child that loads the BPF objects;"
		echo " \"its process alone\" is glimpse's own VmHWM)"
	fi

	echo
	echo "glimpse ratios:"
	printf '  %-40s %s\n' \
		"CPU / perf CPU (record+report)" "$(ratio "${CPU[glimpse]}" "${CPU[perf]:-}")" \
		"CPU / perf CPU (record alone)" "$(ratio "${CPU[glimpse]}" "${CPU[perf-record]:-}")" \
		"CPU / bpftrace CPU" "$(ratio "${CPU[glimpse]}" "${CPU[bpftrace]:-}")" \
		"RSS / perf RSS (record+report)" "$(ratio "${RSS[glimpse]}" "${RSS[perf]:-}")" \
		"RSS / perf RSS (record alone)" "$(ratio "${RSS[glimpse]}" "${RSS[perf-record]:-}")" \
		"RSS / bpftrace RSS" "$(ratio "${RSS[glimpse]}" "${RSS[bpftrace]:-}")"

	echo
	echo "goals:"
	if [ -n "${CPU[perf]:-}" ]; then
		goal "glimpse CPU <= ${GOAL_CPU_VS_PERF}x perf CPU (record+report)" \
			"${CPU[glimpse]} <= $GOAL_CPU_VS_PERF * ${CPU[perf]}"
	else
		printf '  %-48s %s\n' "glimpse CPU <= ${GOAL_CPU_VS_PERF}x perf CPU (record+report)" "SKIP (no perf)"
	fi
	goal "glimpse < ${GOAL_CORE_PCT} % of one core" "${CPU[glimpse]} * 100 / $SECS < $GOAL_CORE_PCT"
	goal "glimpse peak RSS <= ${GOAL_RSS_MB} MB" "${RSS[glimpse]} <= $GOAL_RSS_MB"
	if [ -n "${CPU[all]:-}" ]; then
		goal "glimpse -a at ${ALL_HZ} Hz < ${GOAL_CORE_PCT} % of one core" "${CPU[all]} * 100 / $ALL_SECS < $GOAL_CORE_PCT"
		goal "glimpse -a at ${ALL_HZ} Hz peak RSS <= ${GOAL_RSS_MB} MB" "${RSS[all]} <= $GOAL_RSS_MB"
	fi
	if [ -n "${RSS[large-go]:-}" ]; then
		goal "glimpse on Prometheus peak RSS <= ${GOAL_RSS_MB} MB" "${RSS[large-go]} <= $GOAL_RSS_MB"
	fi
	if [ -n "$UNWIND_RESULT" ]; then
		echo
		echo ".eh_frame walk (cqsort, ${UNWIND_HZ} Hz, user stacks): $UNWIND_RESULT"
	fi
	if [ "${CPU[glimpse]}" = 0.00 ]; then
		note "glimpse's CPU is below GNU time's 10 ms resolution; use a longer BENCH_SECONDS"
	fi
}

main() {
	[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer (got '$SECS')"
	[[ $HZ =~ ^[1-9][0-9]*$ ]] || die "BENCH_HZ must be a positive integer (got '$HZ')"
	[[ $ALL_SECS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ALL_SECONDS must be a positive integer (got '$ALL_SECS')"
	[ -x "$GLIMPSE" ] || die "$GLIMPSE not found: run make"
	[ -x "$BURNER" ] || die "$BURNER not found: run make apps"
	[ -x "$GNU_TIME" ] || die "$GNU_TIME not found: install package time"
	[ "$(id -u)" -eq 0 ] || die "must run as root (profilers need CAP_BPF/CAP_PERFMON)"

	tmp=$(mktemp -d /tmp/bench-profile.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM

	LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
	bench_glimpse
	if [ -x "$QSORT" ]; then bench_unwind; else note "$QSORT not found (make apps): the .eh_frame walk is not measured"; fi
	if have perf; then bench_perf; else note "perf not installed (package linux-perf): skipped"; fi
	if have bpftrace; then bench_bpftrace; else note "bpftrace not installed (package bpftrace): skipped"; fi
	bench_all
	bench_large_go
	report
}

main
