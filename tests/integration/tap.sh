# TAP helpers for the integration tests: `check "description" command...`
# prints ok/not ok; the test exits non-zero if any check failed.
_tap_n=0
_tap_failed=0

check() {
	local what=$1
	shift
	_tap_n=$((_tap_n + 1))
	if "$@"; then
		echo "ok $_tap_n - $what"
	else
		echo "not ok $_tap_n - $what"
		_tap_failed=$((_tap_failed + 1))
	fi
}

# check_eq "description" expected actual
check_eq() {
	local what=$1 want=$2 got=$3
	_tap_n=$((_tap_n + 1))
	if [ "$want" = "$got" ]; then
		echo "ok $_tap_n - $what"
	else
		echo "not ok $_tap_n - $what (want '$want', got '$got')"
		_tap_failed=$((_tap_failed + 1))
	fi
}

tap_done() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}
