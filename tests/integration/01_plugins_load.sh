#!/bin/bash
# Both plugins load in slurmctld, slurmd and slurmstepd of a real cluster, and
# a batch job and an srun job complete and reach sacct.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
trap 'fp_cluster_stop' EXIT INT TERM

fp_cluster_start_or_fail
check "cluster starts with both plugins configured" true

batch=$(sbatch --parsable -n1 --wrap 'sleep 1')
check "srun job runs" srun -n1 -t 1 true
fp_wait_job "$batch" 60
check "batch job completes in sacct" fp_wait_sacct "$batch" 30
srun_job=$(sacct -n -X -P -o JobID,JobName | awk -F'|' '$2=="true"{print $1}' | tail -n1)
check "srun job is in sacct" test -n "$srun_job"
check_eq "batch job state" "COMPLETED" "$(sacct -n -X -P -j "$batch" -o State)"
check "batch step recorded" bash -c "sacct -n -P -j $batch -o JobID | grep -qx $batch.batch"

log=$FP_DIR/log
check "energy plugin loaded in slurmctld" grep -q "acct_gather_energy/footprint: loaded (slurmctld)" "$log/slurmctld.log"
check "jobcomp plugin loaded in slurmctld" grep -q "jobcomp/carbon: loaded" "$log/slurmctld.log"
check "energy plugin loaded in slurmd" grep -q "acct_gather_energy/footprint: loaded (slurmd)" "$log/slurmd-$FP_NODE.log"
check "energy plugin loaded in slurmstepd" grep -q "acct_gather_energy/footprint: loaded (slurmstepd)" "$log/slurmd-$FP_NODE.log"
# This machine has no RAPL and no sensor is configured here.
if [ ! -d /sys/class/powercap ]; then
	n=$(grep -c "this node reports no energy" "$log/slurmd-$FP_NODE.log")
	check_eq "without RAPL or a sensor, slurmd says once that it reports no energy" 1 "$n"
	e=$(sacct -n -P -j "$batch.batch" -o ConsumedEnergyRaw)
	check "and sacct shows no invented energy (got '$e')" test -z "$e" -o "$e" = 0
fi
check "no errors from our plugins in the logs" bash -c "! grep -hiE 'error.*(footprint|carbon)|(footprint|carbon).*error' $log/*.log"
tap_done
