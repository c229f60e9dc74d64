#!/bin/bash
# A plugin built for one Slurm release is refused by another with Slurm's own
# message, and one built for the running release loads (TAP).
#   refused.sh LOADER OWN_VERSION "OWN.so..." FOREIGN_VERSION "FOREIGN.so..."
# LOADER loads a plugin through libslurmfull's plugin_load_from_file, as the
# daemons do (tests/versions/plugin_load.c).
set -u
loader=$1 own=$2 own_so=$3 foreign=$4 foreign_so=$5
n=0 fail=0
check() { # description, command...
	local what=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		fail=1
		return 1
	fi
}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for so in $own_so; do
	check "a plugin built for $own loads in $own: $(basename "$so")" \
		bash -c "'$loader' '$so' > '$out' 2>&1 && grep -qx loaded '$out'" ||
		sed 's/^/# /' "$out"
done
for so in $foreign_so; do
	check "a plugin built for $foreign is refused by $own: $(basename "$so")" \
		bash -c "! '$loader' '$so' > '$out' 2>&1"
	check "with Slurm's message 'Incompatible Slurm plugin ... version ($foreign)'" \
		grep -qF "Incompatible Slurm plugin $so version ($foreign)" "$out" ||
		sed 's/^/# /' "$out"
done
echo "1..$n"
exit $fail
