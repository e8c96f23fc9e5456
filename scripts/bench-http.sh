#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark: what does tracing an HTTP service cost with glimpse attach (socket capture and
# uprobes), and with bpftrace?
#
# Usage: scripts/bench-http.sh <abs build dir>   (run by `make bench-http`)
# Env:   BENCH_SECONDS (default 10)  wrk duration per run
#        BENCH_ROUNDS  (default 3)   runs of each of (a) and (b) below; the median is reported
#        BENCH_PIPE_LOOPS (default BENCH_SECONDS * 50000, about 2-3 s)  round trips per
#                                    `perf bench sched pipe` run
#
# Pinned setup (on 2 CPUs or more): apps/httpsvc-1.23 runs on CPU 0 alone (taskset -c 0);
# everything else we start runs on CPU 1: wrk (1 thread, 32 connections, GET /fast),
# glimpse, bpftrace, the OTLP receiver and `perf bench sched pipe`.  With the service on one
# CPU and saturated, 1/rps is its CPU time per request, so the added cost per request
# (1/rps - 1/rps(none), in µs) is what a tracer adds in the service's own context: the probes,
# the tracepoint plumbing, the ring-buffer copies.  glimpse's user-space work (parsing,
# metrics) is on CPU 1 and reported apart as CPU time; the busy share of each CPU is printed
# too, so a run where CPU 1 (the client) ran out of time stands out instead of passing for
# tracing cost.  Other processes on a shared machine take CPU 0 too, though, and then
# requests/s drops for reasons of theirs: so each run also reads the service's own CPU time
# (utime+stime from /proc, where the probes run) and reports CPU µs per request, whose
# ratio against no tracer is the throughput the service's CPU allows.  Both are printed,
# and the throughput goals are judged on both (wrk's, then the service CPU's); where they
# disagree, the service was waiting or its CPU was taken, which the CPU % columns show.
#
# Configurations, each against a fresh service instance:
#   (a) none:     no tracer;
#   (b) socket:   `glimpse attach -p PID --capture socket` (tp_btf sock_send_length and
#                 sock_recv_length, in-kernel tgid filter; metrics served on /metrics);
#   (c) uprobes:  `glimpse attach -p PID --capture uprobes`;
#   (d) traces:   (c) plus spans exported over OTLP to the test receiver;
#   (e) bpftrace: one counting uprobe on net/http.serverHandler.ServeHTTP.
# Every glimpse runs with --no-live --prometheus-addr 127.0.0.1:0 (metrics on, a free port).
# Order: BENCH_ROUNDS rounds of "none, socket, <extra>", the extras (c), (d), (e) spread one
# a round (what is left goes to the last round): the reference brackets every traced run in
# time, and drift in the shared machine's load hits (a) and (b) alike.  For (a) and (b) the
# median over the rounds is reported (all runs are printed); (c)-(e) run once and compare
# against the median of (a).
#
# The unrelated syscall-heavy process: after each wrk run of (a), (b) and (c), with the
# service idle but still running (and glimpse still attached to it), `perf bench sched pipe`
# on CPU 1 (two processes ping-ponging over pipes: 2 reads, 2 writes and 2 context switches
# a round trip) measures what a process glimpse does not watch pays for glimpse watching
# another: the socket tracepoints run for every process's socket calls (none of a pipe's) and
# filter on the tgid in the kernel, and the scheduler probes run on every context switch.
# After (a)'s, the same run beside build/tools/syscall_floor (`make tools`: an empty program on
# the raw tracepoint sys_exit, nothing else) gives the floor of a syscall-tracepoint design (the
# socket path's before it moved to the socket tracepoints; --logs still attaches one): attaching
# one sends every system call of every process through the kernel's slow path.  It is measured both by
# wall clock (round trips/s) and by CPU time (round trips per second of user+sys time of
# perf's processes, immune to other processes on CPU 1); (c) has the scheduler probes but no
# socket tracepoint, which splits (b)'s cost between the two.  After each perf run,
# build/tools/syscall_loop times a one-process write+read loop on a pipe and on a Unix socket
# pair (CPU ns a loop): the pipe pays no socket tracepoint, the socket pair one run a call.
#
# kernel.bpf_stats_enabled (the per-program run_cnt) costs two clock reads per BPF program
# run, which is not negligible against a tracepoint run: it is on for (c)-(e) (the uprobe
# hit counts; a trap costs far more) and off for (a) and (b), where glimpse's own counter
# glimpse_socket_tracepoint_hits_total (runs in the captured processes that passed the
# filter, 1 per followed system call) gives the hits per request.
#
# It prints requests/s, ratios against (a), added µs per request, hits per request,
# glimpse's CPU time and RSS (at attach, and current and peak after the run, from /proc),
# the pipe benchmark's round trips/s, and the goals' PASS/MISS.  This is a benchmark, not a
# test: it exits non-zero only when a tool is missing or broken.  A glimpse without `attach`
# skips (b)-(d); bpftrace and perf are optional.  About (ROUNDS * 2 + 3) * (BENCH_SECONDS + 3)
# seconds in all: about 2.5 min at the defaults.
set -euo pipefail

BENCH_NAME=bench-http
. "$(dirname "$0")/bench-lib.sh"
. "$(dirname "$0")/bench-probes.sh"

BUILD=${1:?usage: bench-http.sh <abs build dir>}
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
PIPE_LOOPS=""
GLIMPSE=$BUILD/glimpse
SVC=$BUILD/apps/httpsvc-1.23
WRK_THREADS=1 # one CPU for the client: a second thread would only add context switches
WRK_CONNS=32
PROBE_SYM=net/http.serverHandler.ServeHTTP
SVC_CPU=0
LOAD_CPU=1

# Goals from the issues.
GOAL_COST_VS_BPFTRACE=2.2 # glimpse's (uprobes) added cost per request <= 2.2x bpftrace's
GOAL_HITS_PER_REQ=2       # glimpse's uprobe hits per request <= 2
GOAL_RSS_MB=20            # glimpse RSS <= 20 MB, peak included
GOAL_SOCKET_RATIO=0.90    # socket capture: >= 0.90x the untraced throughput
MOONSHOT_SOCKET_RATIO=0.95
GOAL_PIPE_RATIO=0.95      # an unwatched syscall-heavy process: >= 0.95x its untraced rate

declare -A RPS_RUNS=() RPS=() REQS=() # per configuration: requests/s of each run, their median, requests in all
declare -A PIPE_RUNS=() PIPE=()       # per configuration: pipe round trips/s of each run, their median
declare -A BUSY_SVC=() BUSY_LOAD=()   # per configuration: busy % of CPU 0 and CPU 1 during each wrk run
declare -A SVC_US=() SVC_US_MED=()    # per configuration: the service's CPU µs per request in each wrk run, their median
declare -A PIPE_CPU_RUNS=() PIPE_CPU=() # per configuration: pipe round trips per CPU second of each run, their median
declare -A LOOP_RUNS=()               # per configuration: syscall_loop's "pipe/unix" CPU ns a loop of each run
# Per glimpse configuration (summed or maxed over its runs): hits during wrk and the requests
# they were measured over, CPU s during wrk, runs, CPU s over its life (last run), RSS in MB at
# attach (VmRSS, VmHWM), after the run (VmRSS), peak (VmHWM).
declare -A G_HITS=() G_HITS_REQS=() G_CPU_RUN=() G_RUNS=() G_CPU=() G_RSS_ATTACH=() G_HWM_ATTACH=() G_RSS_NOW=() G_RSS=()
CONFIGS=()                  # configurations that ran, in order of first run
PIDS=()                     # everything we started that may still run
SVC_PID="" SVC_ADDR=""
SVC_PIN=() LOAD_PIN=()
STATS=0                     # 1: we may toggle kernel.bpf_stats_enabled
PERF=0                      # 1: perf bench sched pipe works
SPANS=""
BT_HITS=""                  # bpftrace's @hits
tmp=""


# bpf_stats 0|1: the kernel's per-program run counters off or on (when we may).
bpf_stats() {
	[ "$STATS" = 1 ] || return 0
	sysctl -q -w kernel.bpf_stats_enabled="$1" >/dev/null 2>&1 || true
}

seen() {
	local c
	for c in "${CONFIGS[@]}"; do [ "$c" = "$1" ] && return 0; done
	CONFIGS+=("$1")
}


# ---- the service and the load --------------------------------------------------------------

# start_svc: starts a fresh httpsvc, sets SVC_PID and SVC_ADDR from its "ready PID HOST:PORT".
start_svc() {
	local out=$tmp/svc.${#PIDS[@]}.out i line
	: >"$out"
	# -t is only a safety net (the trap kills it); long enough for bpftrace's startup and the
	# pipe benchmark too.
	"${SVC_PIN[@]}" "$SVC" -t $((SECS + 180)) >"$out" 2>&1 &
	PIDS+=("$!")
	for ((i = 0; i < 100; i++)); do
		line=$(head -n 1 "$out")
		if [[ $line =~ ^ready\ ([0-9]+)\ ([^ ]+)$ ]]; then
			SVC_PID=${BASH_REMATCH[1]} SVC_ADDR=${BASH_REMATCH[2]}
			return 0
		fi
		sleep 0.05
	done
	die "httpsvc did not print 'ready PID HOST:PORT'"
}

stop_svc() { stop "$SVC_PID" TERM 50 || true; }

# cpu_times: "busy idle" jiffies of SVC_CPU, then of LOAD_CPU, from /proc/stat.
cpu_times() {
	awk -v a="cpu$SVC_CPU" -v b="cpu$LOAD_CPU" '$1 == a || $1 == b {
		t[$1] = ($2 + $3 + $4 + $7 + $8 + $9) " " ($5 + $6) } END { print t[a], t[b] }' /proc/stat
}

# run_wrk NAME: GET /fast for SECS seconds; appends to RPS_RUNS[NAME], adds to REQS[NAME], sets
# LAST_REQS, and appends the two CPUs' busy shares to BUSY_SVC[NAME] and BUSY_LOAD[NAME].
run_wrk() {
	local name=$1 out=$tmp/$1.wrk pid rc=0 errs rps reqs c0 c1 busy s0 s1 us
	c0=$(cpu_times)
	s0=$(proc_cpu "$SVC_PID")
	"${LOAD_PIN[@]}" wrk -t "$WRK_THREADS" -c "$WRK_CONNS" -d "${SECS}s" "http://$SVC_ADDR/fast" >"$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait "$pid" || rc=$?
	c1=$(cpu_times)
	s1=$(proc_cpu "$SVC_PID")
	if [ "$rc" -ne 0 ]; then
		cat "$out" >&2
		die "wrk failed (exit $rc)"
	fi
	# "Requests/sec:  24691.20" and "  123456 requests in 5.00s, 15.00MB read"
	rps=$(awk '$1 == "Requests/sec:" { print $2; exit }' "$out")
	reqs=$(awk '$2 == "requests" && $3 == "in" { print $1; exit }' "$out")
	[[ $rps =~ ^[0-9.]+$ && $reqs =~ ^[0-9]+$ ]] || { cat "$out" >&2; die "cannot parse wrk's output"; }
	[ "$reqs" -gt 0 ] || { cat "$out" >&2; die "wrk completed no request"; }
	errs=$(grep -E '^ *(Non-2xx|Socket errors)' "$out" || true)
	[ -z "$errs" ] || note "wrk reported errors: $(tr -s ' \n' ' ' <<<"$errs")"
	seen "$name"
	RPS_RUNS[$name]="${RPS_RUNS[$name]:-} $rps"
	REQS[$name]=$((${REQS[$name]:-0} + reqs))
	LAST_REQS=$reqs
	busy=$(awk '{ printf "%.0f %.0f", 100 * ($5 - $1) / ($5 - $1 + $6 - $2 + 1e-9),
		100 * ($7 - $3) / ($7 - $3 + $8 - $4 + 1e-9) }' <<<"$c0 $c1")
	BUSY_SVC[$name]="${BUSY_SVC[$name]:-} ${busy% *}"
	BUSY_LOAD[$name]="${BUSY_LOAD[$name]:-} ${busy#* }"
	# The service's own CPU time (utime + stime: the probes run in its context) per request.
	us=$(calc %.3f "($s1 - $s0) * 1e6 / $reqs")
	SVC_US[$name]="${SVC_US[$name]:-} $us"
	echo "   $rps requests/s, $reqs requests in ${SECS} s; service CPU $us µs per request;" \
		"busy: CPU $SVC_CPU ${busy% *} %, CPU $LOAD_CPU ${busy#* } %"
}

# run_pipe NAME: one `perf bench sched pipe` on LOAD_CPU; appends its round trips/s to
# PIPE_RUNS[NAME].
run_pipe() {
	local name=$1 out=$tmp/$1.pipe ops t cpu
	[ "$PERF" = 1 ] || return 0
	# `times` in the subshell: its children's user and system time, "0m1.234s 0m2.345s" on
	# its second line (perf waits for its two processes, so theirs are included).
	t=$(
		"${LOAD_PIN[@]}" perf bench sched pipe -l "$PIPE_LOOPS" >"$out" 2>&1 || echo failed
		times
	)
	[[ $t != failed* ]] || { cat "$out" >&2; die "perf bench sched pipe failed"; }
	# "         190723 ops/sec"
	ops=$(awk '$2 == "ops/sec" { print $1; exit }' "$out")
	[[ $ops =~ ^[0-9]+$ ]] || { cat "$out" >&2; die "cannot parse perf bench's output"; }
	cpu=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' <<<"$t")
	[ "$(calc %d "$cpu > 0")" = 1 ] || die "no CPU time for perf bench sched pipe ('$t')"
	PIPE_RUNS[$name]="${PIPE_RUNS[$name]:-} $ops"
	PIPE_CPU_RUNS[$name]="${PIPE_CPU_RUNS[$name]:-} $(calc %.0f "$PIPE_LOOPS / $cpu")"
	echo "   perf bench sched pipe (service idle): $ops round trips/s," \
		"$(calc %.0f "$PIPE_LOOPS / $cpu") per CPU second ($cpu s)"
}

# run_loops NAME: tests/tools/syscall_loop on LOAD_CPU, a one-process write+read loop on a pipe
# and on a Unix socket pair: CPU ns a loop, printed (the socket path's tracepoints run only on
# socket calls: the pipe loop pays nothing for them, the Unix one a run per call).
run_loops() {
	local loop=$BUILD/tools/syscall_loop p u
	[ -x "$loop" ] || return 0
	p=$("${LOAD_PIN[@]}" "$loop" pipe "$PIPE_LOOPS" | awk '{ print $3 }') || p=failed
	u=$("${LOAD_PIN[@]}" "$loop" unix "$PIPE_LOOPS" | awk '{ print $3 }') || u=failed
	LOOP_RUNS[$1]="${LOOP_RUNS[$1]:-} $p/$u"
	echo "   syscall_loop (service idle): pipe write+read $p ns a loop, Unix socket write+read $u ns (CPU time)"
}

# ---- the configurations ----------------------------------------------------------------------

bench_none() {
	echo "== (a) no tracer"
	bpf_stats 0
	start_svc
	run_wrk none
	run_pipe none
	run_loops none
	run_floor_pipe
	stop_svc
}

# run_floor_pipe: the pipe benchmark beside an empty sys_exit program (the design's floor).
run_floor_pipe() {
	local floor=$BUILD/tools/syscall_floor fpid i
	[ "$PERF" = 1 ] && [ -x "$floor" ] || return 0
	"${LOAD_PIN[@]}" "$floor" exit >"$tmp/floor.out" 2>&1 &
	fpid=$!
	PIDS+=("$fpid")
	for ((i = 0; i < 50; i++)); do
		grep -q '^attached' "$tmp/floor.out" && break
		sleep 0.05
	done
	if grep -q '^attached' "$tmp/floor.out"; then
		echo "   sys_exit attached, empty program (build/tools/syscall_floor):"
		run_pipe floor
	else
		note "syscall_floor did not attach: $(cat "$tmp/floor.out")"
	fi
	stop "$fpid" INT 50 || true
}

glimpse_attach_available() { [ -x "$GLIMPSE" ] && "$GLIMPSE" attach --help >/dev/null 2>&1; }

# start_receiver: the test OTLP receiver on a free port; sets RECV_PID, RECV_URL, RECV_OUT.
start_receiver() {
	RECV_OUT="$tmp/spans.jsonl"
	"${LOAD_PIN[@]}" "$BUILD/tools/otlp_receiver" --port 0 --out "$RECV_OUT" >"$tmp/receiver.out" 2>"$tmp/receiver.err" &
	RECV_PID=$!
	PIDS+=("$RECV_PID")
	local port="" i
	for i in $(seq 50); do
		port=$(awk '$1 == "listening" { print $2 }' "$tmp/receiver.out" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || die "the OTLP receiver did not start: $(cat "$tmp/receiver.err")"
	RECV_URL="http://127.0.0.1:$port"
}

# glimpse_failed GPID WHEN: glimpse attach exited; prints why and exits.
glimpse_failed() {
	local rc=0
	wait "$1" || rc=$?
	echo "bench-http: glimpse attach exited (status $rc) $2; its stderr:" >&2
	tail -n 20 "$tmp/glimpse.err" >&2
	exit 1
}

# bench_glimpse NAME socket|uprobes [ARGS...]: glimpse attach with --capture and ARGS; results
# under NAME.
bench_glimpse() {
	local name=$1 capture=$2
	shift 2
	local gpid ids="" before="" after="" cpu0="" rc=0 port="" listfn what cpu
	local -a idv=()
	echo "== ($name) glimpse attach -p PID --capture $capture --no-live --prometheus-addr 127.0.0.1:0 $*"
	if [ "$capture" = socket ]; then
		bpf_stats 0
		listfn=sockcap_progs what="socket-probe (sock_send_length, sock_recv_length)"
	else
		bpf_stats 1
		listfn=uprobe_progs what=uprobe
	fi
	if ! glimpse_attach_available; then
		echo "glimpse attach: not available"
		return 0
	fi
	start_svc
	# -d is a safety net: it leaves time for attaching, the wrk run and the pipe benchmark.
	"${LOAD_PIN[@]}" "$GLIMPSE" attach -p "$SVC_PID" --capture "$capture" --no-live \
		--prometheus-addr 127.0.0.1:0 -d $((SECS + 120)) "$@" >"$tmp/glimpse.out" 2>"$tmp/glimpse.err" &
	gpid=$!
	PIDS+=("$gpid")
	if ! ids=$(wait_progs "$listfn" "$gpid" 4.5); then
		alive "$gpid" || glimpse_failed "$gpid" "before attaching"
		note "no $what program of glimpse found after 4.5 s: hits not measured"
		ids=""
	fi
	G_RSS_ATTACH[$name]=$(max "${G_RSS_ATTACH[$name]:-}" "$(proc_rss_mb "$gpid")")
	G_HWM_ATTACH[$name]=$(max "${G_HWM_ATTACH[$name]:-}" "$(proc_hwm_mb "$gpid")")
	if [ -n "$ids" ]; then
		mapfile -t idv <<<"$ids"
		echo "   attached: $what programs ${idv[*]}; RSS ${G_RSS_ATTACH[$name]} MB, peak so far ${G_HWM_ATTACH[$name]} MB"
		if [ "$capture" = socket ]; then
			port=$(prom_port "$gpid")
			[ -n "$port" ] && before=$(socket_hits "$port")
			[ -n "$before" ] || note "cannot read glimpse_socket_tracepoint_hits_total from glimpse's /metrics"
		elif [ "$STATS" = 1 ]; then
			before=$(run_cnt "${idv[@]}")
		fi
	fi
	cpu0=$(proc_cpu "$gpid") || true
	run_wrk "$name"
	alive "$gpid" || glimpse_failed "$gpid" "during the wrk run"
	if [ -n "$before" ]; then
		if [ "$capture" = socket ]; then
			sleep 0.3 # glimpse refreshes its counters every poll (100 ms)
			after=$(socket_hits "$port")
		else
			after=$(run_cnt "${idv[@]}")
		fi
	fi
	cpu=$(proc_cpu "$gpid")
	G_CPU[$name]=$cpu
	G_RSS_NOW[$name]=$(max "${G_RSS_NOW[$name]:-}" "$(proc_rss_mb "$gpid")")
	G_RSS[$name]=$(max "${G_RSS[$name]:-}" "$(proc_hwm_mb "$gpid")")
	G_RUNS[$name]=$((${G_RUNS[$name]:-0} + 1))
	[ -n "$cpu0" ] && G_CPU_RUN[$name]=$(calc %.2f "${G_CPU_RUN[$name]:-0} + $cpu - $cpu0")
	if [ -n "$after" ]; then
		G_HITS[$name]=$((${G_HITS[$name]:-0} + after - before))
		G_HITS_REQS[$name]=$((${G_HITS_REQS[$name]:-0} + LAST_REQS))
		echo "   $what hits during the run: $((after - before))," \
			"$(calc %.2f "($after - $before) / $LAST_REQS") per request"
	fi
	echo "   glimpse: CPU $cpu s ($(calc %.2f "$cpu - ${cpu0:-0}") s during the wrk run)," \
		"RSS $(proc_rss_mb "$gpid") MB (peak $(proc_hwm_mb "$gpid") MB)"
	[ "$name" = traces ] || { run_pipe "$name" && run_loops "$name"; }
	alive "$gpid" || glimpse_failed "$gpid" "after the wrk run"
	# SIGINT ends it the way a user would.
	stop "$gpid" INT 100 || rc=$?
	stop_svc
	if [ "$rc" -ne 0 ]; then
		echo "bench-http: glimpse attach failed (exit $rc after SIGINT); its stderr:" >&2
		tail -n 20 "$tmp/glimpse.err" >&2
		exit 1
	fi
}

bench_traces() {
	if [ ! -x "$BUILD/tools/otlp_receiver" ]; then
		note "no build/tools/otlp_receiver: traces skipped"
		return 0
	fi
	start_receiver
	bench_glimpse traces uprobes --otlp-endpoint "$RECV_URL"
	stop "$RECV_PID" TERM 50 || true
	SPANS=$(grep -c . "$RECV_OUT" 2>/dev/null || echo 0)
	echo "   spans received by the OTLP receiver: $SPANS ($(calc %.0f "$SPANS / $SECS") spans/s over the wrk run)"
}

bench_bpftrace() {
	local bpid prog rc=0
	if ! have bpftrace; then
		note "bpftrace not installed (package bpftrace): skipped"
		return 0
	fi
	echo "== (bpftrace) bpftrace: uprobe:httpsvc-1.23:\"$PROBE_SYM\" { @hits = count(); }"
	bpf_stats 1
	start_svc
	# bpftrace 0.17 needs the Go symbol (dots, slash) in double quotes.
	prog="uprobe:$SVC:\"$PROBE_SYM\" { @hits = count(); }"
	"${LOAD_PIN[@]}" bpftrace -e "$prog" >"$tmp/bpftrace.out" 2>"$tmp/bpftrace.err" &
	bpid=$!
	PIDS+=("$bpid")
	if ! wait_progs uprobe_progs "$bpid" 30 >/dev/null; then
		alive "$bpid" || wait "$bpid" || rc=$?
		echo "bench-http: bpftrace did not attach its uprobe (status $rc); its stderr:" >&2
		tail -n 20 "$tmp/bpftrace.err" >&2
		exit 1
	fi
	run_wrk bpftrace
	# SIGINT: it prints the map and exits 0.  (On this kernel it also complains on stderr
	# about RLIMIT_MEMLOCK and uprobe_events; both are harmless.)
	stop "$bpid" INT 100 || rc=$?
	stop_svc
	BT_HITS=$(awk '$1 == "@hits:" { print $2 }' "$tmp/bpftrace.out")
	if [ "$rc" -ne 0 ] || [ -z "$BT_HITS" ]; then
		echo "bench-http: bpftrace failed (exit $rc, no @hits); its output and stderr:" >&2
		tail -n 20 "$tmp/bpftrace.out" "$tmp/bpftrace.err" >&2
		exit 1
	fi
	echo "   bpftrace counted $BT_HITS hits: $(calc %.2f "$BT_HITS / ${REQS[bpftrace]}") per request"
	[ "$BT_HITS" -ge "${REQS[bpftrace]}" ] || note "bpftrace counted fewer hits than wrk's requests"
}

bench_extra() {
	case $1 in
	uprobes) bench_glimpse uprobes uprobes ;;
	traces) bench_traces ;;
	bpftrace) bench_bpftrace ;;
	esac
}

# ---- report --------------------------------------------------------------------------------

# cost NAME: added cost per request against no tracer, in µs (from the requests/s).
cost() { calc %.3f "1e6 / ${RPS[$1]} - 1e6 / ${RPS[none]}"; }
# cpu_cost NAME: added service CPU per request against no tracer, in µs.
cpu_cost() { calc %.3f "${SVC_US_MED[$1]} - ${SVC_US_MED[none]}"; }

# goal TEXT CONDITION: prints PASS/MISS; CONDITION is an awk expression.
goal() { printf '  %-70s %s\n' "$1" "$([ "$(calc %d "$2")" = 1 ] && echo PASS || echo MISS)"; }
skip() { printf '  %-70s %s\n' "$1" "SKIP ($2)"; }

label() {
	case $1 in
	none) echo "no tracer" ;;
	floor) echo "sys_exit, empty prog" ;;
	socket) echo "glimpse socket" ;;
	uprobes) echo "glimpse uprobes" ;;
	traces) echo "glimpse uprobes+traces" ;;
	bpftrace) echo "bpftrace uprobe" ;;
	esac
}

# runs TEXT: " a b c" -> "a b c"
runs() { sed 's/^ //' <<<"$1"; }

report() {
	local t c cc n gcost="" bcost="" cratio="" ccratio="" pin
	echo
	if [ ${#SVC_PIN[@]} -gt 0 ]; then
		pin="httpsvc-1.23 on CPU $SVC_CPU; wrk, tracers and perf on CPU $LOAD_CPU"
	else
		pin="unpinned (one CPU)"
	fi
	echo "== summary: wrk -t $WRK_THREADS -c $WRK_CONNS -d ${SECS}s GET /fast, $pin; $ROUNDS rounds;" \
		"$(nproc) CPUs, load average at start $LOAD_AT_START"
	for t in "${CONFIGS[@]}"; do
		RPS[$t]=$(median <<<"${RPS_RUNS[$t]}")
		SVC_US_MED[$t]=$(median <<<"${SVC_US[$t]}")
	done
	for t in "${!PIPE_RUNS[@]}"; do # floor has pipe runs only
		PIPE[$t]=$(median <<<"${PIPE_RUNS[$t]}")
		PIPE_CPU[$t]=$(median <<<"${PIPE_CPU_RUNS[$t]}")
	done
	printf '%-23s %10s %8s %8s | %8s %8s %8s | %5s %5s\n' "" "requests/s" "vs none" "+µs/req" \
		"svc µs/req" "vs none" "+µs/req" "CPU$SVC_CPU" "CPU$LOAD_CPU"
	for t in "${CONFIGS[@]}"; do
		if [ "$t" = none ]; then c=- cc=-; else c=$(cost "$t") cc=$(cpu_cost "$t"); fi
		printf '%-23s %10.0f %7.3fx %8s | %10.2f %7.3fx %8s | %4s%% %4s%%\n' "$(label "$t")" "${RPS[$t]}" \
			"$(calc %.4f "${RPS[$t]} / ${RPS[none]}")" "$c" "${SVC_US_MED[$t]}" \
			"$(calc %.4f "${SVC_US_MED[none]} / ${SVC_US_MED[$t]}")" "$cc" \
			"$(median <<<"${BUSY_SVC[$t]}")" "$(median <<<"${BUSY_LOAD[$t]}")"
	done
	for t in "${CONFIGS[@]}"; do
		echo "  $(label "$t") runs: $(runs "${RPS_RUNS[$t]}") requests/s; $(runs "${SVC_US[$t]}") µs service CPU per request"
	done
	echo "(medians of the runs.  Left: wrk's throughput; added = 1/rps - 1/rps(no tracer).  Middle: the"
	echo " service's own CPU time (utime+stime, where the probes run) per request, and the throughput its"
	echo " CPU would allow against no tracer: immune to other processes taking CPU $SVC_CPU, blind to waits."
	echo " Right: busy share of each CPU during the wrk run (everything on it, not only ours).)"
	if [ -n "${RPS[uprobes]:-}" ] && [ -n "${RPS[bpftrace]:-}" ]; then
		gcost=$(cost uprobes) bcost=$(cost bpftrace)
		if [ "$(calc %d "$bcost > 0")" = 1 ]; then
			cratio=$(calc %.2f "$gcost / $bcost")
			echo "glimpse uprobes' added cost / bpftrace's: ${cratio}x (throughput)"
		else
			echo "glimpse uprobes' added cost / bpftrace's: n/a (bpftrace's added cost is within noise)"
		fi
		if [ "$(calc %d "$(cpu_cost bpftrace) > 0")" = 1 ]; then
			ccratio=$(calc %.2f "$(cpu_cost uprobes) / $(cpu_cost bpftrace)")
			echo "glimpse uprobes' added service CPU / bpftrace's: ${ccratio}x"
		fi
	fi
	for t in socket uprobes traces; do
		[ -n "${G_RUNS[$t]:-}" ] || continue
		n=${G_RUNS[$t]}
		echo "$t: glimpse CPU $(calc %.2f "${G_CPU_RUN[$t]:-0} / $n") s per ${SECS} s wrk run" \
			"($(calc %.1f "${G_CPU_RUN[$t]:-0} * 100 / ($SECS * $n)") % of one core," \
			"$(calc %.2f "${G_CPU_RUN[$t]:-0} * 1e6 / ${REQS[$t]}") µs per request); RSS at attach" \
			"${G_RSS_ATTACH[$t]} MB (peak by then ${G_HWM_ATTACH[$t]} MB), after the wrk run ${G_RSS_NOW[$t]} MB," \
			"peak ${G_RSS[$t]} MB (largest of $n run(s))"
		[ -n "${G_HITS[$t]:-}" ] || continue
		if [ "$t" = socket ]; then
			echo "$t: tracepoint hits per request $(calc %.2f "${G_HITS[$t]} / ${G_HITS_REQS[$t]}")" \
				"(glimpse_socket_tracepoint_hits_total: ${G_HITS[$t]} / ${G_HITS_REQS[$t]} requests;" \
				"1 per followed system call); added per hit: $(calc %.3f "$(cost socket) / (${G_HITS[$t]} / ${G_HITS_REQS[$t]})") µs" \
				"(throughput), $(calc %.3f "$(cpu_cost socket) / (${G_HITS[$t]} / ${G_HITS_REQS[$t]})") µs (service CPU)"
		else
			echo "$t: uprobe hits per request $(calc %.2f "${G_HITS[$t]} / ${G_HITS_REQS[$t]}")" \
				"(${G_HITS[$t]} runs / ${G_HITS_REQS[$t]} requests)"
		fi
	done
	[ -n "$SPANS" ] && echo "traces: $SPANS spans exported over OTLP ($(calc %.0f "$SPANS / $SECS") spans/s)"
	[ -n "$BT_HITS" ] && echo "bpftrace: hits per request $(calc %.2f "$BT_HITS / ${REQS[bpftrace]}")" \
		"($BT_HITS / ${REQS[bpftrace]})"
	if [ -n "${PIPE[none]:-}" ]; then
		echo
		echo "perf bench sched pipe -l $PIPE_LOOPS on CPU $LOAD_CPU, the service idle (medians of the runs):"
		printf '%-23s %13s %8s %8s | %13s %8s %8s\n' "" "round trips/s" "vs none" "+µs/trip" \
			"per CPU sec" "vs none" "+µs/trip"
		for t in none floor socket uprobes; do
			[ -n "${PIPE[$t]:-}" ] || continue
			if [ "$t" = none ]; then
				c=- cc=-
			else
				c=$(calc %.3f "1e6 / ${PIPE[$t]} - 1e6 / ${PIPE[none]}")
				cc=$(calc %.3f "1e6 / ${PIPE_CPU[$t]} - 1e6 / ${PIPE_CPU[none]}")
			fi
			printf '%-23s %13.0f %7.3fx %8s | %13.0f %7.3fx %8s\n' "$(label "$t")" "${PIPE[$t]}" \
				"$(calc %.4f "${PIPE[$t]} / ${PIPE[none]}")" "$c" "${PIPE_CPU[$t]}" \
				"$(calc %.4f "${PIPE_CPU[$t]} / ${PIPE_CPU[none]}")" "$cc"
		done
		for t in none floor socket uprobes; do
			[ -n "${PIPE[$t]:-}" ] || continue
			echo "  $(label "$t") runs: $(runs "${PIPE_RUNS[$t]}") round trips/s; $(runs "${PIPE_CPU_RUNS[$t]}") per CPU second"
		done
		echo "(a round trip: 2 reads, 2 writes, 2 context switches; per CPU second: loops / (user+sys time of"
		echo " perf's processes), immune to other processes taking CPU $LOAD_CPU; uprobes: the scheduler probes only;"
		echo " sys_exit, empty prog: the floor of any syscall-tracepoint design, no glimpse running)"
		for t in none socket uprobes; do
			[ -n "${LOOP_RUNS[$t]:-}" ] || continue
			echo "  $(label "$t") syscall_loop, CPU ns a loop (pipe/Unix socket):${LOOP_RUNS[$t]}"
		done
	fi

	echo
	echo "goals:"
	local g1="glimpse uprobes: added cost <= ${GOAL_COST_VS_BPFTRACE}x bpftrace's"
	local g2="glimpse uprobes: uprobe hits per request <= $GOAL_HITS_PER_REQ"
	local g3="glimpse uprobes: RSS <= $GOAL_RSS_MB MB (attached, under load)"
	local g4="glimpse socket: throughput >= ${GOAL_SOCKET_RATIO}x no tracer (wrk)"
	local g4c="glimpse socket: throughput >= ${GOAL_SOCKET_RATIO}x no tracer (service CPU)"
	local g5="glimpse socket: throughput >= ${MOONSHOT_SOCKET_RATIO}x no tracer (wrk; moonshot)"
	local g5c="glimpse socket: throughput >= ${MOONSHOT_SOCKET_RATIO}x no tracer (service CPU; moonshot)"
	local g6="glimpse socket: unwatched pipe benchmark >= ${GOAL_PIPE_RATIO}x (wall clock)"
	local g6c="glimpse socket: unwatched pipe benchmark >= ${GOAL_PIPE_RATIO}x (CPU time)"
	local g7="glimpse socket: peak RSS <= $GOAL_RSS_MB MB"
	local g8="glimpse uprobes: peak RSS <= $GOAL_RSS_MB MB"
	if [ -n "${RPS[socket]:-}" ]; then
		goal "$g4" "${RPS[socket]} / ${RPS[none]} >= $GOAL_SOCKET_RATIO"
		goal "$g4c" "${SVC_US_MED[none]} / ${SVC_US_MED[socket]} >= $GOAL_SOCKET_RATIO"
		goal "$g5" "${RPS[socket]} / ${RPS[none]} >= $MOONSHOT_SOCKET_RATIO"
		goal "$g5c" "${SVC_US_MED[none]} / ${SVC_US_MED[socket]} >= $MOONSHOT_SOCKET_RATIO"
		if [ -n "${PIPE[socket]:-}" ]; then
			goal "$g6" "${PIPE[socket]} / ${PIPE[none]} >= $GOAL_PIPE_RATIO"
			goal "$g6c" "${PIPE_CPU[socket]} / ${PIPE_CPU[none]} >= $GOAL_PIPE_RATIO"
		else
			skip "$g6" "no perf"
		fi
		goal "$g7" "${G_RSS[socket]} <= $GOAL_RSS_MB"
	else
		for t in "$g4" "$g4c" "$g5" "$g5c" "$g6" "$g7"; do skip "$t" "no glimpse attach"; done
	fi
	if [ -z "${RPS[uprobes]:-}" ]; then
		for t in "$g1" "$g2" "$g3" "$g8"; do skip "$t" "no glimpse attach"; done
		return 0
	fi
	if [ -z "$bcost" ]; then
		skip "$g1" "no bpftrace"
	elif [ -n "$cratio" ]; then
		goal "$g1" "$cratio <= $GOAL_COST_VS_BPFTRACE"
	elif [ "$(calc %d "$gcost <= 0")" = 1 ]; then
		goal "$g1" 1 # neither tracer's cost is measurable
	else
		skip "$g1" "bpftrace's cost not measurable"
	fi
	if [ -n "${G_HITS[uprobes]:-}" ]; then
		# On the printed 2 decimals: the requests still in flight when wrk stops (up to one per
		# connection) are served and traced but not counted by wrk, e.g. 2.0003 for exactly 2.
		goal "$g2" "$(calc %.2f "${G_HITS[uprobes]} / ${G_HITS_REQS[uprobes]}") <= $GOAL_HITS_PER_REQ"
	else
		skip "$g2" "not measured"
	fi
	goal "$g3" "${G_RSS_NOW[uprobes]} <= $GOAL_RSS_MB"
	goal "$g8" "${G_RSS[uprobes]} <= $GOAL_RSS_MB"
}

main() {
	local r i extras=(uprobes traces bpftrace)
	[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer (got '$SECS')"
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer (got '$ROUNDS')"
	PIPE_LOOPS=${BENCH_PIPE_LOOPS:-$((SECS * 50000))}
	[[ $PIPE_LOOPS =~ ^[1-9][0-9]*$ ]] || die "BENCH_PIPE_LOOPS must be a positive integer (got '$PIPE_LOOPS')"
	[ -x "$SVC" ] || die "$SVC not found: run make apps"
	have wrk || die "wrk not found: install package wrk"
	have python3 || die "python3 not found"
	have curl || die "curl not found"
	have ss || die "ss not found: install package iproute2"
	[ "$(id -u)" -eq 0 ] || die "must run as root (tracers need CAP_BPF/CAP_PERFMON)"
	have bpftool || die "bpftool not found: install package bpftool"
	if [ "$(nproc)" -ge 2 ] && have taskset; then
		SVC_PIN=(taskset -c "$SVC_CPU") LOAD_PIN=(taskset -c "$LOAD_CPU")
	else
		note "fewer than 2 CPUs (or no taskset): nothing pinned, the ratios mix the client's and glimpse's CPU in"
	fi
	if have perf && perf bench sched pipe -l 10 >/dev/null 2>&1; then
		PERF=1
	else
		note "perf bench sched pipe not available (package linux-perf): the unwatched-process goal is skipped"
	fi

	tmp=$(mktemp -d /tmp/bench-http.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM

	# Saves the setting for cleanup; then toggled per configuration (see the header).
	if enable_bpf_stats "uprobe hits per request"; then STATS=1; fi

	LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
	for ((r = 1; r <= ROUNDS; r++)); do
		echo "==== round $r of $ROUNDS"
		bench_none
		bench_glimpse socket socket
		if [ "$r" -lt "$ROUNDS" ]; then
			[ "$r" -le ${#extras[@]} ] && bench_extra "${extras[r - 1]}"
		else
			for ((i = r - 1; i < ${#extras[@]}; i++)); do bench_extra "${extras[i]}"; done
		fi
	done
	report
}

main
