#!/bin/bash
# Runs the command-line tools on small inputs under valgrind memcheck (full
# leak check, any error fails) and prints TAP: one "ok"/"not ok" per call.
# Tools built with SANITIZE=1 run as they are, ASan/LSan/UBSan checking.
# Usage: BUILD=build tests/valgrind_cli.sh   (needs valgrind and openssl)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
sf=$BUILD/sfootprint sim=$BUILD/fp-simnode
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

for b in "$sf" "$sim"; do
	if [ ! -x "$b" ]; then
		echo "Bail out! $b is not built"
		exit 1
	fi
done
# ASan and valgrind cannot share a process: a sanitized build checks itself.
sanitized=
if readelf -d "$sf" 2> /dev/null | grep -q libasan; then
	sanitized=1
	export ASAN_OPTIONS=detect_leaks=1:exitcode=99
	export UBSAN_OPTIONS=print_stacktrace=1:exitcode=99
	export LSAN_OPTIONS=exitcode=99
elif ! command -v valgrind > /dev/null; then
	echo "1..0 # SKIP valgrind is not installed"
	exit 0
fi

# name, expected exit status, command...: valgrind's (and the sanitizers')
# status is 99 on any memory error or definite/possible leak; their report
# goes to vg.N, which must stay empty.
vg() {
	local name=$1 want=$2 rc
	shift 2
	n=$((n + 1))
	SECONDS=0
	if [ -n "$sanitized" ]; then
		"$@" > "$tmp/out.$n" 2> "$tmp/err.$n"
		rc=$?
		grep -E -A30 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
			"$tmp/err.$n" > "$tmp/vg.$n"
		cat "$tmp/err.$n" >> "$tmp/out.$n"
	else
		valgrind -q --suppressions=tests/valgrind_cli.supp \
			--leak-check=full --show-leak-kinds=definite,possible \
			--errors-for-leak-kinds=definite,possible \
			--error-exitcode=99 --log-file="$tmp/vg.$n" \
			"$@" > "$tmp/out.$n" 2>&1
		rc=$?
	fi
	if [ "$rc" -eq "$want" ] && [ ! -s "$tmp/vg.$n" ]; then
		echo "ok $n - $name${VG_TIMES:+ (${SECONDS}s)}"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name (exit $rc, want $want)"
		sed 's/^/# /' "$tmp/vg.$n" "$tmp/out.$n" | head -n 40
	fi
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# Inputs: a trace with two jobs sharing a node, a config and a job.
trace=tests/fuzz/corpus/trace/two_jobs.jsonl
cat > "$tmp/footprint.conf" <<'CONF'
Site=paris Nodes=qh[001-040] Intensity=56 PUE=1.0 HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=months:10-4
NodeType=qh Nodes=qh[001-040] Embodied=1100 Lifetime=6 CPUs=32 EmbodiedSource="vendor PCF"
Reference=standard-datacenter PUE=1.5 Intensity=site
CONF
cat > "$tmp/job.json" <<'JOB'
{"job_id": 4242, "user": "alice", "account": "proj", "cluster": "qh",
 "start": "2024-01-15T00:30:00Z", "end": "2024-01-15T02:30:00Z",
 "energy_source": "measured",
 "nodes": [{"name": "qh007", "cpus": 32}, {"name": "qh012", "cpus": 16}],
 "steps": [
  {"id": "4242.batch", "start": "2024-01-15T00:30:00Z",
   "end": "2024-01-15T02:30:00Z", "energy_j": 7200000,
   "nodes": [{"name": "qh007", "cpus": 32, "energy_j": 5400000},
	     {"name": "qh012", "cpus": 16, "energy_j": 1800000}]},
  {"id": "4242.extern", "start": 1705278600, "end": 1705285800,
   "energy_j": null, "nodes": [{"name": "qh007", "cpus": 32}]}]}
JOB

vg "replay prints per-step energy" 0 "$sf" replay "$trace"
vg "replay --json" 0 "$sf" replay "$trace" --json
vg "replay of a malformed trace fails cleanly" 1 "$sf" replay "$tmp/job.json"
# valgrind is slow: the feed is written just before and may be old.
printf '{"time": %s, "energy_j": 905.5, "meter": "m1"}\n' "$(date +%s)" \
	> "$tmp/feed.json"
vg "sensor-check on a valid feed" 0 \
	"$sf" sensor-check "$tmp/feed.json" --max-age 600
vg "sensor-check on a missing feed fails cleanly" 1 \
	"$sf" sensor-check "$tmp/none.json"
vg "compute" 0 "$sf" compute --config "$tmp/footprint.conf" "$tmp/job.json"
vg "compute --json" 0 "$sf" compute --config "$tmp/footprint.conf" \
	"$tmp/job.json" --json
vg "compute with a bad config fails cleanly" 1 \
	"$sf" compute --config "$tmp/job.json" "$tmp/job.json"
vg "keygen ES256" 0 "$sf" keygen --alg ES256 --out "$tmp/es"
vg "keygen RS256" 0 "$sf" keygen --alg RS256 --out "$tmp/rs"
vg "keygen never overwrites" 1 "$sf" keygen --alg ES256 --out "$tmp/es"

# A token signed outside lib/ (openssl, RS256 = PKCS#1 v1.5 over SHA-256),
# so verify is checked against an independent signer.
kid=$(openssl pkey -pubin -in "$tmp/rs.pub" -outform DER 2> /dev/null |
	openssl dgst -sha256 -binary | b64url)
head=$(printf '{"alg":"RS256","kid":"%s","typ":"JWT"}' "$kid" | b64url)
body=$(printf '{"job_id":4242,"footprint_g":125.5}' | b64url)
sig=$(printf '%s.%s' "$head" "$body" |
	openssl dgst -sha256 -sign "$tmp/rs.key" -binary | b64url)
printf '%s.%s.%s' "$head" "$body" "$sig" > "$tmp/4242.jws"
printf '%s.%s.%s' "$head" "$(printf '{"job_id":4243}' | b64url)" "$sig" \
	> "$tmp/bad.jws"
vg "verify a valid token" 0 "$sf" verify "$tmp/4242.jws" --pubkey "$tmp/rs.pub"
vg "verify refuses an altered payload" 1 \
	"$sf" verify "$tmp/bad.jws" --pubkey "$tmp/rs.pub"
vg "verify refuses another key" 1 \
	"$sf" verify "$tmp/4242.jws" --pubkey "$tmp/es.pub"

mkdir -p "$tmp/node"
vg "fp-simnode --once" 0 "$sim" --root "$tmp/node" --once
vg "sensor-check on fp-simnode's feed" 0 \
	"$sf" sensor-check "$tmp/node/sensor.json" --max-age 600

echo "1..$n"
[ "$failed" -eq 0 ]
