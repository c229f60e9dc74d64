#!/bin/bash
# sfootprint signals update against tests/feed/server.py on 127.0.0.1 (never
# the real providers): each case checks the series file and the log lines.
# TAP output; run by tests/run.sh (make check, make unit).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SF=$(realpath "$BUILD/sfootprint")
dir=$(mktemp -d)
srv_pid= tls_pid=
trap 'for p in $srv_pid $tls_pid; do kill "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
# only loopback: no proxy of the environment may carry these requests away
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
# and no CA of the environment may vouch for the test's self-signed one
unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR

python3 tests/feed/server.py "$dir/port" "$dir/requests.log" 2> "$dir/server.err" &
srv_pid=$!
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
if [ ! -s "$dir/port" ]; then
	echo "not ok 1 - the loopback provider stand-in started ($(tail -n1 "$dir/server.err"))"
	exit 1
fi
PORT=$(cat "$dir/port")
URL="http://127.0.0.1:$PORT"
n=0 failed=0

ok() { # name, then a command that must succeed
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/#   /' "$dir/out" "$dir/err" 2>/dev/null | head -n 20
		failed=$((failed + 1))
	fi
}

# conf FILE SITE-LINE...: a footprint.conf with these sites
conf() {
	local f=$1
	shift
	printf '%s\n' "$@" > "$f"
}

# update CONF [ARGS...]: runs the updater, keeps rc, stdout, stderr
update() {
	local c=$1
	shift
	: > "$dir/requests.log"
	# the recorded answers are of 2024: a new file starts there
	"$SF" signals update --config "$c" --since 2024-01-01T00:00:00Z "$@" \
		> "$dir/out" 2> "$dir/err"
	rc=$?
}

rows() { grep -c '^[0-9]' "$1"; }
errlines() { grep -c . "$dir/err"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
# times strictly increasing, each step one resolution ($2 s) unless a gap
increasing() {
	python3 - "$1" "${2:-0}" <<'PY'
import sys, datetime as dt
f, step = sys.argv[1], int(sys.argv[2])
ts = [dt.datetime.fromisoformat(l.split(",")[0].replace("Z", "+00:00"))
      for l in open(f) if l[:1].isdigit()]
ok = all(b > a for a, b in zip(ts, ts[1:]))
if step:
    ok = ok and all((b - a).total_seconds() == step for a, b in zip(ts, ts[1:]))
sys.exit(0 if ok and ts else 1)
PY
}

S="$dir/fr.csv"
C="$dir/fp.conf"
conf "$C" "Site=fr Nodes=n1 Intensity=file:$S Feed=eco2mix FeedURL=$URL/e-page"

update "$C"
ok "eco2mix_three_pages_make_one_new_file_of_250_quarter_hours" \
	test "$rc" = 0 -a "$(rows "$S")" = 250
ok "eco2mix_pages_are_asked_with_offsets_0_100_200" \
	test "$(grep -o '"query": "[^"]*offset=[0-9]*' "$dir/requests.log" | sed 's/.*offset=//' | tr '\n' ' ')" = "0 100 200 "
ok "eco2mix_quarter_hours_are_kept_15_minutes_apart_in_utc" increasing "$S" 900
ok "eco2mix_file_says_provider_zone_fetch_time_and_flag" \
	bash -c "grep -q '^# fetched .* provider=eco2mix zone=FR' '$S' && grep -q '^2024-01-15T00:00:00Z,20 # realtime$' '$S'"
cp "$S" "$dir/before"

conf "$C" "Site=fr Nodes=n1 Intensity=file:$S Feed=eco2mix FeedURL=$URL/e-more"
update "$C"
ok "second_run_appends_only_the_50_newer_rows" \
	test "$rc" = 0 -a "$(rows "$S")" = 300
ok "second_run_keeps_every_old_byte_as_it_was" \
	cmp -s -n "$(stat -c %s "$dir/before")" "$dir/before" "$S"
ok "second_run_asks_only_for_times_after_the_last_row" \
	grep -q 'date_heure%20%3E%20%222024-01-17T14%3A15%3A00Z%22' "$dir/requests.log"
h=$(sha "$S")
update "$C"
ok "third_run_with_nothing_new_leaves_the_file_unchanged" \
	test "$rc" = 0 -a "$(sha "$S")" = "$h" -a "$(errlines)" = 0

# faults: one line each, the file untouched
for c in 503 slow bad big 400; do
	conf "$C" "Site=fr Nodes=n1 Intensity=file:$S Feed=eco2mix FeedURL=$URL/e-$c"
	start=$(date +%s)
	update "$C" --timeout 1 --retries 2
	took=$(( $(date +%s) - start ))
	case $c in
	503) ok "http_503_is_retried_after_1_and_2_s_then_one_line_and_rc_1" \
		bash -c "test $rc = 1 && test $(errlines) = 1 && grep -q 'HTTP 503.*after 3 tries' '$dir/err' && test $(grep -c . "$dir/requests.log") = 3 && test $took -ge 3" ;;
	slow) ok "slow_answer_times_out_in_one_line" \
		bash -c "test $rc = 1 && test $(errlines) = 1 && grep -q 'timed out' '$dir/err' && test $took -lt 8" ;;
	bad) ok "malformed_json_is_one_line_naming_line_and_column" \
		bash -c "test $rc = 1 && test $(errlines) = 1 && grep -q 'malformed JSON at line 1 column' '$dir/err'" ;;
	big) ok "an_answer_over_8_MiB_is_refused_in_one_line" \
		bash -c "test $rc = 1 && test $(errlines) = 1 && grep -q 'larger than 8388608 bytes' '$dir/err'" ;;
	400) ok "http_400_is_not_retried_and_quotes_the_provider" \
		bash -c "test $rc = 1 && test $(errlines) = 1 && grep -q \"HTTP 400: 'ODSQL query is malformed\" '$dir/err' && test $(grep -c . "$dir/requests.log") = 1" ;;
	esac
	ok "after_$c the_series_is_byte_for_byte_unchanged" test "$(sha "$S")" = "$h"
done

# HTTPS with a self-signed certificate for 127.0.0.1: the certificate is
# always verified, so the answer is never read
if openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$dir/tls.pem" \
	-out "$dir/tls.crt" 2> /dev/null && cat "$dir/tls.crt" >> "$dir/tls.pem"; then
	FEED_TLS_CERT="$dir/tls.pem" python3 tests/feed/server.py "$dir/tls-port" \
		"$dir/tls-requests.log" 2> "$dir/tls-server.err" &
	tls_pid=$!
	for _ in $(seq 100); do [ -s "$dir/tls-port" ] && break; sleep 0.05; done
	conf "$C" "Site=fr Nodes=n1 Intensity=file:$S Feed=eco2mix FeedURL=https://127.0.0.1:$(cat "$dir/tls-port" 2>/dev/null)/e-more"
	update "$C"
	ok "a_self_signed_https_provider_is_refused_in_one_line_not_retried" \
		bash -c "test $rc = 1 && test $(errlines) = 1 && grep -q 'GET https://127.0.0.1:.*: SSL certificate problem: self.signed certificate\$' '$dir/err' && test ! -s '$dir/tls-requests.log'"
	ok "after_tls_refused the_series_is_byte_for_byte_unchanged" test "$(sha "$S")" = "$h"
else
	for t in a_self_signed_https_provider_is_refused_in_one_line_not_retried \
		"after_tls_refused the_series_is_byte_for_byte_unchanged"; do
		n=$((n + 1))
		echo "ok $n - $t # SKIP no openssl to make a certificate"
	done
fi

# a provider that revises quarters already in the file: the file's rows
# stay as they were (append only), only the newer quarters are added
cp "$S" "$dir/before"
conf "$C" "Site=fr Nodes=n1 Intensity=file:$S Feed=eco2mix FeedURL=$URL/e-revised"
update "$C"
ok "a_revised_quarter_leaves_every_old_byte_as_it_was" \
	bash -c "test $rc = 0 && cmp -s -n $(stat -c %s "$dir/before") '$dir/before' '$S' && test $(grep -c '^2024-01-15T00:00:00Z,' "$S") = 1"
ok "a_revision_still_appends_the_10_newer_quarters" \
	bash -c "test $(rows "$S") = 310 && ! grep -q ',9[0-9][0-9] ' '$S'" && increasing "$S" 900

conf "$C" "Site=fr Nodes=n1 Intensity=file:$dir/r.csv Feed=eco2mix FeedURL=$URL/e-429"
start=$(date +%s.%N)
update "$C"
ok "http_429_waits_its_retry_after_then_takes_the_200" \
	python3 -c "import sys; sys.exit(not ($rc == 0 and $(rows "$dir/r.csv") == 250 and $(date +%s.%N) - $start >= 1))"
ok "a_recovered_retry_is_said_in_one_line" \
	bash -c "test $(errlines) = 1 && grep -q \"site 'fr' (eco2mix): GET .*: HTTP 429: 'Too many requests.*', retried after 1 s, then answered\" '$dir/err'"

conf "$C" "Site=fr Nodes=n1 Intensity=file:$dir/r2.csv Feed=eco2mix FeedURL=$URL/e-503x2"
update "$C"
ok "http_503_twice_then_200_is_said_in_one_line_with_the_time_waited" \
	bash -c "test $rc = 0 && test $(rows "$dir/r2.csv") = 250 && test $(errlines) = 1 && grep -q \"HTTP 503: '<html><body>503 Service Unavailable</body></html>' (2 faults in a row), retried after 3 s in all, then answered\" '$dir/err'"

conf "$C" "Site=fr Nodes=n1 Intensity=file:$dir/dst.csv Feed=eco2mix FeedURL=$URL/e-dst"
update "$C"
ok "dst_day_local_offsets_become_24_distinct_utc_quarters" \
	bash -c "test $rc = 0 && test $(rows "$dir/dst.csv") = 24 && grep -q '^2024-10-27T00:45:00Z,' '$dir/dst.csv' && grep -q '^2024-10-27T01:00:00Z,' '$dir/dst.csv'"
ok "dst_day_rows_are_15_minutes_apart" increasing "$dir/dst.csv" 900

conf "$C" "Site=fr Nodes=n1 Intensity=file:$dir/dup.csv Feed=eco2mix FeedURL=$URL/e-dup"
update "$C"
ok "duplicates_are_dropped_with_one_line_counting_them" \
	bash -c "test $rc = 0 && test $(rows "$dir/dup.csv") = 8 && test $(errlines) = 1 && grep -q '2 duplicate points dropped.*1 with another value' '$dir/err'"
ok "a_duplicate_keeps_the_first_value" grep -q '^2024-01-15T01:00:00Z,24 # realtime$' "$dir/dup.csv"

conf "$C" "Site=fr Nodes=n1 Intensity=file:$dir/gap.csv Feed=eco2mix FeedURL=$URL/e-gap"
update "$C"
ok "a_gap_is_kept_and_said_in_one_line" \
	bash -c "test $rc = 0 && test $(rows "$dir/gap.csv") = 7 && test $(errlines) = 1 && grep -q 'no value from 2024-01-15T00:45:00Z to 2024-01-15T01:45:00Z (3 points missing): kept as a gap' '$dir/err'"

# one failing site does not keep the other stale
conf "$C" "Site=a Nodes=n1 Intensity=file:$dir/a.csv Feed=eco2mix FeedURL=$URL/e-503" \
	"Site=b Nodes=n2 Intensity=file:$dir/b.csv Feed=eco2mix FeedURL=$URL/e-page"
update "$C" --retries 0
ok "a_failing_site_gives_rc_1_and_the_others_are_still_updated" \
	bash -c "test $rc = 1 && test ! -e '$dir/a.csv' && test $(rows "$dir/b.csv" 2>/dev/null || echo 0) = 250"
update "$C" --site b
ok "site_selects_one_site" bash -c "test $rc = 0 && ! grep -q e-503 '$dir/requests.log'"

# the updater killed while it writes (SIGXFSZ past ulimit -f): old file intact
cp "$dir/b.csv" "$dir/b.before"
conf "$C" "Site=b Nodes=n2 Intensity=file:$dir/b.csv Feed=eco2mix FeedURL=$URL/e-more"
{
	(ulimit -f 10; exec "$SF" signals update --config "$C" > "$dir/out" 2> "$dir/err")
	rc=$?
} 2> /dev/null
ok "killed_mid_write_the_old_series_is_intact" \
	bash -c "test $rc -gt 128 && cmp -s '$dir/b.before' '$dir/b.csv' && test -e '$dir/.b.csv.feed-tmp'"
update "$C"
ok "the_next_run_after_a_kill_appends_and_leaves_no_temporary_file" \
	bash -c "test $rc = 0 && test $(rows "$dir/b.csv") = 300 && test ! -e '$dir/.b.csv.feed-tmp'"

# a file of another format is never appended to
printf 'Datetime (UTC),Carbon Intensity gCO2eq/kWh (LCA)\n2024-01-01 00:00:00,50\n' > "$dir/em.csv"
h=$(sha "$dir/em.csv")
conf "$C" "Site=fr Nodes=n1 Intensity=file:$dir/em.csv Feed=eco2mix FeedURL=$URL/e-page"
update "$C"
ok "an_electricity_maps_export_is_refused_and_left_as_it_was" \
	bash -c "test $rc = 1 && test $(errlines) = 1 && grep -q 'an electricitymaps export, not a plain series' '$dir/err' && test $(sha "$dir/em.csv") = $h"

# Electricity Maps: token file, history then latest
printf 'test-token-123\n' > "$dir/token"
chmod 600 "$dir/token"
conf "$C" "Site=em Nodes=n1 Intensity=file:$dir/m.csv Feed=electricitymaps:FR FeedURL=$URL/m-ok FeedTokenFile=$dir/token"
update "$C"
ok "electricitymaps_history_and_latest_make_25_hourly_rows" \
	bash -c "test $rc = 0 && test $(rows "$dir/m.csv") = 25" && increasing "$dir/m.csv" 3600
token_sent() {
	test "$(grep -c '"auth": "test-token-123"' "$dir/requests.log")" = 2 &&
		grep -q '"path": "/v3/carbon-intensity/history", "query": "zone=FR&emissionFactorType=lifecycle"' "$dir/requests.log" &&
		grep -q '"path": "/v3/carbon-intensity/latest"' "$dir/requests.log"
}
ok "electricitymaps_sends_the_token_as_auth_token_header" token_sent
ok "electricitymaps_estimated_and_actual_flags_are_kept" \
	bash -c "grep -q '^2024-06-01T21:00:00Z,51 # actual$' '$dir/m.csv' && grep -q '^2024-06-02T00:00:00Z,61 # estimated$' '$dir/m.csv'"
chmod 644 "$dir/token"
update "$C"
ok "a_world_readable_token_file_is_refused_before_any_request" \
	bash -c "test $rc = 1 && test $(errlines) = 1 && grep -q 'mode 0644' '$dir/err' && test ! -s '$dir/requests.log'"
chmod 640 "$dir/token"
update "$C"
ok "a_group_readable_token_file_is_refused_naming_the_chmod" \
	bash -c "test $rc = 1 && test $(errlines) = 1 && grep -q \"FeedTokenFile $dir/token: owner uid $(id -u), mode 0640: refused.*chmod 600 $dir/token\" '$dir/err' && test ! -s '$dir/requests.log'"
chmod 600 "$dir/token"
if [ "$(id -u)" = 0 ]; then
	# root reads any file: only the owner check stops another user's token
	chown 65534 "$dir/token"
	update "$C"
	ok "a_token_file_of_another_user_is_refused_naming_the_chown" \
		bash -c "test $rc = 1 && test $(errlines) = 1 && grep -q 'owner uid 65534, mode 0600: refused.*chown 0 ' '$dir/err' && test ! -s '$dir/requests.log'"
	chown 0 "$dir/token"
else
	n=$((n + 1))
	echo "ok $n - a_token_file_of_another_user_is_refused_naming_the_chown # SKIP not root (cannot chown)"
fi

# UK: national actual values, regional forecasts
conf "$C" "Site=uk Nodes=n1 Intensity=file:$dir/uk.csv Feed=uk FeedURL=$URL/u-ok" \
	"Site=ldn Nodes=n2 Intensity=file:$dir/ldn.csv Feed=uk:13 FeedURL=$URL/u-ok"
update "$C" --since 2024-03-31T00:00:00Z
ok "uk_national_keeps_measured_half_hours_only" \
	bash -c "test $rc = 0 && test $(rows "$dir/uk.csv") = 10 && grep -q '^2024-03-31T04:30:00Z,199 # actual$' '$dir/uk.csv'" && increasing "$dir/uk.csv" 1800
ok "uk_regional_forecasts_are_flagged_forecast" \
	bash -c "test $(rows "$dir/ldn.csv") = 12 && grep -q '^2024-03-31T00:00:00Z,100 # forecast$' '$dir/ldn.csv' && grep -q '/regional/intensity/2024-03-31T00:00Z/.*/regionid/13' '$dir/requests.log'"

# FeedProxy=: the request goes to the proxy in absolute form
conf "$C" "Site=p Nodes=n1 Intensity=file:$dir/p.csv Feed=eco2mix FeedURL=http://feed.invalid/e-proxy FeedProxy=$URL"
update "$C"
ok "feedproxy_carries_the_requests" \
	bash -c "test $rc = 0 && test $(rows "$dir/p.csv") = 250 && grep -q '\"proxied\": true' '$dir/requests.log'"

echo "1..$n"
[ "$failed" -eq 0 ]
