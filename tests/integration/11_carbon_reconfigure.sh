#!/bin/bash
# jobcomp/carbon reconfigured while jobs end: slurmctld hands the plugin its
# location again at every `scontrol reconfigure` and SIGUSR2, from its own
# threads, while the plugin's queue thread journals jobs and runs the worker
# (it used to free the settings under the thread's feet). With both every
# half second through a burst of 30 job completions, the controller stays
# up, every job gets exactly one summary and one record, and neither plugin
# logs an error.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
reconf_pid=
trap '[ -n "$reconf_pid" ] && kill "$reconf_pid" 2>/dev/null; fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1
NJOBS=30

fp_cluster_start_or_fail
spool=$FP_DIR/spool/footprint
log=$FP_DIR/log/slurmctld.log
ctld=$(fp_daemon_pid slurmctld)

# Reconfigure and SIGUSR2 in turn every 0.5 s until told to stop (at most
# 240 times: two minutes).
: > "$FP_DIR/reconf.count"
(
	for i in $(seq 1 240); do
		[ -e "$FP_DIR/reconf.stop" ] && break
		if [ $((i % 2)) -eq 1 ]; then
			scontrol reconfigure > /dev/null 2>&1 && echo r >> "$FP_DIR/reconf.count"
		else
			kill -USR2 "$ctld" 2>/dev/null && echo u >> "$FP_DIR/reconf.count"
		fi
		sleep 0.5
	done
) &
reconf_pid=$!

# sbatch may fail while slurmctld reconfigures ("Zero Bytes were
# transmitted or received", Slurm's doing), and is tried again. Either the
# submission was dropped, or slurmctld accepted it and only its reply was
# lost: then that job runs too, under an id sbatch never printed (the
# sanitized CI run had 32 jobs for 30 submissions). What is checked is
# every job slurmctld accepted, as sacct lists them.
jobs=""
for i in $(seq 1 $NJOBS); do
	for try in 1 2 3 4 5; do
		j=$(sbatch --parsable -n1 -J reconf --wrap 'sleep 0.2' 2> "$FP_DIR/sbatch.err") && break
		echo "# submission $i, try $try: $(cat "$FP_DIR/sbatch.err")"
		sleep 1
	done
	jobs="$jobs $j"
done
for j in $jobs; do fp_wait_job "$j" 180; done
# a few more rounds while the last jobs are journaled and computed
sleep 3
touch "$FP_DIR/reconf.stop"
wait "$reconf_pid"
reconf_pid=
nr=$(grep -c r "$FP_DIR/reconf.count")
nu=$(grep -c u "$FP_DIR/reconf.count")
echo "# $nr reconfigures and $nu SIGUSR2 during $NJOBS job completions"
check "reconfigured at least 10 times during the burst ($nr)" test "$nr" -ge 10
check "slurmctld is still up" bash -c "scontrol ping > /dev/null"
check "slurmctld is the same process" kill -0 "$ctld"

_fp_wait_for 60 "every accepted job to end" bash -c "[ -z \"\$(squeue -h -o %i)\" ]"
accepted=$(sacct -n -X -P --name reconf -o JobIDRaw | sort -n | tr '\n' ' ')
naccepted=$(echo $accepted | wc -w)
echo "# $naccepted jobs accepted for $NJOBS submissions"
check "every job sbatch printed was accepted" \
	bash -c "for j in $jobs; do grep -qw \$j <<< '$accepted' || exit 1; done"
_fp_wait_for 180 "$naccepted summaries" \
	bash -c "[ \$(ls $spool/summaries 2>/dev/null | grep -c '\\.jws\$') -ge $naccepted ]"
missing=0
for j in $accepted; do [ -s "$spool/summaries/$j.jws" ] || missing=$((missing + 1)); done
check_eq "every job has its summary" 0 "$missing"
check_eq "exactly one summary per job" "$naccepted" "$(ls "$spool/summaries" | grep -c '\.jws$')"
_fp_wait_for 120 "every record" bash -c \
	"[ \$(sacct -n -X -P -o AdminComment | grep -c 'FP1:') -ge $naccepted ]"
missing=0
for j in $accepted; do
	sacct -n -X -P -j "$j" -o AdminComment | grep -q FP1: || missing=$((missing + 1))
done
check_eq "every job has its record" 0 "$missing"
check_eq "exactly one FP1 record per job" "$naccepted" \
	"$(sacct -n -X -P -o AdminComment | grep -o 'FP1:' | wc -l)"
bad=$($FP_BUILD/sfootprint verify "$spool/summaries/$(echo $jobs | cut -d' ' -f1).jws" \
	--pubkey "$FP_DIR/keys/footprint.pub" > /dev/null 2>&1; echo $?)
check_eq "the first job's summary verifies" 0 "$bad"
n=$(grep -c "jobcomp/carbon: footprint.conf" "$log")
check "the plugin took its settings again at each reconfigure ($n times)" test "$n" -ge 10
errs=$(grep -E "error: (jobcomp/carbon|acct_gather_energy/footprint)" "$log" "$FP_DIR"/log/slurmd*.log 2>/dev/null)
check_eq "no error from our plugins" "" "$errs"
check "the controller logged no fatal or abort" \
	bash -c "! grep -Eq 'fatal|Abort|double free|corrupt' $log $FP_DIR/log/slurmctld.out"
tap_done
