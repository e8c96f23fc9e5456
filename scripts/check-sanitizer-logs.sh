#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails, printing them, if the sanitized build left any ASan/UBSan/LSan report in DIR (the
# log_path the Makefile's SANITIZE=1 runs set).
set -u
dir=${1:?usage: check-sanitizer-logs.sh DIR}
shopt -s nullglob
reports=("$dir"/*)
if [ ${#reports[@]} -eq 0 ]; then
	echo "sanitizers: no reports"
	exit 0
fi
for r in "${reports[@]}"; do
	echo "== sanitizer report $r"
	head -60 "$r"
done
echo "sanitizers: ${#reports[@]} report(s) in $dir" >&2
exit 1
