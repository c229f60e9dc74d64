#!/bin/bash
# The powercap tree losing a zone mid-run (a RAPL driver unloaded, a zone
# whose energy_uj stops reading): the poller says so once, holds that
# domain's energy and keeps attributing from the others and the wall meter;
# when the zone reads again it says so once and the gap's energy is counted.
# slurmd never drains and the job keeps its energy record.
#
# On a real node a vanished sysfs file fails its reads (ENODEV); a tmpfs
# file kept open cannot, so here the counter file is emptied, which fails
# the same read path (nothing to parse).
#
# The trace is written compressed and compact (EnergyFootprintTraceCompress=
# zstd, EnergyFootprintTraceForm=compact: steps' counters only where they
# moved): the live file, cut wherever slurmd is writing, replays to sacct's
# step energies, and its plain copy (replay --plain-out, every sample whole)
# replays the same. On a node of 2 CPUs a step busy on both is written whole
# (its pairs would be longer); the job's last seconds idle, so its step's
# lines then are compact ("cpu_ns_moved":[], applied to the line before).
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
source tests/integration/lib.sh
trap 'fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1
export FP_TRACE_COMPRESS=zstd
export FP_TRACE_FORM=compact

fp_cluster_start_or_fail
slurmd_pid=$(fp_daemon_pid slurmd)
log=$FP_DIR/log/slurmd-$FP_NODE.log
zone_dir=$FP_DIR/sim/powercap/intel-rapl:1
zone=$zone_dir/energy_uj
name=$(cat "$zone_dir/name")
trace() { ls "$FP_DIR"/trace/*.jsonl.zst | head -n1; }
# The last trace line's value for a domain: a number, or null.
last_uj() {
	zstd -dcf "$(trace)" 2>/dev/null | tail -n1 | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["energy_uj"].get(sys.argv[1])))' "$1"
}

job=$(sbatch --parsable -n2 -J zone --wrap \
	'timeout 40 sh -c "while :; do :; done" & timeout 40 sh -c "while :; do :; done"; wait; sleep 6; true')
_fp_wait_for 30 "job $job running" bash -c "squeue -h -j $job -o %T | grep -q RUNNING"
wait_polls 3
check "$name reads before the fault" bash -c "[ '$(last_uj "$name")' != null ]"

touch "$FP_DIR/sim/powercap.hold"	# fp-simnode leaves the counters alone
before=$(cat "$zone")
: > "$zone"
wait_polls 4
check_eq "the trace records $name as a failed read" null "$(last_uj "$name")"
check "the other domains still read" bash -c \
	"[ '$(last_uj package-0)' != null ]"
n=$(grep -c "powercap zone .*($name): energy_uj unreadable" "$log")
check_eq "slurmd's log says once that the zone stopped reading" 1 "$n"
check "the node still reports power from the wall meter" \
	grep -q '^footprint_node_power_watts{.*source="wall"' "$FP_DIR/metrics/footprint.prom"
check "slurmd stays up" kill -0 "$slurmd_pid"
check "the node is not drained" \
	bash -c "sinfo -h -n $FP_NODE -o %T | grep -Eqx 'idle|mixed|allocated'"

# The zone comes back, its counter having run on meanwhile.
printf '%s\n' "$((before + 90000000))" > "$zone"
rm -f "$FP_DIR/sim/powercap.hold"
wait_polls 4
check "$name reads again" bash -c "[ '$(last_uj "$name")' != null ]"
n=$(grep -c "powercap zone .*($name): readable again" "$log")
check_eq "and the log says so once" 1 "$n"

_fp_wait_for 90 "job $job done" bash -c \
	"[ -z \"\$(squeue -h -j $job)\" ]"
wait_step_energy "$job" 1 60
e=$(job_energy "$job")
check "the job keeps its energy record ($e J)" test "$e" -gt 0
check "the trace is a zstd stream (.jsonl.zst)" \
	bash -c "head -c4 '$(trace)' | od -An -tx1 | grep -q '28 b5 2f fd'"
check "and no plain trace is written beside it" \
	bash -c "! ls $FP_DIR/trace/*.jsonl >/dev/null 2>&1"
# A copy of the live file: cut where slurmd is, as a crash would leave it.
cp "$(trace)" "$FP_DIR/cut.jsonl.zst"
if $FP_BUILD/sfootprint replay "$FP_DIR/cut.jsonl.zst" --json \
	--plain-out "$FP_DIR/plain.jsonl" > "$FP_DIR/replay.json" 2> "$FP_DIR/replay.err"; then
	check "the compressed trace with the failed reads replays" true
else
	check "the compressed trace with the failed reads replays ($(cat "$FP_DIR/replay.err"))" false
fi
check "the trace is compact (its header says so, steps have cpu_ns_moved)" \
	bash -c "zstd -dcf '$FP_DIR/cut.jsonl.zst' 2>/dev/null | head -n1 | grep -q '\"compact\":300' &&
		zstd -dcf '$FP_DIR/cut.jsonl.zst' 2>/dev/null | grep -q '\"cpu_ns_moved\":'"
check "its plain copy has every sample whole" \
	bash -c "! grep -q -e cpu_ns_moved -e '\"compact\"' '$FP_DIR/plain.jsonl'"
check "its cut end is a warning, not an error" \
	bash -c "[ ! -s $FP_DIR/replay.err ] || grep -q 'cut short after line' $FP_DIR/replay.err"
n=$(zstd -dcf "$FP_DIR/cut.jsonl.zst" 2>/dev/null | wc -l)
check_eq "the plain copy has every line the cut stream decompresses to" \
	"$n" "$(wc -l < "$FP_DIR/plain.jsonl")"
$FP_BUILD/sfootprint replay "$FP_DIR/plain.jsonl" --json > "$FP_DIR/replay-plain.json" 2>&1
check "the plain copy replays to the same figures" \
	cmp -s "$FP_DIR/replay.json" "$FP_DIR/replay-plain.json"
nsteps=0
while IFS='|' read -r id e; do
	r=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["steps"]; print(d.get(sys.argv[2], {}).get("energy_j", -1))' "$FP_DIR/replay.json" "$id")
	# sacct holds whole joules: allow 1 J on top of 1%.
	check "replay of the compressed trace matches sacct for step $id ($r vs $e J)" \
		awk -v a="$r" -v b="$e" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a >= 0 && d <= 0.01 * b + 1) }'
	nsteps=$((nsteps + 1))
done < <(sacct -n -P -j "$job" -o JobID,ConsumedEnergyRaw | awk -F'|' '$1 ~ /\./ && $2 != ""')
check "sacct has the job's steps to compare ($nsteps)" test "$nsteps" -ge 1
check "no error from our plugins beyond the zone's warning" \
	bash -c "! grep -hE 'error: .*(footprint|carbon)' $FP_DIR/log/*.log"
tap_done
