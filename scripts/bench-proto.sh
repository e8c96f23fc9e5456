#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark: what glimpse attach's uprobes cost per call on each protocol it measures in Go —
# HTTP/1.1 and HTTP/2 (cleartext h2c) through net/http, HTTP/2 through golang.org/x/net/http2
# used directly (built by Go 1.26, x/net's own server, and by Go 1.27, where x/net wraps
# net/http's), and gRPC unary calls — side by side. Run by `make bench-http` after
# bench-http.sh (whose figures are HTTP/1's under wrk, with peers).
#
# Usage: scripts/bench-proto.sh <abs build dir>
# Env:   BENCH_SECONDS (default 10): sets the calls per run, BENCH_SECONDS * 2000
#
# For each protocol, a fresh service on CPU 0 alone (taskset -c 0) and a client on CPU 1 (one
# connection, calls one after another: httpsvc -drive, HTTP/1.1 or h2c, or grpcsvc -drive):
# a warm-up run, a run with no tracer, then glimpse attach
# (--capture uprobes, no spans, on CPU 1) and the same run again. The cost is the service's
# own CPU time (utime+stime from /proc, where the probes run) per call, traced minus untraced:
# it does not depend on how fast the client drives the service. The uprobe hits per call are
# glimpse's own count (glimpse_probe_hits_total) over the calls glimpse measured, which must
# be all of them. This is a benchmark, not a test: it exits non-zero only when a tool is missing.
set -euo pipefail

BENCH_NAME=bench-proto
. "$(dirname "$0")/bench-lib.sh"
. "$(dirname "$0")/bench-probes.sh"

BUILD=${1:?usage: bench-proto.sh <abs build dir>}
SECS=${BENCH_SECONDS:-10}
CALLS=$((SECS * 2000))
GLIMPSE=$BUILD/glimpse
APPS=$BUILD/apps
SVC_PIN=() LOAD_PIN=()
if [ "$(nproc)" -ge 2 ] && have taskset; then
	SVC_PIN=(taskset -c 0)
	LOAD_PIN=(taskset -c 1)
fi
have curl || die "curl is needed (glimpse's /metrics)"
[ -x "$GLIMPSE" ] || die "no $GLIMPSE: run make"
PIDS=()
tmp=$(mktemp -d)
trap cleanup EXIT # bench-probes.sh

SVC_PID="" SVC_ADDR=""
# start_svc BINARY ARGS...: the service on CPU 0; sets SVC_PID and SVC_ADDR ("ready PID ADDR").
start_svc() {
	local bin=$1
	shift
	[ -x "$APPS/$bin" ] || die "no $APPS/$bin: run make apps"
	rm -f "$tmp/svc.out"
	SVC_ADDR=""
	"${SVC_PIN[@]}" "$APPS/$bin" "$@" >"$tmp/svc.out" 2>"$tmp/svc.err" &
	SVC_PID=$!
	PIDS+=("$SVC_PID")
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$tmp/svc.out" ] && read -r _ _ SVC_ADDR <"$tmp/svc.out" && [ -n "$SVC_ADDR" ] && return 0
		sleep 0.1
	done
	die "$bin did not start: $(cat "$tmp/svc.err")"
}

# drive KIND N: N calls of KIND one after another, from CPU 1.
drive() {
	case "$1" in
	h1) "${LOAD_PIN[@]}" "$APPS/httpsvc-1.26" -drive "http://$SVC_ADDR/fast" -n "$2" ;;
	h2) "${LOAD_PIN[@]}" "$APPS/httpsvc-1.26" -drive "http://$SVC_ADDR/fast" -n "$2" -drive-h2c ;;
	grpc) "${LOAD_PIN[@]}" "$APPS/grpcsvc-1.26" -drive "$SVC_ADDR" -plan "Echo:$2" >/dev/null ;;
	esac
}

# svc_us KIND N: the service's CPU µs per call over N calls.
svc_us() {
	local c0 c1
	c0=$(proc_cpu "$SVC_PID")
	drive "$1" "$2"
	c1=$(proc_cpu "$SVC_PID")
	calc %.1f "($c1 - $c0) * 1e6 / $2"
}

# metric PORT NAME: the sum of NAME's samples on glimpse's /metrics.
metric() {
	curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%d", s }'
}

ROWS=()
# bench LABEL KIND COUNTER BINARY ARGS...: one row; COUNTER is the glimpse series whose count
# says how many calls it measured.
bench() {
	local label=$1 kind=$2 counter=$3 bin=$4
	shift 4
	start_svc "$bin" "$@"
	drive "$kind" $((CALLS / 5)) # warm-up: connections, pools, heap
	local none traced gpid port h0 h1 n0 n1 i
	none=$(svc_us "$kind" "$CALLS")
	"${LOAD_PIN[@]}" "$GLIMPSE" attach -p "$SVC_PID" --capture uprobes --no-live --prometheus-addr 127.0.0.1:0 \
		>"$tmp/glimpse.out" 2>"$tmp/glimpse.err" &
	gpid=$!
	PIDS+=("$gpid")
	for ((i = 0; i < 100; i++)); do
		grep -q attached "$tmp/glimpse.err" 2>/dev/null && break
		alive "$gpid" || die "glimpse attach failed: $(cat "$tmp/glimpse.err")"
		sleep 0.1
	done
	port=""
	for ((i = 0; i < 50; i++)); do
		port=$(prom_port "$gpid")
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || die "glimpse's /metrics not found: $(cat "$tmp/glimpse.err")"
	h0=$(metric "$port" glimpse_probe_hits_total)
	n0=$(metric "$port" "$counter")
	traced=$(svc_us "$kind" "$CALLS")
	sleep 0.5 # the last events reach the registry
	h1=$(metric "$port" glimpse_probe_hits_total)
	n1=$(metric "$port" "$counter")
	stop "$gpid" INT >/dev/null || true
	stop "$SVC_PID" TERM >/dev/null || true
	[ $((n1 - n0)) -eq "$CALLS" ] || note "$label: glimpse measured $((n1 - n0)) of $CALLS calls"
	ROWS+=("$(printf '%-34s %7d %10s %10s %10s %10s' "$label" "$CALLS" "$none" "$traced" \
		"$(calc %.1f "$traced - $none")" "$(calc %.2f "($h1 - $h0) / $CALLS")")")
}

echo "== bench-proto: service CPU µs per call, no tracer and glimpse attach (uprobes), $CALLS calls each"
bench "HTTP/1.1 (net/http)" h1 http_server_request_duration_seconds_count httpsvc-1.26
bench "HTTP/2 h2c (net/http)" h2 http_server_request_duration_seconds_count httpsvc-1.26 -h2c
bench "HTTP/2 h2c (x/net/http2, h2c pkg)" h2 http_server_request_duration_seconds_count httpsvc-xnet-1.26 -xnet-h2c
# From Go 1.27 x/net/http2 wraps net/http's internal server: measured where net/http's
# http2Handler calls the handler (its call and the instruction after it), not x/net's own code.
bench "HTTP/2 h2c (x/net/http2, Go 1.27)" h2 http_server_request_duration_seconds_count httpsvc-xnet-1.27 -xnet-h2c
bench "gRPC unary (grpc-go 1.85)" grpc rpc_server_call_duration_seconds_count grpcsvc-1.26
printf '%-34s %7s %10s %10s %10s %10s\n' protocol calls "us none" "us glimpse" "added us" "hits/call"
printf '%s\n' "${ROWS[@]}"
echo "(the HTTP/2 x/net rows add the h2c connection's HTTP/1 side once: 2 hits, on Go 1.27 3 with x/net's serveConn;"
echo " services built by Go 1.26 but the Go 1.27 row; gRPC's server side only: 2 hits a call)"
