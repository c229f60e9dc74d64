#!/bin/bash
# GPU energy per step from AMD and Intel GPUs read through hwmon (issue
# #15): two simulated hwmon GPUs (fp-simnode --gpus 2: an amdgpu and an
# i915, energy1_input) as Slurm GRES, two jobs each holding one under its
# own load at once. Each step's ConsumedEnergy in sacct is the simulated
# GPU's energy over the time it held it plus its CPU side; each job's
# signed summary and `sfootprint -j` name the GPU it held with its vendor
# and source; the node's metrics have a line per GPU, whose counter is
# the simulated GPU's.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
source tests/integration/lib.sh
trap 'fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1 FP_GPUS=2 FP_GPU_KIND=hwmon
GPU_IDLE_W=30 GPU_BUSY_W=220
# hwmon counters every 50 ms: a load change or a read lags the model by at
# most that, 0.1 % of a 12 s load
export FP_SIMNODE_ARGS="--interval 0.05 --gpu-idle-w $GPU_IDLE_W --gpu-busy-w $GPU_BUSY_W"

# cluster.sh's footprint.conf, plus where the node's step records are (the
# summaries' GPUs come from them): its RunDir/parts, on this machine
export FP_FOOTPRINT_CONF="SigningKey=@DIR@/keys/footprint.key
PublicKey=@DIR@/keys/footprint.pub
SpoolDir=@DIR@/spool/footprint
EnergySource=simulated
RetryInterval=2
WorkerTimeout=60
Mailer=/usr/bin/mail
MailWait=20
NodePartsDir=@DIR@/run/footprint/parts
Site=home Nodes=${FP_NODE:-fpnode} Intensity=56 PUE=1.0 HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=0.8
NodeType=heater Nodes=${FP_NODE:-fpnode} Embodied=1100 Lifetime=6 CPUs=$(nproc)
Reference=standard-datacenter PUE=1.5 Intensity=site"

fp_cluster_start_or_fail
wait_polls 2
trace=$(ls "$FP_DIR"/trace/*.jsonl | head -n1)
check "slurmd sees the node's 2 GPUs as GRES" \
	bash -c "scontrol show node $FP_NODE | grep -q 'Gres=gpu:2'"
# fp-simnode's layout, independent of the reader: hwmon K at PCI
# 0000:K+1:00.0, amdgpu for even K, i915 for odd K
check "the poller reads GPU 0 as the amdgpu and GPU 1 as the i915, by PCI address, through hwmon" \
	python3 -c '
import json, sys
g = json.loads(open(sys.argv[1]).readline()).get("gpus", [])
want = [(0, "0000:01:00.0", "amd"), (1, "0000:02:00.0", "intel")]
sys.exit([(x["index"], x["uuid"], x["vendor"]) for x in g] != want)' "$trace"

# A job's GPU is its batch step's SLURM_JOB_GPUS: the node-wide number,
# which is the load file's (no NVIDIA GPU before the hwmon ones). Each
# load change is logged with its time, for the model's truth.
LOG=$FP_DIR/sim/gpu-load.log
: > "$LOG"
setload='k=${SLURM_JOB_GPUS:-none}; echo "$2" > "$FP_DIR/sim/gpu-load/$k"; echo "$(date +%s.%N) $k $2 $1" >> "$FP_DIR/sim/gpu-load.log"'
loaded() { # name load seconds
	printf 'setload() { %s; }\nsetload %s %s\nsleep %s\nsetload %s 0\n' \
		"$setload" "$1" "$2" "$3" "$1"
}
j1=$(sbatch --parsable -n1 --gres=gpu:1 -J full --wrap "$(loaded full 1 12)")
j2=$(sbatch --parsable -n1 --gres=gpu:1 -J part --wrap "$(loaded part 0.4 12)")
_fp_wait_for 30 "both jobs running" bash -c "[ \$(squeue -h -t R -o %i | wc -l) -eq 2 ]"
check "the two jobs run at once, each with one GPU" \
	bash -c "[ \$(squeue -h -t R -o %i | wc -l) -eq 2 ]"
fp_wait_job "$j1" 90
fp_wait_job "$j2" 90
wait_step_energy "$j1"
wait_step_energy "$j2"

# The metrics file and the trace of the same poll, once both jobs ended:
# the poller writes the trace, then the metrics; copied right after the
# metrics change.
snap=$(python3 - "$FP_DIR" "$trace" <<'PY'
import os, shutil, sys, time
d, trace = sys.argv[1:3]
m = d + "/metrics/footprint.prom"
for _ in range(20):
    t0 = os.stat(m).st_mtime_ns
    while os.stat(m).st_mtime_ns == t0:
        time.sleep(0.01)
    time.sleep(0.1)
    t1 = os.stat(m).st_mtime_ns
    shutil.copy(m, d + "/metrics.snap")
    n = sum(1 for _ in open(trace))
    if os.stat(m).st_mtime_ns == t1:
        with open(trace) as f, open(d + "/trace.snap", "w") as o:
            for i, line in zip(range(n), f):
                o.write(line)
        print(n)
        break
PY
)
check "a metrics file and the trace of the same poll are taken" test -n "$snap"
sacct -n -P -j "$j1,$j2" -o JobID,JobName,ConsumedEnergyRaw,AllocTRES > "$FP_DIR/sacct.txt"
sed 's/^/# sacct: /' "$FP_DIR/sacct.txt"
check "sacct shows the GPU each job was given (gres/gpu=1 in AllocTRES)" \
	bash -c "[ \$(grep -c 'gres/gpu=1' $FP_DIR/sacct.txt) -ge 2 ]"
if $FP_BUILD/sfootprint replay "$FP_DIR/trace.snap" --json > "$FP_DIR/replay.json" 2> "$FP_DIR/replay.err"; then
	check "replay of the trace succeeds" true
else
	check "replay of the trace succeeds ($(cat "$FP_DIR/replay.err"))" false
fi

# The summaries and sfootprint -j of both jobs.
spool=$FP_DIR/spool/footprint
for j in "$j1" "$j2"; do
	_fp_wait_for 120 "summary of job $j" test -s "$spool/summaries/$j.jws"
	check "job $j's summary verifies" \
		bash -c "$FP_BUILD/sfootprint verify $spool/summaries/$j.jws --pubkey $FP_DIR/keys/footprint.pub > /dev/null"
	"$FP_BUILD"/sfootprint -j "$j" > "$FP_DIR/show.$j.txt" 2> "$FP_DIR/show.$j.err"
	check "sfootprint -j $j exits 0" test $? -eq 0
	"$FP_BUILD"/sfootprint -j "$j" --json > "$FP_DIR/show.$j.json" 2>> "$FP_DIR/show.$j.err"
done
sed -n '/GPU [0-9]*: /s/^/# sfootprint -j: /p' "$FP_DIR/show.$j1.txt" "$FP_DIR/show.$j2.txt"

# The truth is the simulated GPUs' model: idle + busy x load over each
# interval a step held the GPU (loads from the jobs' log, holders from the
# trace). A step's energy is that, plus its CPU side (packages, DRAM and
# its share of the rest of the node) as the replay attributes it, which
# test 02 judges; its GPU is most of it here, so a GPU part wrong by 2 %
# fails the step's 1 %.
python3 - "$FP_DIR" "$GPU_IDLE_W" "$GPU_BUSY_W" "$j1" "$j2" > "$FP_DIR/checks.txt" <<'PY'
import json, re, sys
d, idle_w, busy_w, j1, j2 = sys.argv[1:6]
idle_w, busy_w = float(idle_w), float(busy_w)
out = []

def ok(what, good, detail=""):
    out.append(("ok" if good else "no") + "|" + what + (" (" + detail + ")" if detail else ""))

def close(what, a, b, rel, absolute=0.0):
    good = a is not None and b is not None and abs(a - b) <= rel * abs(b) + absolute
    ok(what, good, "%s vs %s" % (a if a is None else "%.3f" % a, b if b is None else "%.3f" % b))

lines = [json.loads(l) for l in open(d + "/trace.snap")]
header, samples = lines[0], lines[1:]
gpus = header["gpus"]
replay = json.load(open(d + "/replay.json"))
loads, wrote = {}, {}
for l in open(d + "/sim/gpu-load.log"):
    t, k, v, who = l.split()
    loads.setdefault(int(k), []).append((float(t), float(v)))
    wrote[who] = int(k)

def energy(k, a, b):
    """the model's energy of GPU k over [a, b]"""
    e, t, cur = 0.0, a, 0.0
    for (tt, v) in sorted(loads.get(k, [])):
        if tt <= a:
            cur = v
            continue
        if tt >= b:
            break
        e += (idle_w + busy_w * cur) * (tt - t)
        t, cur = tt, v
    return e + (idle_w + busy_w * cur) * (b - t)

truth, held = {}, {}
for i in range(1, len(samples)):
    a, b = samples[i - 1]["t"], samples[i]["t"]
    for st in samples[i].get("steps", []):
        for k in st.get("gpus", []):
            truth[st["id"]] = truth.get(st["id"], 0.0) + energy(k, a, b) / len(st["gpus"])
        if st.get("gpus"):
            held[st["id"]] = st["gpus"]

# which GPU each job held: the trace against the load file it wrote
want = {j1: "full", j2: "part"}
for j, who in want.items():
    ok("job %s's batch step holds the GPU its job loads" % j,
       held.get(j + ".batch") == [wrote.get(who)],
       "trace %s, load file %s" % (held.get(j + ".batch"), wrote.get(who)))
vendors = sorted(gpus[held[j + ".batch"][0]]["vendor"] for j in want if held.get(j + ".batch"))
ok("one job held the AMD GPU, the other the Intel one", vendors == ["amd", "intel"], "%s" % vendors)

# sacct per step, against the model and against the replay
sacct = {}
for line in open(d + "/sacct.txt"):
    f = line.rstrip("\n").split("|")
    if "." in f[0] and f[2]:
        sacct[f[0]] = float(f[2])
for j in want:
    sid = j + ".batch"
    ok("sacct has step %s's energy" % sid, sid in sacct)
    st = replay["steps"].get(sid, {})
    if sid not in sacct or "energy_j" not in st or sid not in truth:
        ok("the replay and the model have step %s" % sid, False)
        continue
    close("step %s's GPU energy in the replay is the simulated GPU's (J)" % sid,
          st.get("gpu_j"), truth[sid], 0.01)
    ok("step %s's GPU is most of its energy" % sid, truth[sid] > 0.6 * sacct[sid],
       "%.1f of %.1f J" % (truth[sid], sacct[sid]))
    close("sacct step %s: ConsumedEnergy is the simulated GPU's energy plus its CPU side to 1 %% (J)" % sid,
          sacct[sid], truth[sid] + st["energy_j"] - st["gpu_j"], 0.01, 1)
    close("sacct step %s: ConsumedEnergy is the replay's (J)" % sid, sacct[sid], st["energy_j"], 0.01, 1)
n = replay["node"]
total = sum(s["energy_j"] for s in replay["steps"].values()) + n["system_j"] + n["idle_j"] + n["gpu_idle_j"]
ok("replay conserves: steps + system + idle + gpu_idle = node to 1e-9",
   abs(total - n["energy_j"]) <= 1e-9 * n["energy_j"], "%.9f vs %.9f J" % (total, n["energy_j"]))
close("replay's node GPU energy is the simulated GPUs' (J)", n["gpu_j"],
      sum(energy(k, samples[0]["t"], samples[-1]["t"]) for k in range(len(gpus))), 0.01)

# the summaries: the GPU held, named with its vendor and source
for j in want:
    try:
        rep = json.load(open("%s/show.%s.json" % (d, j)))
        text = open("%s/show.%s.txt" % (d, j)).read()
    except Exception as e:
        ok("sfootprint -j %s gives its report" % j, False, str(e))
        continue
    s = rep.get("summary") or {}
    sg = s.get("gpus", [])
    h = held.get(j + ".batch", [])
    ok("job %s's summary names the GPU its batch step held" % j,
       [g.get("index") for g in sg] == h, "%s vs trace %s" % ([g.get("index") for g in sg], h))
    for g in sg:
        k = g.get("index")
        if not isinstance(k, int) or not 0 <= k < len(gpus):
            ok("job %s's GPU %s is one of the node's" % (j, k), False)
            continue
        vendor, model = ("amd", "amdgpu") if k % 2 == 0 else ("intel", "i915")
        ok("job %s's summary: GPU %d is the %s one (%s), read from its energy counter" % (j, k, vendor, model),
           (g.get("vendor"), g.get("model"), g.get("source"), g.get("uuid")) ==
           (vendor, model, "counter", "0000:%02x:00.0" % (k + 1)),
           "%s %s %s %s" % (g.get("vendor"), g.get("model"), g.get("source"), g.get("uuid")))
        close("job %s's summary: GPU %d's energy is the simulated GPU's (J)" % (j, k),
              None if g.get("energy_Wh") is None else g["energy_Wh"] * 3600,
              truth.get(j + ".batch"), 0.01)
        line = "%s GPU %d: %s (0000:%02x:00.0, %s, counter)" % (s["nodes"][0]["name"], k, model, k + 1, vendor)
        ok("sfootprint -j %s names GPU %d with its vendor and source" % (j, k), line in text, line)
        ok("job %s's summary: GPU %d was used, judged poll by poll" % (j, k),
           g.get("idle") is False and g.get("idle_by") == "time",
           "%s by %s, idle %s of the hold" % (g.get("idle"), g.get("idle_by"), g.get("idle_share")))
        ok("sfootprint -j %s says GPU %d was used" % (j, k),
           re.search(r"^    used: idle .* for only [0-9.]+ % of the time", text, re.M) is not None)

# the metrics: a line per GPU, its counter the trace's reading of the same
# poll and, over the trace, the model's energy
prom = {}
for l in open(d + "/metrics.snap"):
    if l.startswith("#") or not l.strip():
        continue
    name, v = l.rsplit(" ", 1)
    prom[name] = float(v)

def lines_of(metric, k):
    return [(name, v) for name, v in prom.items()
            if name.startswith(metric + "{") and 'gpu="%d"' % k in name]

for k, g in enumerate(gpus):
    vendor = "amd" if k % 2 == 0 else "intel"
    for metric in ("footprint_gpu_up", "footprint_gpu_energy_joules_total", "footprint_gpu_power_watts"):
        m = lines_of(metric, k)
        ok("metrics: one %s line for GPU %d, vendor %s" % (metric, k, vendor),
           len(m) == 1 and 'vendor="%s"' % vendor in m[0][0] and 'pci="0000:%02x:00.0"' % (k + 1) in m[0][0],
           "%s" % [x[0] for x in m])
    m = lines_of("footprint_gpu_up", k)
    ok("metrics: GPU %d is up" % k, len(m) == 1 and m[0][1] == 1)
    m = lines_of("footprint_gpu_energy_joules_total", k)
    e = m[0][1] if len(m) == 1 else None
    ok("metrics: GPU %d's energy is from its counter" % k, len(m) == 1 and 'source="counter"' in m[0][0])
    close("metrics: GPU %d's energy is the trace's reading (J)" % k, e,
          samples[-1]["gpu_energy_uj"][k] / 1e6, 1e-9)
    close("metrics: GPU %d's energy over the trace is the model's (J)" % k,
          None if e is None else e - samples[0]["gpu_energy_uj"][k] / 1e6,
          energy(k, samples[0]["t"], samples[-1]["t"]), 0.01)
for l in out:
    print(l)
print("end|")
PY
while IFS='|' read -r res what; do
	[ "$res" = end ] && continue
	if [ "$res" = ok ]; then check "$what" true; else check "$what" false; fi
done < "$FP_DIR/checks.txt"
check "the analysis ran to its end" grep -qx "end|" "$FP_DIR/checks.txt"
check "no errors from our plugins in the logs" \
	bash -c "! grep -hE 'error: .*(footprint|carbon)' $FP_DIR/log/*.log"

tap_done
