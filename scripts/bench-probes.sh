# SPDX-License-Identifier: Apache-2.0
# Helpers of the benchmarks that measure tracers on a service (bench-http.sh,
# bench-frameworks.sh): medians, a process's CPU time, the BPF programs a tracer attached and
# their run counts, glimpse's /metrics port and counters. Source after bench-lib.sh.

# cleanup: the EXIT trap: kills and reaps every process in PIDS (what the script started),
# restores kernel.bpf_stats_enabled and removes the temp dir $tmp.
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	restore_bpf_stats
	[ -n "$tmp" ] && rm -rf "$tmp"
}

# median: the median of the numbers on stdin (space- or line-separated).
median() {
	tr ' ' '\n' | sed '/^$/d' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# proc_cpu PID: user+system CPU seconds of PID so far.
proc_cpu() {
	local stat
	stat=$(cat /proc/"$1"/stat) || return 1
	# Fields after "(comm)": state is field 3, utime and stime are fields 14 and 15.
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / hz }' <<<"${stat##*") "}"
}

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

# sockcap_progs PID: the IDs of the socket probe's data programs (sockcap_send and
# sockcap_recv, on the socket tracepoints; sockcap_logs on sys_exit with --logs) PID has attached: tp_btf programs hang on BPF links, which show up in fdinfo
# as "link_type: raw_tracepoint" (or "tracing", depending on the kernel) with "prog_id: N";
# the scheduler probes are linked the same way, hence the names.
sockcap_progs() {
	local pid=$1 ids
	ids=$(awk 'FNR == 1 { tp = 0 } $1 == "link_type:" { tp = ($2 == "raw_tracepoint" || $2 == "tracing") }
		   $1 == "prog_id:" && tp { print $2 }' /proc/"$pid"/fdinfo/* 2>/dev/null | sort -un)
	[ -n "$ids" ] || return 0
	# shellcheck disable=SC2086 # one argument per ID
	bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
ids = {int(i) for i in sys.argv[1:]}
for p in json.load(sys.stdin):
    if p.get("id") in ids and p.get("name") in ("sockcap_send", "sockcap_recv", "sockcap_logs"):
        print(p["id"])' $ids || true
}

# run_cnt IDS...: the sum of run_cnt over these BPF programs (bpftool prog show -j).
run_cnt() {
	bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
ids = {int(i) for i in sys.argv[1:]}
print(sum(p.get("run_cnt", 0) for p in json.load(sys.stdin) if p.get("id") in ids))' "$@"
}

# wait_progs LISTFN PID SECONDS: waits until LISTFN PID lists programs and that set held still
# for 0.5 s (tools may attach them one by one); prints the program IDs.  Fails when PID exits
# or SECONDS (may be fractional) pass first.
wait_progs() {
	local fn=$1 pid=$2 ids prev="" since=0 now end
	end=$(($(date +%s%N) / 1000000 + $(calc %d "$3 * 1000")))
	while :; do
		alive "$pid" || return 1
		ids=$("$fn" "$pid")
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

# prom_port PID: the TCP port PID listens on (glimpse's /metrics, at 127.0.0.1:0).
prom_port() {
	ss -ltnpH 2>/dev/null | awk -v p="pid=$1," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }'
}

# socket_hits PORT: glimpse_socket_tracepoint_hits_total from glimpse's /metrics.
socket_hits() {
	curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null |
		awk '$1 == "glimpse_socket_tracepoint_hits_total" { printf "%.0f\n", $2; exit }'
}

# proc_hwm_mb PID: peak RSS of PID in MB; proc_rss_mb PID: its RSS now.
proc_hwm_mb() { awk '$1 == "VmHWM:" { printf "%.1f", $2 / 1024 }' /proc/"$1"/status; }
proc_rss_mb() { awk '$1 == "VmRSS:" { printf "%.1f", $2 / 1024 }' /proc/"$1"/status; }

# max A B: the larger of two numbers (A may be empty).
max() { if [ -z "$1" ]; then echo "$2"; else calc %.1f "$1 > $2 ? $1 : $2"; fi; }
