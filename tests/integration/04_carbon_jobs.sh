#!/bin/bash
# The carbon footprint of every kind of job on a real cluster: batch,
# srun-only, concurrent steps, PrologFlags=Contain, failed, cancelled and
# array jobs all get a signed summary and an AdminComment record that agree
# with each other and with a hand computation from this test's own signals;
# the signature verifies with python3-jwt and forgeries are refused.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
source tests/integration/lib.sh
work=$(mktemp -d /tmp/fp-carbon-test.XXXXXX)
trap 'fp_cluster_stop; rm -rf "$work"' EXIT INT TERM
export FP_SIMNODE=1 FP_SLURM_EXTRA="PrologFlags=Contain"
export FP_SIM_MODEL="--idle-w 30 --busy-w 2000 --dram-idle-w 5 --dram-busy-w 50 --wall-a 1.15 --wall-b 20"
export FP_IDLE_WATTS="package=30,dram=5"
PY=/usr/bin/python3

# The test's own signals: an hourly grid intensity around now (a different
# value every hour), heat reuse displacing 200 g/kWh, and a node
# whose busy CPUs draw kilowatts, so every figure is far above rounding.
now=$(date +%s)
h0=$((now - now % 3600 - 3 * 3600))
: > "$work/grid.csv"
echo '{' > "$work/intensity.json"
for i in $(seq 0 8); do
	t=$((h0 + i * 3600))
	v=$((800 + 140 * i))
	echo "$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ),$v" >> "$work/grid.csv"
	printf '%s"%s": %s' "$([ "$i" -gt 0 ] && echo ,)" "$t" "$v" >> "$work/intensity.json"
done
echo '}' >> "$work/intensity.json"
ncpus=$(nproc)
cat > "$work/conf.json" <<JSON
{"intensity": $(cat "$work/intensity.json"), "pue": 1.1, "ref_pue": 1.5,
 "recovery": 0.9, "useful": 0.8, "displaced": 200, "embodied_kg": 5000000,
 "lifetime": 6, "node_cpus": $ncpus, "source": "simulated"}
JSON
export FP_FOOTPRINT_CONF="SigningKey=@DIR@/keys/footprint.key
PublicKey=@DIR@/keys/footprint.pub
SpoolDir=@DIR@/spool/footprint
EnergySource=simulated
RetryInterval=2
WorkerTimeout=90
Metrics=@DIR@/metrics/footprint-controller.prom
Site=home Nodes=fpnode Intensity=file:$work/grid.csv IntensityFormat=plain PUE=1.1 HeatRecovery=0.9 DisplacedHeating=200 UsefulHeat=0.8
NodeType=heater Nodes=fpnode Embodied=5000000 Lifetime=6 CPUs=$ncpus
Reference=standard-datacenter PUE=1.5 Intensity=site"

fp_cluster_start_or_fail
spool=$FP_DIR/spool/footprint
pub=$FP_DIR/keys/footprint.pub
burn() { echo "timeout $1 sh -c 'while :; do :; done'; true"; }

batch=$(sbatch --parsable -n1 -J batch --wrap "$(burn 4)")
srun -n1 -J srunonly sh -c "$(burn 3)" &
srun_pid=$!
steps=$(sbatch --parsable -n1 -J steps --wrap \
	"srun -n1 --overlap sh -c \"$(burn 3)\" & srun -n1 --overlap sleep 2 & wait")
failed=$(sbatch --parsable -n1 -J failed --wrap 'sleep 1; exit 3')
cancelled=$(sbatch --parsable -n1 -J cancelled --wrap 'sleep 120')
array=$(sbatch --parsable -n1 -J array --array=1-3 --wrap 'sleep 1')
_fp_wait_for 60 "job $cancelled running" bash -c "squeue -h -j $cancelled -o %T | grep -q RUNNING"
sleep 2
scancel "$cancelled"
wait "$srun_pid"
srunonly=$(sacct -n -X -P -o JobID,JobName | awk -F'|' '$2 == "srunonly" { print $1 }')
for j in $batch $steps $failed $cancelled $array; do fp_wait_job "$j" 120; done
_fp_wait_for 60 "the 3 array tasks in sacct" bash -c \
	"[ \$(sacct -n -X -P -o JobName,State | grep -Ec '^array\|(COMPLETED|FAILED)') -eq 3 ]"
tasks=$(sacct -n -X -P -o JobIDRaw,JobName | awk -F'|' '$2 == "array" { printf "%s ", $1 }')
jobs="$batch $srunonly $steps $failed $cancelled $tasks"
echo "# jobs: batch=$batch srun-only=$srunonly steps=$steps failed=$failed cancelled=$cancelled array tasks=$tasks"
check_eq "the failed job failed" FAILED "$(sacct -n -X -P -j "$failed" -o State)"
check "the cancelled job was cancelled" bash -c "sacct -n -X -P -j $cancelled -o State | grep -q CANCELLED"

for j in $jobs; do
	_fp_wait_for 120 "summary of job $j" test -s "$spool/summaries/$j.jws"
	_fp_wait_for 30 "record of job $j" bash -c "sacct -n -X -P -j $j -o AdminComment | grep -q FP1:"
done

for j in $jobs; do
	sum=$spool/summaries/$j.jws
	check "job $j has a summary verified by sfootprint" \
		bash -c "$FP_BUILD/sfootprint verify $sum --pubkey $pub > /dev/null"
	# The job line's figures and every step's energy, times as epochs.
	SLURM_TIME_FORMAT=%s sacct -n -P -j "$j" \
		-o JobIDRaw,Start,End,AllocCPUS,ConsumedEnergyRaw,AdminComment |
		$PY -c '
import json, sys
job = sys.argv[1]
out = {"job": int(job), "steps": []}
for line in sys.stdin:
    jid, start, end, cpus, energy, comment = line.rstrip("\n").split("|", 5)
    if jid == job:
        out.update(start=int(start), end=int(end), cpus=int(cpus),
                   admin_comment=comment)
    elif energy != "" and jid.split(".")[0] == job:
        # (-j of the array id also lists the other tasks)
        out["steps"].append({"id": jid, "start": int(start),
                             "end": int(end), "energy_j": int(energy)})
json.dump(out, sys.stdout)' "$j" > "$work/sacct-$j.json"
	if $PY tests/integration/fpcheck.py check "$sum" "$pub" "$work/sacct-$j.json" "$work/conf.json" > "$work/check-$j.txt"; then
		check "job $j: python3-jwt verifies it and every figure matches the hand computation" true
	else
		check "job $j: python3-jwt verifies it and every figure matches the hand computation" false
	fi
	sed 's/^/# /' "$work/check-$j.txt"
done

check_eq "exactly one summary per job" "$(echo $jobs | wc -w)" \
	"$(ls "$spool/summaries" | grep -c '\.jws$')"
owner=$(stat -c '%U %a' "$spool/summaries/$batch.jws")
check_eq "summaries belong to SlurmUser and are read-only (a root job's: no other reader)" "root 440" "$owner"
check "the queue is empty once every job is done" bash -c "[ -z \"\$(ls $spool/queue)\" ]"

# Metrics=: the controller's per-site counters are the sums of the signed
# summaries' own site figures (each checked above by hand), every job once.
ctl=$FP_DIR/metrics/footprint-controller.prom
for j in $jobs; do
	$PY tests/integration/fpcheck.py payload "$spool/summaries/$j.jws" "$pub"
done > "$work/payloads.jsonl"
ctl_check() {
	$PY - "$work/payloads.jsonl" "$ctl" << 'PY'
import json, math, re, sys
want = {"jobs": 0, "energy_joules": 0, "operational_grams": 0,
        "embodied_grams": 0, "avoided_grams": 0, "reference_grams": 0}
incomplete = 0
for line in open(sys.argv[1]):
    s = json.loads(line)
    if not s["complete"]:
        incomplete += 1
        continue
    for site in s["sites"]:
        if site["name"] != "home":
            sys.exit("summary %s: site %s" % (s["job"]["id"], site["name"]))
        want["jobs"] += 1
        want["energy_joules"] += site["energy_it_Wh"] * 3600
        want["operational_grams"] += site["operational_g"]
        want["embodied_grams"] += site["embodied_g"]
        want["avoided_grams"] += site["avoided_g"]
        want["reference_grams"] += site["reference_operational_g"]
got = {}
for line in open(sys.argv[2]):
    m = re.match(r'footprint_site_(\w+)_total\{site="home"\} (\S+)$', line)
    if m:
        got[m.group(1)] = float(m.group(2))
    m = re.match(r"footprint_summaries_incomplete_total (\S+)$", line)
    if m:
        got["incomplete"] = float(m.group(1))
want["incomplete"] = incomplete
bad = [k for k in want if k not in got or
       not math.isclose(got[k], want[k], rel_tol=1e-6, abs_tol=1e-9)]
print("# controller metrics %s, summaries %s" % (got, want))
sys.exit(1 if bad else 0)
PY
}
check "the controller's metrics file sums the summaries' site figures, each job once" \
	_fp_wait_for 30 "the controller metrics to count every job" ctl_check
check "the controller's metrics give the site's intensity now" \
	grep -q '^footprint_site_intensity_gco2e_per_kwh{site="home"} [0-9]' "$ctl"

# Tampering and forgeries.
tok=$(cat "$spool/summaries/$batch.jws")
len=${#tok}
for pos in 5 $((len / 2)) $((len - 3)); do
	c=${tok:$pos:1}
	[ "$c" = A ] && n=B || n=A
	printf '%s' "${tok:0:$pos}$n${tok:$((pos + 1))}" > "$work/tampered.jws"
	check "a token changed at byte $pos is rejected by sfootprint" \
		bash -c "! $FP_BUILD/sfootprint verify $work/tampered.jws --pubkey $pub 2>/dev/null"
	check "and by python3-jwt" \
		bash -c "! $PY tests/integration/fpcheck.py payload $work/tampered.jws $pub >/dev/null 2>&1"
done
$PY tests/integration/fpcheck.py forge "$pub" "$work/none.jws" "$work/hs256.jws"
check "an alg=none forgery is rejected" \
	bash -c "! $FP_BUILD/sfootprint verify $work/none.jws --pubkey $pub 2>/dev/null"
check "an HS256 forgery keyed with the public key is rejected" \
	bash -c "! $FP_BUILD/sfootprint verify $work/hs256.jws --pubkey $pub 2>/dev/null"
check "no errors from our plugins in slurmctld's log" \
	bash -c "! grep -E 'error: .*(footprint|carbon)' $FP_DIR/log/slurmctld.log"
tap_done
