#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark: what does tracing an HTTP service cost with glimpse attach, and with bpftrace?
#
# Usage: scripts/bench-http.sh <abs build dir>   (run by `make bench-http`)
# Env:   BENCH_SECONDS (default 10)  wrk duration per configuration
#
# wrk (2 threads, 32 connections) drives GET /fast of apps/httpsvc-1.23 for BENCH_SECONDS in
# three configurations, each against a fresh service instance:
#   (a) no tracer;
#   (b) `glimpse attach -p PID --no-live -d BENCH_SECONDS+5` attached;
#   (c) bpftrace holding one counting uprobe on net/http.serverHandler.ServeHTTP.
# It prints requests/s, the throughput ratios against (a), the added cost per request
# (1/rps - 1/rps_a, in µs) of each tracer and their ratio, glimpse's uprobe hits per request
# (from the kernel's run_cnt of its uprobe programs, kernel.bpf_stats_enabled=1 from (b) on),
# glimpse's CPU time and peak RSS (from /proc just before stopping it), and the goals'
# PASS/MISS.  This is a benchmark, not a test: it exits non-zero only when a tool is missing
# or broken.  A glimpse without `attach` skips (b); bpftrace is optional.
set -euo pipefail

BENCH_NAME=bench-http
. "$(dirname "$0")/bench-lib.sh"

BUILD=${1:?usage: bench-http.sh <abs build dir>}
SECS=${BENCH_SECONDS:-10}
GLIMPSE=$BUILD/glimpse
SVC=$BUILD/apps/httpsvc-1.23
WRK_THREADS=2
WRK_CONNS=32
PROBE_SYM=net/http.serverHandler.ServeHTTP

# Goals from the issue.
GOAL_COST_VS_BPFTRACE=2.2 # glimpse's added cost per request <= 2.2x bpftrace's
GOAL_HITS_PER_REQ=2       # glimpse's uprobe hits per request <= 2
GOAL_RSS_MB=20            # glimpse peak RSS <= 20 MB

declare -A RPS=() REQS=()   # per configuration: requests/s, requests completed (from wrk)
PIDS=()                     # everything we started that may still run
SVC_PID="" SVC_ADDR=""
declare -A G_HITS=() G_CPU=() G_CPU_RUN=() G_RSS=() G_RSS_NOW=() # per glimpse configuration: uprobe runs during wrk, CPU s, CPU s during wrk, MB
SPANS=""
BT_HITS=""                  # bpftrace's @hits
tmp=""


cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	restore_bpf_stats
	[ -n "$tmp" ] && rm -rf "$tmp"
}


# ---- the service and the load --------------------------------------------------------------

# start_svc: starts a fresh httpsvc, sets SVC_PID and SVC_ADDR from its "ready PID HOST:PORT".
start_svc() {
	local out=$tmp/svc.${#PIDS[@]}.out i line
	: >"$out"
	# -t is only a safety net (the trap kills it); long enough for bpftrace's startup too.
	"$SVC" -t $((SECS + 120)) >"$out" 2>&1 &
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

# run_wrk NAME: GET /fast for SECS seconds; sets RPS[NAME] and REQS[NAME].
run_wrk() {
	local name=$1 out=$tmp/$1.wrk pid rc=0 errs
	wrk -t "$WRK_THREADS" -c "$WRK_CONNS" -d "${SECS}s" "http://$SVC_ADDR/fast" >"$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ]; then
		cat "$out" >&2
		die "wrk failed (exit $rc)"
	fi
	# "Requests/sec:  24691.20" and "  123456 requests in 5.00s, 15.00MB read"
	RPS[$name]=$(awk '$1 == "Requests/sec:" { print $2; exit }' "$out")
	REQS[$name]=$(awk '$2 == "requests" && $3 == "in" { print $1; exit }' "$out")
	[[ ${RPS[$name]} =~ ^[0-9.]+$ && ${REQS[$name]} =~ ^[0-9]+$ ]] || { cat "$out" >&2; die "cannot parse wrk's output"; }
	[ "${REQS[$name]}" -gt 0 ] || { cat "$out" >&2; die "wrk completed no request"; }
	errs=$(grep -E '^ *(Non-2xx|Socket errors)' "$out" || true)
	[ -z "$errs" ] || note "wrk reported errors: $(tr -s ' \n' ' ' <<<"$errs")"
	echo "   ${RPS[$name]} requests/s, ${REQS[$name]} requests in ${SECS} s"
}

# ---- BPF programs ----------------------------------------------------------------------------



# uprobe_progs PID: the IDs of the BPF programs PID has attached to uprobes/uretprobes, one a
# line: perf-event attachments (what `bpftool perf` lists) and uprobe_multi links.
uprobe_progs() {
	local pid=$1
	{
		bpftool perf -j 2>/dev/null | python3 -c '
import json, sys
pid = int(sys.argv[1])
for e in json.load(sys.stdin) or []:
    if e.get("pid") == pid and e.get("fd_type") in ("uprobe", "uretprobe"):
        print(e["prog_id"])' "$pid" || true
		# Links show up in fdinfo as "link_type: uprobe_multi" followed by "prog_id: N".
		awk 'FNR == 1 { multi = 0 } $1 == "link_type:" { multi = ($2 == "uprobe_multi") }
		     $1 == "prog_id:" && multi { print $2 }' \
			/proc/"$pid"/fdinfo/* 2>/dev/null || true
	} | sort -un
}

# run_cnt IDS...: the sum of run_cnt over these BPF programs (bpftool prog show -j).
run_cnt() {
	bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
ids = {int(i) for i in sys.argv[1:]}
print(sum(p.get("run_cnt", 0) for p in json.load(sys.stdin) if p.get("id") in ids))' "$@"
}

# wait_uprobes PID SECONDS: waits until PID has uprobe programs attached and that set held
# still for 0.5 s (tools may attach them one by one); prints the program IDs.  Fails when PID
# exits or SECONDS (may be fractional) pass first.
wait_uprobes() {
	local pid=$1 ids prev="" since=0 now end
	end=$(($(date +%s%N) / 1000000 + $(calc %d "$2 * 1000")))
	while :; do
		alive "$pid" || return 1
		ids=$(uprobe_progs "$pid")
		now=$(($(date +%s%N) / 1000000))
		if [ -z "$ids" ] || [ "$ids" != "$prev" ]; then
			since=$now
		elif [ $((now - since)) -ge 500 ]; then
			echo "$ids"
			return 0
		fi
		[ "$now" -lt "$end" ] || return 1
		prev=$ids
		sleep 0.1
	done
}

# proc_cpu PID: user+system CPU seconds of PID so far.
proc_cpu() {
	local stat
	stat=$(cat /proc/"$1"/stat) || return 1
	# Fields after "(comm)": state is field 3, utime and stime are fields 14 and 15.
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / hz }' <<<"${stat##*") "}"
}

# proc_hwm_mb PID: peak RSS of PID in MB; proc_rss_mb PID: its RSS now.
proc_hwm_mb() { awk '$1 == "VmHWM:" { printf "%.1f", $2 / 1024 }' /proc/"$1"/status; }
proc_rss_mb() { awk '$1 == "VmRSS:" { printf "%.1f", $2 / 1024 }' /proc/"$1"/status; }

# ---- the configurations ----------------------------------------------------------------------

bench_none() {
	echo "== (a) no tracer"
	start_svc
	run_wrk none
	stop_svc
}

glimpse_attach_available() { [ -x "$GLIMPSE" ] && "$GLIMPSE" attach --help >/dev/null 2>&1; }

# start_receiver: the test OTLP receiver on a free port; sets RECV_PID, RECV_URL, RECV_OUT.
start_receiver() {
	RECV_OUT="$tmp/spans.jsonl"
	"$BUILD/tools/otlp_receiver" --port 0 --out "$RECV_OUT" >"$tmp/receiver.out" 2>"$tmp/receiver.err" &
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

# bench_glimpse NAME [ARGS...]: glimpse attach with ARGS; results under NAME.
bench_glimpse() {
	local name=$1
	shift
	local gpid ids="" before="" after="" cpu0="" rc=0 stats=0
	local -a idv=()
	echo "== ($name) glimpse attach -p PID --no-live -d $((SECS + 5)) $*"
	# Enabled even when (b) is skipped, so that (c) always runs under the same conditions.
	if enable_bpf_stats "uprobe hits per request"; then stats=1; fi
	if ! glimpse_attach_available; then
		echo "glimpse attach: not available"
		return 0
	fi
	start_svc
	"$GLIMPSE" attach -p "$SVC_PID" --no-live -d $((SECS + 5)) "$@" >"$tmp/glimpse.out" 2>"$tmp/glimpse.err" &
	gpid=$!
	PIDS+=("$gpid")
	# -d leaves 5 s for attaching on top of the wrk run.
	if ! ids=$(wait_uprobes "$gpid" 4.5); then
		if ! alive "$gpid"; then
			wait "$gpid" || rc=$?
			echo "bench-http: glimpse attach exited (status $rc) before attaching; its stderr:" >&2
			tail -n 20 "$tmp/glimpse.err" >&2
			exit 1
		fi
		note "no uprobe of glimpse found after 4.5 s (bpftool perf, uprobe_multi links): uprobe hits not measured"
		ids=""
	fi
	if [ -n "$ids" ]; then
		mapfile -t idv <<<"$ids"
		echo "   attached: uprobe programs ${idv[*]}"
		if [ "$stats" = 1 ]; then before=$(run_cnt "${idv[@]}"); fi
	fi
	cpu0=$(proc_cpu "$gpid") || true
	run_wrk "$name"
	if ! alive "$gpid"; then
		wait "$gpid" || rc=$?
		echo "bench-http: glimpse attach exited (status $rc) during the wrk run; its stderr:" >&2
		tail -n 20 "$tmp/glimpse.err" >&2
		exit 1
	fi
	[ -n "$before" ] && after=$(run_cnt "${idv[@]}")
	G_CPU[$name]=$(proc_cpu "$gpid")
	G_RSS[$name]=$(proc_hwm_mb "$gpid")
	G_RSS_NOW[$name]=$(proc_rss_mb "$gpid")
	[ -n "$cpu0" ] && G_CPU_RUN[$name]=$(calc %.2f "${G_CPU[$name]} - $cpu0")
	[ -n "$after" ] && G_HITS[$name]=$((after - before))
	# It stops at -d anyway; SIGINT ends it now, the way a user would.
	stop "$gpid" INT 100 || rc=$?
	stop_svc
	if [ "$rc" -ne 0 ]; then
		echo "bench-http: glimpse attach failed (exit $rc after SIGINT); its stderr:" >&2
		tail -n 20 "$tmp/glimpse.err" >&2
		exit 1
	fi
	echo "   glimpse: CPU ${G_CPU[$name]} s (${G_CPU_RUN[$name]:-?} s during the wrk run)," \
		"RSS ${G_RSS_NOW[$name]} MB (peak ${G_RSS[$name]} MB)"
	if [ -n "${G_HITS[$name]:-}" ]; then
		echo "   uprobe programs ran ${G_HITS[$name]} times:" \
			"$(calc %.2f "${G_HITS[$name]} / ${REQS[$name]}") per request"
	fi
}

bench_traces() {
	start_receiver
	bench_glimpse traces --otlp-endpoint "$RECV_URL"
	stop "$RECV_PID" TERM 50 || true
	SPANS=$(grep -c . "$RECV_OUT" 2>/dev/null || echo 0)
	echo "   spans received by the OTLP receiver: $SPANS ($(calc %.0f "$SPANS / $SECS") spans/s over the wrk run)"
}

bench_bpftrace() {
	local bpid prog rc=0
	echo "== (c) bpftrace: uprobe:httpsvc-1.23:\"$PROBE_SYM\" { @hits = count(); }"
	start_svc
	# bpftrace 0.17 needs the Go symbol (dots, slash) in double quotes.
	prog="uprobe:$SVC:\"$PROBE_SYM\" { @hits = count(); }"
	bpftrace -e "$prog" >"$tmp/bpftrace.out" 2>"$tmp/bpftrace.err" &
	bpid=$!
	PIDS+=("$bpid")
	if ! wait_uprobes "$bpid" 30 >/dev/null; then
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

# ---- report --------------------------------------------------------------------------------

# cost NAME: added cost per request against no tracer, in µs.
cost() { calc %.3f "1e6 / ${RPS[$1]} - 1e6 / ${RPS[none]}"; }

# goal TEXT CONDITION: prints PASS/MISS; CONDITION is an awk expression.
goal() { printf '  %-52s %s\n' "$1" "$([ "$(calc %d "$2")" = 1 ] && echo PASS || echo MISS)"; }
skip() { printf '  %-52s %s\n' "$1" "SKIP ($2)"; }

report() {
	local t label c gcost="" bcost="" cratio=""
	echo
	echo "== summary: wrk -t $WRK_THREADS -c $WRK_CONNS -d ${SECS}s GET /fast on httpsvc-1.23," \
		"$(nproc) CPUs, load average at start $LOAD_AT_START"
	printf '%-18s %12s %12s %16s\n' configuration "requests/s" "vs none" "added µs/req"
	for t in none glimpse traces bpftrace; do
		[ -n "${RPS[$t]:-}" ] || continue
		case $t in
		none) label="no tracer" ;;
		glimpse) label="glimpse attach" ;;
		traces) label="glimpse + traces" ;;
		bpftrace) label="bpftrace uprobe" ;;
		esac
		if [ "$t" = none ]; then c=-; else c=$(cost "$t"); fi
		printf '%-18s %12s %11sx %16s\n' "$label" "${RPS[$t]}" "$(calc %.3f "${RPS[$t]} / ${RPS[none]}")" "$c"
	done
	[ -n "${RPS[glimpse]:-}" ] && gcost=$(cost glimpse)
	[ -n "${RPS[bpftrace]:-}" ] && bcost=$(cost bpftrace)
	if [ -n "$gcost" ] && [ -n "$bcost" ]; then
		if [ "$(calc %d "$bcost > 0")" = 1 ]; then
			cratio=$(calc %.2f "$gcost / $bcost")
			echo "glimpse's added cost / bpftrace's: ${cratio}x"
		else
			echo "glimpse's added cost / bpftrace's: n/a (bpftrace's added cost is within noise)"
		fi
	fi
	for t in glimpse traces; do
		[ -n "${G_CPU[$t]:-}" ] || continue
		echo "$t: CPU ${G_CPU[$t]} s over its life (${G_CPU_RUN[$t]:-?} s during the ${SECS} s wrk run," \
			"$(calc %.1f "${G_CPU_RUN[$t]:-0} * 100 / $SECS") % of one core), RSS ${G_RSS_NOW[$t]} MB," \
			"peak ${G_RSS[$t]} MB (the peak is libbpf parsing the kernel's BTF once at start)"
		[ -n "${G_HITS[$t]:-}" ] && echo "$t: uprobe hits per request $(calc %.2f "${G_HITS[$t]} / ${REQS[$t]}")" \
			"(${G_HITS[$t]} runs / ${REQS[$t]} requests)"
	done
	[ -n "$SPANS" ] && echo "traces: $SPANS spans exported over OTLP ($(calc %.0f "$SPANS / $SECS") spans/s)"
	[ -n "$BT_HITS" ] && echo "bpftrace: hits per request $(calc %.2f "$BT_HITS / ${REQS[bpftrace]}")" \
		"($BT_HITS / ${REQS[bpftrace]})"
	echo "(added cost = 1/rps - 1/rps(no tracer); wrk, the service and the tracer share the CPUs,"
	echo " so short runs are noisy: use BENCH_SECONDS=30 or more for numbers worth comparing)"

	echo
	echo "goals:"
	local g1="glimpse added cost <= ${GOAL_COST_VS_BPFTRACE}x bpftrace's"
	local g2="glimpse uprobe hits per request <= $GOAL_HITS_PER_REQ"
	local g3="glimpse RSS <= $GOAL_RSS_MB MB (attached, under load)"
	if [ -z "${RPS[glimpse]:-}" ]; then
		skip "$g1" "no glimpse attach"
		skip "$g2" "no glimpse attach"
		skip "$g3" "no glimpse attach"
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
	if [ -n "${G_HITS[glimpse]:-}" ]; then
		# On the printed 2 decimals: the requests still in flight when wrk stops (up to one per
		# connection) are served and traced but not counted by wrk, e.g. 2.0003 for exactly 2.
		goal "$g2" "$(calc %.2f "${G_HITS[glimpse]} / ${REQS[glimpse]}") <= $GOAL_HITS_PER_REQ"
	else
		skip "$g2" "not measured"
	fi
	goal "$g3" "${G_RSS_NOW[glimpse]} <= $GOAL_RSS_MB"
}

main() {
	[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer (got '$SECS')"
	[ -x "$SVC" ] || die "$SVC not found: run make apps"
	have wrk || die "wrk not found: install package wrk"
	have python3 || die "python3 not found"
	[ "$(id -u)" -eq 0 ] || die "must run as root (tracers need CAP_BPF/CAP_PERFMON)"
	have bpftool || die "bpftool not found: install package bpftool"

	tmp=$(mktemp -d /tmp/bench-http.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM

	LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
	bench_none
	bench_glimpse glimpse
	if [ -x "$BUILD/tools/otlp_receiver" ]; then bench_traces; else note "no build/tools/otlp_receiver: traces skipped"; fi
	if have bpftrace; then bench_bpftrace; else note "bpftrace not installed (package bpftrace): skipped"; fi
	report
}

main
