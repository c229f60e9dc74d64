#!/bin/bash
# Installs the packages `make deb` built and runs cluster tests against the
# installed files, not the build tree; then apt remove and purge (issue #17).
#   tests/deb/check-installed.sh [DEBDIR]     (make check-deb [SLURM=24.11])
# It changes the machine it runs on: dpkg -i, /usr, /var/spool/slurm, a key
# in /etc/slurm. make check-deb SLURM=24.11 runs it in a throwaway copy of
# the Debian 13 root; plain make check-deb on this host (Debian 12), which it
# leaves as found: the packages purged, the spool and key it made removed.
# FP_DEB_TESTS are the cluster tests run (tests/run.sh FP_ONLY): by default
# all but 14_install (it builds the tree) and 19_cluster_lock (the harness).
set -u
cd "$(dirname "$0")/../.."
dir=${1:-build/deb}
pkgs="slurm-footprint-node slurm-footprint-controller slurm-footprint-tools"
plugindir=/usr/lib/x86_64-linux-gnu/slurm-wlm
spool=/var/spool/slurm/footprint
key=/etc/slurm/fp-check-deb
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
deb() { ls "$dir"/"$1"_*_amd64.deb 2>/dev/null | head -n1; }

[ "$(id -u)" = 0 ] || { echo "check-installed: run as root (it installs packages)" >&2; exit 2; }
# fp-simnode (the simulated node) is a test tool, not packaged: the one the
# package build made, against the same libraries.
simnode=$dir/src/debian/build/fp-simnode
for p in $pkgs; do
	[ -n "$(deb "$p")" ] || { echo "check-installed: no $p in $dir: run make deb first" >&2; exit 2; }
done
[ -x "$simnode" ] || { echo "check-installed: no $simnode: run make deb first" >&2; exit 2; }
if dpkg-query -W -f='${db:Status-Abbrev}\n' $pkgs 2>/dev/null | grep -q '^.[^n]'; then
	echo "check-installed: slurm-footprint packages are installed here already; this test installs and purges them" >&2
	exit 2
fi
if [ -e "$spool" ] || [ -e "$key.key" ]; then
	echo "check-installed: $spool or $key.key exists already: not this test's to remove" >&2
	exit 2
fi
had_spool_parent=$([ -d /var/spool/slurm ] && echo 1)

echo "# tests/deb/run.sh $dir"
tests/deb/run.sh "$dir" > /tmp/fp-deb-run.$$ 2>&1
rc=$?
sed 's/^/    /' /tmp/fp-deb-run.$$
rm -f /tmp/fp-deb-run.$$
check "the packages pass tests/deb/run.sh" test "$rc" = 0

# shellcheck disable=SC2046
check "dpkg -i installs the three packages" \
	bash -c "DEBIAN_FRONTEND=noninteractive dpkg -i $(for p in $pkgs; do deb "$p"; done | tr '\n' ' ') > /dev/null"
check "the installed spool is SlurmUser's, mode 0750" \
	test "$(stat -c '%U %a' "$spool" 2>/dev/null)" = "slurm 750"

# FP_BUILD for the cluster tests: links to the installed tools and no plugin
# (FP_INSTALLED=1: PluginDir is Slurm's own, where the packages put theirs).
bin=$(mktemp -d /tmp/fp-installed.XXXXXX)
trap 'rm -rf "$bin"' EXIT
ln -s /usr/bin/sfootprint /usr/bin/footprint-mail \
	/usr/libexec/slurm-footprint/footprint-worker "$bin/"
cp "$simnode" "$bin/"
# Other users' jobs (test 12) run the tools too; the GPU tests' simulated
# node answers NVML through the project's stand-in for libnvidia-ml.so.1
# (not in any package: it stands in for NVIDIA's, as fp-simnode does for
# the hardware).
chmod 755 "$bin"
make --no-print-directory -s BUILD="$bin" "$bin/tests/nvml/libnvidia-ml.so.1" > /dev/null
check "the installed tools run" bash -c "/usr/bin/sfootprint --version > /dev/null"
check "no footprint-worker beside the plugins: jobcomp/carbon runs the packaged one" \
	test ! -e $plugindir/footprint-worker

for t in ${FP_DEB_TESTS:-01 02 03 04 05 06 07 08 09 10 11 12 13 15 16 17 18 20 21}; do
	echo "# cluster tests $t against the installed files"
	out=$(BUILD=$bin FP_BUILD=$bin FP_INSTALLED=1 FP_ONLY=$t FP_SKIP_HTML=1 FP_SKIP_SYMBOLS=1 FP_SKIP_FORMAT=1 \
		FP_SKIP_VALGRIND=1 FP_SKIP_FEED=1 tests/run.sh 2>&1)
	rc=$?
	sed 's/^/    /' <<< "$out"
	check "cluster test $t passes on the installed packages ($(tail -n1 <<< "$out" | sed 's/^check: //'))" \
		test "$rc" = 0
done

# A cluster whose summaries go to the packaged spool and whose key is in
# /etc/slurm, as an admin's: its summary and key must outlive remove and
# purge.
echo "# a job's summary in $spool, then apt remove and purge"
(
	source tests/cluster/cluster.sh
	source tests/integration/tap.sh
	trap 'fp_cluster_stop' EXIT
	export BUILD=$bin FP_BUILD=$bin FP_INSTALLED=1 FP_SIMNODE=1
	"$bin/sfootprint" keygen --out "$key" > /dev/null 2>&1 || exit 1
	export FP_FOOTPRINT_CONF="SigningKey=$key.key
PublicKey=$key.pub
SpoolDir=$spool
EnergySource=simulated
RetryInterval=2
WorkerTimeout=60
Site=home Nodes=fpnode Intensity=56 PUE=1.0 HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=0.8
NodeType=heater Nodes=fpnode Embodied=1100 Lifetime=6 CPUs=$(nproc)
Reference=standard-datacenter PUE=1.5 Intensity=site"
	fp_cluster_start || { fp_cluster_dump_logs; exit 1; }
	j=$(sbatch --parsable -n1 --wrap 'sleep 2') || exit 1
	fp_wait_job "$j" 60 && _fp_wait_for 120 "summary of job $j" test -s "$spool/summaries/$j.jws" || exit 1
	echo "$spool/summaries/$j.jws" > "$bin/summary"
)
check "a job of the installed cluster has its summary in $spool" test -s "$bin/summary"
sum=$(cat "$bin/summary" 2>/dev/null)
[ -n "$sum" ] || sum=$spool/summaries/none
check "the summary verifies with the installed sfootprint" \
	bash -c "sfootprint verify '$sum' --pubkey '$key.pub' > /dev/null"
before=$(sha256sum "$sum" "$key.key" "$key.pub" 2>/dev/null)

DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq $pkgs > /dev/null 2>&1
check "apt remove removes the three packages" \
	bash -c "! dpkg-query -W -f='\${db:Status-Abbrev}\n' $pkgs 2>/dev/null | grep -q '^.i'"
check "apt remove removes the plugins" \
	test ! -e $plugindir/jobcomp_carbon.so -a ! -e $plugindir/acct_gather_energy_footprint.so
check "apt remove leaves the summary and the keys as they were" \
	bash -c "[ -n '$before' ] && [ \"\$(sha256sum '$sum' '$key.key' '$key.pub' 2>/dev/null)\" = '$before' ]"
# (apt-get purge refuses every name when one is unknown: remove forgets a
# package with no conffiles)
left=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $pkgs 2>/dev/null | awk '$1 != "un" { print $2 }')
[ -z "$left" ] || DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $left > /dev/null 2>&1
check "apt purge forgets the three packages" \
	bash -c "! dpkg-query -W -f='\${db:Status-Abbrev}\n' $pkgs 2>/dev/null | grep -q '^.[^n]'"
check "apt purge leaves the summary and the keys as they were" \
	bash -c "[ -n '$before' ] && [ \"\$(sha256sum '$sum' '$key.key' '$key.pub' 2>/dev/null)\" = '$before' ]"

# Leave the machine as found: what this test made, and nothing else.
rm -rf "$spool" && rm -f "$key.key" "$key.pub"
[ -n "$had_spool_parent" ] || rmdir /var/spool/slurm 2>/dev/null
echo "check-deb: $pass passed, $fail failed"
[ "$fail" = 0 ]
