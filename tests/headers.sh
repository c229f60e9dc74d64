#!/bin/bash
# The public headers (include/footprint/), TAP: each compiles alone, the
# umbrella footprint.h includes every one of them and compiles alone and
# with all of them in one file (no two define one name), and no header on
# the plugins' include path is named like one of Slurm's.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CC=${CC:-cc}
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude $(pkg-config --cflags jansson 2>/dev/null)"

check() { # what, fault (empty: ok)
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1: $(echo "$2" | head -c 600)"
		failed=$((failed + 1))
	fi
}

compiles() { # file: the compiler's complaint, empty when it compiles
	$CC $flags -fsyntax-only "$1" 2>&1 | head -n 5
}

headers=$(cd include/footprint && ls *.h | grep -vx footprint.h)

for h in $headers; do
	printf '#include "footprint/%s"\n' "$h" > "$tmp/alone.c"
	check "footprint/$h compiles alone" "$(compiles "$tmp/alone.c")"
done

printf '#include "footprint/footprint.h"\n' > "$tmp/umbrella.c"
check "footprint/footprint.h compiles alone" "$(compiles "$tmp/umbrella.c")"

missing=""
for h in $headers; do
	grep -q "^#include \"$h\"" include/footprint/footprint.h ||
		missing="$missing $h"
done
check "footprint/footprint.h includes every public header" "$missing"

# every header after the umbrella, then again in reverse order: each is
# guarded and none defines what another does
{
	echo '#include "footprint/footprint.h"'
	for h in $headers; do echo "#include \"footprint/$h\""; done
	for h in $(echo "$headers" | sort -r); do echo "#include \"footprint/$h\""; done
} > "$tmp/all.c"
check "footprint/footprint.h and every public header compile in one file" \
	"$(compiles "$tmp/all.c")"

# Slurm's headers include "config.h" and their siblings by name: a header
# of ours found first on the plugins' path (-Iinclude -Iplugins) would be
# taken for theirs.
slurm_src=$(ls -d "$BUILD"/slurm/root 2>/dev/null)
if [ -n "$slurm_src" ]; then
	theirs=$( { find "$slurm_src" -name '*.h' -printf '%f\n'; echo config.h; } | sort -u)
	ours=$(find include plugins -maxdepth 2 -name '*.h' ! -path 'include/footprint/*' -printf '%f\n' | sort -u)
	check "no header on the plugins' include path is named like one of Slurm's" \
		"$(comm -12 <(echo "$theirs") <(echo "$ours") | tr '\n' ' ')"
fi

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
