#!/bin/sh
# What slurm-footprint needs on Debian 12, in two sets: what builds it (make
# deps) and the servers its tests and demo run (make deps-test), and the
# check that a build has what it needs before the compiler runs.
#
#   install-deps.sh build CACHE VERSION   compiler, -dev packages, Slurm source
#   install-deps.sh test CACHE VERSION    daemons and tools of the test cluster
#   install-deps.sh deb CACHE VERSION     build, and debhelper and lintian
#   install-deps.sh check [unit]          one line naming what a build lacks
#   install-deps.sh check-slurm CACHE VERSION HINT   the Slurm source is there
#
# build and test are idempotent. A production controller needs only build:
# test brings a database server, munge and Slurm's daemons.
set -eu

# What a build of the library, plugins and tools needs (make, make unit).
BUILD_PKGS="build-essential pkg-config dpkg-dev libslurm-dev libpfm4-dev
	libhwloc-dev libjwt-dev libjansson-dev libssl-dev libacl1-dev
	libcurl4-openssl-dev libzstd-dev
	libcmocka-dev"
# What make deb adds to a build: Debian's packaging tools.
DEB_PKGS="debhelper lintian"
# What the cluster tests and the demo run (make check, make demo).
TEST_PKGS="slurm-wlm slurmdbd slurm-client munge mariadb-server mariadb-client
	prometheus-node-exporter python3-jwt python3-cryptography curl iproute2
	valgrind openssl acl prometheus chromium zstd clang-format"

log() { echo "deps: $*" >&2; }
here=$(cd "$(dirname "$0")" && pwd)

# The packages of a build that are missing, judged by what the compiler
# sees, not by dpkg: a Slurm or libjwt built from source counts too.
missing_build() { # [unit]
	cc=${CC:-cc}
	m=
	if ! command -v "${cc%% *}" >/dev/null 2>&1 ||
	   ! printf '#include <stdio.h>\n' | $cc -E -x c - -o /dev/null 2>/dev/null; then
		m="$m build-essential"
	fi
	if ! command -v pkg-config >/dev/null 2>&1; then
		m="$m pkg-config libhwloc-dev libjansson-dev libjwt-dev libssl-dev libcurl4-openssl-dev libzstd-dev"
	else
		for pair in hwloc:libhwloc-dev jansson:libjansson-dev \
			    libjwt:libjwt-dev libcrypto:libssl-dev \
			    libcurl:libcurl4-openssl-dev libzstd:libzstd-dev; do
			pkg-config --exists "${pair%%:*}" || m="$m ${pair#*:}"
		done
	fi
	headers="perfmon/pfmlib.h:libpfm4-dev sys/acl.h:libacl1-dev slurm/slurm.h:libslurm-dev"
	[ "${1:-}" = unit ] && headers="$headers stdarg.h,stddef.h,setjmp.h,cmocka.h:libcmocka-dev"
	case "$m" in *build-essential*) headers= ;; esac
	for pair in $headers; do
		src=
		for h in $(echo "${pair%%:*}" | tr , ' '); do
			src="$src#include <$h>
"
		done
		printf '%s' "$src" | $cc -E -x c - -o /dev/null 2>/dev/null ||
			m="$m ${pair#*:}"
	done
	echo "${m# }"
}

case "${1:-}" in
check)
	m=$(missing_build "${2:-}")
	[ -z "$m" ] && exit 0
	echo "slurm-footprint: build dependencies missing ($m): run \`make deps\` (as root)" >&2
	exit 1
	;;
check-slurm)
	# The plugins need Slurm's internal headers, which only its source has.
	cache=$2 version=$3 hint=$4
	[ -n "${SLURM_SRC:-}" ] && exit 0
	ls "$cache"/slurm-wlm_"$version"*.orig.tar.* >/dev/null 2>&1 && exit 0
	echo "slurm-footprint: Slurm $version headers missing: run \`$hint\` (as root) or pass SLURM_SRC=/path/to/slurm-$version" >&2
	exit 1
	;;
build | test | deb) mode=$1 CACHE=$2 WANT_VERSION=$3 ;;
*)
	echo "usage: install-deps.sh build|test|deb CACHE VERSION | check [unit] | check-slurm CACHE VERSION HINT" >&2
	exit 2
	;;
esac

# Inside a root made by tools/slurm-root.sh everything is installed already
# (and there is no network): only check the release and the source.
if [ -n "${FP_IN_ROOT:-}" ]; then
	if [ "$mode" = test ]; then
		have=$(slurmctld -V 2>/dev/null | sed -n 's/^slurm[^ ]* //p')
		if [ "$have" != "$WANT_VERSION" ]; then
			log "this root's slurmctld is '$have', not $WANT_VERSION; refusing"
			exit 1
		fi
	elif [ -z "${SLURM_SRC:-}" ] && ! ls "$CACHE"/slurm-wlm_"$WANT_VERSION".orig.tar.* >/dev/null 2>&1; then
		log "no Slurm $WANT_VERSION source in $CACHE (fetched outside the root by make)"
		exit 1
	fi
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

case $mode in
build) PKGS=$BUILD_PKGS ;;
deb) PKGS="$BUILD_PKGS $DEB_PKGS" ;;
*) PKGS=$TEST_PKGS ;;
esac
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	log "apt-get update"
	$SUDO apt-get update -qq || log "apt-get update reported errors (continuing)"
	log "installing:$missing"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
fi

if [ "$mode" = test ]; then
	have=$(dpkg-query -W -f='${Version}' slurm-wlm 2>/dev/null || true)
	case "$have" in
	"$WANT_VERSION"-*) ;;
	*)
		log "installed slurm-wlm is '$have' but these plugins are built for $WANT_VERSION; refusing"
		exit 1
		;;
	esac
	log "test dependencies present"
	exit 0
fi

# The Slurm source of exactly WANT_VERSION, from the Debian suite that ships
# it, through a private apt configuration: the machine's apt sources are
# not changed.
if [ -z "${SLURM_SRC:-}" ]; then
	$SUDO "$here/slurm-headers.sh" fetch "$CACHE" "$WANT_VERSION"
fi
log "build dependencies present"
