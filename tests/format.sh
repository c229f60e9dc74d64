#!/bin/bash
# Every C file as .clang-format writes it (Linux/Slurm style), TAP. The
# format is clang-format 14's (Debian 12's): another release may lay a
# line out otherwise, so without clang-format-14 this says so and counts
# nothing.
set -u
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14)
if [ -z "$cf" ]; then
	echo "# skipped: clang-format-14 not installed"
	echo "1..0"
	exit 0
fi
n=0 failed=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find lib include plugins tools tests -name '*.[ch]'); do
	n=$((n + 1))
	if out=$("$cf" --dry-run -Werror "$f" 2>&1); then
		echo "ok $n - $f"
	else
		failed=$((failed + 1))
		echo "not ok $n - $f is not as .clang-format lays it out (clang-format-14 -i $f): $(echo "$out" | head -n 1)"
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
