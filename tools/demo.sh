#!/bin/bash
# make demo: a real local Slurm cluster with our plugins, a few jobs sharing
# the node, and what a user then sees. Uses real RAPL where the machine has
# it, otherwise a simulated node (labelled as such).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export FP_BUILD=$BUILD
source tests/cluster/cluster.sh

sim_pid=
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	fp_cluster_stop
}
trap cleanup EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }

say "starting a local Slurm cluster (munged, mariadbd, slurmdbd, slurmctld, slurmd)"
if ! fp_cluster_start; then
	fp_cluster_dump_logs
	echo "demo: the local cluster did not start" >&2
	exit 1
fi

say "submitting jobs that share the node"
busy=$(sbatch --parsable -n1 -J busy -o /dev/null \
	--wrap 'timeout 8 sh -c "while :; do :; done"; true')
idle=$(sbatch --parsable -n1 -J sleeper -o /dev/null --wrap 'sleep 8')
steps=$(sbatch --parsable -n1 -J steps -o /dev/null \
	--wrap 'srun -n1 --overlap sleep 2 & srun -n1 --overlap sleep 2 & wait')
echo "jobs: busy=$busy sleeper=$idle steps=$steps"
for j in $busy $idle $steps; do
	fp_wait_job "$j" 120 && fp_wait_sacct "$j" 60
done

say "what sacct shows"
sacct -j "$busy,$idle,$steps" \
	-o JobID,JobName%10,State,Elapsed,NCPUS,ConsumedEnergy,AdminComment%60
