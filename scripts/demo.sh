#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: profiles a running Go service-like workload for 10 s, with no change to it,
# and shows the hottest functions plus where the pprof file and flame graph went.
set -euo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
out="$build/demo"
mkdir -p "$out"

"$build/apps/demoapp" -t 30 > "$out/demoapp.out" &
app=$!
trap 'kill $app 2>/dev/null || true' EXIT
until grep -q ready "$out/demoapp.out" 2>/dev/null; do sleep 0.1; done

echo "== demo workload: $build/apps/demoapp (pid $app): hashing, JSON, gzip, sorting in 2 goroutines"
echo "== glimpse profile -p $app -d 10 -o $out/cpu.pb.gz --svg $out/flame.svg --folded $out/stacks.folded --top 15 --force"
"$build/glimpse" profile -p "$app" -d 10 -o "$out/cpu.pb.gz" --svg "$out/flame.svg" \
	--folded "$out/stacks.folded" --top 15 --force
echo
echo "== the same profile read back by the real consumer: go tool pprof -top"
go tool pprof -top -nodecount=8 "$out/cpu.pb.gz" 2>/dev/null | sed -n '1,14p'
echo
echo "Flame graph (open in a browser; click to zoom, Ctrl-F or the Search button to search):"
echo "  $out/flame.svg"
echo "pprof profile:  go tool pprof -http=127.0.0.1:8080 $out/cpu.pb.gz"

echo
echo "== now HTTP, database and trace data from a Go service, again with no change to it:"
rm -f "$out/demo.sqlite"
"$build/apps/dbsvc-1.23-stripped" -db "sqlite:$out/demo.sqlite" > "$out/dbsvc.out" &
svc=$!
trap 'kill $app $svc 2>/dev/null || true' EXIT
until grep -q ready "$out/dbsvc.out" 2>/dev/null; do sleep 0.1; done
addr=$(awk '{print $3}' "$out/dbsvc.out")
echo "== glimpse attach -p $svc -d 6 --prometheus-addr 127.0.0.1:19464 --spans-out $out/spans.jsonl --force --no-live"
"$build/glimpse" attach -p "$svc" -d 6 --prometheus-addr 127.0.0.1:19464 --spans-out "$out/spans.jsonl" --force \
	--no-live > "$out/attach.out" &
attach=$!
until curl -sf -o /dev/null http://127.0.0.1:19464/healthz; do sleep 0.1; done
for i in $(seq 50); do
	curl -s -o /dev/null "http://$addr/one"
	curl -s -o /dev/null "http://$addr/many"
	[ $((i % 10)) -eq 0 ] && curl -s -o /dev/null "http://$addr/fail"
done
sleep 0.5
echo "-- a few series from http://127.0.0.1:19464/metrics:"
curl -s http://127.0.0.1:19464/metrics | grep -E '^(http_server_request_duration_seconds_count|db_client_operation_duration_seconds_count|go_goroutines|process_threads)' | head -12
wait $attach
cat "$out/attach.out"
echo "-- one request's trace ($out/spans.jsonl, OTLP works the same with --otlp-endpoint):"
python3 - "$out/spans.jsonl" <<'PY'
import json, sys
spans = [json.loads(l) for l in open(sys.argv[1])]
root = next(s for s in spans if s["name"] == "GET /many")
print(f'  {root["name"]}  trace {root["trace_id"]}  {(root["end_unix_ns"] - root["start_unix_ns"]) / 1e3:.0f} us')
for s in spans:
    if s.get("parent_span_id") == root["span_id"]:
        print(f'    {s["name"]:<16} {(s["end_unix_ns"] - s["start_unix_ns"]) / 1e3:6.0f} us  {s["attributes"].get("db.query.text", "")}')
PY
