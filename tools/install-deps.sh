#!/bin/sh
# Installs what slurm-footprint needs on Debian 12 (idempotent) and caches the
# Slurm source package whose internal headers the plugins are built against.
set -eu

CACHE=${1:-build/slurm-src}
WANT_VERSION=${2:-22.05.8}
PKGS="build-essential pkg-config slurm-wlm slurmdbd slurm-client munge
      libslurm-dev libpfm4-dev libhwloc-dev libjwt-dev libjansson-dev
      libcmocka-dev libssl-dev mariadb-server mariadb-client prometheus-node-exporter
      python3-jwt python3-cryptography curl iproute2 dpkg-dev valgrind openssl
      libacl1-dev acl"

log() { echo "deps: $*" >&2; }

# Inside a root made by tools/slurm-root.sh everything is installed already
# (and there is no network): only check the release and the source.
if [ -n "${FP_IN_ROOT:-}" ]; then
	have=$(slurmctld -V 2>/dev/null | sed -n 's/^slurm[^ ]* //p')
	if [ "$have" != "$WANT_VERSION" ]; then
		log "this root's slurmctld is '$have', not $WANT_VERSION; refusing"
		exit 1
	fi
	if [ -z "${SLURM_SRC:-}" ] && ! ls "$CACHE"/slurm-wlm_"$WANT_VERSION".orig.tar.* >/dev/null 2>&1; then
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

# deb-src entries mirroring the binary ones, so that apt-get source finds
# exactly the Slurm that is installed.
add_deb_src() {
	if grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ ||
	   grep -qs '^deb-src ' /etc/apt/sources.list; then
		return 0
	fi
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
			$SUDO tee /etc/apt/sources.list.d/footprint-src.sources >/dev/null
	elif [ -f /etc/apt/sources.list ]; then
		sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list |
			$SUDO tee /etc/apt/sources.list.d/footprint-src.list >/dev/null
	else
		log "no Debian apt source found to mirror as deb-src"
		return 1
	fi
	log "added deb-src entries"
	NEED_UPDATE=1
}

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done

NEED_UPDATE=
add_deb_src
src_ok=
ls "$CACHE"/slurm-wlm_${WANT_VERSION}*.orig.tar.* >/dev/null 2>&1 && src_ok=1

if [ -n "$missing" ] || { [ -z "$src_ok" ] && [ -z "${SLURM_SRC:-}" ]; }; then
	NEED_UPDATE=1
fi
if [ -n "$NEED_UPDATE" ]; then
	log "apt-get update"
	$SUDO apt-get update -qq || log "apt-get update reported errors (continuing)"
fi
if [ -n "$missing" ]; then
	log "installing:$missing"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
fi

have=$(dpkg-query -W -f='${Version}' slurm-wlm 2>/dev/null || true)
case "$have" in
"$WANT_VERSION"-*) ;;
*)
	log "installed slurm-wlm is '$have' but these plugins are built for $WANT_VERSION; refusing"
	exit 1
	;;
esac

if [ -z "${SLURM_SRC:-}" ] && [ -z "$src_ok" ]; then
	mkdir -p "$CACHE"
	log "fetching the slurm-wlm $WANT_VERSION source package into $CACHE"
	(cd "$CACHE" && apt-get source --download-only -qq "slurm-wlm=$have" >/dev/null)
fi
log "all dependencies present"
