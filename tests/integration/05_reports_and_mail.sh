#!/bin/bash
# What users see on a real cluster: the job-end mail (footprint-mail as
# slurmctld's MailProg) carries the same figures as the signed summary, and
# with MailHTML= the HTML report as a MIME part (checked part by part);
# `sfootprint -j` reports a job from its summary or, without it, from its
# accounting record; the aggregate table, --json, tampering and usage errors.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
source tests/integration/lib.sh
work=$(mktemp -d /tmp/fp-mail-test.XXXXXX)
chmod 755 "$work"
trap 'fp_cluster_stop; rm -rf "$work"' EXIT INT TERM
SF=$(cd "$FP_BUILD" && pwd)/sfootprint
FM=$(cd "$FP_BUILD" && pwd)/footprint-mail

# The "real mailer": keeps its argv and stdin, one file per job and call.
cat > "$work/mailer" <<EOF
#!/bin/bash
out=$work/mail.\${SLURM_JOB_ID:-none}.\$\$
{ printf 'ARGV:'; printf ' [%s]' "\$@"; echo; echo 'BODY:'; cat; } > "\$out.tmp"
mv "\$out.tmp" "\$out"
EOF
chmod 755 "$work/mailer"
ncpus=$(nproc)
export FP_SIMNODE=1 FP_SLURM_EXTRA="MailProg=$FM"
# The default footprint.conf, with our mailer and room for a slow worker.
export FP_FOOTPRINT_CONF="SigningKey=@DIR@/keys/footprint.key
PublicKey=@DIR@/keys/footprint.pub
SpoolDir=@DIR@/spool/footprint
EnergySource=simulated
RetryInterval=2
WorkerTimeout=60
Mailer=$work/mailer
MailWait=60
Site=home Nodes=fpnode Intensity=56 PUE=1.0 HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=0.8
NodeType=heater Nodes=fpnode Embodied=1100 Lifetime=6 CPUs=$ncpus
Reference=standard-datacenter PUE=1.5 Intensity=site"

fp_cluster_start_or_fail
spool=$FP_DIR/spool/footprint
pub=$FP_DIR/keys/footprint.pub
conf=$FP_DIR/etc/footprint.conf

# The summary's figures, "%.3f" as the reports print them.
figures() { # token-file -> "energy footprint avoided net reference source"
	python3 - "$1" <<'PY'
import base64, json, sys
p = open(sys.argv[1]).read().strip().split(".")[1]
d = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
c = d["carbon"]
print(" ".join("%.3f" % x for x in (d["energy"]["facility_Wh"], c["footprint"],
      c["avoided_heat_reuse"], c["net"], c["reference"])), d["energy"]["source"])
PY
}
mail_of() { cat "$work"/mail."$1".* 2>/dev/null; }

ended=$(sbatch --parsable -n1 -J mailed --mail-type=END --mail-user=root \
	--wrap "timeout 3 sh -c 'while :; do :; done'; true")
failed=$(sbatch --parsable -n1 -J failing --mail-type=FAIL --mail-user=root \
	--wrap 'sleep 2; exit 3')
echo "# jobs: ended=$ended failed=$failed"
fp_wait_job "$ended" 120
fp_wait_job "$failed" 120
for j in $ended $failed; do
	_fp_wait_for 120 "summary of job $j" test -s "$spool/summaries/$j.jws"
	_fp_wait_for 90 "mail of job $j" bash -c "ls $work/mail.$j.* >/dev/null 2>&1"
	_fp_wait_for 30 "record of job $j" bash -c \
		"sacct -n -X -P -j $j -o AdminComment | grep -q FP1:"
done
read -r e_wh e_g e_av e_net e_ref e_src <<< "$(figures "$spool/summaries/$ended.jws")"
echo "# summary of $ended: $e_wh Wh, $e_g g, avoided $e_av g, net $e_net g, reference $e_ref g ($e_src)"
mail=$(mail_of "$ended")
echo "$mail" | sed 's/^/#   /'

# The mail
check "the job-end mail reached the real mailer with slurmctld's arguments" \
	grep -Eq "^ARGV: \[-s\] \[Slurm Job_id=$ended Name=mailed Ended,.*\] \[root\]$" <<< "$mail"
check "the mail carries the footprint section of job $ended" \
	grep -q "^Carbon footprint of job $ended " <<< "$mail"
check_eq "the summary's energy source is simulated" simulated "$e_src"
check "the mail gives the energy and says simulated" \
	grep -q "^  energy:     $e_wh Wh (simulated by fp-simnode" <<< "$mail"
check "the mail's footprint is the summary's ($e_g g)" \
	grep -q "^  footprint:  $e_g gCO2e$" <<< "$mail"
check "the mail's avoided emissions are the summary's, said to be separate" \
	grep -q "^  avoided:    $e_av gCO2e by heat reuse (separate" <<< "$mail"
check "the mail's net is the summary's, labelled footprint - avoided" \
	grep -q "^  net:        $e_net gCO2e (footprint - avoided)$" <<< "$mail"
check "the mail compares with the standard datacenter ($e_ref g)" \
	grep -q "^  vs standard-datacenter: $e_ref gCO2e, saved" <<< "$mail"
check "the mail's summary signature is valid" \
	grep -q "^  signature:  valid (kid " <<< "$mail"
check "the mail says where the details are" \
	grep -q "^Details: sfootprint -j $ended$" <<< "$mail"
read -r f_wh f_g _ <<< "$(figures "$spool/summaries/$failed.jws")"
fmail=$(mail_of "$failed")
check "a failed job's mail carries its footprint too ($f_g g)" \
	bash -c "grep -q 'Job_id=$failed Name=failing Failed' <<< \"\$1\" &&
		grep -q '^  footprint:  $f_g gCO2e$' <<< \"\$1\"" _ "$fmail"

# sfootprint -j: the signed summary
out=$("$SF" -j "$ended" 2> "$work/err"); rc=$?
echo "$out" | sed 's/^/#   /'
check_eq "sfootprint -j exits 0" 0 "$rc"
check "sfootprint -j says the signature is valid" \
	grep -q "^signature: valid (kid " <<< "$out"
check "sfootprint -j says simulated" grep -q "^Energy: .*; simulated by fp-simnode, not a measurement$" <<< "$out"
# seff's and sacct's figures, from accounting
check "sfootprint -j shows the state and exit code, as sacct" \
	grep -q "^State: COMPLETED (exit code 0:0)$" <<< "$out"
check "sfootprint -j shows the elapsed time and seff's CPU efficiency (a busy loop: above 0 %)" \
	bash -c "grep -Eq '^Elapsed: 00:00:[0-9]{2} ' <<< \"\$1\" &&
		grep -Eq '^CPU efficiency: ([1-9][0-9]*|0\.0*[1-9][0-9]*)\.?[0-9]* % of [0-9:-]+ core-walltime \(total CPU time [0-9:-]+, [0-9]+ CPUs\)$' <<< \"\$1\"" _ "$out"
sacct_j=$(sacct -n -X -P -j "$ended" -o ConsumedEnergyRaw | head -n1)
check "sfootprint -j gives sacct's ConsumedEnergy ($sacct_j J) and says how it relates to the footprint's" \
	bash -c "grep -q '^sacct ConsumedEnergy: ${sacct_j:--} J (' <<< \"\$1\" &&
		grep -A2 '^sacct ConsumedEnergy' <<< \"\$1\" | grep -q \"footprint's IT energy\"" _ "$out"
check "sfootprint -j gives the energy in Wh and J" \
	grep -Eq "^Energy: [0-9.]+ Wh IT \([0-9]+ J\), $e_wh Wh facility \([0-9]+ J\)" <<< "$out"
out_f=$("$SF" -j "$failed" 2> /dev/null)
check "a failed job's report says FAILED with its exit code" \
	grep -q "^State: FAILED (exit code 3:0)$" <<< "$out_f"
out_t=$("$SF" -j "$ended,$failed" -n -p -o jobid,STATE,ExitCode,consumedenergy 2> "$work/err")
echo "$out_t" | sed 's/^/#   /'
fail_j=$(sacct -n -X -P -j "$failed" -o ConsumedEnergyRaw | head -n1)
check_eq "-j with a list, -o and -n: one line per job, sacct's fields, no header" \
	"$ended|COMPLETED|0:0|${sacct_j:--}|
$failed|FAILED|3:0|${fail_j:--}|" "$(head -n2 <<< "$out_t")"
check "sfootprint -j shows the summary's footprint, avoided and net" \
	bash -c "grep -q '^Footprint: $e_g gCO2e' <<< \"\$1\" &&
		grep -q '^Avoided: $e_av gCO2e by heat reuse.*separate' <<< \"\$1\" &&
		grep -q '^Net: $e_net gCO2e (footprint - avoided' <<< \"\$1\"" _ "$out"
check "sfootprint -j shows the reference, intensity, per core-hour, completeness and sites" \
	bash -c "grep -q '^Versus standard-datacenter.*reference $e_ref gCO2e' <<< \"\$1\" &&
		grep -q '^Intensity used: 56.000 gCO2e/kWh' <<< \"\$1\" &&
		grep -q '^Per core-hour: ' <<< \"\$1\" &&
		grep -q '^Completeness: ' <<< \"\$1\" && grep -q '^  home: ' <<< \"\$1\"" _ "$out"
check "sfootprint show -j gives the same report" \
	bash -c "[ \"\$($SF show -j $ended)\" = \"\$1\" ]" _ "$out"
"$SF" -j "$ended" --json > "$work/job.json"
check "sfootprint -j --json parses, with the figures and a valid signature" \
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["job_id"] == int(sys.argv[2]), d["job_id"]
assert d["signature"]["status"] == "valid", d["signature"]
assert "%.3f" % d["footprint_g"] == sys.argv[3], d["footprint_g"]
assert d["energy_source"] == "simulated"
assert d["summary"]["job"]["id"] == int(sys.argv[2])
assert d["accounting"]["state"] == "COMPLETED", d["accounting"]
assert d["accounting"]["exit_code"] == "0:0", d["accounting"]
assert d["start"].endswith("Z") and d["accounting"]["start"].endswith("Z")
' "$work/job.json" "$ended" "$e_g"

# Without a readable summary: the accounting record, said to be unsigned.
mv "$spool/summaries/$ended.jws" "$work/saved.jws"
out=$("$SF" -j "$ended" 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
check "without its summary, sfootprint -j reports the accounting record" \
	bash -c "[ $rc -eq 0 ] && grep -q '^Origin: accounting record' <<< \"\$1\" &&
		grep -q '^Footprint: $e_g gCO2e' <<< \"\$1\" &&
		grep -q '^signature: unsigned record only' <<< \"\$1\"" _ "$out"

# A tampered summary is rejected.
python3 - "$work/saved.jws" "$work/tampered.jws" <<'PY'
import sys
t = open(sys.argv[1]).read().strip()
h, p, s = t.split(".")
i = len(p) // 2
p = p[:i] + ("A" if p[i] != "A" else "B") + p[i + 1:]
open(sys.argv[2], "w").write(".".join((h, p, s)) + "\n")
PY
"$SF" verify "$work/saved.jws" --pubkey "$pub" > /dev/null 2>&1
check_eq "sfootprint verify accepts the genuine summary" 0 $?
"$SF" verify "$work/tampered.jws" --pubkey "$pub" > /dev/null 2> "$work/err"
check_eq "sfootprint verify rejects the tampered summary" 1 $?
check "the rejection names the file" grep -q "tampered.jws" "$work/err"
cp "$work/tampered.jws" "$spool/summaries/$ended.jws"
out=$("$SF" -j "$ended" 2> "$work/err"); rc=$?
check_eq "sfootprint -j fails on a job whose summary was tampered" 1 "$rc"
check "and says the signature is INVALID" grep -q "^signature: INVALID: " <<< "$out"
# A summary with a NUL byte in it is damaged, not missing.
printf 'eyJ\0.x.y\n' > "$spool/summaries/$ended.jws"
out=$("$SF" -j "$ended" 2> "$work/err"); rc=$?
check_eq "sfootprint -j fails on a job whose summary holds a NUL byte" 1 "$rc"
check "and says it is INVALID, not missing" \
	grep -q "^signature: INVALID: .*$ended.jws: a NUL byte" <<< "$out"
before=$(ls "$work"/mail."$ended".* 2>/dev/null | wc -l)
SLURM_JOB_ID=$ended SLURM_JOB_MAIL_TYPE=Ended "$FM" --config "$conf" \
	-s "Slurm Job_id=$ended Name=x Ended, Run time 00:00:01, COMPLETED, ExitCode 0" root < /dev/null 2> /dev/null
check "footprint-mail says such a summary is INVALID, not unavailable yet" \
	bash -c "[ \$(ls $work/mail.$ended.* | wc -l) -gt $before ] &&
		cat \$(ls -t $work/mail.$ended.* | head -n1) | grep -q 'signed summary is INVALID: .*a NUL byte'"
cp "$work/saved.jws" "$spool/summaries/$ended.jws"

# The table
out=$("$SF" -u root -p -S "$FP_SACCT_START" 2> "$work/err"); rc=$?
echo "$out" | sed 's/^/#   /'
check_eq "sfootprint -u root -p exits 0" 0 "$rc"
check "the table has sacct -p's header" \
	grep -q '^JobID|User|Account|EnergyWh|FootprintG|AvoidedG|NetG|ReferenceG|Source|$' <<< "$out"
check "the table lists the job with the summary's figures" \
	grep -q "^$ended|root|[^|]*|$e_wh|$e_g|$e_av|$e_net|$e_ref|simulated|$" <<< "$out"
check "the table ends with a TOTAL line" \
	bash -c "tail -n1 <<< \"\$1\" | grep -Eq '^TOTAL\|\|\|[-0-9.]+\|[-0-9.]+\|.*no footprint\|$'" _ "$out"
# Summaries keep full precision and the table rounds each figure to 1e-3:
# the TOTAL (the sum, rounded once) may differ from the sum of the rounded
# rows by half a unit per row.
read -r total n <<< "$(awk -F'|' '$1 ~ /^[0-9]/ && $5 != "-" { s += $5; n++ } END { printf "%.4f %d", s, n }' <<< "$out")"
shown=$(awk -F'|' '$1 == "TOTAL" { print $5 }' <<< "$out")
check "TOTAL footprint is the sum of the jobs' ($shown vs rows $total over $n jobs, within their rounding)" \
	awk -v a="$shown" -v b="$total" -v n="$n" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= (n + 1) * 0.0005 + 1e-9) }'
out=$("$SF" -u root -S now-1hour -E now)
check "the table with -S now-1hour -E now lists the job" \
	grep -Eq "^$ended +root " <<< "$out"
check "the text table has a TOTAL line and the no-footprint count" \
	bash -c "grep -q '^TOTAL ' <<< \"\$1\" && grep -q 'no footprint' <<< \"\$1\"" _ "$out"
"$SF" -u root -S "$FP_SACCT_START" --json > "$work/table.json"
check "sfootprint -u root --json parses and totals the jobs" \
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
jobs = [j for j in d["jobs"] if j["job"] == sys.argv[2]]
assert jobs and "%.3f" % jobs[0]["footprint_g"] == sys.argv[3], jobs
assert d["total"]["jobs"] == len(d["jobs"]) >= 2
' "$work/table.json" "$ended" "$e_g"
check "-A with an unknown account lists no job" \
	bash -c "$SF -u root -S $FP_SACCT_START -A no-such-account -p | grep -q '^TOTAL|||0.000|0.000|.*0 jobs, 0 no footprint|$'"

# footprint-mail by hand: other mail types pass through; no summary in time.
SLURM_JOB_ID=$ended SLURM_JOB_MAIL_TYPE=Began FOOTPRINT_CONF=$conf \
	"$FM" -s "Slurm Job_id=$ended Name=mailed Began, Queued time 00:00:01" root < /dev/null
check_eq "a Began mail passes through with its empty body" "BODY:" \
	"$(grep -l 'Began' "$work"/mail."$ended".* | xargs sed -n '2,$p')"
sed 's/^MailWait=.*/MailWait=1/' "$conf" > "$work/fast.conf"
SLURM_JOB_ID=999999 SLURM_JOB_MAIL_TYPE=Ended "$FM" --config "$work/fast.conf" \
	-s "Slurm Job_id=999999 Name=x Ended, Run time 00:00:01, COMPLETED, ExitCode 0" root < /dev/null
check_eq "footprint-mail exits with the mailer's status" 0 $?
check "without a summary the mail says the footprint is not available yet and how to get it" \
	bash -c "cat $work/mail.999999.* | grep -q 'job 999999: not available yet' &&
		cat $work/mail.999999.* | grep -q '^  sfootprint -j 999999$'"
check "--config is not passed to the mailer" \
	bash -c "! grep -q -- --config $work/mail.999999.*"
FOOTPRINT_CONF=/nonexistent/footprint.conf SLURM_JOB_ID=1 SLURM_JOB_MAIL_TYPE=Ended \
	"$FM" -s "Slurm Job_id=1 Name=x Ended" root < /dev/null > /dev/null 2> "$work/err"
rc=$?
check "a missing footprint.conf is reported and the mail goes to /usr/bin/mail" \
	bash -c "grep -q '/nonexistent/footprint.conf' $work/err && grep -q '/usr/bin/mail' $work/err &&
		{ [ -x /usr/bin/mail ] || [ $rc -ne 0 ]; }"

# MailHTML=: the text and the HTML report (sfootprint -j N --html) in one
# MIME message, handed to Sendmail= as sendmail(8) is called.
cat > "$work/sendmail" <<EOF
#!/bin/bash
printf '%s\n' "\$@" > "$work/sent.argv"
cat > "$work/sent.tmp"
mv "$work/sent.tmp" "$work/sent.eml"
EOF
chmod 755 "$work/sendmail"
"$SF" -j "$ended" --html "$work/page.html" 2> /dev/null
subject="Slurm Job_id=$ended Name=mailed Ended, Run time 00:00:03, COMPLETED, ExitCode 0"
for mode in alternative attachment; do
	{ cat "$conf"; echo "MailHTML=$mode"; echo "Sendmail=$work/sendmail"; } > "$work/html.conf"
	rm -f "$work/sent.eml" "$work/sent.argv"
	before=$(ls "$work" | grep -c "^mail\.$ended\.")
	SLURM_JOB_ID=$ended SLURM_JOB_MAIL_TYPE=Ended "$FM" --config "$work/html.conf" \
		-s "$subject" root < /dev/null 2> "$work/err"
	check_eq "MailHTML=$mode: footprint-mail exits with sendmail's status, silent" "0 0" \
		"$? $(grep -c . "$work/err")"
	check_eq "MailHTML=$mode: sendmail gets -oi -- and the recipient" "-oi -- root" \
		"$(paste -sd' ' "$work/sent.argv" 2>/dev/null)"
	check_eq "MailHTML=$mode: nothing goes through Mailer as well" "$before" \
		"$(ls "$work" | grep -c "^mail\.$ended\.")"
	if python3 - "$mode" "$work/sent.eml" "$subject" "$ended" "$e_g" "$work/page.html" > "$work/mime.txt" 2>&1 <<'PY'
import email, email.policy, re, sys
mode, path, subject, job, grams, page_path = sys.argv[1:]
raw = open(path, "rb").read()
assert b"\r" not in raw, "a CR in the message"
assert max(len(l) for l in raw.split(b"\n")) <= 998, "a line above 998 bytes"
m = email.message_from_bytes(raw, policy=email.policy.default)
print("# headers:", dict(m.items()))
assert m["To"] == "root", m["To"]
assert m["Subject"] == subject, m["Subject"]
assert m["MIME-Version"] == "1.0"
want = "multipart/alternative" if mode == "alternative" else "multipart/mixed"
assert m.get_content_type() == want, m.get_content_type()
parts = list(m.iter_parts())
print("# parts:", [(p.get_content_type(), p.get_content_disposition(),
                    p.get_filename()) for p in parts])
assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
text, html = parts[0].get_content(), parts[1].get_content()
assert text.startswith("Carbon footprint of job %s " % job), text[:80]
assert "  footprint:  %s gCO2e\n" % grams in text, text
assert re.search(r"^Details: sfootprint -j %s$" % job, text, re.M), text
if mode == "alternative":
    assert [p.get_content_disposition() for p in parts] == [None, None]
else:
    assert parts[0].get_content_disposition() == "inline"
    assert parts[1].get_content_disposition() == "attachment"
    assert parts[1].get_filename() == "job-%s.html" % job, parts[1].get_filename()
assert parts[1].get_content_charset() == "utf-8"
# the page of sfootprint -j N --html: each row of the mail's page is the
# same there, but for the signature (sfootprint also names the key file);
# sfootprint adds rows from accounting (job name, state), not in a summary
page = open(page_path, encoding="utf-8").read()
def rows(s):
    return dict(re.findall(r'<tr data-key="([a-z_]+)">(.*?)</tr>', s))
mine, theirs = rows(html), rows(page)
print("# rows of the HTML part:", sorted(mine))
assert html.lstrip().lower().startswith("<!doctype html"), html[:40]
assert {"job_id", "energy", "footprint", "complete", "signature"} <= set(mine)
assert grams + " gCO2e" in mine["footprint"], mine["footprint"]
assert "valid (kid " in mine["signature"], mine["signature"]
for k, v in mine.items():
    assert k == "signature" or theirs.get(k) == v, (k, v, theirs.get(k))
assert html.count("<svg") == page.count("<svg") > 0, (html.count("<svg"), page.count("<svg"))
assert not re.search(r'(src|href)="https?:', html), "an external resource"
print("# MIME structure as wanted:", mode)
PY
	then
		check "MailHTML=$mode: the MIME structure, the summary's figures in both parts, the HTML part is sfootprint -j --html's report" true
	else
		check "MailHTML=$mode: the MIME structure, the summary's figures in both parts, the HTML part is sfootprint -j --html's report" false
	fi
	sed 's/^/#   /' "$work/mime.txt" | cut -c1-300 | head -n 20
done
# A job name out of ASCII: the subject in RFC 2047 words of whole
# characters. Words hold 45 bytes: padded so that the 45th byte falls
# inside a 3-byte euro sign, which a cut by bytes would split.
{ cat "$conf"; echo "MailHTML=alternative"; echo "Sendmail=$work/sendmail"; } > "$work/html.conf"
utf_subject="Slurm Job_id=$ended Name="
while [ $(((45 - ${#utf_subject}) % 3)) -ne 1 ]; do utf_subject+=x; done
utf_subject+="$(printf '\xe2\x82\xac%.0s' $(seq 20)) Ended, Run time 00:00:03, COMPLETED, ExitCode 0"
SLURM_JOB_ID=$ended SLURM_JOB_MAIL_TYPE=Ended "$FM" --config "$work/html.conf" \
	-s "$utf_subject" root < /dev/null 2> /dev/null
check "a UTF-8 subject is encoded in RFC 2047 words that each decode alone, and reads back whole" \
	python3 -c '
import base64, email, email.policy, re, sys
raw = open(sys.argv[1], "rb").read()
head = raw.split(b"\n\n")[0].decode("ascii")
words = re.findall(r"=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=", head)
assert len(words) >= 2, head
for w in words:
    base64.b64decode(w).decode("utf-8")
m = email.message_from_bytes(raw, policy=email.policy.default)
assert m["Subject"] == sys.argv[2], m["Subject"]
' "$work/sent.eml" "$utf_subject"
{ cat "$conf"; echo "MailHTML=alternative"; echo "Sendmail=/bin/false"; } > "$work/html.conf"
before=$(ls "$work" | grep -c "^mail\.$ended\.")
SLURM_JOB_ID=$ended SLURM_JOB_MAIL_TYPE=Ended "$FM" --config "$work/html.conf" \
	-s "$subject" root < /dev/null 2> "$work/err"
check_eq "a failing Sendmail: the text mail still goes through Mailer" "0 $((before + 1))" \
	"$? $(ls "$work" | grep -c "^mail\.$ended\.")"
check "and the fault is one line naming Sendmail" \
	bash -c "[ \$(grep -c . $work/err) -eq 1 ] && grep -q '/bin/false exited with 1; mailing the text with $work/mailer' $work/err"
{ cat "$conf"; echo "MailHTML=inline"; } > "$work/html.conf"
SLURM_JOB_ID=$ended SLURM_JOB_MAIL_TYPE=Ended "$FM" --config "$work/html.conf" \
	-s "$subject" root < /dev/null > /dev/null 2> "$work/err"
check "MailHTML=inline is refused, naming the line and the values" \
	grep -q "html.conf:[0-9]*: field 'MailHTML': 'inline' is not no (false, off, 0), alternative or attachment" "$work/err"

# Errors: one line naming the input; usage errors exit 2.
"$SF" -j 999999 > /dev/null 2> "$work/err"
check_eq "an unknown job exits 1" 1 $?
check "its error is one line naming the job" \
	bash -c "[ \$(wc -l < $work/err) -eq 1 ] && grep -q 999999 $work/err"
for args in "-j" "-j $ended -u root" "-S yesterday" "-E 2024-02-30" "--bogus" \
	"-p --json" "-j abc" "-j 4294967296" "-o JobID,Bogus" "show extra"; do
	"$SF" $args > /dev/null 2> "$work/err"
	check_eq "usage error exits 2: sfootprint $args" 2 $?
done
check "a bad time is named in the error" \
	bash -c "$SF -S yesterday 2>&1 | grep -q \"'yesterday'\""

check "no errors from footprint-mail in slurmctld's log" \
	bash -c "! grep -h 'MailProg returned error' $FP_DIR/log/slurmctld.log"
tap_done
