#!/bin/bash
# A footprint.conf with a bad field: one clear error naming file, line and
# field; the controller keeps running; the job gets a signed summary marked
# incomplete (with the reason) and an ok:false record, never a wrong one.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
trap 'fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1
export FP_FOOTPRINT_CONF="SigningKey=@DIR@/keys/footprint.key
PublicKey=@DIR@/keys/footprint.pub
SpoolDir=@DIR@/spool/footprint
RetryInterval=2
Site=home Nodes=fpnode Intensity=56 PUE=banana"

fp_cluster_start_or_fail
j=$(sbatch --parsable -n1 --wrap 'sleep 1')
fp_wait_job "$j" 60
sum=$FP_DIR/spool/footprint/summaries/$j.jws
_fp_wait_for 60 "summary of job $j" test -s "$sum"
out=$($FP_BUILD/sfootprint verify "$sum" --pubkey "$FP_DIR/keys/footprint.pub")
check "the job still gets a signed summary" test $? -eq 0
check "marked incomplete, as the report spells it" \
	grep -q "^completeness: incomplete: " <<< "$out"
check "with the reason naming file, line and field" \
	grep -q "footprint.conf:5: field 'PUE': 'banana' is not a number" <<< "$out"
check "and no carbon figures" bash -c "! grep -q footprint: <<< \"$out\""
_fp_wait_for 30 "record of job $j" bash -c "sacct -n -X -P -j $j -o AdminComment | grep -q FP1"
check_eq "the job record says not ok" 'FP1:{"job":'"$j"',"ok":false}' \
	"$(sacct -n -X -P -j "$j" -o AdminComment)"
j2=$(sbatch --parsable -n1 --wrap 'sleep 1')
fp_wait_job "$j2" 60
_fp_wait_for 60 "summary of job $j2" test -s "$FP_DIR/spool/footprint/summaries/$j2.jws"
n=$(grep -c "footprint.conf:5: field 'PUE'.*until it is fixed" "$FP_DIR/log/slurmctld.log")
check_eq "the worker's error is logged once across jobs" 1 "$n"
check "slurmctld is up" scontrol ping
tap_done
