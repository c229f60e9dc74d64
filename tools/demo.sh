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
cleanup() {
	fp_cluster_stop
	rm -rf "$mail"
}
trap cleanup EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }

if [ -d /sys/class/powercap ] && ls /sys/class/powercap | grep -q intel-rapl; then
	say "this machine has RAPL: measuring it"
	export FP_ACCT_GATHER="EnergyFootprintPollInterval=1"
else
	say "no RAPL here: the node is driven by fp-simnode (a simulated node;"
	echo "   every figure below is labelled simulated)"
	export FP_SIMNODE=1
fi
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
source tests/integration/lib.sh
for j in $busy $idle $steps; do wait_step_energy "$j" 1 60; done
wait_step_energy "$steps" 3 60

say "what sacct shows (ConsumedEnergy per step; the busy job is charged its"
echo "   dynamic energy, both share the idle power of the node fairly)"
sacct -j "$busy,$idle,$steps" \
	-o JobID,JobName%10,State,Elapsed,NCPUS,ConsumedEnergyRaw,AdminComment%50

say "the recorded node trace, replayed: the same per-step energies"
build/sfootprint replay "$(ls "$FP_DIR"/trace/*.jsonl | head -n1)"

say "the carbon footprint of the busy job (jobcomp/carbon, signed summary)"
spool=$FP_DIR/spool/footprint
_fp_wait_for 60 "the summary of job $busy" test -s "$spool/summaries/$busy.jws"
_fp_wait_for 30 "the job record" bash -c "sacct -n -X -j $busy -o AdminComment | grep -q FP1"
FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $BUILD/sfootprint -j "$busy"

say "its job record in accounting (sacct -o AdminComment)"
sacct -n -X -P -j "$busy" -o AdminComment

say "anyone with the public key can verify the summary"
$BUILD/sfootprint verify "$spool/summaries/$busy.jws" --pubkey "$FP_DIR/keys/footprint.pub"

for j in $idle $steps; do
	_fp_wait_for 60 "the record of job $j" bash -c "sacct -n -X -j $j -o AdminComment | grep -q FP1"
done
say "all jobs of the demo (sfootprint -u root)"
FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $BUILD/sfootprint -u root -S now-1hour

say "the job-end email, as footprint-mail handed it to the mailer"
_fp_wait_for 60 "the mail of job $busy" test -s "$mail/mail.$busy"
cat "$mail/mail.$busy"
say "done; stopping the cluster"
