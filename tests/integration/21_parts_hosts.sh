#!/bin/bash
# Step records on a multi-host cluster: 2 nodes, each a real slurmd in its
# own namespace, write their steps' records (energy by part, how the node
# measured) into a shared folder of their own (EnergyFootprintPartsDir=
# with %n), 0750 in SlurmUser's group; the controller reads them where it
# mounts that share (NodePartsDir=, another path). A node's records the
# controller cannot see yet (its share shows them late) are waited for up
# to PartsWait, then the summary is written with what is there: the
# absent ones counted missing and said, never guessed.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
work=$(mktemp -d /tmp/fp-parts-hosts-test.XXXXXX)
trap 'fp_cluster_stop; rm -rf "$work"' EXIT INT TERM
PY=/usr/bin/python3
ncpus=$(nproc)
wait_s=30
# SlurmUser is Debian's slurm, not root: footprint-worker reads the
# records through its group, as on a production controller.
export FP_NODES=2 FP_SIMNODE=1 FP_SLURM_USER=slurm
# fpn1 says it is simulated (fp-simnode's marker and feed); fpn2 reads as
# measured hardware (no marker, a feed from its own meter): the summary
# must name each node's source as that node measured it.
export FP_SIM_MODEL_2="--idle-w 4 --busy-w 30 --dram-idle-w 1 --dram-busy-w 1 --wall-a 1.15 --wall-b 10 --unmarked --meter heater-2-wall"
# The nodes' view of the share and the controller's: the controller's
# mount of node N's folder is ctl/fpnN, a link the test makes when that
# share "shows" the node's records.
export FP_NODE_ACCT_EXTRA="EnergyFootprintPartsDir=@DIR@/share/%n/parts"
export FP_FOOTPRINT_CONF="SigningKey=@DIR@/keys/footprint.key
PublicKey=@DIR@/keys/footprint.pub
SpoolDir=@DIR@/spool/footprint
EnergySource=measured
NodePartsDir=@DIR@/ctl/%n/parts
PartsWait=$wait_s
RetryInterval=2
WorkerTimeout=300
Site=home Nodes=fpn[1-2] Intensity=56 PUE=1.0 HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=0.8
NodeType=heater Nodes=fpn[1-2] Embodied=1100 Lifetime=6 CPUs=$ncpus
Reference=standard-datacenter PUE=1.5 Intensity=site"

fp_cluster_start_or_fail "the 2-node cluster starts"
check_eq "slurmctld runs as SlurmUser slurm" slurm "$(ps -o user= -p "$(fp_daemon_pid slurmctld)")"
spool=$FP_DIR/spool/footprint
pub=$FP_DIR/keys/footprint.pub
share=$FP_DIR/share
mkdir -p "$FP_DIR/ctl"
ln -s "$share/fpn1" "$FP_DIR/ctl/fpn1"

check_eq "each node made its own folder on the share, 0750 in SlurmUser's group" \
	"fpn1 750 $(id -g slurm),fpn2 750 $(id -g slurm)" \
	"$(for n in fpn1 fpn2; do echo "$n $(stat -c '%a %g' "$share/$n/parts" 2>&1)"; done | paste -sd,)"

burn() { echo "timeout $1 sh -c 'while :; do :; done'; true"; }
payload() { $PY tests/integration/fpcheck.py payload "$spool/summaries/$1.jws" "$pub"; }
# "records expected source source_by nodes-with-records" of a summary
parts_of() {
	payload "$1" | $PY -c '
import json, sys
s = json.load(sys.stdin)
ep = s.get("energy_parts", {})
print(ep.get("records"), ep.get("expected"), s["energy"]["source"],
      s["energy"].get("source_by"))'
}

# Job A: fpn2's records are on the share, but not yet where the
# controller reads them.
# two_node_job NAME: the job's id, once it has ended
two_node_job() {
	local j
	j=$(sbatch --parsable -N2 -J "$1" --wrap "srun --ntasks-per-node=1 sh -c \"$(burn 3)\"")
	fp_wait_job "$j" 120
	echo "$j"
}
a=$(two_node_job parts-a)
check "job A ran on both nodes" [ "$(sacct -n -X -P -j "$a" -o NodeList)" = "fpn[1-2]" ]
check "fpn2 wrote job A's step record on its share" \
	_fp_wait_for 60 "fpn2's record of $a.0" test -s "$share/fpn2/parts/$a.0"
echo "# job $a ended $(SLURM_TIME_FORMAT=%T sacct -n -X -P -j "$a" -o End), fpn2's record at $(date +%T)"
check_eq "the record is 0640 in SlurmUser's group" "640 $(id -g slurm)" \
	"$(stat -c '%a %g' "$share/fpn2/parts/$a.0")"
check "nothing is written in the nodes' RunDir/parts" bash -c \
	"! ls $FP_DIR/nodes/fpn*/run/footprint/parts/ 2>/dev/null | grep -q ."
# The worker has had job A since its end; it waits for fpn2's records.
sleep 6
end_a=$(SLURM_TIME_FORMAT=%s sacct -n -X -P -j "$a" -o End)
check "job A's summary waits for fpn2's records (PartsWait)" \
	bash -c "[ ! -e $spool/summaries/$a.jws ] && [ \$(date +%s) -lt $((end_a + wait_s)) ]"
ln -s "$share/fpn2" "$FP_DIR/ctl/fpn2"
shown=$(date +%s)
check "job A's summary comes once the controller sees fpn2's records" \
	_fp_wait_for 60 "summary of job $a" test -s "$spool/summaries/$a.jws"
check "job A's summary verifies" bash -c "$FP_BUILD/sfootprint verify $spool/summaries/$a.jws --pubkey $pub > /dev/null"
check "it was written after the records showed, before PartsWait was over" \
	bash -c "m=\$(stat -c %Y $spool/summaries/$a.jws); [ \$m -ge $shown ] && [ \$m -lt $((end_a + wait_s)) ]"
read -r rec exp src by <<< "$(parts_of "$a")"
echo "# job A: $rec of $exp records, source $src by $by"
check "job A's summary has every step record of both nodes" \
	bash -c "[ '$rec' = '$exp' ] && [ '$exp' -ge 2 ]"
check_eq "job A's energy source is the nodes' own word" "simulated nodes" "$src $by"
nodes_a=$(payload "$a" | $PY -c 'import json,sys; print(",".join(sorted(n["name"] for n in json.load(sys.stdin)["nodes"] if n.get("measured_by"))))')
check_eq "each node's part of job A says how it measured" "fpn1,fpn2" "$nodes_a"
by_node=$(payload "$a" | $PY -c 'import json,sys; print(",".join(sorted("%s:%s:%s" % (n["name"], n["measured_by"]["source"], n["measured_by"]["meter"]) for n in json.load(sys.stdin)["nodes"] if n.get("measured_by"))))')
check_eq "each node's source is its own: fpn1 simulated, fpn2 measured by its meter" \
	"fpn1:simulated:fp-simnode,fpn2:measured:heater-2-wall" "$by_node"
step0=$(payload "$a" | $PY -c 'import json,sys; s=[x for x in json.load(sys.stdin)["steps"] if x["id"].endswith(".0")][0]["measured_by"]; print(s["source"], s["records"])')
check_eq "job A's step 0, on both nodes, is simulated over its 2 records (one node was)" \
	"simulated 2" "$step0"
# Each step daemon logs what measured its step's final value (the board's
# word; sacct has no field for it).
final_of() {
	grep -hoE "step $a\.0: final [0-9.]+ J, measured by .*" "$FP_DIR/log/slurmd-$1.log" | head -n1
}
fin1=$(final_of fpn1)
fin2=$(final_of fpn2)
echo "# fpn1: $fin1; fpn2: $fin2"
check "fpn1's step daemon logs job A's step 0 as measured on a SIMULATED node" \
	bash -c '[[ $1 =~ "measured by "[a-z]+" (SIMULATED node)" ]]' _ "$fin1"
check "fpn2's, as measured on a node that is not simulated" \
	bash -c '[[ -n $1 && $1 != *SIMULATED* ]]' _ "$fin2"

# Job B: fpn2's share never shows its records to the controller.
rm "$FP_DIR/ctl/fpn2"
b=$(two_node_job parts-b)
_fp_wait_for 60 "fpn2's record of $b.0" test -s "$share/fpn2/parts/$b.0"
end_b=$(SLURM_TIME_FORMAT=%s sacct -n -X -P -j "$b" -o End)
check "job B's summary is written once PartsWait is over" \
	_fp_wait_for $((wait_s + 60)) "summary of job $b" test -s "$spool/summaries/$b.jws"
check "not before" bash -c "[ \$(stat -c %Y $spool/summaries/$b.jws) -ge $((end_b + wait_s)) ]"
read -r rec exp src by <<< "$(parts_of "$b")"
echo "# job B: $rec of $exp records, source $src by $by"
fpn2_steps=$(ls "$share/fpn2/parts/" | grep -c "^$b\.")
check "job B's summary counts fpn2's records missing: $fpn2_steps of $exp" \
	bash -c "[ '$fpn2_steps' -ge 1 ] && [ $((rec + fpn2_steps)) -eq '$exp' ]"
check_eq "without them the source is EnergySource=, said as such" "measured EnergySource" "$src $by"
check "the controller log says which records were missing and after how long" \
	_fp_wait_for 10 "the missing line" grep -q \
	"job $b: $fpn2_steps of $exp step records not there $wait_s s after the job's end (PartsWait), counted missing in its summary: .*$b.0 on fpn2" \
	"$FP_DIR/log/slurmctld.log"
check_eq "the summaries are SlurmUser's: footprint-worker ran as slurm" "slurm slurm" \
	"$(stat -c %U "$spool/summaries/$a.jws" "$spool/summaries/$b.jws" | paste -sd' ')"

# Job C: fpn2's record shows, but its group may not read it (a share
# that keeps its own modes): said with its file and not waited for.
c=$(two_node_job parts-c)
_fp_wait_for 60 "fpn2's record of $c.0" test -s "$share/fpn2/parts/$c.0"
chmod 600 "$share/fpn2/parts/$c.0"
ln -s "$share/fpn2" "$FP_DIR/ctl/fpn2"
end_c=$(SLURM_TIME_FORMAT=%s sacct -n -X -P -j "$c" -o End)
check "job C's summary is written without waiting for the unreadable record" \
	_fp_wait_for 60 "summary of job $c" test -s "$spool/summaries/$c.jws"
check "before PartsWait was over" bash -c "[ \$(stat -c %Y $spool/summaries/$c.jws) -lt $((end_c + wait_s)) ]"
read -r rec exp src by <<< "$(parts_of "$c")"
echo "# job C: $rec of $exp records, source $src by $by"
check "job C's summary counts it missing" bash -c "[ $((rec + 1)) -eq '$exp' ]"
# (the plugin copies the worker's lines into the log every 250 ms: the
# summary can be there before its line)
said_c="job $c: step parts $FP_DIR/ctl/fpn2/parts/$c.0: Permission denied; counted missing in its summary"
_fp_wait_for 10 "the unreadable record's line" grep -qF "$said_c" "$FP_DIR/log/slurmctld.log"
check_eq "the controller log names the file and the fault, once" 1 \
	"$(grep -cF "$said_c" "$FP_DIR/log/slurmctld.log")"

FOOTPRINT_CONF=$FP_DIR/etc/footprint.conf $FP_BUILD/sfootprint -j "$b" > "$work/show-b.txt"
sed 's/^/# /' "$work/show-b.txt"
check "sfootprint -j says records are missing" grep -q "of $exp step records" "$work/show-b.txt"
check_eq "it says so once" 1 "$(grep -c "job $b: .* counted missing" "$FP_DIR/log/slurmctld.log")"
check "no other errors from our plugins in the daemons' logs" \
	bash -c "! grep -hE 'error: .*(footprint|carbon)' $FP_DIR/log/slurmctld.log $FP_DIR/log/slurmd*.log | grep -v -e 'job $b: $fpn2_steps of $exp step records not there' -e 'job $c: step parts .*: Permission denied'"
fp_cluster_stop
tap_done
