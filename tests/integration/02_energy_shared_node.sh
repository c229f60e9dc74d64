#!/bin/bash
# Per-step energy on a shared node, live in sacct: a busy and an idle job at
# the same time, overlapping steps of one job, node power in scontrol, and
# the recorded trace replayed to the same step energies.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
source tests/integration/lib.sh
trap 'fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1

fp_cluster_start_or_fail
wait_polls 2
read -r n0 i0 s0 <<< "$(node_totals)"

burn='timeout 12 sh -c "while :; do :; done"; true'
busy=$(sbatch --parsable -n1 -J busy --wrap "$burn")
idle=$(sbatch --parsable -n1 -J sleeper --wrap 'sleep 12')
sleep 6
watts=$(scontrol show node "$FP_NODE" | sed -n 's/.*CurrentWatts=\([0-9]*\).*/\1/p')
check "scontrol shows the node's power while jobs run (CurrentWatts=$watts)" test "${watts:-0}" -gt 0
fp_wait_job "$busy" 60
fp_wait_job "$idle" 60
wait_step_energy "$busy"
wait_step_energy "$idle"
wait_polls 2
read -r n1 i1 s1 <<< "$(node_totals)"
eb=$(job_energy "$busy")
ei=$(job_energy "$idle")
node=$(awk -v a="$n0" -v b="$n1" 'BEGIN { print b - a }')
rest=$(awk -v a="$i0" -v b="$i1" -v c="$s0" -v d="$s1" 'BEGIN { print (b - a) + (d - c) }')
share=$(job_cpu_share "$busy")
echo "# busy job $eb J (CPU $share of its time), sleeping job $ei J, node $node J, idle+system $rest J over the window"
# On an idle machine the busy loop has its CPU all the time and is charged
# 5 to 6 times the sleeper; when other processes take part of its CPU
# (seen at 2.9 times with 60 % of it), it is charged for what it ran: at
# least 1 + 2 x its CPU share times the sleeper.
check "busy job is charged several times the sleeping job ($eb vs $ei J, CPU share $share)" \
	awk -v b="$eb" -v i="$ei" -v f="$share" 'BEGIN { exit !(i > 0 && f > 0.2 && b >= (1 + 2 * f) * i) }'
check "jobs + idle + system = node energy within 2%" \
	close_to "balance" "$(awk -v a="$eb" -v b="$ei" -v r="$rest" 'BEGIN { print a + b + r }')" "$node" 0.02
check "neither job is charged the whole node" \
	awk -v b="$eb" -v i="$ei" -v n="$node" 'BEGIN { exit !(b < 0.8 * n && i < 0.8 * n) }'

# One job, a batch step and two concurrent srun steps on the same CPU.
read -r n0 i0 s0 <<< "$(node_totals)"
steps=$(sbatch --parsable -n1 -J overlap --wrap \
	"srun -n1 --overlap sh -c '$burn' & srun -n1 --overlap sleep 10 & wait")
fp_wait_job "$steps" 60
wait_step_energy "$steps" 3
wait_polls 2
read -r n1 i1 s1 <<< "$(node_totals)"
ej=$(job_energy "$steps")
node=$(awk -v a="$n0" -v b="$n1" 'BEGIN { print b - a }')
rest=$(awk -v a="$i0" -v b="$i1" -v c="$s0" -v d="$s1" 'BEGIN { print (b - a) + (d - c) }')
nsteps=$(sacct -n -P -j "$steps" -o JobID | grep -c "^$steps\.")
echo "# overlapping steps: job $ej J over $nsteps steps, node $node J, idle+system $rest J"
check "job with overlapping steps has its batch and two srun steps in sacct" test "$nsteps" -ge 3
check "overlapping steps do not inflate the job (job + idle + system = node within 2%)" \
	close_to "overlap balance" "$(awk -v a="$ej" -v r="$rest" 'BEGIN { print a + r }')" "$node" 0.02

# The recorded trace gives the same step energies as sacct.
trace=$(ls "$FP_DIR"/trace/*.jsonl | head -n1)
if $FP_BUILD/sfootprint replay "$trace" --json > "$FP_DIR/replay.json" 2> "$FP_DIR/replay.err"; then
	check "replay of the recorded trace succeeds" true
else
	check "replay of the recorded trace succeeds ($(cat "$FP_DIR/replay.err"))" false
fi
for j in "$busy" "$idle" "$steps"; do
	while IFS='|' read -r id e; do
		r=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["steps"]; print(d.get(sys.argv[2], {}).get("energy_j", -1))' "$FP_DIR/replay.json" "$id")
		# sacct holds whole joules: allow 1 J on top of 1%.
		check "replay matches sacct for step $id ($r vs $e J)" \
			awk -v a="$r" -v b="$e" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a >= 0 && d <= 0.01 * b + 1) }'
	done < <(sacct -n -P -j "$j" -o JobID,ConsumedEnergyRaw | awk -F'|' '$1 ~ /\./ && $2 != ""')
done
check "no errors from our plugins in the logs" \
	bash -c "! grep -hE 'error: .*(footprint|carbon)' $FP_DIR/log/*.log"

tap_done
