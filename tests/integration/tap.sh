# TAP helpers for the integration tests: `check "description" command...`
# prints ok/not ok; the test exits non-zero if any check failed. A failed
# check calls tap_on_failure (cluster.sh defines it: the daemons' log lines
# and job outputs that explain it) when it is defined.
_tap_n=0
_tap_failed=0

_tap_fail() {
	echo "not ok $_tap_n - $1"
	_tap_failed=$((_tap_failed + 1))
	if declare -F tap_on_failure > /dev/null; then
		tap_on_failure "$1"
	fi
}

check() {
	local what=$1
	shift
	_tap_n=$((_tap_n + 1))
	if "$@"; then
		echo "ok $_tap_n - $what"
	else
		_tap_fail "$what"
	fi
}

# check_eq "description" expected actual
check_eq() {
	local what=$1 want=$2 got=$3
	_tap_n=$((_tap_n + 1))
	if [ "$want" = "$got" ]; then
		echo "ok $_tap_n - $what"
	else
		_tap_fail "$what (want '$want', got '$got')"
	fi
}

tap_done() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}
