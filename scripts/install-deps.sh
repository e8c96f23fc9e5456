#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs everything glimpse's build, tests, demo and benchmarks need on Debian bookworm.
# Idempotent: packages already present are left alone; safe to run on every `make deps`.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (or with sudo) to install packages" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

BUILD_PKGS=(make pkg-config gcc clang llvm bpftool libbpf-dev libelf-dev libdw-dev zlib1g-dev
	libprotobuf-c-dev protobuf-c-compiler libcapstone-dev libcurl4-openssl-dev
	libmicrohttpd-dev libyaml-dev uthash-dev golang-github-google-pprof-dev clang-format xxd)
TEST_PKGS=(libcmocka-dev python3-pytest golang-go libxml2-utils curl wrk python3 procps util-linux libcap2-bin
	prometheus postgresql golang-github-lib-pq-dev golang-github-mattn-go-sqlite3-dev
	golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev yamllint python3-yaml binutils
	libclang-rt-14-dev nginx-light redis-server redis-tools libc6-dbg golang-google-grpc-dev
	chromium)
BENCH_PKGS=(linux-perf bpftrace time libbpf-tools)
BACKPORT_PKGS=(golang-1.21-go golang-1.22-go golang-1.23-go)

missing=()
for p in "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}" "${BACKPORT_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The test apps are Go modules: their dependencies and the Go 1.27 toolchain come through the
# module proxy, for the Go at /usr/local/go (1.26, the machine's own: not a Debian package).
go_modules() {
	if [ ! -x /usr/local/go/bin/go ]; then
		echo "install-deps: /usr/local/go/bin/go is missing: the test apps need Go 1.26 there" >&2
		exit 1
	fi
	make -s -C "$(dirname "$0")/../tests/apps" deps
	for tool in "$(dirname "$0")"/../tests/tools/*/go.mod; do
		(cd "$(dirname "$tool")" && GOFLAGS=-mod=readonly GOTOOLCHAIN=local /usr/local/go/bin/go mod download) || exit 1
	done
}
# The browser tests drive Debian's chromium with playwright-core, pinned in
# tests/e2e/browser/package-lock.json (npm ci; never a browser download).
browser_modules() {
	local dir
	dir="$(dirname "$0")/../tests/e2e/browser"
	if ! command -v npm >/dev/null 2>&1; then
		echo "install-deps: npm is missing: the browser tests need Node.js 20+ and npm (the machine's own)" >&2
		exit 1
	fi
	if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.glimpse-lock"; then
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) &&
			cp "$dir/package-lock.json" "$dir/node_modules/.glimpse-lock"
	fi
}

if [ ${#missing[@]} -eq 0 ]; then
	go_modules
	browser_modules
	echo "install-deps: all packages present"
	exit 0
fi

bp=/etc/apt/sources.list.d/bookworm-backports.list
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$bp"
fi

echo "install-deps: installing ${missing[*]}"
apt-get update -qq
regular=()
backports=()
for p in "${missing[@]}"; do
	case " ${BACKPORT_PKGS[*]} " in
		*" $p "*) backports+=("$p") ;;
		*) regular+=("$p") ;;
	esac
done
if [ ${#regular[@]} -gt 0 ]; then
	apt-get install -y -qq --no-install-recommends "${regular[@]}"
fi
if [ ${#backports[@]} -gt 0 ]; then
	apt-get install -y -qq --no-install-recommends -t bookworm-backports "${backports[@]}"
fi
# The PostgreSQL, nginx and Redis packages start services we do not use; tests run their own
# servers on loopback (tests/e2e/pg.py, tests/e2e/servers.py). Stop and disable them, through
# systemd where it runs, else through their init scripts (containers without systemd).
for svc in postgresql nginx redis-server; do
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now "$svc" >/dev/null 2>&1 || true
	elif [ -x "/etc/init.d/$svc" ]; then
		"/etc/init.d/$svc" stop >/dev/null 2>&1 || true
		if command -v update-rc.d >/dev/null 2>&1; then update-rc.d "$svc" disable >/dev/null 2>&1 || true; fi
	fi
done
go_modules
browser_modules
echo "install-deps: done"
