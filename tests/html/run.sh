#!/bin/bash
# sfootprint -j N --html FILE rendered by headless Chromium, for a one-site
# and a two-site job: the DOM holds every figure, labelled, with units and
# the summary's numbers; the screenshots stay in $BUILD/tests/html/.
# No cluster: the signed summaries are made with sfootprint compute and
# sign, and found in SpoolDir as the worker leaves them.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FP_BUILD=${FP_BUILD:-$BUILD}
SF=$FP_BUILD/sfootprint
# CHROMIUM= (empty) forces the skip.
CHROMIUM=${CHROMIUM-$(command -v chromium || command -v chromium-browser)}
failed=0
ok() { echo "ok - $*"; }
not_ok() { failed=1; echo "not ok - $*"; }

# --html is one job's report, never mixed with another output.
for args in "-j 1,2 --html x.html" "-j 1 --html x.html --json" \
	"-j 1 --html x.html -p" "-u alice --html x.html" "-j 1 --html="; do
	# shellcheck disable=SC2086
	SLURM_CONF=/nonexistent "$SF" $args > /dev/null 2>&1
	rc=$?
	if [ $rc -eq 2 ]; then ok "sfootprint $args: usage error"
	else not_ok "sfootprint $args: exit $rc, not 2"; fi
done
if [ -z "$CHROMIUM" ]; then
	echo "# skipped: chromium not installed (apt-get install chromium)"
	exit $failed
fi
out=$(realpath -m "$BUILD/tests/html")
mkdir -p "$out"
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
# 24 hours of 2024-01-15 UTC for each site's grid.
for h in $(seq 0 23); do
	printf '2024-01-15T%02d:00:00Z,%d\n' "$h" $((200 + (h * 37) % 250)) >> "$w/gas.csv"
	printf '2024-01-15T%02d:00:00Z,%d\n' "$h" $((40 + (h * 23) % 90)) >> "$w/elec.csv"
done
mkdir -p "$w/spool/summaries"
"$SF" keygen --out "$w/fp" > /dev/null 2> "$w/keygen.err" ||
	{ echo "not ok - keygen: $(cat "$w/keygen.err")"; exit 1; }
cat > "$w/footprint.conf" <<EOF
SigningKey=$w/fp.key
PublicKey=$w/fp.pub
SpoolDir=$w/spool
Site=winter-gas Nodes=n1 Intensity=file:$w/gas.csv PUE=1.0 HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=1.0
Site=summer-electric Nodes=n2 Intensity=file:$w/elec.csv PUE=1.2 HeatRecovery=0.9 DisplacedHeating=electric UsefulHeat=0
Site=datacenter Nodes=n3 Intensity=150 PUE=1.5
NodeType=heater Nodes=n1,n2,n3 Embodied=1000 Lifetime=5 CPUs=8
Reference=standard-datacenter PUE=1.5 Intensity=site
EOF
cat > "$w/single.json" <<'EOF'
{"job_id": 101, "user": "<b>al&ce</b>", "account": "proj", "cluster": "qh",
 "start": "2024-01-15T08:30:00Z", "end": "2024-01-15T12:10:00Z",
 "energy_source": "measured",
 "steps": [{"id": "101.batch", "start": "2024-01-15T08:30:00Z",
  "end": "2024-01-15T12:10:00Z", "energy_j": 5400000,
  "nodes": [{"name": "n1", "cpus": 4}]}]}
EOF
cat > "$w/multi.json" <<'EOF'
{"job_id": 102, "user": "bob", "account": "proj", "cluster": "qh",
 "start": "2024-01-15T06:00:00Z", "end": "2024-01-15T11:00:00Z",
 "energy_source": "measured",
 "steps": [{"id": "102.0", "start": "2024-01-15T06:00:00Z",
  "end": "2024-01-15T11:00:00Z", "energy_j": 10800000,
  "nodes": [{"name": "n1", "cpus": 8, "energy_j": 3600000},
            {"name": "n2", "cpus": 8, "energy_j": 7200000}]}]}
EOF

# Headless, and kept off the network: every host name resolves to nothing,
# no background services, a profile of its own.
render() { # html, png
	local flags=(--headless --no-sandbox --disable-gpu --no-first-run
		--user-data-dir="$w/profile" --disable-background-networking
		--disable-component-update --disable-sync --disable-extensions
		--disable-default-apps --no-default-browser-check
		--host-resolver-rules="MAP * ~NOTFOUND" --proxy-server=127.0.0.1:9
		--hide-scrollbars)
	timeout 120 "$CHROMIUM" "${flags[@]}" --dump-dom "file://$1" \
		> "${1%.html}.dom" 2> "$w/chromium.err" &&
	timeout 120 "$CHROMIUM" "${flags[@]}" --screenshot="$2" \
		--window-size=1000,3200 "file://$1" >> "$w/chromium.err" 2>&1
}

for kind in single multi; do
	id=$(sed -n 's/.*"job_id": \([0-9]*\).*/\1/p' "$w/$kind.json")
	# The one-site job's energy by part, as the worker adds it from the
	# nodes' step records (NodePartsDir): half CPU packages, a tenth DRAM,
	# a quarter its GPU, the rest of the node the rest.
	parts=
	[ "$kind" = single ] && parts='s["energy_parts"] = {"records": 1, "expected": 1,
    "energy_Wh": it, "cpu_dram_Wh": 0.6 * it, "cpu_Wh": 0.5 * it,
    "dram_Wh": 0.1 * it, "gpu_Wh": 0.25 * it, "rest_Wh": 0.15 * it}
s["gpus"] = []'
	if ! "$SF" compute --config "$w/footprint.conf" "$w/$kind.json" \
		--json > "$w/$kind.computed.json" ||
	   ! python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
it = s["energy"]["it_Wh"]
exec(sys.argv[2])
json.dump(s, open(sys.argv[3], "w"))' "$w/$kind.computed.json" "$parts" "$w/$kind.summary.json" ||
	   ! "$SF" sign --key "$w/fp.key" "$w/$kind.summary.json" \
		> "$w/spool/summaries/$id.jws"; then
		not_ok "$kind: summary made and signed"
		continue
	fi
	html=$out/job-report-$kind.html
	png=$out/job-report-$kind.png
	rm -f "$html" "$png"
	# no slurm.conf: accounting is unreachable, the summary is enough
	if SLURM_CONF=$w/none.conf "$SF" -j "$id" --config "$w/footprint.conf" \
		--html "$html" 2> "$w/sf.err" && [ -s "$html" ]; then
		ok "$kind: sfootprint -j $id --html writes the page"
	else
		not_ok "$kind: sfootprint -j $id --html: $(cat "$w/sf.err")"
		continue
	fi
	if render "$html" "$png" && [ -s "${html%.html}.dom" ]; then
		ok "$kind: chromium renders it headless"
	else
		not_ok "$kind: chromium: $(tail -n3 "$w/chromium.err")"
		continue
	fi
	python3 tests/html/check_dom.py "${html%.html}.dom" \
		"$w/$kind.summary.json" "$png" "$kind" || failed=1
done
echo "# pages and screenshots: $out"
exit $failed
