#!/bin/bash
# Runs each libFuzzer target given for SECONDS on a working copy of its seed
# corpus and prints, per target, executions, coverage and crashes.
# Usage: run.sh OUTDIR SECONDS TARGET...  (FUZZ_ARGS: extra libFuzzer flags)
set -u
cd "$(dirname "$0")/../.."
out=$1 secs=$2
shift 2
failed=0
printf '%-20s %12s %8s %8s %8s  %s\n' target executions exec/s cov corpus crashes
for bin in "$@"; do
	name=$(basename "$bin")
	target=${name#fuzz_}
	work=$out/corpus-$target crashes=$out/crashes-$target
	log=$out/$name.log
	mkdir -p "$work" "$crashes"
	[ -d "tests/fuzz/corpus/$target" ] && cp -n tests/fuzz/corpus/$target/* "$work"/ 2>/dev/null
	# detect_leaks: a leak on a malformed input is a bug like any other.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crashes/" \
		${FUZZ_ARGS:-} "$work" > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
	corp=$(grep -o 'corp: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
	found=$(ls "$crashes" | wc -l)
	printf '%-20s %12s %8s %8s %8s  %s\n' "$target" "${execs:-?}" \
		"${speed:-?}" "${cov:-?}" "${corp:-?}" "$found"
	if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
		failed=1
		echo "  $target: exit $rc, see $log; inputs in $crashes/"
		grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | sed 's/^/  /'
	fi
done
exit $failed
