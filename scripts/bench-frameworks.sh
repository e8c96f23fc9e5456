#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark: what `glimpse attach` costs a Go service per request, by the framework it is
# written with — net/http alone, gin (its route template adds a probe), pgx against
# PostgreSQL (its wire is read at the sockets) — beside bpftrace with one bare uprobe on the
# same binary. Run by `make bench-http` after bench-http.sh (BENCH_FRAMEWORKS=0 skips it).
#
# Usage: scripts/bench-frameworks.sh <abs build dir>
# Env:   BENCH_SECONDS (default 8)  wrk duration per run
#        BENCH_ROUNDS  (default 3)  rounds of (none, glimpse) per service; medians reported
#
# Services (Go 1.26 builds from tests/apps), each alone on CPU 0 (taskset), wrk (1 thread,
# 32 connections), glimpse, bpftrace and the databases on CPU 1:
#   net/http  httpsvc-1.26           GET /fast           (ServeMux pattern as the route)
#   gin       routersvc-1.26 -gin    GET /users/42       (route /users/:id from gin)
#   pgx       godb-1.26              GET /pg/simple      (one pgx query on one connection;
#             PostgreSQL started by scripts/bench-databases.py, as the tests start it)
# Per service: (a) no tracer, (b) `glimpse attach -p PID` with its defaults (Go: uprobes, and
# the socket path for the database wire when the binary links pgx), (c) bpftrace counting one
# uprobe on net/http.serverHandler.ServeHTTP. Rounds of (a), (b); (c) once, in the last round.
#
# Printed per service: requests/s and the service's own CPU µs per request (utime+stime
# from /proc: where the probes run; immune to other processes taking CPU 0), each against no
# tracer; uprobe hits per request (the kernel's run_cnt of the uprobe programs, with
# kernel.bpf_stats_enabled) and socket-tracepoint runs per request
# (glimpse_socket_tracepoint_hits_total). kernel.bpf_stats_enabled stays on throughout: each
# BPF program run pays two clock reads for it, the pgx row's tracepoint runs included. A
# benchmark, not a test: it fails only when a tool is missing or broken.
set -euo pipefail

BENCH_NAME=bench-frameworks
. "$(dirname "$0")/bench-lib.sh"
. "$(dirname "$0")/bench-probes.sh"

BUILD=${1:?usage: bench-frameworks.sh <abs build dir>}
SECS=${BENCH_SECONDS:-8}
ROUNDS=${BENCH_ROUNDS:-3}
GLIMPSE=$BUILD/glimpse
APPS=$BUILD/apps
PROBE_SYM=net/http.serverHandler.ServeHTTP
SVC_CPU=0
LOAD_CPU=1
FRAMEWORKS=(net/http gin pgx)

SVC_PIN=() LOAD_PIN=()
PIDS=()
tmp=""
DB_PID="" PG_DSN="" REDIS_ADDR=""
SVC_PID="" SVC_ADDR=""
LAST_RPS="" LAST_US="" LAST_REQS=""
declare -A RPS=() US=() UHITS=() THITS=() # key "framework/config": values of the runs

# binary and arguments of a framework's service; the path wrk asks for.
svc_cmd() {
	case $1 in
	net/http) echo "$APPS/httpsvc-1.26 -t $((SECS + 120))" ;;
	gin) echo "$APPS/routersvc-1.26 -gin 127.0.0.1:0" ;;
	pgx) echo "$APPS/godb-1.26 -pg $PG_DSN -redis $REDIS_ADDR" ;;
	esac
}
svc_path() {
	case $1 in
	net/http) echo /fast ;;
	gin) echo /users/42 ;;
	pgx) echo /pg/simple ;;
	esac
}

# start_db: PostgreSQL and Redis for godb, kept until the script ends (their helper exits when
# its stdin, a pipe we hold, closes).
start_db() {
	local line i
	mkfifo "$tmp/db.in"
	: >"$tmp/db.out"
	"${LOAD_PIN[@]}" /usr/bin/python3 "$(dirname "$0")/bench-databases.py" <"$tmp/db.in" >"$tmp/db.out" 2>"$tmp/db.err" &
	DB_PID=$!
	PIDS+=("$DB_PID")
	exec 9>"$tmp/db.in"
	for ((i = 0; i < 600; i++)); do
		line=$(head -n 1 "$tmp/db.out")
		if [[ $line =~ ^pg=([^ ]+)\ redis=([^ ]+)$ ]]; then
			PG_DSN=${BASH_REMATCH[1]} REDIS_ADDR=${BASH_REMATCH[2]}
			return 0
		fi
		alive "$DB_PID" || break
		sleep 0.1
	done
	cat "$tmp/db.err" >&2
	die "the databases did not start (scripts/bench-databases.py)"
}

stop_db() {
	local i
	[ -n "$DB_PID" ] || return 0
	exec 9>&- # its stdin ends: it stops the servers and exits
	for ((i = 0; i < 300; i++)); do alive "$DB_PID" || break; sleep 0.1; done
	stop "$DB_PID" TERM 300 || true
	DB_PID=""
}

# start_svc FRAMEWORK: a fresh instance; sets SVC_PID and SVC_ADDR from its "ready PID [NAME=]ADDR".
start_svc() {
	local out=$tmp/svc.${#PIDS[@]}.out i line cmd
	read -ra cmd <<<"$(svc_cmd "$1")"
	[ -x "${cmd[0]}" ] || die "${cmd[0]} not found: run make apps"
	: >"$out"
	"${SVC_PIN[@]}" "${cmd[@]}" >"$out" 2>&1 &
	PIDS+=("$!")
	for ((i = 0; i < 200; i++)); do
		line=$(head -n 1 "$out")
		if [[ $line =~ ^ready\ ([0-9]+)\ ([a-z]+=)?([^ ]+)$ ]]; then
			SVC_PID=${BASH_REMATCH[1]} SVC_ADDR=${BASH_REMATCH[3]}
			return 0
		fi
		sleep 0.05
	done
	cat "$out" >&2
	die "$1: the service did not print 'ready PID ADDR'"
}

# run_wrk FRAMEWORK: sets LAST_RPS, LAST_REQS and LAST_US (the service's CPU µs per request).
run_wrk() {
	local out=$tmp/wrk.out s0 s1 errs
	s0=$(proc_cpu "$SVC_PID")
	"${LOAD_PIN[@]}" wrk -t 1 -c 32 -d "${SECS}s" "http://$SVC_ADDR$(svc_path "$1")" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "wrk failed"; }
	s1=$(proc_cpu "$SVC_PID")
	LAST_RPS=$(awk '$1 == "Requests/sec:" { print $2; exit }' "$out")
	LAST_REQS=$(awk '$2 == "requests" && $3 == "in" { print $1; exit }' "$out")
	[[ $LAST_RPS =~ ^[0-9.]+$ && $LAST_REQS =~ ^[1-9][0-9]*$ ]] || { cat "$out" >&2; die "cannot parse wrk's output"; }
	errs=$(grep -E '^ *(Non-2xx|Socket errors)' "$out" || true)
	[ -z "$errs" ] || die "$1: wrk reported errors: $(tr -s ' \n' ' ' <<<"$errs")"
	LAST_US=$(calc %.3f "($s1 - $s0) * 1e6 / $LAST_REQS")
}

record() {
	RPS[$1]="${RPS[$1]:-} $LAST_RPS"
	US[$1]="${US[$1]:-} $LAST_US"
	echo "   $LAST_RPS requests/s; service CPU $LAST_US µs per request"
}

bench_none() {
	echo "== $1: no tracer"
	start_svc "$1"
	run_wrk "$1"
	record "$1/none"
	stop "$SVC_PID" TERM 50 || true
}

bench_glimpse() {
	local fw=$1 gpid ids="" port="" u0="" u1="" t0="" t1=""
	local -a idv=()
	echo "== $fw: glimpse attach -p PID --no-live --prometheus-addr 127.0.0.1:0"
	start_svc "$fw"
	"${LOAD_PIN[@]}" "$GLIMPSE" attach -p "$SVC_PID" --no-live --prometheus-addr 127.0.0.1:0 \
		-d $((SECS + 120)) >"$tmp/glimpse.out" 2>"$tmp/glimpse.err" &
	gpid=$!
	PIDS+=("$gpid")
	if ! ids=$(wait_progs uprobe_progs "$gpid" 10); then
		tail -n 20 "$tmp/glimpse.err" >&2
		die "$fw: glimpse attached no uprobe within 10 s"
	fi
	mapfile -t idv <<<"$ids"
	port=$(prom_port "$gpid")
	u0=$(run_cnt "${idv[@]}")
	[ -n "$port" ] && t0=$(socket_hits "$port")
	run_wrk "$fw"
	alive "$gpid" || { tail -n 20 "$tmp/glimpse.err" >&2; die "$fw: glimpse exited during the run"; }
	sleep 0.3 # glimpse refreshes its counters every poll (100 ms)
	u1=$(run_cnt "${idv[@]}")
	[ -n "$port" ] && t1=$(socket_hits "$port")
	record "$fw/glimpse"
	UHITS[$fw]="${UHITS[$fw]:-} $(calc %.2f "($u1 - $u0) / $LAST_REQS")"
	[ -n "$t0" ] && [ -n "$t1" ] && THITS[$fw]="${THITS[$fw]:-} $(calc %.2f "($t1 - $t0) / $LAST_REQS")"
	echo "   uprobe hits per request $(calc %.2f "($u1 - $u0) / $LAST_REQS")${t1:+, socket tracepoint runs per request $(calc %.2f "(${t1:-0} - ${t0:-0}) / $LAST_REQS")}"
	stop "$gpid" INT 100 || { tail -n 20 "$tmp/glimpse.err" >&2; die "$fw: glimpse attach failed at exit"; }
	stop "$SVC_PID" TERM 50 || true
}

bench_bpftrace() {
	local fw=$1 bpid bin hits
	have bpftrace || return 0
	read -r bin _ <<<"$(svc_cmd "$fw")"
	echo "== $fw: bpftrace -e 'uprobe:BIN:\"$PROBE_SYM\" { @hits = count(); }'"
	start_svc "$fw"
	"${LOAD_PIN[@]}" bpftrace -e "uprobe:$bin:\"$PROBE_SYM\" { @hits = count(); }" >"$tmp/bt.out" 2>"$tmp/bt.err" &
	bpid=$!
	PIDS+=("$bpid")
	wait_progs uprobe_progs "$bpid" 30 >/dev/null || { tail -n 20 "$tmp/bt.err" >&2; die "bpftrace did not attach"; }
	run_wrk "$fw"
	stop "$bpid" INT 100 || true
	record "$fw/bpftrace"
	hits=$(awk '$1 == "@hits:" { print $2 }' "$tmp/bt.out")
	[ -n "$hits" ] && UHITS[$fw/bpftrace]=$(calc %.2f "$hits / $LAST_REQS")
	stop "$SVC_PID" TERM 50 || true
}

report() {
	local fw c base_rps base_us rps us
	echo
	echo "== summary: wrk -t 1 -c 32 -d ${SECS}s, the service alone on CPU $SVC_CPU; $ROUNDS rounds (medians)"
	printf '%-9s %-9s %10s %8s %9s | %10s %8s %9s | %12s %12s\n' framework tracer requests/s "vs none" \
		"+µs/req" "svc µs/req" "vs none" "+µs/req" "uprobes/req" "tp runs/req"
	for fw in "${FRAMEWORKS[@]}"; do
		base_rps=$(median <<<"${RPS[$fw/none]}")
		base_us=$(median <<<"${US[$fw/none]}")
		for c in none glimpse bpftrace; do
			[ -n "${RPS[$fw/$c]:-}" ] || continue
			rps=$(median <<<"${RPS[$fw/$c]}")
			us=$(median <<<"${US[$fw/$c]}")
			local uh=- th=-
			[ "$c" = glimpse ] && uh=$(median <<<"${UHITS[$fw]:-}") && th=$(median <<<"${THITS[$fw]:-0}")
			[ "$c" = bpftrace ] && uh=${UHITS[$fw/bpftrace]:--}
			printf '%-9s %-9s %10.0f %7.3fx %9s | %10.2f %7.3fx %9s | %12s %12s\n' "$fw" "$c" "$rps" \
				"$(calc %.4f "$rps / $base_rps")" \
				"$([ "$c" = none ] && echo - || calc %.2f "1e6 / $rps - 1e6 / $base_rps")" "$us" \
				"$(calc %.4f "$base_us / $us")" "$([ "$c" = none ] && echo - || calc %.2f "$us - $base_us")" \
				"$uh" "$th"
		done
	done
	echo "(+µs/req: 1/rps - 1/rps(no tracer), then the same by the service's own CPU time per request.)"
}

main() {
	local r fw
	[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer (got '$SECS')"
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer (got '$ROUNDS')"
	[ "$(id -u)" -eq 0 ] || die "must run as root (tracers need CAP_BPF/CAP_PERFMON)"
	for t in wrk python3 curl ss bpftool; do have "$t" || die "$t not found: run scripts/install-deps.sh"; done
	[ -x "$GLIMPSE" ] || die "$GLIMPSE not found: run make"
	if [ "$(nproc)" -ge 2 ] && have taskset; then
		SVC_PIN=(taskset -c "$SVC_CPU") LOAD_PIN=(taskset -c "$LOAD_CPU")
	else
		note "fewer than 2 CPUs (or no taskset): nothing pinned"
	fi
	have bpftrace || note "bpftrace not installed: its rows are skipped"
	tmp=$(mktemp -d /tmp/bench-frameworks.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	enable_bpf_stats "uprobe hits per request" || true
	start_db
	for ((r = 1; r <= ROUNDS; r++)); do
		echo "==== round $r of $ROUNDS"
		for fw in "${FRAMEWORKS[@]}"; do
			bench_none "$fw"
			bench_glimpse "$fw"
			[ "$r" -lt "$ROUNDS" ] || bench_bpftrace "$fw"
		done
	done
	stop_db
	report
}

main
