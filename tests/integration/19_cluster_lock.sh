#!/bin/bash
# The test harness's own lock (tests/cluster/cluster.sh): a cluster whose
# owner lives is never stopped by another run, however long it runs; a run
# that waits past FP_CLUSTER_WAIT fails and says so; two runs started
# together while a cluster is up both get theirs, one after the other.
# Each run is a process of its own, as two tests or a demo beside a test are.
set -u
cd "$(dirname "$0")/../.."
source tests/integration/tap.sh
work=$(mktemp -d /tmp/fp-lock.XXXXXX)
trap 'touch "$work/release.a" "$work/release.b" "$work/release.c"; wait; rm -rf "$work"' EXIT INT TERM

# run NAME: starts a cluster in a process of its own, records its folder
# and whether a job ran on it, holds it until $work/release.NAME exists.
run() {
	FP_SIMNODE=1 FP_CLUSTER_WAIT=${2:-120} bash -c '
		source tests/cluster/cluster.sh
		trap fp_cluster_stop EXIT
		w=$1 n=$2
		date +%s.%N > "$w/asked.$n"
		if ! fp_cluster_start 2> "$w/err.$n"; then
			echo failed > "$w/state.$n"
			exit 1
		fi
		date +%s.%N > "$w/started.$n"
		echo "$FP_DIR" > "$w/dir.$n"
		j=$(sbatch --parsable -n1 --wrap true) && fp_wait_job "$j" 60 &&
			echo up > "$w/state.$n" || echo "no job" > "$w/state.$n"
		for i in $(seq 1 300); do
			[ -e "$w/release.$n" ] && break
			sleep 0.2
		done
		date +%s.%N > "$w/stopped.$n"
	' _ "$work" "$1" &
}
wait_file() { # FILE SECONDS
	local end=$((SECONDS + $2))
	while [ ! -s "$1" ] && [ $SECONDS -lt $end ]; do sleep 0.2; done
	[ -s "$1" ]
}
# What a failed check needs: each run's own cluster log lines.
tap_on_failure() {
	local f
	for f in "$work"/err.*; do
		[ -s "$f" ] && sed "s|^|# ${f##*/}: |" "$f" | tail -n 5
	done
	return 0
}

run a 900
wait_file "$work/state.a" 900
check_eq "a first cluster starts and runs a job" up "$(cat "$work/state.a" 2>/dev/null)"
dir_a=$(cat "$work/dir.a" 2>/dev/null)

# A run that may wait 3 s only: it fails, says why, and leaves a's alone.
run late 3
wait_file "$work/state.late" 60
check_eq "a run that waits past FP_CLUSTER_WAIT fails" failed "$(cat "$work/state.late" 2>/dev/null)"
# (Or, when another run was already waiting for a's cluster under the
# lock, that the lock was held past its wait.)
check "it says whose cluster is still running" \
	grep -qE "the cluster of process [0-9]+ \($dir_a\) is still running after 3s|another test holds .* for 3s" "$work/err.late"
check "the running cluster is untouched" \
	env SLURM_CONF="$dir_a/etc/slurm.conf" scontrol ping

# Two runs asked together while a's runs: both wait, then each gets its own
# cluster in turn, none while another is up. They may wait as long as a
# (900 s): a demo or another test run beside this one takes the lock in
# between too, and that is no fault.
run b 900
run c 900
sleep 5
check "neither starts while the first cluster is up" \
	test ! -e "$work/started.b" -a ! -e "$work/started.c"
touch "$work/release.a"
wait_file "$work/state.b" 900 || wait_file "$work/state.c" 900
touch "$work/release.b" "$work/release.c"
wait_file "$work/state.b" 900
wait_file "$work/state.c" 900
check_eq "the second run gets its cluster and runs a job" up "$(cat "$work/state.b" 2>/dev/null)"
check_eq "the third run gets its cluster and runs a job" up "$(cat "$work/state.c" 2>/dev/null)"
wait
# In turn: each started after the one before had stopped.
order=$(for n in a b c; do
	[ -s "$work/started.$n" ] && echo "$(cat "$work/started.$n") start $n"
	[ -s "$work/stopped.$n" ] && echo "$(cat "$work/stopped.$n") stop $n"
done | sort -n | awk '{ printf "%s %s ", $2, $3 }')
echo "# in time order: $order"
check "one cluster at a time (start, stop, start, stop ...)" \
	grep -qE '^start (.) stop \1 start (.) stop \2 start (.) stop \3 $' <<< "$order"
check "every cluster's folder is gone after its stop" \
	bash -c "for n in a b c; do d=\$(cat $work/dir.\$n 2>/dev/null); [ -n \"\$d\" ] && [ ! -e \"\$d\" ] || exit 1; done"
tap_done
