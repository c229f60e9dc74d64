#!/bin/bash
# A geo-distributed cluster: 3 nodes, each a real slurmd in its own network
# namespace and its own simulated heater, at 3 sites (a gas-heated building
# in winter, an electrically heated one in summer, a standard datacenter).
# A 3-node job and a single-node job on each node get per-node and per-site
# figures that match a hand computation from this test's own series; the
# 3-node step's energy is split from Slurm's per-node min/max; the what-if
# finds the cleanest site and hour.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
source tests/integration/lib.sh
work=$(mktemp -d /tmp/fp-multisite-test.XXXXXX)
trap 'fp_cluster_stop; rm -rf "$work"' EXIT INT TERM
export FP_NODES=3 FP_SIMNODE=1
# Three heaters that draw differently (kilowatts, so figures are far
# above rounding).
export FP_SIM_MODEL_1="--idle-w 30 --busy-w 2000 --dram-idle-w 5 --dram-busy-w 50 --wall-a 1.15 --wall-b 20"
export FP_SIM_MODEL_2="--idle-w 20 --busy-w 1200 --dram-idle-w 4 --dram-busy-w 30 --wall-a 1.10 --wall-b 15"
# Node 3 plays measured hardware (no simulation marker, a feed from its
# own meter): the summaries must name each node's source as the node
# measured it, not footprint.conf's EnergySource=simulated.
export FP_SIM_MODEL_3="--idle-w 40 --busy-w 3000 --dram-idle-w 6 --dram-busy-w 60 --wall-a 1.20 --wall-b 25 --unmarked --meter heater-3-wall"
export FP_IDLE_WATTS_1="package=30,dram=5" FP_IDLE_WATTS_2="package=20,dram=4" FP_IDLE_WATTS_3="package=40,dram=6"
PY=/usr/bin/python3
ncpus=$(nproc)

# Each site's own hourly grid intensity around now: winter evening peak at
# the gas-heated site, sunny summer noon at the electric one, a flat-ish
# datacenter grid.
now=$(date +%s)
h0=$((now - now % 3600 - 6 * 3600))
series() { # file base step
	local i t
	: > "$work/$1.csv"
	for i in $(seq 0 14); do
		t=$((h0 + i * 3600))
		echo "$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ),$(($2 + $3 * ((i * 7) % 5)))" >> "$work/$1.csv"
	done
}
series gas 1500 120
series elec 400 60
series dc 1000 20
$PY - "$work" "$ncpus" <<'PY'
import calendar, json, sys, time
work, ncpus = sys.argv[1], int(sys.argv[2])
def load(name):
    out = {}
    for line in open(f"{work}/{name}.csv"):
        t, v = line.strip().split(",")
        out[str(calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ")))] = float(v)
    return out
conf = {
    "nodes": {"fpn1": "winter-gas", "fpn2": "summer-electric",
              "fpn3": "datacenter"},
    "sites": {
        "winter-gas": {"intensity": load("gas"), "pue": 1.0,
                       "recovery": 0.9, "useful": 1.0, "displaced": 200},
        "summer-electric": {"intensity": load("elec"), "pue": 1.0,
                            "recovery": 0.9, "useful": 0.0,
                            "displaced": 80},
        "datacenter": {"intensity": load("dc"), "pue": 1.5,
                       "recovery": 0.0, "useful": 0.0, "displaced": 0},
    },
    "ref_pue": 1.5, "embodied_kg": 5000000, "lifetime": 6,
    "node_cpus": ncpus}
json.dump(conf, open(f"{work}/sites.json", "w"))
PY
export FP_FOOTPRINT_CONF="SigningKey=@DIR@/keys/footprint.key
PublicKey=@DIR@/keys/footprint.pub
SpoolDir=@DIR@/spool/footprint
EnergySource=simulated
NodePartsDir=@DIR@/nodes/%n/run/footprint/parts
RetryInterval=2
WorkerTimeout=90
Site=winter-gas Nodes=fpn1 Intensity=file:$work/gas.csv IntensityFormat=plain PUE=1.0 HeatRecovery=0.9 DisplacedHeating=200 UsefulHeat=1.0
Site=summer-electric Nodes=fpn2 Intensity=file:$work/elec.csv IntensityFormat=plain PUE=1.0 HeatRecovery=0.9 DisplacedHeating=80 UsefulHeat=0
Site=datacenter Nodes=fpn3 Intensity=file:$work/dc.csv IntensityFormat=plain PUE=1.5 HeatRecovery=0 DisplacedHeating=0 UsefulHeat=0
NodeType=heater Nodes=fpn[1-3] Embodied=5000000 Lifetime=6 CPUs=$ncpus
Reference=standard-datacenter PUE=1.5 Intensity=site"

fp_cluster_start_or_fail "the 3-node cluster starts"
check_eq "3 nodes, each idle" "fpn1 idle,fpn2 idle,fpn3 idle" \
	"$(sinfo -h -N -o '%N %T' | sort | paste -sd,)"
hosts=$(for i in 1 2 3; do ip netns exec fp-n$i hostname -I 2>/dev/null | tr -d ' '; done | paste -sd,)
check_eq "each slurmd listens in its own namespace" "10.213.0.11,10.213.0.12,10.213.0.13" "$hosts"
check_eq "each slurmd has its own hostname" "fpn1,fpn2,fpn3" \
	"$(for i in 1 2 3; do cat /proc/$(fp_daemon_pid slurmd-fpn$i)/comm >/dev/null && nsenter -t "$(fp_daemon_pid slurmd-fpn$i)" -u hostname; done | paste -sd,)"

burn() { echo "timeout $1 sh -c 'while :; do :; done'; true"; }
srun -N3 --ntasks-per-node=1 -J multi sh -c "$(burn 4)" &
srun_pid=$!
singles=
for n in fpn1 fpn2 fpn3; do
	singles+="$(sbatch --parsable -w "$n" -n1 -J "single-$n" --wrap "$(burn 3)") "
done
wait "$srun_pid"
check "the 3-node srun ran on the 3 nodes" [ $? -eq 0 ]
multi=$(sacct -n -X -P -o JobID,JobName | awk -F'|' '$2 == "multi" { print $1 }')
for j in $singles; do fp_wait_job "$j" 120; done
echo "# jobs: 3-node=$multi single=$singles"
check_eq "the 3-node job had 3 nodes" "fpn[1-3]" "$(sacct -n -X -P -j "$multi" -o NodeList)"
spool=$FP_DIR/spool/footprint
pub=$FP_DIR/keys/footprint.pub
for j in $multi $singles; do
	_fp_wait_for 120 "summary of job $j" test -s "$spool/summaries/$j.jws"
	_fp_wait_for 30 "record of job $j" bash -c "sacct -n -X -P -j $j -o AdminComment | grep -q FP1:"
done

for j in $multi $singles; do
	# Steps with their energy and Slurm's per-node max/min energy
	# (--noconvert: sacct writes TRES usage of 1000 J and more as "3.50K").
	SLURM_TIME_FORMAT=%s sacct -n -P --noconvert -j "$j" -o JobIDRaw,Start,End,AllocCPUS,NodeList,ConsumedEnergyRaw,TRESUsageInMax,TRESUsageInMaxNode,TRESUsageInMin,TRESUsageInMinNode |
		$PY -c '
import json, subprocess, sys
job = sys.argv[1]
def energy(tres):
    for kv in tres.split(","):
        if kv.startswith("energy="):
            return kv[7:]
    return None
def hosts(expr):
    return subprocess.run(["scontrol", "show", "hostnames", expr],
                          capture_output=True, text=True).stdout.split()
out = {"job": int(job), "steps": []}
for line in sys.stdin:
    jid, start, end, cpus, nodes, e, mx, mxn, mn, mnn = line.rstrip("\n").split("|")
    if jid == job:
        out.update(start=int(start), end=int(end), cpus=int(cpus),
                   nodes=hosts(nodes))
    elif e != "" and jid.split(".")[0] == job:
        st = {"id": jid, "start": int(start), "end": int(end),
              "energy_j": int(e), "nodes": hosts(nodes)}
        for k, v, n in (("max", mx, mxn), ("min", mn, mnn)):
            if energy(v) is not None and energy(n):
                st[k] = {"node": energy(n), "energy_j": int(energy(v))}
        out["steps"].append(st)
json.dump(out, sys.stdout)' "$j" > "$work/sacct-$j.json"
	sum=$spool/summaries/$j.jws
	what="job $j ($(sacct -n -X -P -j "$j" -o JobName))"
	check "$what: its summary verifies" bash -c "$FP_BUILD/sfootprint verify $sum --pubkey $pub > /dev/null"
	if $PY tests/integration/fpcheck.py sites "$sum" "$pub" "$work/sacct-$j.json" "$work/sites.json" > "$work/sites-$j.txt"; then
		check "$what: per-node and per-site energy, intensity, operational and avoided match the hand computation" true
	else
		check "$what: per-node and per-site energy, intensity, operational and avoided match the hand computation" false
	fi
	sed 's/^/# /' "$work/sites-$j.txt"
	# Single-site totals still agree with the single-site hand check.
done

pay=$($PY tests/integration/fpcheck.py payload "$spool/summaries/$multi.jws" "$pub")
check_eq "the 3-node job's summary has its 3 sites" "datacenter,summer-electric,winter-gas" \
	"$(echo "$pay" | $PY -c 'import json,sys; print(",".join(sorted(s["name"] for s in json.load(sys.stdin)["sites"])))')"
split=$(echo "$pay" | $PY -c 'import json,sys; print(" ".join(s["split"] for s in json.load(sys.stdin)["steps"] if s["nodes"] == 3))')
check_eq "the 3-node step's energy is split from Slurm's per-node min/max" "min-max+cpus" "$split"
for j in $singles; do
	check_eq "single-node job $j: its step's split is exact" "exact" \
		"$($PY tests/integration/fpcheck.py payload "$spool/summaries/$j.jws" "$pub" | $PY -c 'import json,sys; print(" ".join(sorted(set(s["split"] for s in json.load(sys.stdin)["steps"]))))')"
done
FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $FP_BUILD/sfootprint -j "$multi" > "$work/show.txt"
sed 's/^/# /' "$work/show.txt"
check "sfootprint -j shows each site of the 3-node job" bash -c \
	"grep -q '^  winter-gas:' $work/show.txt && grep -q '^  summer-electric:' $work/show.txt && grep -q '^  datacenter:' $work/show.txt"
check "sfootprint -j shows each node with its site" bash -c \
	"grep -q '^  fpn1 (winter-gas):' $work/show.txt && grep -q '^  fpn2 (summer-electric):' $work/show.txt && grep -q '^  fpn3 (datacenter):' $work/show.txt"
check "sfootprint -j says how the 3-node step was split" \
	grep -q "split by min-max+cpus" "$work/show.txt"

# How each node measured, from its own step records (issue #14): two
# simulated nodes, one measured by its wall meter.
check_eq "the 3-node job's summary names each node's source as the node measured it" \
	"fpn1:simulated:fp-simnode,fpn2:simulated:fp-simnode,fpn3:measured:heater-3-wall" \
	"$(echo "$pay" | $PY -c 'import json,sys; print(",".join("%s:%s:%s" % (n["name"], n.get("measured_by", {}).get("source"), n.get("measured_by", {}).get("meter")) for n in json.load(sys.stdin)["nodes"]))')"
check_eq "the 3-node job's source is simulated (two of its nodes were), said by the nodes" "simulated nodes" \
	"$(echo "$pay" | $PY -c 'import json,sys; e = json.load(sys.stdin)["energy"]; print(e["source"], e.get("source_by"))')"
check "the measured node's energy came from its wall meter or its calibration, not RAPL alone" \
	$PY -c 'import json,sys; n = [n for n in json.loads(sys.argv[1])["nodes"] if n["name"] == "fpn3"][0]["measured_by"]; s = n["sources_Wh"]; sys.exit(not (s["wall"] + s["calibrated"] > 0 and not n["simulated"]))' "$pay"
j3=$(for j in $singles; do [ "$(sacct -n -X -P -j "$j" -o NodeList)" = fpn3 ] && echo "$j"; done)
pay3=$($PY tests/integration/fpcheck.py payload "$spool/summaries/$j3.jws" "$pub")
check_eq "job $j3 on the measured node: measured, by the node's word over EnergySource=simulated" "measured nodes" \
	"$(echo "$pay3" | $PY -c 'import json,sys; e = json.load(sys.stdin)["energy"]; print(e["source"], e.get("source_by"))')"
check "job $j3's signed record in sacct says measured too" \
	bash -c "sacct -n -X -P -j $j3 -o AdminComment | grep -q '\"src\":\"measured\"'"
check "sfootprint -j says how each node of the 3-node job measured" bash -c \
	"grep -q '^Measured on the nodes (as each node said):' $work/show.txt && grep -q '^  fpn3: measured, meter heater-3-wall' $work/show.txt && grep -q '^  fpn1: simulated, meter fp-simnode' $work/show.txt"

FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $FP_BUILD/sfootprint -j "$multi" --whatif --hours 4 > "$work/whatif.txt"
rc=$?
sed 's/^/# /' "$work/whatif.txt"
check_eq "sfootprint -j --whatif succeeds" 0 "$rc"
FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $FP_BUILD/sfootprint whatif -j "$multi" --hours 4 --json > "$work/whatif.json"
if $PY tests/integration/fpcheck.py whatif "$work/whatif.json" "$spool/summaries/$multi.jws" "$pub" "$work/sites.json" 4 > "$work/whatif-check.txt"; then
	check "the what-if's best site and hour match the hand computation over every site and hour" true
else
	check "the what-if's best site and hour match the hand computation over every site and hour" false
fi
sed 's/^/# /' "$work/whatif-check.txt"
check "no errors from our plugins in slurmctld's log" \
	bash -c "! grep -E 'error: .*(footprint|carbon)' $FP_DIR/log/slurmctld.log"
fp_cluster_stop
check "the namespaces, veths and bridge are gone after stop" bash -c \
	"! ip netns list | grep -q '^fp-n' && ! ip link show fpbr0 >/dev/null 2>&1"
tap_done
