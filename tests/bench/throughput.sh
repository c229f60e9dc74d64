#!/bin/bash
# Controller throughput with and without jobcomp/carbon: the same burst of
# short jobs on the local cluster, completions per second for each, and
# their ratio (goal >= 0.97). Prints figures; asserts nothing.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
N=${FP_THROUGHPUT_JOBS:-300}
trap 'fp_cluster_stop' EXIT INT TERM

run() { # jobcomp plugin
	local t0 t1 done_n
	export FP_JOBCOMP_PLUGIN=$1
	fp_cluster_start > /dev/null 2>&1 || { echo "throughput: cluster did not start" >&2; return 1; }
	t0=$(date +%s.%N)
	for i in $(seq 1 "$N"); do
		sbatch --parsable -n1 -J tp -o /dev/null --wrap true > /dev/null
	done
	_fp_wait_for 900 "the burst to end" bash -c "[ -z \"\$(squeue -h -o %i)\" ]"
	t1=$(date +%s.%N)
	done_n=$(sacct -n -X -P -o JobName,State | grep -c '^tp|COMPLETED')
	awk -v n="$done_n" -v a="$t0" -v b="$t1" -v p="$1" \
		'BEGIN { printf "%s: %d jobs completed in %.1f s: %.2f completions/s\n", p, n, b - a, n / (b - a) }'
	fp_cluster_stop > /dev/null 2>&1
}

none=$(run jobcomp/none) || exit 1
echo "$none"
carbon=$(run jobcomp/carbon) || exit 1
echo "$carbon"
awk -v a="$none" -v b="$carbon" 'BEGIN {
	split(a, x, ": "); split(b, y, ": ");
	n = x[3] + 0; c = y[3] + 0
	printf "throughput ratio carbon/none: %.3f (goal >= 0.97)\n", c / n }'
