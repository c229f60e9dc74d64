#!/bin/bash
# Checks the Debian packages that `make deb` built (issue #17): what each one
# ships, what it depends on, its maintainer scripts and lintian's verdict.
#   tests/deb/run.sh [DEBDIR]            inspect only: this machine is not changed
#   tests/deb/run.sh --install [DEBDIR]  also dpkg -i them here, check the spool,
#                                        remove and purge them, check what stays
# --install changes the host's dpkg database, /usr and /var/spool/slurm: for a
# clean Debian machine, not while another build or apt-get runs.
set -u
install=
[ "${1:-}" = --install ] && install=1 && shift
dir=${1:-build/deb}
plugindir=/usr/lib/x86_64-linux-gnu/slurm-wlm
spool=/var/spool/slurm/footprint
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
deb() { ls "$dir"/"$1"_*_amd64.deb 2>/dev/null | head -n1; }
files() { dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's|^\./|/|'; }
has() { files "$1" | grep -qx "$2"; }

node=$(deb slurm-footprint-node) ctld=$(deb slurm-footprint-controller)
tools=$(deb slurm-footprint-tools)
if [ -z "$node" ] || [ -z "$ctld" ] || [ -z "$tools" ]; then
	echo "deb: no packages in $dir: run make deb first" >&2
	exit 2
fi
release=$(dpkg-query -W -f='${Version}' libslurm-dev | sed 's/^[0-9]*://; s/-[^-]*$//')
next=$(echo "$release" | awk -F. '{ printf "%s.%s.%d~", $1, $2, $3 + 1 }')
version=$(dpkg-parsechangelog -l "$(dirname "$0")/../../debian/changelog" -SVersion)+slurm$release

check "node ships the energy plugin in Slurm's plugin dir" has "$node" $plugindir/acct_gather_energy_footprint.so
check "node ships acct_gather_energy_footprint(5)" has "$node" /usr/share/man/man5/acct_gather_energy_footprint.5.gz
check "node ships the example acct_gather.conf" has "$node" /usr/share/doc/slurm-footprint-node/examples/acct_gather.conf
check "controller ships the jobcomp plugin in Slurm's plugin dir" has "$ctld" $plugindir/jobcomp_carbon.so
check "controller ships footprint-worker where the plugin looks" has "$ctld" /usr/libexec/slurm-footprint/footprint-worker
check "the plugin looks for the worker where it is shipped" \
	grep -q /usr/libexec/slurm-footprint/footprint-worker <(dpkg-deb --fsys-tarfile "$ctld" | tar -xO ".$plugindir/jobcomp_carbon.so")
check "controller ships footprint-mail and its man page" \
	bash -c "$(declare -f files has); has '$ctld' /usr/bin/footprint-mail && has '$ctld' /usr/share/man/man1/footprint-mail.1.gz"
check "controller ships the example footprint.conf" has "$ctld" /usr/share/doc/slurm-footprint-controller/examples/footprint.conf
ex=/usr/share/doc/slurm-footprint-controller/examples
check "controller ships the feed updater's service and timer" \
	bash -c "$(declare -f files has); has '$ctld' $ex/slurm-footprint-feed.service && has '$ctld' $ex/slurm-footprint-feed.timer"
check "the shipped service runs the sfootprint the tools package installs" \
	grep -qx 'ExecStart=/usr/bin/sfootprint signals update .*' <(dpkg-deb --fsys-tarfile "$ctld" | tar -xO ".$ex/slurm-footprint-feed.service")
check "tools ship sfootprint, sfootprint(1) and footprint.conf(5)" \
	bash -c "$(declare -f files has); has '$tools' /usr/bin/sfootprint && has '$tools' /usr/share/man/man1/sfootprint.1.gz && has '$tools' /usr/share/man/man5/footprint.conf.5.gz"
for p in "$node" "$ctld" "$tools"; do
	check "$(basename "$p") ships nothing in /etc (an admin's config is never replaced)" \
		bash -c "! dpkg-deb -c '$p' | awk '{ print \$6 }' | grep -q '^\./etc/.'"
	check "$(basename "$p") ships no libfootprint (linked statically)" \
		bash -c "! dpkg-deb -c '$p' | grep -q libfootprint"
done
for p in "$node" "$ctld" "$tools"; do
	check "$(basename "$p") is version $version (the Slurm release it was built for)" \
		test "$(dpkg-deb -f "$p" Version)" = "$version"
done
check "controller depends on the tools of its own build (= $version)" \
	bash -c "dpkg-deb -f '$ctld' Depends | grep -qF 'slurm-footprint-tools (= $version)'"
check "node depends on slurmd $release exactly (>= $release, << $next)" \
	bash -c "dpkg-deb -f '$node' Depends | grep -qF 'slurmd (>= $release), slurmd (<< $next)'"
check "controller depends on slurmctld $release exactly (>= $release, << $next)" \
	bash -c "dpkg-deb -f '$ctld' Depends | grep -qF 'slurmctld (>= $release), slurmctld (<< $next)'"

# The controller's postinst, run on a spool path of its own.
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
dpkg-deb -e "$ctld" "$t/ctl"
check "controller's postrm removes no file of the spool" \
	bash -c "! grep -Eq 'rm -[a-zA-Z]*r|rm .*$spool' '$t/ctl/postrm'"
if [ "$(id -u)" = 0 ] && getent passwd slurm >/dev/null; then
	sed "s|$spool|$t/spool/footprint|; s|/var/spool/slurm|$t/spool|" "$t/ctl/postinst" > "$t/postinst"
	sh "$t/postinst" configure >/dev/null
	check "postinst makes the spool, SlurmUser's, mode 0750" \
		test "$(stat -c '%U %a' "$t/spool/footprint" 2>/dev/null)" = "slurm 750"
	echo '{}' > "$t/spool/footprint/1.json"
	chmod 0700 "$t/spool/footprint"
	sh "$t/postinst" configure >/dev/null
	check "postinst leaves an existing spool as it is" \
		test "$(stat -c '%a' "$t/spool/footprint")" = 700 -a -e "$t/spool/footprint/1.json"
fi

lint=$(lintian "$dir"/*.changes 2>&1 | grep -v 'running with root privileges')
check "lintian reports no error" bash -c "! grep -q '^E:' <<< '$lint'"
[ -n "$lint" ] && echo "# lintian: $lint" | sed '2,$s/^/# /'

if [ -n "$install" ]; then
	DEBIAN_FRONTEND=noninteractive dpkg -i "$node" "$ctld" "$tools" >/dev/null
	check "dpkg -L lists the energy plugin in Slurm's plugin dir" \
		bash -c "dpkg -L slurm-footprint-node | grep -qx $plugindir/acct_gather_energy_footprint.so"
	check "dpkg -L lists the jobcomp plugin in Slurm's plugin dir" \
		bash -c "dpkg -L slurm-footprint-controller | grep -qx $plugindir/jobcomp_carbon.so"
	check "the installed spool is SlurmUser's, mode 0750" \
		test "$(stat -c '%U %a' $spool 2>/dev/null)" = "slurm 750"
	mark=$spool/deb-test-summary.json key=/etc/slurm/deb-test-footprint.key
	echo '{}' > "$mark" && echo key > "$key"
	dpkg -r slurm-footprint-controller slurm-footprint-node slurm-footprint-tools >/dev/null
	check "remove leaves summaries and keys" test -e "$mark" -a -e "$key"
	dpkg -P slurm-footprint-controller slurm-footprint-node slurm-footprint-tools >/dev/null
	check "purge leaves summaries and keys" test -e "$mark" -a -e "$key"
	rm -f "$mark" "$key"
	rmdir --ignore-fail-on-non-empty $spool 2>/dev/null
fi
echo "deb: $pass passed, $fail failed"
[ "$fail" = 0 ]
