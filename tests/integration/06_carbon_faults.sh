#!/bin/bash
# Nothing lost: slurmctld killed with SIGKILL during a burst of 200 job
# completions and restarted, then slurmdbd stopped for 20 s: in the end
# every job has exactly one summary and one record, with four worker
# processes sharing the backlog (MaxWorkers=4) and the watermark on.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
trap 'fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1
export FP_FOOTPRINT_EXTRA="MaxWorkers=4"
BURST=${FP_BURST:-200}
DBD_DOWN=${FP_DBD_DOWN:-20}

fp_cluster_start_or_fail
spool=$FP_DIR/spool/footprint

completed() { sacct -n -X -P -o State 2>/dev/null | grep -c COMPLETED; }

# A burst of short jobs; kill the controller while they complete.
for i in $(seq 1 "$BURST"); do
	sbatch --parsable -n1 -J burst --wrap true > /dev/null
done
_fp_wait_for 300 "a third of the burst to complete" \
	bash -c "[ \$(sacct -n -X -P -o State | grep -c COMPLETED) -ge $((BURST / 3)) ]"
before=$(completed)
fp_kill_daemon slurmctld KILL
echo "# slurmctld killed with SIGKILL after $before completions"
sleep 2
fp_start_daemon slurmctld
check "slurmctld restarts after SIGKILL" scontrol ping
# A job that ended while slurmctld was down can come back from its last
# saved state as still RUNNING and hold its CPUs for good (the node is not
# asked about it; seen in CI, Slurm's doing, not the plugins'): what is still
# queued once the queue has stopped moving for 30 s (at most 240 s in all)
# is cancelled, as an admin would after a crash: waiting longer only waits
# for that job.
queue_drains() { # seconds without progress, at most seconds in all
	local left last=-1 still=0 end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		left=$(squeue -h -o %i | wc -l)
		[ "$left" -eq 0 ] && return 0
		if [ "$left" -eq "$last" ]; then
			still=$((still + 2))
			[ $still -ge "$1" ] && return 1
		else
			still=0 last=$left
		fi
		sleep 2
	done
	return 1
}
if ! queue_drains 30 240; then
	echo "# $(squeue -h -o %i | wc -l) jobs still queued after the crash, the queue still for 30 s: cancelled"
	scancel --name=burst
	_fp_wait_for 120 "the cancelled jobs to end" \
		bash -c "[ -z \"\$(squeue -h -o %i)\" ]"
fi
# A job the controller accepted but had not saved before SIGKILL is lost by
# Slurm itself: it stays PENDING in slurmdbd (a "runaway" job) and never
# completes. Every job that did complete must get its footprint.
final='COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_ME'
_fp_wait_for 120 "the burst's records to settle" bash -c \
	"[ -z \"\$(sacct -n -X -P -o State | grep -E 'RUNNING|COMPLETING')\" ]"
sleep 3
jobs=$(sacct -n -X -P -o JobIDRaw,JobName,State | awk -F'|' -v f="$final" '$2 == "burst" && $3 ~ f { print $1 }')
njobs=$(echo "$jobs" | wc -w)
lost=$(sacct -n -X -P -o JobName,State | grep -c '^burst|PENDING')
echo "# $njobs burst jobs completed; $lost lost by slurmctld's SIGKILL (runaway, never ran)"
check "every job completed before the kill is still in sacct ($njobs >= $before)" test "$njobs" -ge "$before"
# <id>.jws is the job's summary; <id>.<start>.jws an earlier run's.
_fp_wait_for 300 "a summary for every job" \
	bash -c "[ \$(ls $spool/summaries | grep -cE '^[0-9]+\\.jws\$') -ge $njobs ]"
missing=0
for j in $jobs; do [ -s "$spool/summaries/$j.jws" ] || missing=$((missing + 1)); done
check_eq "every job has its summary after the crash" 0 "$missing"
# A summary for a job not counted above: which job, and what Slurm says of
# it (every run of it: sacct -D), if the count below fails.
extra=$(ls "$spool/summaries" | grep -E '^[0-9]+\.jws$' | cut -d. -f1 |
	grep -vxF -f <(echo "$jobs" | tr ' ' '\n') | tr '\n' ' ')
for j in $extra; do
	echo "# job $j has a summary, not counted:" \
		$(timeout 10 sacct -n -D -X -P -j "$j" -o JobIDRaw,JobName,State,Start,End 2>&1 | tr '\n' ' ')
done
FP_EXPLAIN_JOBS=$extra
check_eq "exactly one summary per job" "$njobs" "$(ls "$spool/summaries" | grep -cE '^[0-9]+\.jws$')"
unset FP_EXPLAIN_JOBS
# A job that ended just before the SIGKILL, before slurmctld saved it, is
# run again by the restarted controller (same id, a later start): both runs
# used energy, slurmdbd keeps the second, and the first run's summary is
# kept aside under its start, never overwritten nor lost.
again=$(ls "$spool/summaries" | grep -E '^[0-9]+\..+\.jws$')
echo "# $(echo $again | wc -w) jobs ran twice across the crash:" $again
bad=0
for f in $again; do
	j=${f%%.*}
	first=$(grep -E "_job_complete: JobId=$j done" "$FP_DIR"/log/slurmctld.log | wc -l)
	[ "$first" -ge 2 ] || { echo "# $f: job $j completed once only"; bad=$((bad + 1)); }
	$FP_BUILD/sfootprint verify "$spool/summaries/$f" --pubkey "$FP_DIR/keys/footprint.pub" > /dev/null 2>&1 ||
		{ echo "# $f does not verify"; bad=$((bad + 1)); }
done
check_eq "an earlier run's summary is kept aside only for a job that ran twice, and verifies" 0 "$bad"
_fp_wait_for 120 "every record" bash -c \
	"[ \$(sacct -n -X -P -o AdminComment | grep -c 'FP1:') -ge $njobs ]"
check_eq "every job has exactly one FP1 record" "$njobs" \
	"$(sacct -n -X -P -o AdminComment | grep -o 'FP1:' | wc -l)"

# slurmdbd down: the completions queue up, and are completed later.
fp_kill_daemon slurmdbd TERM
down=""
for i in 1 2 3 4 5; do
	down="$down $(sbatch --parsable -n1 -J dbddown --wrap 'sleep 1')"
done
for j in $down; do fp_wait_job "$j" 120; done
echo "# slurmdbd stopped; jobs$down ended; waiting ${DBD_DOWN}s"
sleep "$DBD_DOWN"
pending_q=$(ls "$spool/queue" | wc -l)
# If a check below fails: those jobs, the queue and the plugin's lines.
FP_EXPLAIN_JOBS=$down
dbd_down_state() {
	echo "# queue: $(ls "$spool/queue" | tr '\n' ' ')"
	echo "# squeue: $(squeue -h -o '%i %T %R' 2>&1 | tr '\n' ';')"
	grep -E 'jobcomp/carbon' "$FP_DIR/log/slurmctld.log" | tail -n 15 | cut -c1-300 | sed 's/^/# /'
}
[ "$pending_q" -ge 5 ] || dbd_down_state
check "while slurmdbd is down the jobs stay queued ($pending_q in the queue)" test "$pending_q" -ge 5
check "slurmctld is still up" scontrol ping
fp_start_daemon slurmdbd
# One wait for all five (not 180 s each when something is wrong).
_fp_wait_for 300 "the summaries of jobs$down" bash -c \
	"for j in $down; do test -s $spool/summaries/\$j.jws || exit 1; done"
missing=0
for j in $down; do
	[ -s "$spool/summaries/$j.jws" ] || missing=$((missing + 1))
	sacct -n -X -P -j "$j" -o AdminComment | grep -q FP1: || missing=$((missing + 1))
done
[ "$missing" -eq 0 ] || dbd_down_state
check_eq "after slurmdbd returns every job gets its summary and record" 0 "$missing"
n=$(grep -c "slurmdbd" "$FP_DIR/log/slurmctld.log" | head -1)
check "the controller log says why jobs waited" \
	grep -q "jobcomp/carbon: .*slurmdbd" "$FP_DIR/log/slurmctld.log"
tap_done
