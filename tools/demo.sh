#!/bin/bash
# make demo: a real local Slurm cluster with our plugins, a few jobs sharing
# the node, and what a user then sees. Uses real RAPL where the machine has
# it, otherwise a simulated node (labelled as such).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export FP_BUILD=$BUILD
source tests/cluster/cluster.sh

mail=$(mktemp -d /tmp/fp-demo-mail.XXXXXX)
chmod 755 "$mail"
feed_pid=
cleanup() {
	[ -n "$feed_pid" ] && kill "$feed_pid" 2>/dev/null
	fp_cluster_stop
	rm -rf "$mail"
}
trap cleanup EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }

# make demo SITES=3: one cluster over 3 sites (a gas-heated building in
# France whose grid intensity comes from a feed, an electrically heated one
# on a constant intensity, a datacenter with an hourly series file), each
# node a slurmd in its own network namespace with its own simulated heater.
# The feed is tests/feed/server.py on 127.0.0.1, a stand-in for RTE's
# eco2mix API (nothing leaves this machine), kept current in the site's
# series file by sfootprint signals update as a timer would.
# The site winter-gas (Nodes=$1), whose grid intensity the stand-in feed
# publishes every quarter hour from a day ago (h0) to now: sets feed_site
# (its footprint.conf line) and feed_update (what its timer runs).
feed_start() {
	local now
	now=$(date +%s)
	h0=$((now - now % 3600 - 24 * 3600))
	# the stand-in publishes every quarter hour from h0 to the time in
	# $mail/live (its e-live case); the updater appends what is new
	echo "$h0 $now" > "$mail/live"
	python3 tests/feed/server.py "$mail/feed.port" "$mail/feed.log" "$mail/live" 2> "$mail/feed.err" &
	feed_pid=$!
	_fp_wait_for 10 "the feed stand-in's port" test -s "$mail/feed.port"
	feed_site="Site=winter-gas Nodes=$1 Intensity=file:$mail/fr.csv IntensityKind=direct IntensityFallback=last Feed=eco2mix FeedURL=http://127.0.0.1:$(cat "$mail/feed.port")/e-live PUE=1.0 HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=1.0"
	echo "$feed_site" > "$mail/feed.conf"
	say "site winter-gas: grid intensity from a feed, here a STAND-IN for RTE's eco2mix"
	echo "   API on 127.0.0.1 (tests/feed/server.py, made-up values; no provider is"
	echo "   contacted); sfootprint signals update writes it to the site's series"
	feed_update
	echo "   its series file (last rows; a value holds until the next, 15 min):"
	tail -n 3 "$mail/fr.csv" | sed 's/^/   /'
}
feed_update() {
	echo "$h0 $(date +%s)" > "$mail/live"
	env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY -u all_proxy -u ALL_PROXY \
		"$BUILD/sfootprint" signals update --config "$mail/feed.conf" \
		--since "$(date -u -d "@$h0" +%Y-%m-%dT%H:%M:%SZ)"
}

demo_sites() {
	local n=$1 i t multi
	case $n in 2|3) ;; *) echo "demo: SITES=$n: 2 or 3 sites" >&2; exit 2 ;; esac
	feed_start fpn1
	: > "$mail/dc.csv"
	for i in $(seq 0 48); do
		t=$((h0 + i * 3600))
		echo "$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ),$((90 + 10 * ((i * 7) % 5)))" >> "$mail/dc.csv"
	done
	echo "site summer-electric: a constant 40 gCO2e/kWh; datacenter: an hourly series file"
	export FP_NODES=$n FP_SIMNODE=1
	export FP_SIM_MODEL_1="--idle-w 6 --busy-w 40 --dram-idle-w 1 --dram-busy-w 2 --wall-a 1.15 --wall-b 12"
	export FP_SIM_MODEL_2="--idle-w 4 --busy-w 25 --dram-idle-w 1 --dram-busy-w 1 --wall-a 1.10 --wall-b 8"
	export FP_SIM_MODEL_3="--idle-w 8 --busy-w 60 --dram-idle-w 2 --dram-busy-w 3 --wall-a 1.20 --wall-b 15"
	export FP_IDLE_WATTS_1="package=6,dram=1" FP_IDLE_WATTS_2="package=4,dram=1" FP_IDLE_WATTS_3="package=8,dram=2"
	export FP_FOOTPRINT_CONF="SigningKey=@DIR@/keys/footprint.key
PublicKey=@DIR@/keys/footprint.pub
SpoolDir=@DIR@/spool/footprint
EnergySource=simulated
RetryInterval=2
SeriesWait=60
$feed_site
Site=summer-electric Nodes=fpn2 Intensity=40 PUE=1.0 HeatRecovery=0.9 DisplacedHeating=electric UsefulHeat=0
Site=datacenter Nodes=fpn3 Intensity=file:$mail/dc.csv IntensityFormat=plain PUE=1.5 HeatRecovery=0 DisplacedHeating=none UsefulHeat=0
NodeType=heater Nodes=fpn[1-3] Embodied=1100 Lifetime=6 CPUs=$(nproc)
Reference=standard-datacenter PUE=1.5 Intensity=site"
	say "starting a $n-node cluster at $n sites (each slurmd in its own network namespace)"
	if ! fp_cluster_start; then
		fp_cluster_dump_logs
		echo "demo: the multi-site cluster did not start" >&2
		exit 1
	fi
	sinfo -N -o '%N %T %o'
	say "a $n-node job (srun -N$n), burning one CPU on every node"
	srun -N"$n" --ntasks-per-node=1 -J multisite sh -c 'timeout 8 sh -c "while :; do :; done"; true'
	multi=$(sacct -n -X -P -o JobID,JobName | awk -F'|' '$2 == "multisite" { print $1 }')
	say "the feed's next update, as its timer would run it: what was published since"
	feed_update
	_fp_wait_for 90 "the summary of job $multi" test -s "$FP_DIR/spool/footprint/summaries/$multi.jws"
	say "what sacct shows: the step's total, and its max and min node"
	sacct -j "$multi" -o JobID,NodeList,ConsumedEnergyRaw,TRESUsageInMax%30,TRESUsageInMaxNode%30,TRESUsageInMinNode%30
	say "its footprint per node and per site (sfootprint -j $multi)"
	FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $BUILD/sfootprint -j "$multi"
	say "where and when it would have emitted least (sfootprint -j $multi --whatif)"
	FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $BUILD/sfootprint -j "$multi" --whatif
	say "done; stopping the cluster and removing its namespaces"
	exit 0
}

if [ -n "${SITES:-}" ]; then
	demo_sites "$SITES"
fi
if [ -d /sys/class/powercap ] && ls /sys/class/powercap | grep -q intel-rapl; then
	say "this machine has RAPL: measuring it"
	export FP_ACCT_GATHER="EnergyFootprintPollInterval=1"
else
	say "no RAPL here: the node is driven by fp-simnode (a simulated node;"
	echo "   every figure below is labelled simulated)"
	export FP_SIMNODE=1
fi
# make demo GPUS=N: N simulated NVIDIA GPUs as Slurm GRES (tests' NVML
# library, fp-simnode --nvidia): the node is then a simulated one.
if [ -n "${GPUS:-}" ]; then
	say "with $GPUS simulated NVIDIA GPUs (GRES gpu:$GPUS; their energy is simulated)"
	export FP_GPUS=$GPUS FP_SIMNODE=1 FP_ACCT_GATHER=
fi
# Beside the node's own site (home, a constant 56 gCO2e/kWh), a site of
# heaters with no slurmd here whose intensity comes from the feed stand-in:
# the what-if below puts the busy job there too.
feed_start "fr-heater[01-04]"
# The worker reads the node's step records (RunDir/parts, on this
# machine), so the report splits the energy into CPU packages, DRAM, GPU
# and the rest of the node.
export FP_FOOTPRINT_EXTRA="$feed_site
NodePartsDir=@DIR@/run/footprint/parts"
# Job-end mails go through footprint-mail to a demo mailer that keeps them.
cat > "$mail/mailer" <<MAILER
#!/bin/sh
{ echo "To: \$(echo "\$@" | awk '{print \$NF}')"; echo "Subject: \$2"; echo; cat; } > "$mail/mail.\${SLURM_JOB_ID:-x}"
MAILER
chmod 755 "$mail/mailer"
export FP_MAILER=$mail/mailer
export FP_SLURM_EXTRA="MailProg=$(pwd)/$BUILD/footprint-mail"
say "starting a local Slurm cluster (munged, mariadbd, slurmdbd, slurmctld, slurmd)"
if ! fp_cluster_start; then
	fp_cluster_dump_logs
	echo "demo: the local cluster did not start" >&2
	exit 1
fi

say "submitting jobs that share the node"
burn='timeout 10 sh -c "while :; do :; done"; true'
busy=$(sbatch --parsable -n1 -J busy -o /dev/null --mail-type=END \
	--mail-user=root --wrap "$burn")
idle=$(sbatch --parsable -n1 -J sleeper -o /dev/null --wrap 'sleep 10')
echo "jobs sharing the node: busy=$busy (1 CPU burning) sleeper=$idle (1 CPU sleeping)"
sleep 5
say "scontrol show node while they run"
scontrol show node "$FP_NODE" | grep -E 'CurrentWatts|CPUAlloc'
say "live metrics (Prometheus textfile, for node_exporter)"
grep -E '^footprint_(node|job)_power_watts' "$FP_DIR/metrics/footprint.prom"
for j in $busy $idle; do fp_wait_job "$j" 120; done
steps=$(sbatch --parsable -n1 -J steps -o /dev/null --wrap \
	"srun -n1 --overlap sh -c '$burn' & srun -n1 --overlap sleep 6 & wait")
echo "a job with two concurrent steps on the same CPU: $steps"
fp_wait_job "$steps" 120
gpu=
if [ -n "${GPUS:-}" ]; then
	gpu=$(sbatch --parsable -n1 --gres=gpu:1 -J gpujob -o /dev/null --wrap \
		'echo 1 > $FP_DIR/sim/gpu-load/$SLURM_JOB_GPUS; sleep 10; echo 0 > $FP_DIR/sim/gpu-load/$SLURM_JOB_GPUS')
	echo "a job that keeps its GPU busy (--gres=gpu:1, 250 W simulated): $gpu"
	sleep 6
	say "its GPU energy in the live metrics"
	grep -E '^footprint_(gpu_power_watts|job_gpu_energy_joules_total)' "$FP_DIR/metrics/footprint.prom"
	fp_wait_job "$gpu" 120
fi
source tests/integration/lib.sh
for j in $busy $idle $steps $gpu; do wait_step_energy "$j" 1 60; done
wait_step_energy "$steps" 3 60

say "what sacct shows (ConsumedEnergy per step; the busy job is charged its"
echo "   dynamic energy, both share the idle power of the node fairly)"
sacct -j "$busy,$idle,$steps${gpu:+,$gpu}" \
	-o JobID,JobName%10,State,Elapsed,NCPUS,ConsumedEnergyRaw,AdminComment%50

say "the recorded node trace, replayed: the same per-step energies"
$BUILD/sfootprint replay "$(ls "$FP_DIR"/trace/*.jsonl | head -n1)"

say "the carbon footprint of the busy job (jobcomp/carbon, signed summary)"
spool=$FP_DIR/spool/footprint
_fp_wait_for 60 "the summary of job $busy" test -s "$spool/summaries/$busy.jws"
_fp_wait_for 30 "the job record" bash -c "sacct -n -X -j $busy -o AdminComment | grep -q FP1"
FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $BUILD/sfootprint -j "$busy"
if [ -n "$gpu" ]; then
	say "the GPU job's footprint (its energy includes its GPU's)"
	_fp_wait_for 60 "the summary of job $gpu" test -s "$spool/summaries/$gpu.jws"
	FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $BUILD/sfootprint -j "$gpu"
fi

say "its job record in accounting (sacct -o AdminComment)"
sacct -n -X -P -j "$busy" -o AdminComment

say "anyone with the public key can verify the summary"
$BUILD/sfootprint verify "$spool/summaries/$busy.jws" --pubkey "$FP_DIR/keys/footprint.pub"

for j in $idle $steps; do
	_fp_wait_for 60 "the record of job $j" bash -c "sacct -n -X -j $j -o AdminComment | grep -q FP1"
done
say "all jobs of the demo (sfootprint -u root)"
FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $BUILD/sfootprint -u root -S now-1hour

ctl=$FP_DIR/metrics/footprint-controller.prom
if grep -q '^Metrics=' "$FP_DIR/etc/footprint.conf"; then
	say "the controller's site metrics (footprint.conf Metrics=, for node_exporter)"
	n=$(echo $busy $idle $steps $gpu | wc -w)
	_fp_wait_for 30 "the site totals of every job" awk -v n="$n" \
		'/^footprint_site_jobs_total\{/ && $2 >= n { ok = 1 } END { exit !ok }' "$ctl"
	grep -E '^footprint_(site_(intensity_gco2e_per_kwh|jobs_total|energy_joules_total|operational_grams_total|avoided_grams_total)|summaries_incomplete_total)' "$ctl"
fi

say "the busy job at each site, each start hour (sfootprint -j $busy --whatif):"
echo "   home on a constant 56 gCO2e/kWh, winter-gas on the feed STAND-IN's series"
feed_update
FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $BUILD/sfootprint -j "$busy" --whatif

say "the job-end email, as footprint-mail handed it to the mailer"
_fp_wait_for 60 "the mail of job $busy" test -s "$mail/mail.$busy"
cat "$mail/mail.$busy"
say "done; stopping the cluster"
