#!/bin/bash
# A cluster starts clean of what an earlier one left in the cgroup tree: a
# slurmstepd killed with SIGKILL leaves its job's cgroup folders, and a
# later job with the same id on a node of the same name failed to start
# ("Slurmd could not execve job": under cgroup v1 the stale step's cpuset
# made writing the new job's cpuset.cpus fail with EBUSY). That is how test
# 02's job 3 lost its srun steps in CI. Here jobs 1 and 2 meet such folders.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
trap 'fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1

cs=/sys/fs/cgroup/cpuset
last=$(($(nproc) - 1))
if ! [ -f "$cs/cpuset.cpus" ] || [ "$last" -lt 1 ]; then
	echo "# skipped: needs the cgroup v1 cpuset hierarchy and 2 CPUs"
	tap_done
	exit 0
fi
# What a killed job 1 and 2 leave: their folders, with a step on the first
# and one on the last CPU, so that the one CPU a new job gets leaves out one.
plant() {
	local j c d all mems
	all=$(cat "$cs/cpuset.cpus")
	mems=$(cat "$cs/cpuset.mems")
	for j in 1 2; do
		for d in "" /uid_0 /uid_0/job_$j /uid_0/job_$j/step_0 /uid_0/job_$j/step_1; do
			d=$cs/slurm_$FP_NODE$d
			mkdir -p "$d"
			case $d in
			*/step_0) echo 0 > "$d/cpuset.cpus" ;;
			*/step_1) echo "$last" > "$d/cpuset.cpus" ;;
			*) echo "$all" > "$d/cpuset.cpus" ;;
			esac
			echo "$mems" > "$d/cpuset.mems"
		done
		for c in freezer cpuacct memory; do
			[ -d "/sys/fs/cgroup/$c" ] || continue
			mkdir -p "/sys/fs/cgroup/$c/slurm_$FP_NODE/uid_0/job_$j/step_0"
		done
	done
	[ "$(cat "$cs/slurm_$FP_NODE/uid_0/job_1/step_1/cpuset.cpus")" = "$last" ] && planted=1
	return 0
}
# Planted once no other cluster runs (its stop would clean them away),
# before this cluster starts.
export FP_BEFORE_START=plant
fp_cluster_start_or_fail
check "the stale folders were planted before the cluster started" test -n "${planted:-}"
s=$(srun -n1 -J stale1 sh -c 'echo $SLURM_JOB_ID')
fp_wait_sacct "$s" 30
check_eq "an srun job whose id met a stale cgroup runs its step" \
	"$s.0|COMPLETED|0:0" "$(sacct -n -P -j "$s.0" -o JobID,State,ExitCode)"
j=$(sbatch --parsable -n1 -J stale2 --wrap 'srun -n1 true')
fp_wait_job "$j" 60
fp_wait_sacct "$j" 30
check_eq "a batch job whose id met one runs its srun step" \
	"$j.0|COMPLETED|0:0" "$(sacct -n -P -j "$j.0" -o JobID,State,ExitCode)"
check "no step failed to start" \
	bash -c "! grep -E 'could not execve|unable to write .* cpuset' $FP_DIR/log/slurmd*.log"
tap_done
