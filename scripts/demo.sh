#!/usr/bin/env bash
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
echo "== glimpse profile -p $app -d 10 -o $out/cpu.pb.gz --svg $out/flame.svg --folded $out/stacks.folded --top 15"
"$build/glimpse" profile -p "$app" -d 10 -o "$out/cpu.pb.gz" --svg "$out/flame.svg" \
	--folded "$out/stacks.folded" --top 15
echo
echo "== the same profile read back by the real consumer: go tool pprof -top"
go tool pprof -top -nodecount=8 "$out/cpu.pb.gz" 2>/dev/null | sed -n '1,14p'
echo
echo "Flame graph (open in a browser; click to zoom, Ctrl-F or the Search button to search):"
echo "  $out/flame.svg"
echo "pprof profile:  go tool pprof -http=127.0.0.1:8080 $out/cpu.pb.gz"
