# SPDX-License-Identifier: Apache-2.0
# Helpers every bench-*.sh sources: messages, arithmetic, process handling and the kernel's
# BPF statistics switch. The caller sets BENCH_NAME (for messages) before sourcing.

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
note() { echo "note: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }
# calc FORMAT EXPR: awk arithmetic on numbers we produced ourselves (in parentheses, so that
# a ">" compares instead of redirecting).
calc() { awk "BEGIN { printf \"$1\", ($2) }"; }
alive() { kill -0 "$1" 2>/dev/null; }

# stop PID [SIGNAL [TENTHS]]: signals PID (default TERM), waits up to TENTHS/10 s (default 10 s)
# for it to exit, then kills it.  Returns the process's exit status.
stop() {
	local pid=$1 sig=${2:-TERM} tenths=${3:-100} i rc=0
	kill -"$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < tenths; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

BPF_STATS_PREV="" # kernel.bpf_stats_enabled before we touched it

# enable_bpf_stats WHAT: turns on the kernel's per-program run counters; WHAT says what goes
# unmeasured if that is refused.
enable_bpf_stats() {
	BPF_STATS_PREV=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || true)
	if [ -z "$BPF_STATS_PREV" ] || ! sysctl -q -w kernel.bpf_stats_enabled=1 >/dev/null 2>&1; then
		note "cannot enable kernel.bpf_stats_enabled: ${1:-BPF run counts} not measured"
		BPF_STATS_PREV=""
		return 1
	fi
}

restore_bpf_stats() {
	if [ -n "$BPF_STATS_PREV" ]; then
		sysctl -q -w kernel.bpf_stats_enabled="$BPF_STATS_PREV" >/dev/null 2>&1 || true
		BPF_STATS_PREV=""
	fi
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

# prom_port PID: the TCP port PID listens on (glimpse's /metrics, at 127.0.0.1:0).
prom_port() {
	ss -ltnpH 2>/dev/null | awk -v p="pid=$1," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }'
}
