#!/bin/bash
# GPU energy per step on a shared node (issue #15): three simulated NVIDIA
# GPUs (fp-simnode --nvidia through the tests' NVML library) as Slurm GRES;
# two jobs each on its own loaded GPU at once, then a GPU shared by two
# overlapping steps of one job (--overlap: the 22.05 GRES a step shares
# without shards or MPS) beside a job holding a GPU it never loads, and a
# GPU nobody holds. sacct, the metrics file and the replayed trace agree
# with each other and with the simulated GPUs' own power model. Each job's
# signed summary and `sfootprint -j` break its energy down (CPU packages,
# DRAM, GPU, rest of the node) from the node's step records, name the GPU
# it held with its own energy and flag the one it never loaded as idle.
# The node's step records split DRAM from the packages and give each GPU
# held its share: against the simulated node's model too. Last, one GPU
# shared by two jobs through Slurm's shards, whose processes use its SMs
# 3:1 (NVML's per-process samples): split by that activity, not equally.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
source tests/integration/lib.sh
trap 'fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1 FP_GPUS=3
GPU_IDLE_W=30 GPU_BUSY_W=220
# GPU counters every 50 ms: a load change or a read lags the model by at
# most that, 0.1 % of a 15 s step
export FP_SIMNODE_ARGS="--interval 0.05 --gpu-idle-w $GPU_IDLE_W --gpu-busy-w $GPU_BUSY_W"

# cluster.sh's footprint.conf, plus where the node's step records are: its
# RunDir/parts, on this machine
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

# Shards, Slurm's GRES for a GPU shared by several jobs (22.05 on):
# cluster.sh gives the node gpu:3, and slurmctld and slurmd read GresTypes
# and a node's Gres only as they start, so both restart with SHARDS shards
# on each GPU before the first job. The stopped slurmd's poller leaves a
# trace of no job, removed so that the test reads the new one.
SHARDS=2
add_shards() {
	local k
	fp_kill_daemon slurmd && fp_kill_daemon slurmctld || return 1
	sed -i -e 's/^GresTypes=gpu$/GresTypes=gpu,shard/' \
		-e "s/ Gres=gpu:$FP_GPUS / Gres=gpu:$FP_GPUS,shard:$((FP_GPUS * SHARDS)) /" \
		"$FP_DIR/etc/slurm.conf"
	grep -q "^GresTypes=gpu,shard$" "$FP_DIR/etc/slurm.conf" &&
		grep -q " Gres=gpu:$FP_GPUS,shard:" "$FP_DIR/etc/slurm.conf" || return 1
	for k in $(seq 0 $((FP_GPUS - 1))); do
		echo "NodeName=$FP_NODE Name=shard Count=$SHARDS File=$FP_DIR/dev/nvidia$k"
	done >> "$FP_DIR/etc/gres.conf"
	rm -f "$FP_DIR"/trace/*
	fp_start_daemon slurmctld || return 1
	env FP_FAKE_NVML_STATE="$FP_DIR/sim/nvml.state" \
		slurmd -D -N "$FP_NODE" >> "$FP_DIR/log/slurmd.out" 2>&1 &
	_fp_started slurmd $!
	fp_cluster_wait_idle 60
}
check "slurmctld and slurmd restart with $SHARDS shards on each GPU" add_shards
wait_polls 2
check "slurmd sees the GPUs' shards as GRES" \
	bash -c "scontrol show node $FP_NODE | grep -q 'Gres=gpu:3,shard:$((3 * SHARDS))'"
check "slurmd sees the node's 3 GPUs as GRES" \
	bash -c "scontrol show node $FP_NODE | grep -q 'Gres=gpu:3'"
check "the poller reads the 3 GPUs through NVML" \
	bash -c "head -n1 $FP_DIR/trace/*.jsonl | python3 -c 'import json,sys; g=json.load(sys.stdin).get(\"gpus\", []); sys.exit(not (len(g) == 3 and all(x[\"vendor\"] == \"nvidia\" for x in g)))'"

# A job's GPU is its batch step's SLURM_JOB_GPUS (or an srun step's
# SLURM_STEP_GPUS): the node-wide number, which is the load file's. Each
# load change is logged with its time, for the model's truth.
LOG=$FP_DIR/sim/gpu-load.log
: > "$LOG"
setload='k=${SLURM_STEP_GPUS:-${SLURM_JOB_GPUS:-none}}; echo "$2" > "$FP_DIR/sim/gpu-load/$k"; echo "$(date +%s.%N) $k $2 $1" >> "$FP_DIR/sim/gpu-load.log"'
loaded() { # name load seconds
	printf 'setload() { %s; }\nsetload %s %s\nsleep %s\nsetload %s 0\n' \
		"$setload" "$1" "$2" "$3" "$1"
}

# Phase 1: two jobs, each with its own GPU, at once.
j1=$(sbatch --parsable -n1 --gres=gpu:1 -J full --wrap "$(loaded full 1 15)")
j2=$(sbatch --parsable -n1 --gres=gpu:1 -J part --wrap "$(loaded part 0.4 15)")
fp_wait_job "$j1" 90
fp_wait_job "$j2" 90

# Phase 2: one GPU shared by two overlapping steps of one job (the first
# loads it), and a job that holds a GPU and never loads it.
shared=$(sbatch --parsable -n1 --gres=gpu:1 -J shared --wrap \
	"srun -n1 --overlap --gres=gpu:1 bash -c '$(loaded shared 0.6 15)' & srun -n1 --overlap --gres=gpu:1 sleep 15 & wait")
idle=$(sbatch --parsable -n1 --gres=gpu:1 -J idlegpu --wrap 'sleep 17')
_fp_wait_for 30 "phase 2 running" bash -c "[ \$(squeue -h -t R -o %i | wc -l) -eq 2 ]"
sleep 8

# The metrics file and the trace at the same poll: the poller writes the
# trace, then the metrics; copied right after the metrics change.
snap=$(python3 - "$FP_DIR" <<'PY'
import glob, os, shutil, sys, time
d = sys.argv[1]
m = d + "/metrics/footprint.prom"
trace = sorted(glob.glob(d + "/trace/*.jsonl"))[0]
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
check "a metrics file and the trace of the same poll are taken while phase 2 runs" test -n "$snap"
for j in "$j1" "$j2" "$shared" "$idle"; do
	fp_wait_job "$j" 90
	wait_step_energy "$j"
done
wait_step_energy "$shared" 3

# Phase 3: one GPU shared by two jobs through shards, its SMs used 3:1.
# Each job says its process and GPU (its SLURM_JOB_GPUS) and waits; the
# test writes both processes' SM loads in the GPU's process file at once,
# so that the activity is never known for one holder and not the other:
# 0 (split equally) until both steps have had samples, then SM_HI and
# SM_LO for 12 s, then 0 again for the last polls before the jobs end (a
# process that has exited takes its samples with it). Each change comes
# some 0.4 s after a poll, away from the 50 ms by which a sample may lag.
# The truth: the model's GPU energy of each interval, split by each job's
# SM load over it from the log (equally where there was none).
SM_HI=0.75 SM_LO=0.25
smjob() { # name
	printf 'echo "$$ ${SLURM_JOB_GPUS:-none} $SLURM_JOB_ID" > "$FP_DIR/sim/sm.%s"; n=0; while [ ! -e "$FP_DIR/sim/sm.end" ] && [ $n -lt 900 ]; do sleep 0.1; n=$((n + 1)); done\n' "$1"
}
SMLOG=$FP_DIR/sim/sm.log
: > "$SMLOG"
hi=$(sbatch --parsable -n1 --gres=shard:1 -J sm-hi --wrap "$(smjob hi)")
lo=$(sbatch --parsable -n1 --gres=shard:1 -J sm-lo --wrap "$(smjob lo)")
_fp_wait_for 60 "both shard jobs running" \
	bash -c "test -s $FP_DIR/sim/sm.hi && test -s $FP_DIR/sim/sm.lo"
read -r pid_hi gpu_hi _ < "$FP_DIR/sim/sm.hi"
read -r pid_lo gpu_lo _ < "$FP_DIR/sim/sm.lo"
check "the two shard jobs were given one GPU (SLURM_JOB_GPUS $gpu_hi and $gpu_lo)" \
	test "$gpu_hi" = "$gpu_lo" -a "$gpu_hi" != none
mkdir -p "$FP_DIR/sim/gpu-procs"
# without its load file, the GPU's load is its processes' (fp-simnode)
rm -f "$FP_DIR/sim/gpu-load/$gpu_hi"
sm() { # hi lo
	local f=$FP_DIR/sim/gpu-procs/$gpu_hi t
	printf '%s %s\n%s %s\n' "$pid_hi" "$1" "$pid_lo" "$2" > "$f.new" && mv "$f.new" "$f"
	t=$(date +%s.%N)
	printf '%s %s %s %s\n%s %s %s %s\n' "$t" "$gpu_hi" "$hi" "$1" "$t" "$gpu_hi" "$lo" "$2" >> "$SMLOG"
	echo "$t $gpu_hi $(awk -v a="$1" -v b="$2" 'BEGIN { print a + b }') procs" >> "$LOG"
}
after_poll() { wait_polls 1; sleep 0.4; }
sm 0 0
# both steps in a sample with an activity value (gpu_busy not null)
_fp_wait_for 30 "both shard jobs' steps with SM activity in the trace" python3 -c '
import json, sys
last = json.loads(open(sys.argv[1]).read().splitlines()[-1])
b = {s["id"]: s.get("gpu_busy") for s in last.get("steps", [])}
sys.exit(not all(b.get(j + ".batch") and None not in b[j + ".batch"] for j in sys.argv[2:]))' \
	"$(ls "$FP_DIR"/trace/*.jsonl | head -n1)" "$hi" "$lo"
after_poll
sm "$SM_HI" "$SM_LO"
sleep 12
after_poll
sm 0 0
wait_polls 2
touch "$FP_DIR/sim/sm.end"
fp_wait_job "$hi" 60
fp_wait_job "$lo" 60
rm -f "$FP_DIR/sim/gpu-procs/$gpu_hi"
wait_step_energy "$hi"
wait_step_energy "$lo"
wait_polls 2
trace=$(ls "$FP_DIR"/trace/*.jsonl | head -n1)
sacct -n -P -j "$j1,$j2,$shared,$idle,$hi,$lo" -o JobID,JobName,ConsumedEnergyRaw,AllocTRES > "$FP_DIR/sacct.txt"
sed 's/^/# sacct: /' "$FP_DIR/sacct.txt"
check "sacct shows the GPU each job was given (gres/gpu=1 in AllocTRES)" \
	bash -c "[ \$(grep -c 'gres/gpu=1' $FP_DIR/sacct.txt) -ge 4 ]"

for t in trace.snap "$(basename "$trace")"; do
	f=$FP_DIR/$t
	[ "$t" = trace.snap ] || f=$trace
	if $FP_BUILD/sfootprint replay "$f" --json > "$FP_DIR/$t.replay.json" 2> "$FP_DIR/replay.err"; then
		check "replay of $t succeeds" true
	else
		check "replay of $t succeeds ($(cat "$FP_DIR/replay.err"))" false
	fi
done

# Every figure below is judged in one place: sacct against the replay (as
# test 02, 1 % plus sacct's whole joule), the metrics against the replay of
# the same poll, the replay's GPU energies against the simulated GPUs'
# model (idle + busy x load over each interval, loads from the jobs' log,
# shared by the interval's holders equally by job then step, as the
# attribution spec says, or, between jobs, by each job's SM load over the
# interval from the test's log where there was any) to 1 %, and
# conservation to 1e-9.
python3 - "$FP_DIR" "$trace" "$(basename "$trace")" "$GPU_IDLE_W" "$GPU_BUSY_W" \
	"$j1" "$j2" "$shared" "$idle" "$FP_SIM_MODEL" "$hi" "$lo" "$SM_HI" "$SM_LO" \
	> "$FP_DIR/checks.txt" <<'PY'
import glob, json, os, sys
d, trace, tname, idle_w, busy_w = sys.argv[1:6]
idle_w, busy_w = float(idle_w), float(busy_w)
j1, j2, shared, idle = sys.argv[6:10]
model = sys.argv[10].split()
hi, lo = sys.argv[11:13]
sm_hi, sm_lo = float(sys.argv[13]), float(sys.argv[14])
sim = {model[i].lstrip("-"): float(model[i + 1]) for i in range(0, len(model) - 1, 2)
       if model[i].startswith("--")}
full = json.load(open(d + "/" + tname + ".replay.json"))
snapr = json.load(open(d + "/trace.snap.replay.json"))
out = []

def ok(what, good, detail=""):
    out.append(("ok" if good else "no") + "|" + what + (" (" + detail + ")" if detail else ""))

def close(what, a, b, rel, absolute=0.0):
    good = a is not None and b is not None and abs(a - b) <= rel * abs(b) + absolute
    ok(what, good, "%s vs %s" % (a if a is None else "%.3f" % a, b if b is None else "%.3f" % b))

# sacct per step against the replay
sacct = {}
for line in open(d + "/sacct.txt"):
    f = line.rstrip("\n").split("|")
    if "." in f[0] and f[2]:
        sacct[f[0]] = float(f[2])
for sid, e in sorted(sacct.items()):
    r = full["steps"].get(sid, {}).get("energy_j")
    close("sacct step %s energy matches the replay (J)" % sid, r, e, 0.01, 1)

# conservation in the replay
n = full["node"]
total = sum(s["energy_j"] for s in full["steps"].values()) + n["system_j"] + n["idle_j"] + n["gpu_idle_j"]
ok("replay conserves: steps + system + idle + gpu_idle = node to 1e-9",
   abs(total - n["energy_j"]) <= 1e-9 * n["energy_j"],
   "%.9f vs %.9f J" % (total, n["energy_j"]))
ok("replay gives the unheld GPU's energy to gpu_idle", n["gpu_idle_j"] > 0, "%.1f J" % n["gpu_idle_j"])

# the model's truth: loads from the jobs' log, holders from the trace
lines = [json.loads(l) for l in open(trace)]
samples = lines[1:]
loads = {}
for l in open(d + "/sim/gpu-load.log"):
    t, k, v, who = l.split()
    loads.setdefault(int(k), []).append((float(t), float(v)))

def energy(k, a, b):
    """the model's energy of GPU k over [a, b]"""
    ev = sorted(loads.get(k, []))
    e, t, cur = 0.0, a, 0.0
    for (tt, v) in ev:
        if tt <= a:
            cur = v
            continue
        if tt >= b:
            break
        e += (idle_w + busy_w * cur) * (tt - t)
        t, cur = tt, v
    return e + (idle_w + busy_w * cur) * (b - t)

# each job's SM load on a GPU, as the test wrote it in the process file
sm = {}
for l in open(d + "/sim/sm.log"):
    t, k, job, v = l.split()
    sm.setdefault((int(k), int(job)), []).append((float(t), float(v)))

def active(k, job, a, b):
    """job's SM load on GPU k integrated over [a, b] (load x s)"""
    x, t, cur = 0.0, a, 0.0
    for (tt, v) in sorted(sm.get((k, job), [])):
        if tt <= a:
            cur = v
            continue
        if tt >= b:
            break
        x += cur * (tt - t)
        t, cur = tt, v
    return x + cur * (b - t)

ngpu = len(lines[0]["gpus"])
truth, held_s, truth_g, equal = {}, {}, {}, {}
gpu_node = 0.0
for i in range(1, len(samples)):
    a, b = samples[i - 1]["t"], samples[i]["t"]
    holders = {}
    for st in samples[i].get("steps", []):
        for k in st.get("gpus", []):
            holders.setdefault(k, {}).setdefault(st["job"], []).append(st["id"])
    for k in range(ngpu):
        e = energy(k, a, b)
        gpu_node += e
        jobs = holders.get(k, {})
        act = {job: active(k, job, a, b) for job in jobs} if len(jobs) > 1 else {}
        tot = sum(act.values())
        for job, steps in jobs.items():
            share = e * act[job] / tot if tot > 0 else e / len(jobs)
            for sid in steps:
                truth[sid] = truth.get(sid, 0.0) + share / len(steps)
                truth_g[(sid, k)] = truth_g.get((sid, k), 0.0) + share / len(steps)
                equal[sid] = equal.get(sid, 0.0) + e / len(jobs) / len(steps)
                held_s[sid] = held_s.get(sid, 0.0) + (b - a)
close("replay's node GPU energy is the simulated GPUs' (J)", n["gpu_j"], gpu_node, 0.01)
for sid in sorted(truth):
    close("step %s's GPU energy is the model's (J)" % sid,
          full["steps"].get(sid, {}).get("gpu_j"), truth[sid], 0.01)

# which GPU each step had, in the trace, against the load file it wrote
held = {}
for s in samples:
    for st in s.get("steps", []):
        if st.get("gpus"):
            held[st["id"]] = st["gpus"]
wrote = {}
for l in open(d + "/sim/gpu-load.log"):
    t, k, v, who = l.split()
    wrote[who] = int(k)
want = {j1 + ".batch": "full", j2 + ".batch": "part"}
for sid, who in want.items():
    ok("step %s holds the GPU its job loads" % sid, held.get(sid) == [wrote.get(who)],
       "trace %s, load file %s" % (held.get(sid), wrote.get(who)))
ok("jobs %s and %s held different GPUs" % (j1, j2),
   held.get(j1 + ".batch") != held.get(j2 + ".batch"))
sh = sorted(sid for sid in held if sid.startswith(shared + ".") and sid != shared + ".batch")
ok("job %s's two srun steps hold the same GPU" % shared,
   len(sh) == 2 and held[sh[0]] == held[sh[1]], "%s" % {s: held[s] for s in sh})
if len(sh) == 2:
    a, b = (full["steps"][s]["gpu_j"] for s in sh)
    close("the shared GPU is split between its steps", a, b, 0.05)
# the GPU the shard jobs shared: held by both at once, split by activity
hs, ls_ = hi + ".batch", lo + ".batch"
ok("the shard jobs' steps hold one GPU in the trace", held.get(hs) is not None and held.get(hs) == held.get(ls_),
   "%s and %s" % (held.get(hs), held.get(ls_)))
both = [s for s in samples if {hs, ls_} <= {st["id"] for st in s.get("steps", []) if st.get("gpus")}]
ok("the shard jobs held it together for more than 12 s", len(both) > 13, "%d samples" % len(both))
busy = [s for s in both if all(st.get("gpu_busy") and None not in st["gpu_busy"]
                               for st in s["steps"] if st["id"] in (hs, ls_))]
ok("the trace has both steps' SM activity on it (gpu_busy)", len(busy) > 13, "%d samples" % len(busy))
r_hi, r_lo = full["steps"].get(hs, {}).get("gpu_j"), full["steps"].get(ls_, {}).get("gpu_j")
close("shard job %s's GPU energy is the model's split by SM activity (J)" % hi, r_hi, truth.get(hs), 0.01)
close("shard job %s's GPU energy is the model's split by SM activity (J)" % lo, r_lo, truth.get(ls_), 0.01)
# the test can fail: an equal split is far from this truth
ok("an equal split would be off by more than 10 %% for job %s" % hi,
   truth.get(hs, 0) > 1.1 * equal.get(hs, 0), "%.1f vs equal %.1f J" % (truth.get(hs, 0), equal.get(hs, 0)))
# while both loaded it, %g:%g
w = [i for i in range(1, len(samples)) if samples[i] in busy and samples[i - 1] in busy and
     active(held.get(hs, [-1])[0], int(hi), samples[i - 1]["t"], samples[i]["t"]) > 0]
ok("the replay's split of the shared GPU follows SM activity %g:%g" % (sm_hi, sm_lo),
   r_hi is not None and r_lo and truth.get(ls_) and
   abs(r_hi / r_lo - truth[hs] / truth[ls_]) <= 0.02 * truth[hs] / truth[ls_],
   "%.3f vs the model's %.3f (%d intervals loaded)" % (r_hi / r_lo if r_hi and r_lo else -1,
                                                       truth[hs] / truth[ls_] if truth.get(ls_) else -1, len(w)))
sid = idle + ".batch"
close("the job holding an idle GPU pays its idle power over the %.1f s it held it (J)" % held_s.get(sid, 0),
      full["steps"].get(sid, {}).get("gpu_j"), idle_w * held_s.get(sid, 0), 0.01)
for j, jr in full["jobs"].items():
    if j in (j1, j2, shared, idle, hi, lo):
        ok("job %s has GPU energy in the replay" % j, jr.get("gpu_j", 0) > 0,
           "%.1f J" % jr.get("gpu_j", 0))

# the node's step records (RunDir/parts): DRAM apart from the packages, and
# each GPU's share. The model's DRAM: each domain is idle + busy x load, so
# a step's static RAPL share is DRAM's by the idle powers and its dynamic
# one by the busy powers (the trace header's idle powers are the model's).
dram_static = sim["dram-idle-w"] / (sim["idle-w"] + sim["dram-idle-w"])
dram_dyn = sim["dram-busy-w"] / (sim["busy-w"] + sim["dram-busy-w"])
recs = {}
for f in glob.glob(d + "/run/footprint/parts/*"):
    r = json.load(open(f))
    recs[r["step"]] = r
mine = sorted(sid for sid in recs if sid.split(".")[0] in (j1, j2, shared, idle, hi, lo))
ok("the node wrote a step record for each step of the six jobs", len(mine) >= 8, "%s" % mine)
for sid in mine:
    r = recs[sid]
    ok("record %s: cpu_j + dram_j = cpu_dram_j to 1e-9" % sid,
       "cpu_j" in r and abs(r["cpu_j"] + r["dram_j"] - r["cpu_dram_j"]) <= 1e-9 * r["cpu_dram_j"] + 1e-9,
       "%s + %s vs %s" % (r.get("cpu_j"), r.get("dram_j"), r["cpu_dram_j"]))
    st = full["steps"].get(sid)
    if st:
        close("record %s: its DRAM energy is the model's share (J)" % sid, r.get("dram_j"),
              dram_static * st["static_j"] + dram_dyn * st["dynamic_j"], 0.02, 0.5)
    if not r["gpus"]:
        continue
    ge = [g.get("energy_j") for g in r["gpus"]]
    ok("record %s: its GPUs' energies sum to its GPU part" % sid,
       None not in ge and abs(sum(ge) - r["gpu_j"]) <= 1e-9 * r["gpu_j"] + 1e-9,
       "%s vs %s J" % (ge, r["gpu_j"]))
    for g in r["gpus"]:
        if (sid, g["index"]) in truth_g:
            close("record %s: GPU %d's energy is the model's (J)" % (sid, g["index"]),
                  g.get("energy_j"), truth_g[(sid, g["index"])], 0.01)
r = recs.get(idle + ".batch")
if r and r["gpus"]:
    close("the idle GPU's own energy in its record is its idle power over the %.1f s held (J)"
          % held_s.get(idle + ".batch", 0), r["gpus"][0].get("energy_j"),
          idle_w * held_s.get(idle + ".batch", 0), 0.01)
else:
    ok("the idle job's record names its GPU", False)

# the metrics against the replay of the same poll
prom = {}
for l in open(d + "/metrics.snap"):
    if l.startswith("#") or not l.strip():
        continue
    name, v = l.rsplit(" ", 1)
    prom[name] = float(v)

def metric(prefix, *labels):
    for k, v in prom.items():
        if k.startswith(prefix + "{") and all(x in k for x in labels):
            return v
    return None

sn = snapr["node"]
node_m = sum(v for k, v in prom.items() if k.startswith("footprint_node_energy_joules_total{"))
close("metrics: node energy is the replay's at the same poll (J)", node_m, sn["energy_j"], 0.01)
close("metrics: node GPU energy is the replay's (J)", metric("footprint_node_gpu_joules_total"), sn["gpu_j"], 0.01)
close("metrics: gpu_idle is the replay's (J)", metric("footprint_node_gpu_idle_joules_total"), sn["gpu_idle_j"], 0.01)
nrun = 0
for sid, sr in snapr["steps"].items():
    m = metric("footprint_step_energy_joules_total", 'step="%s"' % sid)
    if m is None:
        continue
    nrun += 1
    close("metrics: running step %s's energy is the replay's (J)" % sid, m, sr["energy_j"], 0.01)
ok("metrics show the running steps", nrun >= 3, "%d steps" % nrun)
for j in (shared, idle):
    close("metrics: running job %s's GPU energy is the replay's (J)" % j,
          metric("footprint_job_gpu_energy_joules_total", 'job="%s"' % j),
          snapr["jobs"].get(j, {}).get("gpu_j"), 0.01)
# each GPU's counter: the reading the trace holds, and the model's energy
snaps = [json.loads(l) for l in open(d + "/trace.snap")][1:]
for k in range(ngpu):
    g = metric("footprint_gpu_energy_joules_total", 'gpu="%d"' % k, 'vendor="nvidia"')
    close("metrics: GPU %d's energy is the trace's reading (J)" % k, g,
          snaps[-1]["gpu_energy_uj"][k] / 1e6, 1e-9)
    close("metrics: GPU %d's energy over the trace is the model's (J)" % k,
          None if g is None else g - snaps[0]["gpu_energy_uj"][k] / 1e6,
          energy(k, snaps[0]["t"], snaps[-1]["t"]), 0.01)
for l in out:
    print(l)
PY

# The summaries and sfootprint -j of the four jobs: the energy by part from
# the node's step records, against the replay and the summary's own total;
# the GPU each held, as the trace names it; the idle GPU flagged.
spool=$FP_DIR/spool/footprint
for j in "$j1" "$j2" "$shared" "$idle" "$hi" "$lo"; do
	_fp_wait_for 120 "summary of job $j" test -s "$spool/summaries/$j.jws"
	check "job $j's summary with its energy parts verifies" \
		bash -c "$FP_BUILD/sfootprint verify $spool/summaries/$j.jws --pubkey $FP_DIR/keys/footprint.pub > /dev/null"
	"$FP_BUILD"/sfootprint -j "$j" > "$FP_DIR/show.$j.txt" 2> "$FP_DIR/show.$j.err"
	check "sfootprint -j $j exits 0" test $? -eq 0
	"$FP_BUILD"/sfootprint -j "$j" --json > "$FP_DIR/show.$j.json" 2>> "$FP_DIR/show.$j.err"
done
sed -n '/^Energy by part/,$s/^/# sfootprint -j '"$idle"': /p' "$FP_DIR/show.$idle.txt"
sed -n '/^Energy by part/,$s/^/# sfootprint -j '"$shared"': /p' "$FP_DIR/show.$shared.txt"
python3 - "$FP_DIR" "$trace" "$(basename "$trace")" "$GPU_IDLE_W" \
	"$j1" "$j2" "$shared" "$idle" "$hi" "$lo" > "$FP_DIR/checks-summary.txt" <<'PY'
import json, re, sys
d, trace, tname, idle_w = sys.argv[1:5]
idle_w = float(idle_w)
j1, j2, shared, idle, hi, lo = sys.argv[5:11]
full = json.load(open(d + "/" + tname + ".replay.json"))
lines = [json.loads(l) for l in open(trace)]
uuids = [g["uuid"] for g in lines[0]["gpus"]]
held = {}
for s in lines[1:]:
    for st in s.get("steps", []):
        if st.get("gpus"):
            held[st["id"]] = st["gpus"]
out = []

def ok(what, good, detail=""):
    out.append(("ok" if good else "no") + "|" + what + (" (" + detail + ")" if detail else ""))

for j in (j1, j2, shared, idle, hi, lo):
    try:
        rep = json.load(open("%s/show.%s.json" % (d, j)))
        text = open("%s/show.%s.txt" % (d, j)).read()
    except Exception as e:
        ok("sfootprint -j %s gives its report" % j, False, str(e))
        continue
    s = rep.get("summary") or {}
    ep = s.get("energy_parts")
    ok("job %s's summary has its energy by part" % j, ep is not None)
    if ep is None:
        continue
    ok("job %s: a step record for each of its steps" % j,
       ep["records"] == ep["expected"] and ep["records"] >= 1,
       "%d of %d" % (ep["records"], ep["expected"]))
    ok("job %s: CPU packages and DRAM add up to CPU+DRAM" % j,
       ep.get("cpu_Wh") is not None and ep.get("dram_Wh") is not None and
       abs(ep["cpu_Wh"] + ep["dram_Wh"] - ep["cpu_dram_Wh"]) <= 1e-9 * ep["cpu_dram_Wh"],
       "%s + %s vs %s Wh" % (ep.get("cpu_Wh"), ep.get("dram_Wh"), ep["cpu_dram_Wh"]))
    ok("job %s: DRAM has its part" % j, (ep.get("dram_Wh") or 0) > 0, "%s Wh" % ep.get("dram_Wh"))
    parts = ep["cpu_dram_Wh"] + ep["gpu_Wh"] + ep["rest_Wh"]
    ok("job %s: CPU+DRAM, GPU and rest add up to the parts' energy" % j,
       abs(parts - ep["energy_Wh"]) <= 1e-9 * ep["energy_Wh"],
       "%.9f vs %.9f Wh" % (parts, ep["energy_Wh"]))
    it = s["energy"]["it_Wh"]
    ok("job %s: the parts' energy is the summary's IT energy (sacct) to 1 %%" % j,
       abs(ep["energy_Wh"] - it) <= 0.01 * it + ep["records"] / 3600.0,
       "%.4f vs %.4f Wh" % (ep["energy_Wh"], it))
    rj = full["jobs"].get(j, {})
    ok("job %s: its GPU energy is the replay's to 1 %%" % j,
       abs(ep["gpu_Wh"] * 3600 - rj.get("gpu_j", 0)) <= 0.01 * rj.get("gpu_j", 0) + 1e-6,
       "%.1f vs %.1f J" % (ep["gpu_Wh"] * 3600, rj.get("gpu_j", 0)))
    ok("job %s: CPU+DRAM and the rest are there" % j,
       ep["cpu_dram_Wh"] > 0 and ep["rest_Wh"] >= 0,
       "%.4f, %.4f Wh" % (ep["cpu_dram_Wh"], ep["rest_Wh"]))
    gpus = s.get("gpus", [])
    ge = sum(g["energy_Wh"] for g in gpus)
    ok("job %s: its GPUs' own energies sum to its GPU part" % j,
       abs(ge - ep["gpu_Wh"]) <= 1e-9 * ep["gpu_Wh"] + 1e-12,
       "%.9f vs %.9f Wh" % (ge, ep["gpu_Wh"]))
    ok("job %s: each GPU's energy is as the node attributed it" % j,
       all(g.get("energy_split") == "device" for g in gpus),
       "%s" % [g.get("energy_split") for g in gpus])
    want = held.get(j + ".batch", [])
    ok("job %s's summary names the GPU its batch step held" % j,
       [g["index"] for g in gpus] == want, "%s vs trace %s" % ([g["index"] for g in gpus], want))
    for g in gpus:
        ok("job %s: GPU %d's uuid and model are the node's" % (j, g["index"]),
           g["uuid"] == uuids[g["index"]] and bool(g["model"]) and g["vendor"] == "nvidia",
           "%s %s" % (g["uuid"], g["model"]))
        should = j == idle
        ok("job %s: GPU %d is %s" % (j, g["index"], "idle" if should else "used"),
           g["idle"] is should, "mean %.1f W, idle below %.1f W" % (g["mean_W"] or -1, g["idle_below_W"] or -1))
        line = "%s GPU %d: %s (%s, nvidia, counter)" % (s["nodes"][0]["name"], g["index"], g["model"], g["uuid"])
        ok("sfootprint -j %s names GPU %d" % (j, g["index"]), line in text, line)
        ok("sfootprint -j %s says GPU %d is %s" % (j, g["index"], "idle" if should else "used"),
           re.search(r"^    idle: held but not used for [0-9.]+ % of the time" if should else r"^    used: idle .* for only [0-9.]+ % of the time", text, re.M) is not None)
        # judged poll by poll on the node, not by the mean: the idle job's
        # GPU idled nearly all its hold, the loaded ones little of it
        share = g.get("idle_share")
        ok("job %s: GPU %d was judged by time, idle %s of its hold" % (j, g["index"], "most" if should else "little"),
           g.get("idle_by") == "time" and share is not None and (share >= 0.8 if should else share < 0.5),
           "%s, %s" % (g.get("idle_by"), share))
        ok("job %s: GPU %d read all the time it was held" % (j, g["index"]),
           g.get("unread_share") == 0, "%s" % g.get("unread_share"))
    if j == idle and gpus:
        g = gpus[0]
        ok("the idle GPU's mean power is its idle power (%g W) to 5 %%" % idle_w,
           abs(g["mean_W"] - idle_w) <= 0.05 * idle_w, "%.2f W" % g["mean_W"])
        ok("the idle GPU's cost is said: its share of the job's footprint",
           0 < g["footprint_share"] < 1 and g["operational_g"] > 0,
           "%.4f g, %.3f" % (g["operational_g"], g["footprint_share"]))
        ok("the idle GPU's own energy is its idle power (%g W) over the time held to 1 %%" % idle_w,
           abs(g["energy_Wh"] * 3600 - idle_w * g["held_s"]) <= 0.01 * idle_w * g["held_s"],
           "%.2f J over %.2f s" % (g["energy_Wh"] * 3600, g["held_s"]))
        ok("sfootprint -j %s says what the idle GPU cost in Wh" % j,
           re.search(r"; it cost [0-9.]+ Wh, [0-9.e-]+ gCO2e", text) is not None)
    if j == shared and gpus:
        ok("the shared GPU lists the job's steps that held it",
           len(gpus[0]["steps"]) == 3, "%s" % gpus[0]["steps"])
    for k in ("CPU packages: ", "DRAM: ", "GPU: ", "Rest of the node: "):
        ok("sfootprint -j %s shows %s" % (j, k.replace("\\", "").strip(": ")),
           re.search(r"^  " + k + r"[0-9.]+ Wh", text, re.M) is not None)
ok("the summary checks ran to their end", True)
for l in out:
    print(l)
PY
while IFS='|' read -r res what; do
	if [ "$res" = ok ]; then check "$what" true; else check "$what" false; fi
done < "$FP_DIR/checks-summary.txt"
check "the summary checks ran to their end" grep -q "summary checks ran to their end" "$FP_DIR/checks-summary.txt"
while IFS='|' read -r res what; do
	if [ "$res" = ok ]; then check "$what" true; else check "$what" false; fi
done < "$FP_DIR/checks.txt"
check "the analysis ran to its end" grep -q "metrics: GPU 2's energy over" "$FP_DIR/checks.txt"
check "no errors from our plugins in the logs" \
	bash -c "! grep -hE 'error: .*(footprint|carbon)' $FP_DIR/log/*.log"

tap_done
