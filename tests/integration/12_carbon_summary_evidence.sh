#!/bin/bash
# A summary stays the evidence it was written as: the job's user can read
# and verify it but not truncate, rewrite or remove it; a controller
# restarted with a cleared state hands the same job id out again, and both
# jobs keep their summaries (the earlier one kept aside, unchanged).
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
trap 'fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1
user=fpuser

fp_cluster_start_or_fail
spool=$FP_DIR/spool/footprint
pub=$FP_DIR/keys/footprint.pub
sum=$spool/summaries

# An unprivileged user of the test's own (created once, kept: no home).
id -u "$user" > /dev/null 2>&1 ||
	useradd --system --no-create-home --shell /bin/sh "$user"
chmod 1777 "$FP_DIR/out"
as_user() { runuser -u "$user" -- env SLURM_CONF="$SLURM_CONF" "$@"; }
summary_of() { # jobid
	_fp_wait_for 120 "summary of job $1" test -s "$sum/$1.jws"
}
start_of() { # summary file: the job's start, from the verified payload
	/usr/bin/python3 tests/integration/fpcheck.py payload "$1" "$pub" 2> /dev/null |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["start"])'
}

first=$(as_user sbatch --parsable -n1 -J mine --chdir=/tmp --wrap 'sleep 1')
check "a job of user $user is accepted ($first)" test -n "$first"
fp_wait_job "$first" 60
summary_of "$first"
f=$sum/$first.jws
check_eq "the summary belongs to SlurmUser (root here) and is read-only" \
	"root 440" "$(stat -c '%U %a' "$f")"
check "an ACL lets the job's user read it" \
	bash -c "getfacl -cp '$f' 2>/dev/null | grep -qx 'user:$user:r--'"
check "the job's user reads it" \
	bash -c "runuser -u $user -- cat '$f' > /dev/null"
check "and verifies it" bash -c "runuser -u $user -- $FP_BUILD/sfootprint verify '$f' --pubkey '$pub' > /dev/null"
before=$(sha256sum < "$f")
check "the job's user cannot truncate it" \
	bash -c "! runuser -u $user -- sh -c ': > $f' 2> /dev/null"
check "nor append to it" \
	bash -c "! runuser -u $user -- sh -c 'echo x >> $f' 2> /dev/null"
check "nor remove or replace it" \
	bash -c "! runuser -u $user -- sh -c 'rm -f $f || exit 1; echo x > $f' 2> /dev/null"
check "another user cannot read it" \
	bash -c "! runuser -u nobody -- cat '$f' > /dev/null 2>&1"
check_eq "the summary is unchanged" "$before" "$(sha256sum < "$f")"
start1=$(start_of "$f")

# The controller loses its state: job ids start again from the first.
fp_kill_daemon slurmctld TERM
rm -rf "${FP_DIR:?}/state"/*
fp_start_daemon slurmctld
check "slurmctld starts again with a cleared state" scontrol ping
fp_cluster_wait_idle 60
again=
for i in 1 2 3 4 5; do
	j=$(as_user sbatch --parsable -n1 -J again --chdir=/tmp --wrap 'sleep 1')
	fp_wait_job "$j" 60
	if [ "$j" = "$first" ]; then
		again=$j
		break
	fi
done
check "the restarted controller hands out job id $first again" test -n "$again"
_fp_wait_for 120 "the new summary of job $first" bash -c \
	"ls $sum | grep -q '^$first\\.[0-9].*\\.jws\$' && test -s $sum/$first.jws"
old=$(ls "$sum" | grep -E "^$first\\.[0-9].*\\.jws\$" | head -n1)
check "the earlier job's summary is kept aside ($old)" test -n "$old"
check_eq "unchanged" "$before" "$(sha256sum < "$sum/$old")"
check_eq "and still the earlier job's" "$start1" "$(start_of "$sum/$old")"
start2=$(start_of "$f")
check "$first.jws is now the new job's (started $start2, the earlier $start1)" \
	test -n "$start2" -a "$start2" != "$start1"
check_eq "the new one is protected as well" "root 440" "$(stat -c '%U %a' "$f")"
check "the queue is empty" bash -c "[ -z \"\$(ls $spool/queue)\" ]"
check "no errors from our plugins in slurmctld's log" \
	bash -c "! grep -E 'error: .*(footprint|carbon)' $FP_DIR/log/slurmctld.log"
tap_done
