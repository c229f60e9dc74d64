#!/bin/bash
# A backlog shared by MaxWorkers=4 worker processes, one of them killed with
# SIGKILL mid-batch, MaxQueue smaller than the backlog: in the end every job
# has exactly one summary and one record. And the reconciliation watermark:
# written on the first pass, a damaged one named in one error and rewritten.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
trap 'fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1
BURST=${FP_BURST:-120}
ncpus=$(nproc)
export FP_FOOTPRINT_CONF="SigningKey=@DIR@/keys/footprint.key
PublicKey=@DIR@/keys/footprint.pub
SpoolDir=@DIR@/spool/footprint
EnergySource=simulated
RetryInterval=2
WorkerTimeout=120
MaxWorkers=4
MaxQueue=80
Metrics=@DIR@/metrics/footprint-controller.prom
Site=home Nodes=fpnode Intensity=56 PUE=1.0 HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=0.8
NodeType=heater Nodes=fpnode Embodied=1100 Lifetime=6 CPUs=$ncpus
Reference=standard-datacenter PUE=1.5 Intensity=site"

# One line per worker run: what it asked slurmdbd (see footprint-worker.c).
export FP_WORKER_STATS=$(mktemp /tmp/fp-worker-stats.XXXXXX)
trap 'fp_cluster_stop; rm -f "$FP_WORKER_STATS"' EXIT INT TERM
fp_cluster_start_or_fail
spool=$FP_DIR/spool/footprint
log=$FP_DIR/log/slurmctld.log
wm=$spool/reconcile.watermark

_fp_wait_for 60 "the first reconciliation pass" test -s "$wm"
# The worker says it sweeps before its slurmdbd request and writes the
# watermark after it; the plugin relays that line every 250 ms, so on a
# loaded machine the file can be there before the line is in the log.
_fp_wait_for 10 "the first pass's line in the log" \
	grep -q "no reconciliation watermark $wm" "$log"
check "a new spool's first pass says it sweeps once" \
	grep -q "no reconciliation watermark $wm" "$log"
check "the watermark is one line: fp-watermark 1 <end>" \
	grep -qxE 'fp-watermark 1 [0-9]+' "$wm"

# A backlog: slurmdbd down while the burst completes, so the worker cannot
# run and the journal fills; when slurmdbd returns, one run forks workers.
fp_kill_daemon slurmdbd TERM
ids=""
for i in $(seq 1 "$BURST"); do
	ids="$ids $(sbatch --parsable -n1 -J wburst --wrap true)"
done
_fp_wait_for 400 "the burst to end" bash -c "[ -z \"\$(squeue -h -o %i)\" ]"
queued=$(ls "$spool/queue" | wc -l)
check "the journal holds the burst while slurmdbd is down ($queued >= $BURST)" \
	test "$queued" -ge "$BURST"

# Kill the first worker child seen (a footprint-worker whose parent is one).
killer() {
	local end=$((SECONDS + 120)) p pp
	while [ $SECONDS -lt $end ]; do
		for p in $(pgrep -x footprint-worke); do
			pp=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || continue
			[ "$(cat "/proc/$pp/comm" 2>/dev/null)" = footprint-worke ] || continue
			grep -qa "$FP_DIR" "/proc/$p/cmdline" 2>/dev/null || continue
			kill -KILL "$p" 2>/dev/null && { echo "$p"; return 0; }
		done
		sleep 0.02
	done
	return 1
}
killer > "$FP_DIR/killed" &
killer_pid=$!
fp_start_daemon slurmdbd
wait "$killer_pid"
killed=$(cat "$FP_DIR/killed")
check "a worker child was killed with SIGKILL (pid ${killed:-none})" test -n "$killed"
_fp_wait_for 300 "a summary for every job of the burst" bash -c \
	"[ \$(for j in $ids; do [ -s $spool/summaries/\$j.jws ] && echo; done | wc -l) -ge $BURST ]"
missing=0
for j in $ids; do [ -s "$spool/summaries/$j.jws" ] || missing=$((missing + 1)); done
check_eq "every job has its summary after a worker was killed" 0 "$missing"
# <id>.<start>.jws would be a second summary kept aside (no job ran twice).
check_eq "no job has a second summary" 0 \
	"$(ls "$spool/summaries" | grep -cE '^[0-9]+\..+\.jws$')"
_fp_wait_for 120 "every record" bash -c \
	"[ \$(sacct -n -X -P --name wburst -o AdminComment | grep -c 'FP1:') -ge $BURST ]"
check_eq "every job has exactly one FP1 record" "$BURST" \
	"$(sacct -n -X -P --name wburst -o AdminComment | grep -o 'FP1:' | wc -l)"
_fp_wait_for 10 "the killed worker's line in the log" \
	grep -q "jobcomp/carbon: worker [0-9] of [0-9]: killed by signal 9" "$log"
check "the controller log names the killed worker" \
	grep -q "jobcomp/carbon: worker [0-9] of [0-9]: killed by signal 9" "$log"
check "the controller log says the queue was over MaxQueue" \
	grep -q "more than MaxQueue=80 jobs queued" "$log"
_fp_wait_for 60 "the queue to empty" bash -c "[ -z \"\$(ls $spool/queue)\" ]"
check "the queue is empty" bash -c "[ -z \"\$(ls $spool/queue)\" ]"
# Metrics=: four parallel workers add to one total; the killed one's jobs
# are counted by the run that finished them, never twice (a kill between a
# batch's commit and its write, a few instructions, loses that batch). The
# burst's jobs run no step with energy: most are counted as incomplete.
counted=$(awk '/^footprint_site_jobs_total\{site="home"\}/ || /^footprint_summaries_incomplete_total / { n += $2 } END { print n + 0 }' "$FP_DIR/metrics/footprint-controller.prom")
echo "# the controller's metrics count $counted of $BURST jobs (complete or not)"
check "the controller's metrics count no job twice and lose at most one batch ($counted of $BURST)" \
	awk -v c="$counted" -v n="$BURST" 'BEGIN { exit !(c <= n && c >= n - 80) }'

# What a pass costs, once the burst's records are in slurmdbd: the next
# pass against what the former passes (every job overlapping the last 15
# minutes or 24 hours, running ones included, with their steps: what sacct
# lists for the same window) read.
seen=$(wc -l < "$FP_WORKER_STATS")
_fp_wait_for 60 "a reconciliation pass after the burst's records" bash -c \
	"tail -n +$((seen + 1)) $FP_WORKER_STATS | grep -q '^reconcile_requests=[1-9]'"
last=$(tail -n +$((seen + 1)) "$FP_WORKER_STATS" | grep '^reconcile_requests=[1-9]' | tail -n1)
old_short=$(command sacct -n -P -S "$(date -d '-15 min' +%FT%T)" -E now -o JobIDRaw | wc -l)
old_long=$(command sacct -n -P -S "$(date -d '-24 hours' +%FT%T)" -E now -o JobIDRaw | wc -l)
echo "# pass after the burst: $last"
echo "# the former passes would read $old_short records (15-minute pass) and $old_long (day sweep)"
sum() { awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) s += substr($i, length(k) + 1) } END { print s + 0 }' "$FP_WORKER_STATS"; }
echo "# worker runs: $(grep -vc part= "$FP_WORKER_STATS"), of them with forked workers: $(grep -c 'workers=[2-9]' "$FP_WORKER_STATS"); job tries: $(grep -v part= "$FP_WORKER_STATS" | awk -F'jobs=' '{ split($2, a, " "); s += a[1] } END { print s + 0 }'); slurmdbd requests for records and steps: $(sum batch_requests) (former: one per job try)"
new_records=$(echo "$last" | sed -n 's/.*reconcile_records=\([0-9]*\).*/\1/p')
check "a pass after the burst reads fewer records than the former 15-minute pass (${new_records:-?} < $old_short)" \
	test "${new_records:-999999}" -lt "$old_short"
check "a pass after the burst is one slurmdbd request" \
	grep -q "^reconcile_requests=1 " <<< "$last"

# A damaged watermark: one error naming the file, a sweep, a new watermark.
# Damaged under the spool's worker lock: a worker run in progress has read
# the watermark already and would replace the garbage unread.
log_seen=$(wc -l < "$log")
stats_seen=$(wc -l < "$FP_WORKER_STATS")
flock "$spool/worker.lock" sh -c 'echo garbage > "$1"' _ "$wm"
echo "# watermark damaged at $(date +%T.%N): $(cat "$wm")"
_fp_wait_for 90 "the damaged watermark to be replaced" \
	grep -qxE 'fp-watermark 1 [0-9]+' "$wm"
check "a damaged watermark is replaced by a valid one" \
	grep -qxE 'fp-watermark 1 [0-9]+' "$wm"
# The worker replaces the file before its error line reaches the log: the
# plugin relays the worker's stderr from its queue thread, every 250 ms.
_fp_wait_for 10 "the damaged watermark's error in the log" \
	grep -q "watermark $wm: damaged" "$log"
check_eq "a damaged watermark is one error naming the file" 1 \
	"$(grep -c "watermark $wm: damaged" "$log")"
# What the next failure needs to explain itself.
grep -c "watermark $wm: damaged" "$log" > /dev/null ||
	{ echo "controller log since the damage (jobcomp/carbon lines):"
	  tail -n +$((log_seen + 1)) "$log" | grep 'jobcomp/carbon\|footprint-worker' | tail -n 20
	  echo "worker runs since the damage:"
	  tail -n +$((stats_seen + 1)) "$FP_WORKER_STATS" | tail -n 20
	  ls -l --time-style=+%T.%N "$spool" | tail -n +2
	  echo "worker.lasterror: $(cat "$spool/worker.lasterror" 2>&1)"
	  echo "watermark now: $(cat "$wm" 2>&1)"; } | sed 's/^/# /'
tap_done
