#!/bin/bash
# The controller side at a million jobs a day (issue #19, point 3): a real
# slurmdbd/MariaDB loaded with synthetic finished jobs, then what
# footprint-worker costs against it, each figure beside its goal.
#
# Run: make bench-scale (or FP_BUILD=build tests/bench/scale.sh as root).
# Prints figures and goals; asserts nothing, so not part of make check / CI.
#
# How the jobs get into slurmdbd: one real job (sbatch with an srun step,
# on the test cluster of tests/cluster/cluster.sh, simulated node so its
# steps carry energy) is the template. Its row in <cluster>_job_table and its
# step rows in <cluster>_step_table are copied by SQL on MariaDB's own
# socket (INSERT ... SELECT from the template joined with the SEQUENCE
# engine's seq_1_to_N table, in slices of FP_SCALE_SLICE rows), each copy
# with its own id_job (from 10,000,000 up), its submit/start/end spread over
# the last 24 hours (60 s each, all ended at least 10 minutes ago) and the
# template's steps with the copy's times. slurmdbd reads them as its own:
# same association, TRES and energy as the template. The loader raises
# innodb_buffer_pool_size to 2G (Slurm's own advice for a real slurmdbd is
# at least 1G; cluster.sh starts MariaDB with 64M) and relaxes the flush
# of the log for the load only.
#
# What it measures, in one run:
#   - one reconciliation pass (footprint-worker --reconcile 86400 run as
#     jobcomp/carbon runs it) with nothing new, and with 1,000 jobs that
#     ended since the watermark: wall time, slurmdbd and mariadbd CPU (utime
#     + stime deltas of /proc/<pid>/stat), records read; MaxQueue=1 in these
#     runs, so the time is the pass's, not the footprints' of what it queued
#   - the old full sweep: what the former worker asked every 10 minutes,
#     every job of the last 24 h with its steps and no state filter; run as
#     `sacct -a -S now-24h -E now -P -n` (the same slurmdb_jobs_get
#     condition: usage window, no state list, steps, no truncation). Its wall
#     time includes sacct's own printing: an upper bound of slurmdbd's part,
#     whose CPU is measured apart
#   - footprints per second, MaxWorkers=1 and 4: FP_SCALE_TPUT jobs that
#     exist in slurmdbd queued in the spool ("<jobid> <end> <queued_at>",
#     one file per job, as the plugin journals them), the worker rerun until
#     the queue is empty, summaries written per second
#   - job end to signed summary under a burst of FP_SCALE_BURST completions
#     at FP_SCALE_RATE/s: jobs inserted with ends in the near future, their
#     journal entries written as each end passes, the worker rerun as the
#     plugin does (at once after exit 0, 2 s after exit 3); latency = the
#     summary file's mtime - the job's end; p50, p99, max
#   - the worker's peak RSS (VmHWM, /usr/bin/time) of a pass at 10 % of the
#     jobs in the database and at all of them
#   - the spool's bytes per summary, extrapolated to a million
#
# Settings: FP_SCALE_JOBS (default 1000000), FP_SCALE_TPUT (2000),
# FP_SCALE_BURST (10000), FP_SCALE_RATE (200), FP_SCALE_PASSES (10: each
# pass figure is a mean over that many runs), FP_SCALE_SLICE (100000),
# FP_SCALE_MORE_WORKERS (8: a third footprints/s figure).
#
# Duration on the 2-core development machine (2026-12-02): FP_SCALE_JOBS=
# 20000 FP_SCALE_TPUT=500 5 min; 100000 with FP_SCALE_TPUT=500 6.6 min; the
# default million 16 min (load 2 min, the old sweep 8 min, the burst 3 min).
# The cluster takes the machine-wide test lock: a run over 10 minutes can be
# stopped by another test that waited that long for it (cluster.sh).
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
N=${FP_SCALE_JOBS:-1000000}
TPUT=${FP_SCALE_TPUT:-2000}
BURST=${FP_SCALE_BURST:-10000}
RATE=${FP_SCALE_RATE:-200}
PASSES=${FP_SCALE_PASSES:-10}
SLICE=${FP_SCALE_SLICE:-100000}
MORE=${FP_SCALE_MORE_WORKERS:-8}
BASE=10000000
export FP_SIMNODE=1
# Our own worker runs are the only ones: the plugin would run its own
# passes on the same slurmdbd and sweep the synthetic day into its spool.
export FP_JOBCOMP_PLUGIN=jobcomp/none
trap 'fp_cluster_stop' EXIT
trap 'exit 1' INT TERM
worker=$(cd "$FP_BUILD" && pwd)/footprint-worker
say() { printf '%s\n' "$*"; }
now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

fp_cluster_start > /dev/null 2>&1 || { fp_cluster_dump_logs; echo "bench-scale: cluster did not start" >&2; exit 1; }
sql() { mariadb --no-defaults -S "$FP_DIR/run/mysql.sock" -N -B slurm_acct_db "$@"; }
JT=${FP_CLUSTER}_job_table
ST=${FP_CLUSTER}_step_table

# cpu ticks (utime + stime) of one of our daemons
ticks() { awk '{ print $14 + $15 }' "/proc/$(fp_daemon_pid "$1")/stat"; }
hz=$(getconf CLK_TCK)

# --- the template job ---
tid=$(sbatch --parsable -n1 -J fpscale-template --wrap 'srun -n1 sleep 1')
fp_wait_job "$tid" 120 && fp_wait_sacct "$tid" 60 || { echo "bench-scale: template job $tid did not end" >&2; exit 1; }
tinx=
for i in $(seq 1 60); do
	tinx=$(sql -e "select j.job_db_inx from $JT j where j.id_job=$tid and
		(select count(*) from $ST s where s.job_db_inx=j.job_db_inx and s.time_end>0 and s.tres_usage_in_tot like '%3=%') >= 2")
	[ -n "$tinx" ] && break
	sleep 1
done
[ -n "$tinx" ] || { echo "bench-scale: template job $tid has no finished steps with energy" >&2; exit 1; }
tsteps=$(sql -e "select count(*) from $ST where job_db_inx=$tinx")

# Copies of the template, ids BASE+from .. BASE+to-1, ends from end0 every
# `gap` seconds. Columns replaced by expressions; the rest copied as is.
copy_jobs() { # from to end0 gap
	local from=$1 to=$2 end0=$3 gap=$4 cols sel k lo hi
	cols=$(sql -e "set session group_concat_max_len=65536; select group_concat(concat('\`', column_name, '\`') order by ordinal_position)
		from information_schema.columns where table_schema='slurm_acct_db' and table_name='$JT' and column_name<>'job_db_inx'")
	sel=
	for k in ${cols//,/ }; do
		k=${k//\`/}
		case $k in
		id_job) sel+=",$BASE+$from-1+seq" ;;
		job_name) sel+=",'fpscale'" ;;
		time_end) sel+=",$end0+floor((seq-1)*$gap)" ;;
		time_start) sel+=",$end0+floor((seq-1)*$gap)-60" ;;
		time_submit | time_eligible) sel+=",$end0+floor((seq-1)*$gap)-65" ;;
		mod_time) sel+=",$end0+floor((seq-1)*$gap)" ;;
		admin_comment | system_comment) sel+=",NULL" ;;
		*) sel+=",t.\`$k\`" ;;
		esac
	done
	lo=$from
	while [ "$lo" -lt "$to" ]; do
		hi=$((lo + SLICE)); [ "$hi" -gt "$to" ] && hi=$to
		sql -e "set unique_checks=0; set foreign_key_checks=0;
			insert into $JT ($cols) select ${sel#,} from $JT t
			join seq_$((lo - from + 1))_to_$((hi - from)) where t.job_db_inx=$tinx" || return 1
		lo=$hi
	done
	cols=$(sql -e "set session group_concat_max_len=65536; select group_concat(concat('\`', column_name, '\`') order by ordinal_position)
		from information_schema.columns where table_schema='slurm_acct_db' and table_name='$ST'")
	sel=
	for k in ${cols//,/ }; do
		k=${k//\`/}
		case $k in
		job_db_inx) sel+=",j.job_db_inx" ;;
		time_start) sel+=",j.time_start" ;;
		time_end) sel+=",j.time_end" ;;
		*) sel+=",s.\`$k\`" ;;
		esac
	done
	lo=$from
	while [ "$lo" -lt "$to" ]; do
		hi=$((lo + SLICE)); [ "$hi" -gt "$to" ] && hi=$to
		sql -e "set unique_checks=0; set foreign_key_checks=0;
			insert into $ST ($cols) select ${sel#,} from $JT j join $ST s
			where s.job_db_inx=$tinx and j.id_job >= $((BASE + lo)) and j.id_job < $((BASE + hi))" || return 1
		lo=$hi
	done
}

sql -e "set global innodb_buffer_pool_size=2147483648; set global innodb_flush_log_at_trx_commit=2" 2> /dev/null
load_start=$(date +%s)
span=$((86400 - 1800))
first=$((N / 10))
[ "$first" -ge 1 ] || first=1
end0=$((load_start - 600 - span))
gap=$(awk -v s=$span -v n=$N 'BEGIN { printf "%.6f", s / n }')
t0=$(now_s)
# The first 10 % spread over the day, then the rest (for the RSS at both).
copy_jobs 1 $((first + 1)) "$end0" "$(awk -v g=$gap 'BEGIN { printf "%.6f", g * 10 }')" || { echo "bench-scale: load failed" >&2; exit 1; }
t1=$(now_s)

# --- the bench's footprint.conf and spool (the plugin is jobcomp/none) ---
ncpus=$(nproc)
conf() { # file max_workers max_queue spool
	cat > "$1" <<CONF
SigningKey=$FP_DIR/keys/footprint.key
PublicKey=$FP_DIR/keys/footprint.pub
SpoolDir=$4
EnergySource=simulated
RetryInterval=2
WorkerTimeout=600
MaxWorkers=$2
MaxQueue=$3
Site=home Nodes=$FP_NODE Intensity=56 PUE=1.0 HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=0.8
NodeType=heater Nodes=$FP_NODE Embodied=1100 Lifetime=6 CPUs=$ncpus
Reference=standard-datacenter PUE=1.5 Intensity=site
CONF
}
B=$FP_DIR/bench
mkdir -p "$B"
conf "$B/pass.conf" 1 1 "$B/spool-pass"
export FP_WORKER_STATS=$B/stats
: > "$FP_WORKER_STATS"

# One pass: prints "wall_s slurmdbd_s mariadbd_s records" as a mean over
# PASSES runs (a pass is a few milliseconds: one tick is 10 ms).
pass_figures() { # runs
	local runs=$1 a b ds dm ms de me i seen rec
	seen=$(wc -l < "$FP_WORKER_STATS")
	ds=$(ticks slurmdbd); ms=$(ticks mariadbd); a=$(now_s)
	for i in $(seq 1 "$runs"); do
		"$worker" --config "$B/pass.conf" --cluster "$FP_CLUSTER" --reconcile 86400 2> /dev/null
	done
	b=$(now_s); de=$(ticks slurmdbd); me=$(ticks mariadbd)
	rec=$(tail -n +$((seen + 1)) "$FP_WORKER_STATS" | sed -n 's/.*reconcile_records=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s / NR }')
	awk -v a="$a" -v b="$b" -v d=$((de - ds)) -v m=$((me - ms)) -v hz="$hz" -v r="$runs" -v rec="$rec" \
		'BEGIN { printf "%.4f %.4f %.4f %s\n", (b - a) / r, d / hz / r, m / hz / r, rec }'
}
peak_rss() { # conf: the worker's peak RSS in KiB over one pass
	/usr/bin/time -f '%M' -o "$B/rss" "$worker" --config "$1" --cluster "$FP_CLUSTER" --reconcile 86400 2> /dev/null
	cat "$B/rss"
}
# A pass that finds the watermark: the first one sweeps the day (queueing
# the template job), the next settles the watermark at the newest end.
prime() {
	rm -rf "$B/spool-pass"; mkdir -p "$B/spool-pass/summaries"
	echo "fp-watermark 1 $(date +%s)" > "$B/spool-pass/reconcile.watermark"
	: > "$B/spool-pass/summaries/$tid.jws"
	"$worker" --config "$B/pass.conf" --cluster "$FP_CLUSTER" --reconcile 86400 2> /dev/null
}
prime
rss_small=$(peak_rss "$B/pass.conf")
pass_small=$(pass_figures "$PASSES")

t2=$(now_s)
copy_jobs $((first + 1)) $((N + 1)) $((end0 + 5)) "$gap" || { echo "bench-scale: load failed" >&2; exit 1; }
t3=$(now_s)
# The tables' index statistics as a slurmdbd that has run for a while has
# them: without this, InnoDB recomputes them in the background some minutes
# after the load, and the phases before and after see other query plans.
sql -e "analyze table $JT, $ST" > /dev/null
total=$(sql -e "select count(*) from $JT")
steps=$(sql -e "select count(*) from $ST")
say "bench-scale: $N synthetic jobs ($tsteps steps each, like job $tid) loaded in $(awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN { printf "%.1f", b - a + d - c }') s; $total jobs, $steps steps in $JT/$ST"

prime
rss_big=$(peak_rss "$B/pass.conf")
pass_none=$(pass_figures "$PASSES")

# 1,000 jobs that ended since the watermark (and at least SETTLE_S ago).
now=$(date +%s)
copy_jobs $((N + 1)) $((N + 1001)) $((now - 20)) 0.01 || exit 1
sum_before=$(ls "$B/spool-pass/summaries" | wc -l)
pass_new=$(pass_figures 1)
queued_new=$(($(ls "$B/spool-pass/queue" | wc -l) + $(ls "$B/spool-pass/summaries" | wc -l) - sum_before))
rm -f "$B/spool-pass/queue/"*

# --- the old full sweep ---
ds=$(ticks slurmdbd); ms=$(ticks mariadbd); a=$(now_s)
old_rec=$(command sacct -a -S "$(date -d '-24 hours' +%FT%T)" -E now -P -n -o JobIDRaw 2> "$B/sacct.err" | wc -l)
b=$(now_s); de=$(ticks slurmdbd); me=$(ticks mariadbd)
old=$(awk -v a="$a" -v b="$b" -v d=$((de - ds)) -v m=$((me - ms)) -v hz="$hz" \
	'BEGIN { printf "%.4f %.4f %.4f", b - a, d / hz, m / hz }')
old_rss=$(awk '/VmHWM/ { print $2 }' "/proc/$(fp_daemon_pid slurmdbd)/status")

# --- footprints per second ---
tput() { # max_workers first_id count -> "seconds summaries"
	local w=$1 id0=$2 n=$3 s="$B/spool-w$1" a b i rc seen
	conf "$B/w$w.conf" "$w" 1048576 "$s"
	mkdir -p "$s/queue" "$s/summaries"
	now=$(date +%s)
	for i in $(seq "$id0" $((id0 + n - 1))); do
		echo "$i $((now - 60)) $now" > "$s/queue/$i"
	done
	wc -c < "$s/queue/$id0" > "$B/qbytes"
	seen=$(wc -l < "$FP_WORKER_STATS")
	a=$(now_s)
	for i in $(seq 1 50); do
		/usr/bin/time -a -f '%M' -o "$B/rss-w$w" \
			"$worker" --config "$B/w$w.conf" --cluster "$FP_CLUSTER" 2>> "$B/w$w.err"
		rc=$?
		[ -z "$(ls "$s/queue")" ] && break
		[ "$rc" = 3 ] && sleep 2
	done
	b=$(now_s)
	phases "$seen" > "$B/phases-w$w"
	echo "$(elapsed "$a" "$b") $(ls "$s/summaries" | wc -l)"
}
# Where the worker processes' time went since line $1 of the stats file:
# sums over every process (a run, or each of its forked workers).
phases() {
	tail -n +$(($1 + 1)) "$FP_WORKER_STATS" | awk '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2] }
		  if ($0 ~ / part=/) procs++; else { runs++; wall += 0 + substr($0, index($0, "wall_s=") + 7) } }
		END { printf "%d runs, %d forked workers; summed over them: connect %.2f s, fetch %.2f s (%d requests), jobs %.2f s (of which record modify %.2f s), commit %.2f s; the runs took %.2f s\n",
			runs, procs, v["connect_s"], v["fetch_s"], v["batch_requests"], v["jobs_s"], v["modify_s"], v["commit_s"], wall }'
}
tp1=$(tput 1 $((BASE + 1)) "$TPUT")
tp4=$(tput 4 $((BASE + 1 + TPUT)) "$TPUT")
tpm=$(tput "$MORE" $((BASE + 1 + 2 * TPUT)) "$TPUT")
sum_bytes=$(du -sb --apparent-size "$B/spool-w4/summaries" | cut -f1)
sum_blocks=$(du -sk "$B/spool-w4/summaries" | cut -f1)
nsum=$(ls "$B/spool-w4/summaries" | wc -l)
qbytes=$(cat "$B/qbytes")

# --- the burst: jobs end at RATE/s, the journal gets each as it ends ---
bs=$B/spool-burst
conf "$B/burst.conf" 4 1048576 "$bs"
mkdir -p "$bs/queue" "$bs/summaries"
bstart=$(($(date +%s) + 30))
bgap=$(awk -v r="$RATE" 'BEGIN { printf "%.6f", 1 / r }')
copy_jobs $((N + 1001)) $((N + 1001 + BURST)) "$bstart" "$bgap" || exit 1
journal() {
	local i=0 due t id
	while [ "$i" -lt "$BURST" ]; do
		t=$(date +%s.%N)
		due=$(awk -v t="$t" -v s="$bstart" -v r="$RATE" -v n="$BURST" \
			'BEGIN { d = int((t - s) * r); if (d > n) d = n; print d < 0 ? 0 : d }')
		while [ "$i" -lt "$due" ]; do
			id=$((BASE + N + 1001 + i))
			echo "$id $((bstart + i / RATE)) ${t%.*}" > "$bs/queue/$id"
			i=$((i + 1))
		done
		sleep 0.05
	done
}
journal &
jpid=$!
while [ "$(date +%s)" -lt "$bstart" ]; do sleep 0.2; done
bseen=$(wc -l < "$FP_WORKER_STATS")
runs=0
while kill -0 "$jpid" 2> /dev/null || [ -n "$(ls "$bs/queue")" ]; do
	if [ -z "$(ls "$bs/queue")" ]; then sleep 0.05; continue; fi
	"$worker" --config "$B/burst.conf" --cluster "$FP_CLUSTER" 2>> "$B/burst.err"
	rc=$?
	runs=$((runs + 1))
	[ "$rc" = 0 ] || sleep 2
	[ "$runs" -gt 5000 ] && break
done
wait "$jpid"
phases "$bseen" > "$B/phases-burst"
# latency of each job: the summary's mtime minus the job's end
lat=$(find "$bs/summaries" -name '*.jws' -printf '%f %T@\n' | awk -v s="$bstart" -v r="$RATE" -v b=$((BASE + N + 1001)) '
	{ id = $1; sub(/\.jws$/, "", id); print $2 - (s + (id - b) / r) }' | sort -g |
	awk '{ v[NR] = $1 } END { if (!NR) { print "0 nan nan nan"; exit }
		i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
		printf "%d %.1f %.1f %.1f\n", NR, v[i50], v[i99], v[NR] }')

# --- the report ---
read -r ow os om <<< "$old"
read -r nw ns nm nr <<< "$pass_none"
read -r ww ws wm wr <<< "$pass_new"
read -r sw ss sm sr <<< "$pass_small"
read -r t1s t1n <<< "$tp1"
read -r t4s t4n <<< "$tp4"
read -r tms tmn <<< "$tpm"
read -r bn b50 b99 bmax <<< "$lat"
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f %%", 100 * a / b; else print "n/a (old: 0)" }'; }
ok() { awk "BEGIN { exit !($1) }" && echo met || echo MISSED; }
say ""
say "bench-scale: $total jobs in slurmdbd ($(date -u +%FT%TZ), $(nproc) CPUs); figures: wall s, slurmdbd CPU s, mariadbd CPU s"
printf '%-44s %10s %10s %10s %10s\n' "" "wall s" "slurmdbd s" "mariadb s" "records"
printf '%-44s %10s %10s %10s %10s\n' "old full sweep (24 h, steps, all states)" "$ow" "$os" "$om" "$old_rec"
printf '%-44s %10s %10s %10s %10s\n' "pass, nothing new (mean of $PASSES)" "$nw" "$ns" "$nm" "$nr"
printf '%-44s %10s %10s %10s %10s\n' "pass, 1,000 new jobs" "$ww" "$ws" "$wm" "$wr"
printf '%-44s %10s %10s %10s %10s\n' "pass, nothing new, at $first jobs" "$sw" "$ss" "$sm" "$sr"
say "goal: nothing-new pass <= 1 % of the old sweep: time $(pct "$nw" "$ow") ($(ok "$nw <= $ow / 100")), slurmdbd CPU $(pct "$ns" "$os") ($(ok "$ns <= $os / 100"))"
say "the 1,000-new pass found $queued_new new jobs (of 1000; with MaxQueue=1 it also made one footprint)"
say "footprints/s, MaxWorkers=1: $t1n summaries in $t1s s = $(awk -v n="$t1n" -v s="$t1s" 'BEGIN { printf "%.1f", n / s }')/s"
say "footprints/s, MaxWorkers=4: $t4n summaries in $t4s s = $(awk -v n="$t4n" -v s="$t4s" 'BEGIN { printf "%.1f", n / s }')/s (goal >= 200: $(ok "$t4n / $t4s >= 200"))"
say "footprints/s, MaxWorkers=$MORE: $tmn summaries in $tms s = $(awk -v n="$tmn" -v s="$tms" 'BEGIN { printf "%.1f", n / s }')/s (no goal: how it scales)"
for w in 1 4 "$MORE"; do
	say "  MaxWorkers=$w: $(cat "$B/phases-w$w")"
done
say "burst of $BURST ends at $RATE/s, MaxWorkers=4, $runs worker runs: $bn summaries; end to signed summary p50 $b50 s, p99 $b99 s, max $bmax s (goal p99 <= 60 s: $(ok "$bn == $BURST && $b99 <= 60"))"
say "  burst: $(cat "$B/phases-burst")"
say "worker peak RSS of a pass: $rss_small KiB at $((first + 1)) jobs, $rss_big KiB at $total (goal flat: $(ok "$rss_big <= $rss_small * 1.1 + 1024")); slurmdbd's own peak after the old sweep $old_rss KiB"
say "spool: $nsum summaries, $sum_bytes bytes ($((sum_bytes / (nsum > 0 ? nsum : 1))) B each), $sum_blocks KiB on disk: $(awk -v b="$sum_bytes" -v k="$sum_blocks" -v n="$nsum" 'BEGIN { printf "%.2f GB of data, %.2f GB on disk", b / n * 1e6 / 1e9, k * 1024 / n * 1e6 / 1e9 }') per million summaries"
say "journal: one file of $qbytes bytes per queued job (one block on disk while queued), removed once its summary and record are written"
say "worker peak RSS while producing footprints: MaxWorkers=1 $(sort -n "$B/rss-w1" | tail -n1) KiB, MaxWorkers=4 $(sort -n "$B/rss-w4" | tail -n1) KiB (largest process)"
if [ -s "$B/sacct.err" ]; then
	say "sacct said: $(head -c 300 "$B/sacct.err")"
fi
