#!/bin/bash
# Faults around the summaries: a signing key readable by others, a spool
# that turns read-only, a spool that is full, a signing key missing. No
# daemon crashes, each fault is logged once, and every job gets its summary
# once the fault is gone.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
work=$(mktemp -d /tmp/fp-spool-test.XXXXXX)
spool=$work/spool
mkdir -p "$spool"
# A small spool of its own, so it can be made read-only or full.
mount -t tmpfs -o size=1m,mode=755 fp-test-spool "$spool" || exit 1
cleanup() {
	fp_cluster_stop
	umount "$spool" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
export FP_SIMNODE=1
export FP_FOOTPRINT_CONF="SigningKey=@DIR@/keys/footprint.key
PublicKey=@DIR@/keys/footprint.pub
SpoolDir=$spool
RetryInterval=2
Site=home Nodes=fpnode Intensity=56
NodeType=heater Nodes=fpnode Embodied=1100 Lifetime=6 CPUs=$(nproc)"

fp_cluster_start_or_fail
log=$FP_DIR/log/slurmctld.log
key=$FP_DIR/keys/footprint.key
job() { sbatch --parsable -n1 --wrap 'sleep 1'; }
has_summary() { test -s "$spool/summaries/$1.jws"; }

# 1. The signing key readable by group and others.
chmod 0644 "$key"
a=$(job)
fp_wait_job "$a" 60
sleep 8
check "with a key readable by others no summary is signed" bash -c "! test -e $spool/summaries/$a.jws"
check_eq "the key fault is logged once, naming the file and its mode" 1 \
	"$(grep -c "footprint.key.*0644" "$log")"
chmod 0600 "$key"
_fp_wait_for 60 "summary of job $a" has_summary "$a"
check "once the key is fixed the job gets its summary" has_summary "$a"

# 2. The spool turns read-only.
mount -o remount,ro "$spool"
b=$(job)
fp_wait_job "$b" 60
sleep 6
check "a read-only spool writes nothing" bash -c "! test -e $spool/summaries/$b.jws"
check "slurmctld is up with a read-only spool" scontrol ping
n=$(grep -c "Read-only file system" "$log")
check "the read-only spool is logged ($n lines), not repeated at every retry" test "$n" -ge 1 -a "$n" -le 3
mount -o remount,rw "$spool"
_fp_wait_for 90 "summary of job $b" has_summary "$b"
check "once the spool is writable again the job gets its summary" has_summary "$b"

# 3. The spool is full. Filled once the worker is done with the last job
# (it frees a queue entry and a temporary file as it finishes: a 4 KiB
# summary then fits), and again for whatever it freed meanwhile.
_fp_wait_for 60 "the queue to empty" bash -c "[ -z \"\$(ls $spool/queue)\" ]"
sleep 1
dd if=/dev/zero of="$spool/filler" bs=4k 2>/dev/null
sleep 1
dd if=/dev/zero of="$spool/filler2" bs=4k 2>/dev/null
c=$(job)
fp_wait_job "$c" 60
sleep 6
check "a full spool writes nothing" bash -c "! test -s $spool/summaries/$c.jws"
check "slurmctld is up with a full spool" scontrol ping
rm -f "$spool/filler" "$spool/filler2"
_fp_wait_for 90 "summary of job $c" has_summary "$c"
check "once there is room the job gets its summary" has_summary "$c"
# 4. The signing key is missing.
mv "$key" "$key.away"
d=$(job)
fp_wait_job "$d" 60
sleep 8
check "without its key no summary is signed" bash -c "! test -e $spool/summaries/$d.jws"
check "slurmctld is up without the key" scontrol ping
check_eq "the missing key is logged once, naming the file" 1 \
	"$(grep -c "footprint.key.*No such file" "$log")"
mv "$key.away" "$key"
_fp_wait_for 60 "summary of job $d" has_summary "$d"
check "once the key is back the job gets its summary" has_summary "$d"
for j in $a $b $c $d; do
	_fp_wait_for 30 "record of job $j" bash -c "sacct -n -X -P -j $j -o AdminComment | grep -q FP1:"
done
check_eq "and every job its record" 4 \
	"$(for j in $a $b $c $d; do sacct -n -X -P -j "$j" -o AdminComment; done | grep -c FP1:)"
tap_done
