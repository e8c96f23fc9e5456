# SPDX-License-Identifier: Apache-2.0
# Shared by the scripts that generate offsets tables for modules from reference builds
# (gen-router-offsets.sh, gen-grpc-offsets.sh): build a small program against one version of a
# module through the module proxy, then read the numbers glimpse inspect prints from its DWARF.
# Sourced; expects $GO (a go command building modules).

# ref_module_build DIR MODULE VERSION [GO_DIRECTIVE]: builds DIR/main.go (already written) as
# module "ref" (go.mod's go line GO_DIRECTIVE, 1.26.0 unless given) against MODULE@VERSION into
# DIR/ref. Fails (with a line on stderr) when it does not build or the module resolves to another
# version.
ref_module_build() {
	local d=$1 module=$2 v=$3 go_line=${4:-1.26.0} got
	printf 'module ref\n\ngo %s\n' "$go_line" > "$d/go.mod"
	if ! (cd "$d" && GOFLAGS=-mod=mod $GO get "$module@$v" >/dev/null 2>&1 &&
		GOFLAGS=-mod=mod $GO mod tidy >/dev/null 2>&1 && GOFLAGS=-mod=mod $GO build -o ref . 2>"$d/err"); then
		echo "$(basename "$0"): $module $v does not build with $($GO version | cut -d' ' -f3): skipped" >&2
		return 1
	fi
	got=$(cd "$d" && GOFLAGS=-mod=mod $GO list -m -f '{{.Version}}' "$module")
	if [ "$got" != "$v" ]; then
		echo "$(basename "$0"): $module resolved to $got, not $v: skipped" >&2
		return 1
	fi
}

# inspect_numbers FILE LABEL: the numbers of the "LABEL" line of an inspect output, as
# "1, 2, -1" (each NAME=NUMBER in order).
inspect_numbers() {
	grep "$2" "$1" | grep -o '=-\?[0-9]*' | tr -d = | paste -sd, | sed 's/,/, /g'
}
