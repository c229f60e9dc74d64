#!/bin/bash
# A site whose grid intensity comes from a feed (issue #16): the stand-in
# eco2mix server on 127.0.0.1 (tests/feed/server.py, case e-live) publishes
# quarter hours as the test advances it, and `sfootprint signals update`
# appends them to the site's series. A job that ends past the published
# series waits (SeriesWait=) and gets its footprint, at the published
# quarter's value, once the feed catches up; a job still uncovered past
# SeriesWait gets IntensityFallback=last, named in its summary and by
# sfootprint -j. Every job ends with a signed summary and an empty queue.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
source tests/integration/lib.sh
work=$(mktemp -d /tmp/fp-feed-test.XXXXXX)
srv_pid=
trap '[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; fp_cluster_stop; rm -rf "$work"' EXIT INT TERM
# only loopback: no proxy of the environment may carry the feed's requests
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
PY=/usr/bin/python3
SF=$FP_BUILD/sfootprint
SERIES_WAIT=30
export FP_SIMNODE=1
export FP_SIM_MODEL="--idle-w 30 --busy-w 2000 --dram-idle-w 5 --dram-busy-w 50 --wall-a 1.15 --wall-b 20"
export FP_IDLE_WATTS="package=30,dram=5"

# The server's value of quarter t (tests/feed/server.py, live_value).
value() { echo $((100 + 10 * (($1 / 900) % 8))); }
quarter() { echo $(($1 - $1 % 900)); }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# publish FROM UNTIL: the quarters the stand-in serves from now on
publish() { echo "$1 $2" > "$work/live.tmp" && mv "$work/live.tmp" "$work/live"; }

now=$(date +%s)
h0=$(($(quarter "$now") - 3 * 3600))
publish "$h0" $((h0 + 2700))
$PY tests/feed/server.py "$work/port" "$work/requests.log" "$work/live" 2> "$work/server.err" &
srv_pid=$!
_fp_wait_for 10 "the provider stand-in's port" test -s "$work/port"
URL="http://127.0.0.1:$(cat "$work/port")"
series=$work/fr.csv
site="Site=fr Nodes=fpnode Intensity=file:$series IntensityKind=direct IntensityFallback=last Feed=eco2mix FeedURL=$URL/e-live PUE=1.0 HeatRecovery=0 DisplacedHeating=none UsefulHeat=0"
# The updater reads its own copy of the Site line: the cluster's
# footprint.conf exists only once the cluster runs.
echo "$site" > "$work/feed.conf"
update() {
	$SF signals update --config "$work/feed.conf" --since "$(iso "$h0")" \
		> "$work/update.out" 2> "$work/update.err"
}
update
check "signals update writes the first hour of the feed (4 quarters)" \
	bash -c "[ \$(grep -c '^[0-9]' $series) -eq 4 ]"
check "every request went to the stand-in on 127.0.0.1" \
	bash -c "[ -s $work/requests.log ] && ! grep -qv '\"case\": \"e-live\"' $work/requests.log"

export FP_FOOTPRINT_CONF="SigningKey=@DIR@/keys/footprint.key
PublicKey=@DIR@/keys/footprint.pub
SpoolDir=@DIR@/spool/footprint
EnergySource=simulated
RetryInterval=2
WorkerTimeout=60
SeriesWait=$SERIES_WAIT
$site
NodeType=heater Nodes=fpnode Embodied=1100 Lifetime=6 CPUs=$(nproc)
Reference=standard-datacenter PUE=1.5 Intensity=site"
fp_cluster_start_or_fail
spool=$FP_DIR/spool/footprint
pub=$FP_DIR/keys/footprint.pub
export FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf
burn() { echo "timeout $1 sh -c 'while :; do :; done'; true"; }

# Both jobs must end in one quarter, the one the feed has not published
# yet: about 60 s of jobs and waits (more on a loaded machine), so a
# quarter with less than 150 s left is let go by.
now=$(date +%s)
qc=$(quarter "$now")
if [ $((qc + 900 - now)) -lt 150 ]; then
	echo "# waiting $((qc + 901 - now)) s for the next quarter hour"
	sleep $((qc + 901 - now))
	qc=$((qc + 900))
fi
echo "# quarter of the jobs: $(iso "$qc") (worth $(value "$qc")); the one before: $(value $((qc - 900)))"
# The feed advances up to the quarter before: the series ends at qc.
publish "$h0" $((qc - 900))
update
check_eq "the feed advanced to the quarter before the jobs' (series ends at $(iso "$qc"))" \
	"$(iso $((qc - 900)))" "$(grep '^[0-9]' "$series" | tail -n1 | cut -d, -f1)"

# Job 1: its quarter is never published within SeriesWait.
late=$(sbatch --parsable -n1 -J late --wrap "$(burn 3)")
fp_wait_job "$late" 60
wait_step_energy "$late" 1 60
end_late=$(SLURM_TIME_FORMAT=%s sacct -n -X -P -j "$late" -o End)
sleep 8
check "job $late waits for the series: queued, no summary $(($(date +%s) - end_late)) s after its end" \
	bash -c "[ -e $spool/queue/$late ] && [ ! -e $spool/summaries/$late.jws ]"
_fp_wait_for $((SERIES_WAIT + 40)) "summary of job $late" test -s "$spool/summaries/$late.jws"
waited=$(($(stat -c %Y "$spool/summaries/$late.jws") - end_late))
check "job $late got its summary once SeriesWait ($SERIES_WAIT s) was over, not before (after $waited s)" \
	test "$waited" -ge "$SERIES_WAIT" -a "$waited" -le $((SERIES_WAIT + 30))

sum_late=$(sha256sum < "$spool/summaries/$late.jws")

# Job 2: ends in the same quarter, which the feed then publishes.
caught=$(sbatch --parsable -n1 -J caught --wrap "$(burn 3)")
fp_wait_job "$caught" 60
wait_step_energy "$caught" 1 60
end_caught=$(SLURM_TIME_FORMAT=%s sacct -n -X -P -j "$caught" -o End)
sleep 8
check "job $caught waits for the series as well" \
	bash -c "[ -e $spool/queue/$caught ] && [ ! -e $spool/summaries/$caught.jws ]"
publish "$h0" "$qc"
update
check "signals update appends the jobs' quarter, and only it" \
	bash -c "grep -Eq '1 points? appended, $(iso "$qc") to $(iso "$qc")' $work/update.out"
_fp_wait_for $((SERIES_WAIT + 10)) "summary of job $caught" test -s "$spool/summaries/$caught.jws"
took=$(($(stat -c %Y "$spool/summaries/$caught.jws") - end_caught))
check "job $caught got its summary before SeriesWait was over (after $took s)" \
	test "$took" -lt "$SERIES_WAIT"
check_eq "both jobs ended in the quarter $(iso "$qc")" "$qc $qc" \
	"$(quarter "$end_late") $(quarter "$end_caught")"

for j in $late $caught; do
	check "job $j: its summary verifies" \
		bash -c "$SF verify $spool/summaries/$j.jws --pubkey $pub > /dev/null"
	$PY tests/integration/fpcheck.py payload "$spool/summaries/$j.jws" "$pub" > "$work/$j.json"
done
# site field FIELD of a job's summary (python expression on s, the site)
site_of() { $PY -c "import json,sys; s=json.load(open(sys.argv[1]))['sites'][0]; print($2)" "$work/$1.json"; }
complete() { $PY -c "import json,sys; print(json.load(open(sys.argv[1]))['complete'])" "$work/$1.json"; }

check_eq "job $caught's summary is complete" True "$(complete "$caught")"
check_eq "job $caught used the published quarter's value (no fallback)" \
	"$(value "$qc") None" \
	"$(site_of "$caught" "'%g %s' % (s['intensity_gco2e_per_kwh'], s['intensity'].get('fallback'))")"
check_eq "job $caught: its series ends after the quarter it ended in" \
	"$(iso $((qc + 900)))" "$(site_of "$caught" "s['intensity']['end']")"

check_eq "job $late's summary is complete" True "$(complete "$late")"
start_late=$(SLURM_TIME_FORMAT=%s sacct -n -X -P -j "$late" -o Start)
check_eq "job $late's summary names its fallback" last \
	"$(site_of "$late" "s['intensity']['fallback']['method']")"
check "job $late's fallback filled its time from the series' end on: within the job, in its quarter, its hours said" \
	$PY -c "
import calendar, json, sys, time
fb = json.load(open('$work/$late.json'))['sites'][0]['intensity']['fallback']
t = lambda x: calendar.timegm(time.strptime(x, '%Y-%m-%dT%H:%M:%SZ'))
a, b = t(fb['first']), t(fb['end'])
print('# fallback', fb, 'job', $start_late, $end_late)
sys.exit(not (max($qc, $start_late - 1) <= a < b <= min($end_late + 1, $qc + 900)
              and abs(fb['hours'] - (b - a) / 3600) < 1e-6))"
check_eq "job $late ran wholly in the filled time: all its energy is the fallback's" \
	1 "$(site_of "$late" "'%g' % s['intensity']['fallback']['energy_share']")"
check_eq "job $late's intensity is the last published value (the quarter before)" \
	"$(value $((qc - 900)))" "$(site_of "$late" "'%g' % s['intensity_gco2e_per_kwh']")"
check "the feed's later quarter does not change job $late's signed summary" \
	test "$(sha256sum < "$spool/summaries/$late.jws")" = "$sum_late"

$SF -j "$late" > "$work/show-$late.txt"
sed 's/^/# /' "$work/show-$late.txt"
check "sfootprint -j $late says the site's intensity fallback and that SeriesWait was over" \
	bash -c "grep -Eq \"fr: intensity fallback 'last' for .*100(\\.0)? % of the site's energy.*within SeriesWait\" $work/show-$late.txt"
$SF -j "$caught" > "$work/show-$caught.txt"
check "sfootprint -j $caught names no fallback" \
	bash -c "! grep -q 'intensity fallback' $work/show-$caught.txt"

check_eq "no job left without a summary: one per job" 2 \
	"$(ls "$spool/summaries" | grep -c '\.jws$')"
_fp_wait_for 30 "the records of both jobs" bash -c \
	"sacct -n -X -P -j $late,$caught -o AdminComment | grep -c FP1: | grep -qx 2"
check "the queue is empty once both jobs are done" bash -c "[ -z \"\$(ls $spool/queue)\" ]"
check "the stand-in was only asked for eco2mix records" \
	bash -c "! grep -qv '\"path\": \"/api/explore/v2.1/catalog/datasets/eco2mix-national-tr/records\"' $work/requests.log"
check "no errors from our plugins in slurmctld's log" \
	bash -c "! grep -E 'error: .*(footprint|carbon)' $FP_DIR/log/slurmctld.log"
tap_done
