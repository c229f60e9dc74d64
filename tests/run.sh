#!/bin/bash
# Runs the unit test binaries given as arguments (cmocka, TAP output) and then
# every tests/integration/*.sh, and ends with one "N passed, N failed" line.
# FP_ONLY=05 runs the cluster tests whose name holds 05; FP_SKIP_TESTS="a b"
# leaves out the ones named (said so in the output); each one's time is printed.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
# the cluster tests run this build's plugins and tools
export FP_BUILD=${FP_BUILD:-$BUILD}
pass=0 fail=0 failed_names=() failed_lines=()
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

count() { # name, file with TAP output, exit status
	local name=$1 out=$2 rc=$3 p f
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed or failed outside a test case
		echo "not ok - $name exited with status $rc"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	[ "$f" -gt 0 ] && failed_names+=("$name")
	# Repeated at the end: a CI log kept only by its tail still says
	# which check failed, not just which test.
	while IFS= read -r l; do
		failed_lines+=("$name: $l")
	done < <(grep '^not ok ' "$out" | head -n 5)
}

for t in "$@"; do
	name=$(basename "$t")
	echo "# unit: $name"
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" > "$log/$name.out" 2>&1
	rc=$?
	sed 's/^/    /' "$log/$name.out" | grep -v '^    ok ' || true
	count "$name" "$log/$name.out" "$rc"
done

# What the library, the plugins and the tools export (tests/symbols.sh;
# FP_SKIP_SYMBOLS=1 for a build folder without them all, as make tsan's).
if [ -z "${FP_SKIP_SYMBOLS:-}" ] && [ -x tests/symbols.sh ]; then
	echo "# cli: symbols"
	tests/symbols.sh > "$log/symbols.out" 2>&1
	rc=$?
	sed 's/^/    /' "$log/symbols.out" | grep -v '^    ok ' || true
	count symbols "$log/symbols.out" "$rc"
fi

# The public headers compile alone and together (tests/headers.sh).
if [ -x tests/headers.sh ] && [ -d include/footprint ]; then
	echo "# cli: headers"
	tests/headers.sh > "$log/headers.out" 2>&1
	rc=$?
	sed 's/^/    /' "$log/headers.out" | grep -v '^    ok ' || true
	count headers "$log/headers.out" "$rc"
fi

# Every C file as .clang-format lays it out (tests/format.sh).
if [ -z "${FP_SKIP_FORMAT:-}" ] && [ -x tests/format.sh ]; then
	echo "# cli: format"
	tests/format.sh > "$log/format.out" 2>&1
	rc=$?
	sed 's/^/    /' "$log/format.out" | grep -v '^    ok ' || true
	count format "$log/format.out" "$rc"
fi

# sfootprint --html rendered by headless Chromium (tests/html/run.sh); it
# says "skipped: chromium not installed" and counts nothing without it.
if [ -z "${FP_SKIP_HTML:-}" ] && [ -x tests/html/run.sh ]; then
	echo "# cli: html"
	tests/html/run.sh > "$log/html.out" 2>&1
	rc=$?
	sed 's/^/    /' "$log/html.out" | grep -v '^    ok ' || true
	count html "$log/html.out" "$rc"
fi

# The command-line tools under valgrind memcheck (or the sanitizers when
# built with SANITIZE=1): no leak, no invalid access.
if [ -z "${FP_SKIP_VALGRIND:-}" ] && [ -x tests/valgrind_cli.sh ]; then
	echo "# cli: valgrind_cli"
	tests/valgrind_cli.sh > "$log/valgrind_cli.out" 2>&1
	rc=$?
	sed 's/^/    /' "$log/valgrind_cli.out" | grep -v '^    ok ' || true
	count valgrind_cli "$log/valgrind_cli.out" "$rc"
fi

# sfootprint signals update against a stand-in of the providers on
# 127.0.0.1 (tests/feed/server.py): never the real ones.
if [ -z "${FP_SKIP_FEED:-}" ] && [ -x tests/feed/run.sh ]; then
	echo "# cli: feed"
	tests/feed/run.sh > "$log/feed.out" 2>&1
	rc=$?
	sed 's/^/    /' "$log/feed.out" | grep -v '^    ok ' || true
	count feed "$log/feed.out" "$rc"
fi

if [ -z "${FP_SKIP_INTEGRATION:-}" ]; then
	for t in tests/integration/[0-9]*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		[ -n "${FP_ONLY:-}" ] && [[ "$name" != *"$FP_ONLY"* ]] && continue
		if [[ " ${FP_SKIP_TESTS:-} " == *" $name "* ]]; then
			echo "# integration: $name: skipped (FP_SKIP_TESTS)"
			continue
		fi
		echo "# integration: $name"
		start=$SECONDS
		bash "$t" 2>&1 | tee "$log/$name.out"
		rc=${PIPESTATUS[0]}
		echo "# integration: $name took $((SECONDS - start)) s"
		count "$name" "$log/$name.out" "$rc"
	done
fi

[ ${#failed_lines[@]} -gt 0 ] && printf '# %s\n' "${failed_lines[@]}"
[ ${#failed_names[@]} -gt 0 ] && echo "# failing: ${failed_names[*]}"
echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
