#!/bin/bash
# Runs cluster tests many times in a row to find the ones that fail only
# now and then, and prints the failures per test.
#
#   tests/soak.sh N [PATTERN...]   N rounds of the integration tests whose
#                                  name contains a PATTERN (all without one)
#   tests/soak.sh --check N        N rounds of the whole `make check`
#
# BUILD (default build) is the build the tests use; it must be built
# (make all). The output of every failed round is kept in the folder named
# at the end (SOAK_DIR to choose it). The last line is "N passed, N failed",
# counting rounds of tests.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
export FP_BUILD=${FP_BUILD:-$BUILD}

full=
if [ "${1:-}" = "--check" ]; then
	full=1
	shift
fi
rounds=${1:-}
if ! [ "$rounds" -ge 1 ] 2>/dev/null; then
	echo "usage: tests/soak.sh [--check] N [PATTERN...]" >&2
	exit 2
fi
shift
dir=${SOAK_DIR:-$(mktemp -d /tmp/fp-soak.XXXXXX)}
mkdir -p "$dir"

tests=()
if [ -n "$full" ]; then
	tests=("make check")
else
	for t in tests/integration/[0-9]*.sh; do
		name=$(basename "$t" .sh)
		if [ $# -gt 0 ]; then
			keep=
			for p in "$@"; do
				[[ "$name" == *"$p"* ]] && keep=1
			done
			[ -n "$keep" ] || continue
		fi
		tests+=("$t")
	done
fi
if [ ${#tests[@]} -eq 0 ]; then
	echo "soak: no test matches $*" >&2
	exit 2
fi

declare -A failures seconds
pass=0 fail=0
for r in $(seq 1 "$rounds"); do
	for t in "${tests[@]}"; do
		if [ -n "$full" ]; then
			name=make-check
		else
			name=$(basename "$t" .sh)
		fi
		out=$dir/$name.round$r.out
		start=$(date +%s)
		if [ -n "$full" ]; then
			make check BUILD="$BUILD" > "$out" 2>&1
		else
			bash "$t" > "$out" 2>&1
		fi
		rc=$?
		took=$(($(date +%s) - start))
		seconds[$name]=$((${seconds[$name]:-0} + took))
		if [ "$rc" -eq 0 ]; then
			pass=$((pass + 1))
			rm -f "$out"
			echo "# round $r: $name ok (${took}s)"
		else
			fail=$((fail + 1))
			failures[$name]=$((${failures[$name]:-0} + 1))
			echo "# round $r: $name FAILED (${took}s, rc $rc): $out"
			grep -E '^not ok|^check: ' "$out" | sed 's/^/#   /'
		fi
	done
done

echo "# soak: $rounds rounds"
for t in "${tests[@]}"; do
	if [ -n "$full" ]; then name=make-check; else name=$(basename "$t" .sh); fi
	printf '# %-32s %d of %d failed, %ds a round\n' "$name" \
		"${failures[$name]:-0}" "$rounds" $((${seconds[$name]} / rounds))
done
[ "$fail" -gt 0 ] && echo "# outputs of the failed rounds: $dir"
echo "soak: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
