#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every cmocka unit test binary given as an argument; fails if any fails.
# Tests that read real binaries (Go pclntab) find them through GLIMPSE_APPS / GLIMPSE_SRC.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export GLIMPSE_SRC="${GLIMPSE_SRC:-$top}"
export GLIMPSE_APPS="${GLIMPSE_APPS:-$top/build/apps}"
passed=0
failed=0
for t in "$@"; do
	echo "== $(basename "$t")"
	if "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
