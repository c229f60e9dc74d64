#!/bin/bash
# Runs the command-line tools on small inputs under valgrind memcheck (full
# leak check, any error fails) and prints TAP: one "ok"/"not ok" per call.
# Tools built with SANITIZE=1 run as they are, ASan/LSan/UBSan checking.
# Usage: BUILD=build tests/valgrind_cli.sh   (needs valgrind, openssl and
# python3-cryptography)
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
	lastvg=$n
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

# name, pattern: the output of the last vg call says pattern (fixed string).
said() {
	local last=$lastvg
	n=$((n + 1))
	if grep -qF -- "$2" "$tmp/out.$last"; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1 (no '$2')"
		sed 's/^/# /' "$tmp/out.$last" | head -n 10
	fi
}

# name, pattern: the output of the last vg call does not say pattern.
unsaid() {
	local last=$lastvg
	n=$((n + 1))
	if ! grep -qF -- "$2" "$tmp/out.$last"; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1 (says '$2')"
		sed 's/^/# /' "$tmp/out.$last" | head -n 10
	fi
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
unb64url() {
	local s
	s=$(tr -- '-_' '+/')
	while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
	printf '%s' "$s" | openssl base64 -d -A
}

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
# Damaged and hostile traces: one line naming the line, or a warning.
head -n 1 "$trace" > "$tmp/badt.jsonl"
echo '{"t": 1.e5, "cpu_busy_ns": [0,0,0,0,0,0,0,0]}' >> "$tmp/badt.jsonl"
vg "replay of a bad t fails" 1 "$sf" replay "$tmp/badt.jsonl"
said "replay names a field's fault whole" \
	"line 2: t: bad JSON: malformed number at column 7"
vg "replay of /dev/zero fails at once" 1 "$sf" replay /dev/zero
said "replay says /dev/zero is no trace" \
	"/dev/zero: line 1: missing header (a NUL byte at column 1"
head -n 4 "$trace" > "$tmp/rot1.jsonl"
printf '{"t": 1732350009, "energy_uj": {"pack' >> "$tmp/rot1.jsonl"
{ head -n 1 "$trace"; tail -n +5 "$trace"; } > "$tmp/rot2.jsonl"
vg "replay of rotated files, the first cut by a crash" 0 \
	"$sf" replay "$tmp/rot1.jsonl" "$tmp/rot2.jsonl"
said "replay warns of the cut line, naming it" \
	"warning: $tmp/rot1.jsonl: line 5: cut short"
sed 's/"wall_j": [0-9.]*/"wall_j": 1.7e308/' "$trace" > "$tmp/bigwall.jsonl"
vg "replay of a wall_j near DBL_MAX fails" 1 \
	"$sf" replay "$tmp/bigwall.jsonl"
said "replay refuses the implausible wall_j naming its line" \
	"line 2: wall_j 1.7e+308 J is not a meter's energy"
vg "replay of a malformed trace fails cleanly" 1 "$sf" replay "$tmp/job.json"
# valgrind is slow: the feed is written just before and may be old.
printf '{"time": %s, "energy_j": 905.5, "meter": "m1"}\n' "$(date +%s)" \
	> "$tmp/feed.json"
vg "sensor-check on a valid feed" 0 \
	"$sf" sensor-check "$tmp/feed.json" --max-age 600
vg "sensor-check on a missing feed fails cleanly" 1 \
	"$sf" sensor-check "$tmp/none.json"
# sensor-check judges with the node plugin's limits (include/footprint/sensor.h).
printf '{"time": %s, "energy_j": 905.5}\n' "$(($(date +%s) - 15))" \
	> "$tmp/feed15.json"
vg "sensor-check takes a feed 15 s old, as the plugin (max age 30 s)" 0 \
	"$sf" sensor-check "$tmp/feed15.json" --interval 0
printf '{"time": %s, "power_w": 25000}\n' "$(date +%s)" > "$tmp/feed25k.json"
vg "sensor-check refuses 25 kW, above the plugin's 20000 W ceiling" 1 \
	"$sf" sensor-check "$tmp/feed25k.json" --max-age 600 --interval 0
said "sensor-check names the ceiling" "25000.0 W is above the 20000 W ceiling"
vg "sensor-check refuses a max age the plugin refuses" 2 \
	"$sf" sensor-check "$tmp/feed.json" --max-age 100000
said "sensor-check says the plugin's bounds" "not a number from 0.1 to 86400"
vg "compute" 0 "$sf" compute --config "$tmp/footprint.conf" "$tmp/job.json"
vg "compute --json" 0 "$sf" compute --config "$tmp/footprint.conf" \
	"$tmp/job.json" --json
vg "compute with a bad config fails cleanly" 1 \
	"$sf" compute --config "$tmp/job.json" "$tmp/job.json"
# The saving as sfootprint -j words it: above the reference, and each %
# beside its own figure with heat reuse (1 kWh at 56 g/kWh: PUE 2.0 is
# 112 g, PUE 1.4 is 78.4 g, the reference at PUE 1.5 is 84 g).
printf '{"job_id": 7, "start": "2024-01-15T00:00:00Z",
 "end": "2024-01-15T01:00:00Z", "steps": [{"id": "7.0",
 "start": "2024-01-15T00:00:00Z", "end": "2024-01-15T01:00:00Z",
 "energy_j": 3600000, "nodes": [{"name": "dc001", "cpus": 8}]}]}\n' \
	> "$tmp/kwh.json"
printf 'Site=dc Nodes=dc001 Intensity=56 PUE=2.0
Reference=std PUE=1.5 Intensity=site\n' > "$tmp/above.conf"
vg "compute of a job above the reference" 0 \
	"$sf" compute --config "$tmp/above.conf" "$tmp/kwh.json"
said "compute says more than the reference, as sfootprint -j does" \
	"28.000 gCO2e more than the reference (33.3 %); with heat reuse, 28.000 gCO2e more than the reference (33.3 %)"
unsaid "compute prints no negative saving" "saved -"
printf 'Site=dc Nodes=dc001 Intensity=56 PUE=1.4 HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=months:1-12
Reference=std PUE=1.5 Intensity=site\n' > "$tmp/heat.conf"
vg "compute of a job with heat reuse" 0 \
	"$sf" compute --config "$tmp/heat.conf" "$tmp/kwh.json"
said "compute gives each saving its own %, as sfootprint -j does" \
	"saved 5.600 gCO2e (6.7 %); with heat reuse, saved 291.620 gCO2e (347.2 %)"
# Job descriptions that contradict themselves, and the shipped config.
jobdesc() { # file, user, start, end, steps
	printf '{"job_id": 7, "user": "%s", "account": "p",
 "start": "%s", "end": "%s", "energy_source": "measured", "steps": [%s]}\n' \
		"$2" "$3" "$4" "$5" > "$1"
}
step() { # node, energy_j
	printf '{"id": "7.0", "start": "2024-01-15T00:00:00Z",
 "end": "2024-01-15T01:00:00Z", "energy_j": %s,
 "nodes": [{"name": "%s", "cpus": 8}]}' "$2" "$1"
}
t0=2024-01-15T00:00:00Z t1=2024-01-15T01:00:00Z
jobdesc "$tmp/dc.json" bob $t0 $t1 "$(step dc001 3600000)"
vg "compute runs with the shipped footprint.conf as shipped" 0 \
	"$sf" compute --config etc/footprint.conf "$tmp/dc.json"
said "compute warns of a missing series naming its Site line" \
	"warning: etc/footprint.conf:26: Site 'paris': field 'Intensity'"
said "compute still computes the sites whose series loaded" \
	"completeness complete"
unsaid "compute says completeness as the report does, not yes/no" \
	"complete     "
sed 's/"measured"/"simulated"/' "$tmp/dc.json" > "$tmp/dcsim.json"
vg "compute of a simulated job" 0 \
	"$sf" compute --config etc/footprint.conf "$tmp/dcsim.json"
said "compute spells simulated as the report does" \
	"(simulated by fp-simnode, not a measurement)"
jobdesc "$tmp/qh.json" bob $t0 $t1 "$(step qh001 3600000)"
vg "compute of a job at a site whose series is broken is incomplete" 0 \
	"$sf" compute --config etc/footprint.conf "$tmp/qh.json"
said "compute says the broken site is not counted" \
	"site paris: not counted"
said "compute names the broken series and its Site line" \
	"etc/footprint.conf:26: Site 'paris': field 'Intensity': /etc/slurm/"
unsaid "compute of a job only at a broken site prints no nan" "nan"
# footprint.conf(5) says what compute just did, not that it fails.
n=$((n + 1))
page=$(tr '\n' ' ' < docs/footprint.conf.5)
if grep -q 'warns and fails' <<< "$page" ||
	! grep -qF 'computes the other sites' <<< "$page" ||
	! grep -qF 'and exits 0' <<< "$page"; then
	failed=$((failed + 1))
	echo "not ok $n - footprint.conf(5) says compute exits 0 with the broken site not counted"
else
	echo "ok $n - footprint.conf(5) says compute exits 0 with the broken site not counted"
fi
printf '{"job_id": 7, "start": "%s", "end": "%s", "steps": [{"id": "7.0",
 "start": "%s", "end": "%s", "energy_j": 3600000, "nodes": [{"name":
 "qh001", "cpus": 8}, {"name": "dc001", "cpus": 8}]}]}\n' $t0 $t1 $t0 $t1 \
	> "$tmp/qhdc.json"
vg "compute of a job on a broken and a working site" 0 \
	"$sf" compute --config etc/footprint.conf "$tmp/qhdc.json"
said "the working site is computed" "site dc1 "
said "the broken site makes the result incomplete, as the report says it" \
	"completeness incomplete: site paris: not counted"
# Two broken series: each its own warning line, naming its Site line.
printf 'Site=a Nodes=qh001 Intensity=file:%s/nope.csv
Site=b Nodes=dc001 Intensity=file:%s/none.csv
Site=c Nodes=n1 Intensity=56\n' "$tmp" "$tmp" > "$tmp/two.conf"
vg "compute with two broken series" 0 \
	"$sf" compute --config "$tmp/two.conf" "$tmp/qhdc.json"
said "compute names the first broken series on its own line" \
	"warning: $tmp/two.conf:1: Site 'a': field 'Intensity': $tmp/nope.csv: cannot open"
said "compute names the second broken series on its own line" \
	"warning: $tmp/two.conf:2: Site 'b': field 'Intensity': $tmp/none.csv: cannot open"
unsaid "compute does not fold the others into a count" "more series"
# whatif: a site whose series is broken is listed, the others are ranked.
mkdir -p "$tmp/wi/summaries"
"$sf" keygen --alg ES256 --out "$tmp/wi/k" > /dev/null 2>&1
printf 'SpoolDir=%s\nPublicKey=%s\nSite=paris Nodes=qh001 Intensity=file:%s
Site=dc Nodes=dc001 Intensity=56\nReference=std PUE=1.5 Intensity=site\n' \
	"$tmp/wi" "$tmp/wi/k.pub" "$tmp/wi/none.csv" > "$tmp/wi/fp.conf"
"$sf" compute --config "$tmp/wi/fp.conf" "$tmp/dc.json" --json \
	> "$tmp/wi/7.json" 2> /dev/null
"$sf" sign --key "$tmp/wi/k.key" "$tmp/wi/7.json" \
	> "$tmp/wi/summaries/7.jws"
vg "verify a computed summary" 0 \
	"$sf" verify "$tmp/wi/summaries/7.jws" --pubkey "$tmp/wi/k.pub"
said "verify says completeness as the report does" \
	"completeness: incomplete: node dc001: no NodeType, embodied emissions not counted"
unsaid "verify says no yes/no for completeness" "complete:     no"
said "verify spells the energy source as the report does" "Wh IT (measured)"
vg "whatif with a site whose series is broken ranks the others" 0 \
	"$sf" whatif -j 7 --config "$tmp/wi/fp.conf" --hours 1
said "whatif lists the broken site as unavailable, naming its series" \
	"unavailable: site paris, Intensity=file:$tmp/wi/none.csv: $tmp/wi/fp.conf:3: Site 'paris'"
said "whatif says once that every option at the site left is equal" \
	"All 3 options are equal: 56.000 gCO2e, saving 0.000 g, at any start hour from 2024-01-14T23:00:00Z to 2024-01-15T01:00:00Z at dc: within the window"
unsaid "whatif prints no table of equal rows" "1    dc "
vg "whatif --hours beyond a leap year is a usage error" 2 \
	"$sf" whatif -j 7 --config "$tmp/wi/fp.conf" --hours 100000
said "whatif names the range of --hours" \
	"--hours '100000': expected a whole number from 0 to 8784"
vg "whatif --top 0 is a usage error, not an empty table" 2 \
	"$sf" whatif -j 7 --config "$tmp/wi/fp.conf" --top 0
said "whatif names the range of --top" \
	"--top '0': expected a whole number from 1 to 1000000"
# whatif: equal options are one candidate, not N ties.
printf 'SpoolDir=%s\nPublicKey=%s\nSite=dc Nodes=dc001 Intensity=56
Site=dc2 Nodes=dc002 Intensity=56\nSite=lyon Nodes=ly001 Intensity=80
Reference=std PUE=1.5 Intensity=site\n' "$tmp/wi" "$tmp/wi/k.pub" \
	> "$tmp/wi/flat.conf"
vg "whatif over flat series" 0 \
	"$sf" whatif -j 7 --config "$tmp/wi/flat.conf" --hours 1
said "whatif ranks two sites at one intensity as one candidate" \
	"1    2 sites          2024-01-14T23:00:00Z       56.0       56.000      0.000        0.000  (6 equal: 2 sites (dc, dc2), starts from 2024-01-14T23:00:00Z to 2024-01-15T01:00:00Z; the actual start among them)"
said "whatif ranks the next distinct candidate second" \
	"2    lyon             2024-01-14T23:00:00Z       80.0       80.000      0.000      -24.000  (3 equal: any start hour from 2024-01-14T23:00:00Z to 2024-01-15T01:00:00Z at lyon; the actual start among them)"
unsaid "whatif prints no third row of ties" "3    "
vg "whatif --json over flat series" 0 \
	"$sf" whatif -j 7 --config "$tmp/wi/flat.conf" --hours 1 --json
said "whatif --json counts the equal options of a candidate" \
	'"equal_options": 6'
said "whatif --json says the candidates are not all equal" \
	'"all_equal": false'
sed 's/^Site=dc2.*/Site=nice Nodes=dc002 Intensity=40 PUE=1.4/' \
	"$tmp/wi/flat.conf" > "$tmp/wi/pue.conf"
vg "whatif with equal footprints at other intensities" 0 \
	"$sf" whatif -j 7 --config "$tmp/wi/pue.conf" --hours 1
said "whatif prints no one intensity for a candidate of several" \
	"1    2 sites          2024-01-14T23:00:00Z          -       56.000"
jobdesc "$tmp/huge.json" bob $t0 $t1 "$(step qh007 1e308)"
vg "compute refuses an energy of 1e308 J" 1 \
	"$sf" compute --config "$tmp/footprint.conf" "$tmp/huge.json"
said "compute says the energy bound" "is above 1e+15 J"
said "compute's refusal names the file and the field" \
	"huge.json: field 'steps[0].energy_j': 1e+308 J"
unsaid "compute never prints inf" "inf"
sed 's/"cpus": 8/"cpus": 0/' "$tmp/dc.json" > "$tmp/nocpu.json"
vg "compute refuses a node with 0 CPUs" 1 \
	"$sf" compute --config "$tmp/footprint.conf" "$tmp/nocpu.json"
said "compute's refusal of 0 CPUs names the file and the field" \
	"nocpu.json: field 'steps[0].nodes[0].cpus': must be 1..16777216, not 0"
# sfootprint(1) gives compute's bounds as the two refusals above say them.
n=$((n + 1))
page=$(tr '\n' ' ' < docs/sfootprint.1)
if grep -qF 'above 1e15 J' <<< "$page" &&
	grep -qF 'is above 1e+15 J' <<< "$page" &&
	grep -qF 'outside 1..16777216' <<< "$page"; then
	echo "ok $n - sfootprint(1) gives compute's energy and cpus bounds"
else
	failed=$((failed + 1))
	echo "not ok $n - sfootprint(1) gives compute's energy and cpus bounds"
fi
jobdesc "$tmp/nosteps.json" bob $t0 $t1 ""
vg "compute of a job without steps" 0 \
	"$sf" compute --config "$tmp/footprint.conf" "$tmp/nosteps.json"
said "a job without steps is incomplete" \
	"completeness incomplete: no step: no energy counted"
unsaid "a job without steps prints no nan" "nan"
jobdesc "$tmp/zero.json" bob $t0 $t0 "$(step qh007 0)"
vg "compute of a job of 0 s" 0 \
	"$sf" compute --config "$tmp/footprint.conf" "$tmp/zero.json"
said "a job of 0 s is incomplete" "the job lasted 0 s"
unsaid "a job of 0 s prints no nan" "nan"
jobdesc "$tmp/esc.json" 'al\u001b[2Jice\r' $t0 $t1 \
	"$(step qh007 3600000)"
vg "compute of a job whose user holds control characters" 0 \
	"$sf" compute --config "$tmp/footprint.conf" "$tmp/esc.json"
said "control characters in a user name are escaped in text output" \
	'user al\x1b[2Jice\x0d  account'
# footprint.conf(5) gives each range the code checks: the range an
# out-of-range value's error says is in that key's entry of the page.
ranges() {
	local line key range
	while IFS= read -r line; do
		printf '%s\n' "$line" > "$tmp/range.conf"
		key=${line##* }
		key=${key%%=*}
		range=$("$sf" compute --config "$tmp/range.conf" "$tmp/job.json" \
			2>&1 | grep -o "$key must be [0-9.e+]*\.\.[0-9.e+]*")
		range=${range##* }
		n=$((n + 1))
		if [ -n "$range" ] && awk -v k="\\\\fB$key\\\\fR=" \
			'index($0, k) == 1 { p = 1; next }
			 /^\.(TP|SH)/ { p = 0 } p' docs/footprint.conf.5 |
			grep -qF -- "$range"; then
			echo "ok $n - footprint.conf(5) says $key is $range"
		else
			failed=$((failed + 1))
			echo "not ok $n - footprint.conf(5) gives no range" \
				"${range:-(none in the error)} for $key"
		fi
	done
}
ranges <<'LINES'
Site=a Nodes=n1 Intensity=1e9
Site=a Nodes=n1 Intensity=50 PUE=0.5
Site=a Nodes=n1 Intensity=50 HeatRecovery=2
Site=a Nodes=n1 Intensity=50 DisplacedHeating=1e9
Site=a Nodes=n1 Intensity=50 HeatRecovery=1 UsefulHeat=2
NodeType=t Nodes=n1 Lifetime=1 CPUs=1 Embodied=1e9
NodeType=t Nodes=n1 Embodied=1 CPUs=1 Lifetime=1000
NodeType=t Nodes=n1 Embodied=1 Lifetime=1 CPUs=0
Reference=r PUE=11
MaxWorkers=0
MaxQueue=0
WorkerTimeout=0
RetryInterval=0
MailWait=100000
LINES
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

vg "verify names the unknown key" 1 \
	"$sf" verify "$tmp/4242.jws" --pubkey "$tmp/es.pub"
said "... and says so" "unknown key (kid $kid is not among the 1 trusted key"
vg "verify blames a missing key file, not the summary" 1 \
	"$sf" verify "$tmp/4242.jws" --pubkey "$tmp/none.pub"
said "... naming it" "cannot read key file $tmp/none.pub: No such file"

# sfootprint sign: what compute --json wrote, signed byte for byte.
"$sf" compute --config "$tmp/footprint.conf" "$tmp/job.json" --json \
	> "$tmp/sum.json"
vg "sign a summary" 0 "$sf" sign --key "$tmp/es.key" "$tmp/sum.json"
"$sf" sign --key "$tmp/es.key" "$tmp/sum.json" > "$tmp/sum.jws"
n=$((n + 1))
if cut -d. -f2 "$tmp/sum.jws" | tr -d '\n' | unb64url |
	cmp -s - <(head -c -1 "$tmp/sum.json"); then
	echo "ok $n - sign: the payload is the file's bytes (final newline off)"
else
	failed=$((failed + 1))
	echo "not ok $n - sign: the payload is not the file's bytes"
fi
printf '[1, 2]\n' > "$tmp/array.json"
vg "sign refuses a file that is not a JSON object" 1 \
	"$sf" sign --key "$tmp/es.key" "$tmp/array.json"
said "... naming the file" "$tmp/array.json: the payload is not a JSON object"
printf '{"job":{"id":1}} trailing\n' > "$tmp/trailing.json"
vg "sign refuses trailing garbage" 1 \
	"$sf" sign --key "$tmp/es.key" "$tmp/trailing.json"
vg "sign without --key is a usage error" 2 "$sf" sign "$tmp/sum.json"
vg "sign with a public key fails" 1 \
	"$sf" sign --key "$tmp/es.pub" "$tmp/sum.json"

# Key rotation: the retired RSA key and the new EC key side by side.
mkdir -p "$tmp/keys.d"
cp "$tmp/rs.pub" "$tmp/keys.d/2024-retired.pub"
cp "$tmp/es.pub" "$tmp/keys.d/2026-current.pub"
vg "verify with a key folder: the current key" 0 \
	"$sf" verify "$tmp/sum.jws" --pubkeys "$tmp/keys.d"
said "... says which key verified" "key $tmp/keys.d/2026-current.pub)"
vg "verify with a key folder: a retired key still trusted" 0 \
	"$sf" verify "$tmp/4242.jws" --pubkeys "$tmp/keys.d"
printf 'Site=paris Nodes=qh001 Intensity=56\nPublicKey=%s\nPublicKeys=%s\n' \
	"$tmp/es.pub" "$tmp/keys.d" > "$tmp/keys.conf"
vg "verify takes the keys of footprint.conf" 0 \
	"$sf" verify "$tmp/4242.jws" --config "$tmp/keys.conf"

# ES256 malleability: (r, n - s) is the same signature's twin; another key
# claiming the current kid is a forgery.
n=$((n + 1))
if python3 - "$tmp" << 'PY'; then
import sys, base64, json
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
d = sys.argv[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
unb64 = lambda s: base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))
n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
h, p, s = open(d + '/sum.jws').read().strip().split('.')
raw = unb64(s)
r, sv = raw[:32], int.from_bytes(raw[32:], 'big')
open(d + '/twin.jws', 'w').write(
    h + '.' + p + '.' + b64(r + (n - sv).to_bytes(32, 'big')))
kid = json.loads(unb64(h))['kid']
other = ec.generate_private_key(ec.SECP256R1())
hdr = b64(json.dumps({'alg': 'ES256', 'kid': kid}).encode())
der = other.sign((hdr + '.' + p).encode(), ec.ECDSA(hashes.SHA256()))
rr, ss = utils.decode_dss_signature(der)
ss = min(ss, n - ss)
open(d + '/forged.jws', 'w').write(hdr + '.' + p + '.' + b64(
    rr.to_bytes(32, 'big') + ss.to_bytes(32, 'big')))
PY
	echo "ok $n - a high-S twin and a forged kid (python3-cryptography)"
else
	failed=$((failed + 1))
	echo "not ok $n - cannot make a high-S twin (python3-cryptography?)"
fi
vg "verify refuses the high-S twin of a valid summary" 1 \
	"$sf" verify "$tmp/twin.jws" --pubkey "$tmp/es.pub"
said "... saying why" "high-S ECDSA signature (malleable twin)"
vg "verify --accept-high-s takes it (summaries signed before low-S)" 0 \
	"$sf" verify "$tmp/twin.jws" --pubkey "$tmp/es.pub" --accept-high-s
vg "verify refuses another key claiming a trusted kid" 1 \
	"$sf" verify "$tmp/forged.jws" --pubkeys "$tmp/keys.d"
said "... as altered content" "altered content (ES256 signature does not"

# sfootprint -j reads the job's summary from SpoolDir and checks it with
# footprint.conf's keys (no slurmdbd needed when the summary verifies).
export SLURM_CONF=$tmp/no-slurm.conf
unset FOOTPRINT_CONF
mkdir -p "$tmp/spool/summaries"
cp "$tmp/sum.jws" "$tmp/spool/summaries/4242.jws"
printf 'Site=paris Nodes=qh001 Intensity=56\nSpoolDir=%s\nPublicKeys=%s\n' \
	"$tmp/spool" "$tmp/keys.d" > "$tmp/show.conf"
vg "-j: a summary checked with the key folder" 0 \
	"$sf" -j 4242 --config "$tmp/show.conf"
said "... names the key that verified" \
	"signature: valid (kid $(openssl pkey -pubin -in "$tmp/es.pub" \
	-outform DER 2> /dev/null | openssl dgst -sha256 -binary | b64url), ES256, key $tmp/keys.d/2026-current.pub)"
cp "$tmp/twin.jws" "$tmp/spool/summaries/4242.jws"
vg "-j: a legacy high-S summary is shown as such" 0 \
	"$sf" -j 4242 --config "$tmp/show.conf"
said "... marked legacy" "legacy high-S signature)"
printf 'Site=paris Nodes=qh001 Intensity=56\nSpoolDir=%s\nPublicKey=%s\n' \
	"$tmp/spool" "$tmp/gone.pub" > "$tmp/gone.conf"
vg "-j: an unreadable key file fails" 1 \
	"$sf" -j 4242 --config "$tmp/gone.conf"
said "... blaming the key file, not the summary" \
	"signed summary NOT VERIFIED: cannot read key file $tmp/gone.pub"
unset SLURM_CONF

mkdir -p "$tmp/node"
vg "fp-simnode --once" 0 "$sim" --root "$tmp/node" --once
vg "sensor-check on fp-simnode's feed" 0 \
	"$sf" sensor-check "$tmp/node/sensor.json" --max-age 600
said "sensor-check says a simulated meter is no measurement" \
	"meter:     fp-simnode (simulated, not a measurement)"

echo "1..$n"
[ "$failed" -eq 0 ]
