#!/bin/bash
# A Debian root holding another Slurm release (24.11.5 in trixie) for building
# and testing against that release's own daemons and libraries, in private
# mount, network and UTS namespaces so it never meets the host's cluster.
#
# Use:
#   tools/slurm-root.sh path VERSION        prints the root's folder, making it
#                                           first when not cached
#   tools/slurm-root.sh run VERSION CMD...  runs CMD inside the root, in fresh
#                                           namespaces, cwd /src (this tree,
#                                           bind-mounted)
#   tools/slurm-root.sh run-copy VERSION CMD...  the same in a throwaway
#                                           overlay of the root: what CMD
#                                           installs or removes is gone after
# A root is kept in $FP_ROOT_CACHE/<suite>-<hash> where the hash covers the
# suite, the mirror, the package list and this script's root recipe: a
# changed list makes a new root, an unchanged one is reused. Downloaded
# packages stay in $FP_ROOT_CACHE/../debs, so remaking a root is local. Only
# Debian's archive (the mirror this machine already uses) is contacted.
set -euo pipefail

FP_CACHE=${FP_CACHE:-/var/cache/slurm-footprint}
FP_ROOT_CACHE=${FP_ROOT_CACHE:-$FP_CACHE/roots}
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/.." && pwd)

log() { echo "slurm-root: $*" >&2; }

# Slurm release -> Debian suite that ships exactly it.
suite_of() {
	case "$1" in
	24.11.5) echo trixie ;;
	*)
		log "no Debian root known for Slurm $1 (known: 24.11.5 in trixie)"
		return 1
		;;
	esac
}

# The Debian mirror this machine's own apt uses (never anything else).
mirror() {
	local m
	m=$(sed -n 's/^URIs:[[:space:]]*\(.*debian\/\?\)$/\1/p' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1)
	[ -n "$m" ] || m=$(sed -n 's/^deb[[:space:]]\+\(http[^[:space:]]*debian\/\?\)[[:space:]].*/\1/p' \
		/etc/apt/sources.list 2>/dev/null | head -n1)
	[ -n "$m" ] || { log "no Debian mirror found in /etc/apt"; return 1; }
	echo "${m%/}"
}

# Pinned: what the tools, plugins, cluster tests and make deb need inside
# the root.
PKGS="slurmctld slurmd slurmdbd slurm-client munge libslurm-dev
      mariadb-server mariadb-client
      build-essential pkg-config libpfm4-dev libhwloc-dev libjwt-dev
      libjansson-dev libcmocka-dev libssl-dev libacl1-dev acl
      python3 python3-jwt python3-cryptography curl iproute2 procps
      valgrind openssl prometheus-node-exporter util-linux
      libcurl4-openssl-dev libzstd-dev prometheus zstd
      debhelper lintian"
# Bumped when the recipe below changes in a way the list does not show.
RECIPE=4

# slurmdbd 24.11.5 with trixie's libmariadb3 (MariaDB 11.8's Connector/C)
# stops at its CONCAT() sanity check with error 5027 ("Number of columns in
# result (=1) set execeeds maxmimum allowed number of columns (=0)") for
# "select @var := concat('')"; with bookworm's libmariadb3 (10.11) it works.
# slurmdbd alone gets bookworm's library (this machine's own suite, from its
# own apt sources), through a wrapper dpkg-diverted over /usr/sbin/slurmdbd.
mariadb_client() { # root
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq libmariadb3) || { rm -rf "$tmp"; return 1; }
	dpkg-deb -x "$tmp"/libmariadb3_*.deb "$tmp/x"
	mkdir -p "$1/usr/lib/fp-bookworm-mariadb"
	cp -a "$tmp"/x/usr/lib/x86_64-linux-gnu/libmariadb.so.3* "$1/usr/lib/fp-bookworm-mariadb/"
	basename "$tmp"/libmariadb3_*.deb > "$1/usr/lib/fp-bookworm-mariadb/FROM"
	rm -rf "$tmp"
	chroot "$1" dpkg-divert --local --rename --add /usr/sbin/slurmdbd
	cat > "$1/usr/sbin/slurmdbd" <<'EOF'
#!/bin/sh
# slurm-footprint's test root: slurmdbd with bookworm's libmariadb (see
# tools/slurm-root.sh); the real one is slurmdbd.distrib.
LD_LIBRARY_PATH=/usr/lib/fp-bookworm-mariadb${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec /usr/sbin/slurmdbd.distrib "$@"
EOF
	chmod 755 "$1/usr/sbin/slurmdbd"
}

make_root() { # suite dir
	local suite=$1 dir=$2 m debs=$FP_CACHE/debs/$1 t0
	m=$(mirror)
	command -v debootstrap >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	mkdir -p "$debs/partial"
	rm -rf "$dir.tmp"
	t0=$SECONDS
	log "debootstrap $suite from $m into $dir (a few minutes, once)"
	debootstrap --variant=minbase --cache-dir="$debs" "$suite" "$dir.tmp" "$m" \
		> "$dir.tmp.log" 2>&1 || { tail -n 20 "$dir.tmp.log" >&2; return 1; }
	# No service may start while packages install.
	printf '#!/bin/sh\nexit 101\n' > "$dir.tmp/usr/sbin/policy-rc.d"
	chmod 755 "$dir.tmp/usr/sbin/policy-rc.d"
	echo "deb $m $suite main" > "$dir.tmp/etc/apt/sources.list"
	mkdir -p "$dir.tmp/var/cache/apt/archives"
	local rc=0
	# In a mount namespace of its own: nothing stays mounted if it dies.
	# shellcheck disable=SC2086
	unshare -m sh -c 'set -e; mount --make-rprivate /
		mount --bind "$1" "$2/var/cache/apt/archives"
		mount -t proc proc "$2/proc"
		shift 2
		exec chroot "$0" sh -c "apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $*"' "$dir.tmp" "$debs" "$dir.tmp" $PKGS \
		>> "$dir.tmp.log" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		tail -n 20 "$dir.tmp.log" >&2
		return 1
	fi
	mariadb_client "$dir.tmp" >> "$dir.tmp.log" 2>&1 || {
		tail -n 20 "$dir.tmp.log" >&2
		return 1
	}
	chroot "$dir.tmp" dpkg-query -W -f='${Package} ${Version}\n' > "$dir.tmp/packages.txt"
	mv "$dir.tmp.log" "$dir.tmp/root-build.log"
	mv "$dir.tmp" "$dir"
	log "root ready in $((SECONDS - t0)) s: $dir"
}

root_path() { # version
	local suite key dir
	suite=$(suite_of "$1")
	key=$(printf '%s\n' "$suite" "$(mirror)" $PKGS "$RECIPE" | sha256sum | cut -c1-12)
	dir=$FP_ROOT_CACHE/$suite-$key
	mkdir -p "$FP_ROOT_CACHE"
	(
		flock 9
		[ -f "$dir/packages.txt" ] || make_root "$suite" "$dir"
	) 9> "$FP_ROOT_CACHE/.lock"
	local have
	have=$(sed -n 's/^slurmctld \([0-9.]*\)-.*/\1/p' "$dir/packages.txt")
	if [ "$have" != "$1" ]; then
		log "$dir has slurmctld $have, not $1"
		return 1
	fi
	echo "$dir"
}

# The host's cgroup trees are shared: a cluster in the root would make the
# same slurm_<node> cgroups as the host's cluster of the same node names.
# The root runs in a child cgroup of each hierarchy (the name of its run)
# and its own cgroup namespace, so its slurm_<node> are in there.
cg_dir() { # hierarchy's controllers from /proc/self/cgroup
	case "$1" in
	"") if [ -d /sys/fs/cgroup/unified ]; then echo /sys/fs/cgroup/unified; else echo /sys/fs/cgroup; fi ;;
	name=*) echo "/sys/fs/cgroup/${1#name=}" ;;
	*) echo "/sys/fs/cgroup/$1" ;;
	esac
}

cg_enter() { # name: moves this shell into a child cgroup in every hierarchy
	local n ctrls path d
	while IFS=: read -r n ctrls path; do
		d=$(cg_dir "$ctrls")${path%/}
		[ -f "$d/cgroup.procs" ] || continue
		mkdir -p "$d/$1"
		if [ -f "$d/cpuset.cpus" ]; then
			cat "$d/cpuset.cpus" > "$d/$1/cpuset.cpus"
			cat "$d/cpuset.mems" > "$d/$1/cpuset.mems"
		fi
		echo "$BASHPID" > "$d/$1/cgroup.procs"
	done < /proc/self/cgroup
}

cg_remove() { # name: what cg_enter made, and what the cluster left in it
	local n ctrls path d pids i
	# Whatever is still in there was started by this run (the root's
	# daemons after an interrupted test): nothing else can be.
	for i in 1 2 3; do
		pids=$(while IFS=: read -r n ctrls path; do
			d=$(cg_dir "$ctrls")${path%/}/$1
			[ -d "$d" ] && find "$d" -name cgroup.procs -exec cat {} +
		done < /proc/self/cgroup | sort -u)
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null
		sleep 0.5
	done
	while IFS=: read -r n ctrls path; do
		d=$(cg_dir "$ctrls")${path%/}/$1
		[ -d "$d" ] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null ||
			log "could not remove $d (processes left in it?)"
	done < /proc/self/cgroup
}

# The root's view of its cgroups: fresh mounts inside its cgroup namespace.
cg_mount() { # root
	local n ctrls path m
	mount -t tmpfs -o mode=755 tmpfs "$1/sys/fs/cgroup"
	while IFS=: read -r n ctrls path; do
		m=$1$(cg_dir "$ctrls")
		mkdir -p "$m"
		case "$ctrls" in
		"") mount -t cgroup2 cgroup2 "$m" ;;
		name=*) mount -t cgroup -o "none,$ctrls" cgroup "$m" ;;
		*) mount -t cgroup -o "$ctrls" cgroup "$m" ;;
		esac
	done < /proc/self/cgroup
}

# Inside the new namespaces: mounts, a hostname and a loopback with a second
# address (24.11's getaddrinfo(AI_ADDRCONFIG) finds no address with only
# 127.0.0.1 and the daemons fail to resolve), then chroot.
inner() { # root cmd...
	local root=$1
	shift
	mount --make-rprivate /
	# run-copy: the cached root is the overlay's read-only lower layer.
	if [ -n "${FP_ROOT_UPPER:-}" ]; then
		mkdir -p "$FP_ROOT_UPPER"/{upper,work,root}
		mount -t overlay overlay -o "lowerdir=$root,upperdir=$FP_ROOT_UPPER/upper,workdir=$FP_ROOT_UPPER/work" \
			"$FP_ROOT_UPPER/root"
		root=$FP_ROOT_UPPER/root
	fi
	# `ip netns` inside wants / to be a mount point.
	mount --bind "$root" "$root"
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount --rbind /dev "$root/dev"
	cg_mount "$root"
	mount -t tmpfs tmpfs "$root/run"
	mount -t tmpfs tmpfs "$root/tmp"
	mkdir -p "$root/src"
	mount --bind "$tree" "$root/src"
	hostname fproot
	ip link set lo up
	ip addr add 169.254.213.1/32 dev lo
	printf '127.0.0.1 localhost fproot\n' > "$root/etc/hosts"
	# No name server is reachable from here: the host's, copied in by
	# debootstrap, made every lookup of a name outside the hosts files wait
	# for the resolver's timeouts in the multi-node test's namespaces (slurmd
	# replies came too late: "Could not confirm batch launch", "Unexpected
	# missing socket error"). A local one refuses at once.
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$root/etc/resolv.conf"
	mkdir -p "$root/run/munge"
	exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM="${TERM:-dumb}" CI="${CI:-}" \
		FP_ONLY="${FP_ONLY:-}" FP_SKIP_TESTS="${FP_SKIP_TESTS:-}" \
		FP_KEEP="${FP_KEEP:-}" \
		FP_IN_ROOT=1 LANG=C.UTF-8 "$@"
}

case "${1:-}" in
path)
	root_path "$2"
	;;
run | run-copy)
	root=$(root_path "$2")
	cg=fp-root-$2-$$
	upper=
	if [ "$1" = run-copy ]; then
		mkdir -p "$FP_CACHE/overlays"
		upper=$(mktemp -d "$FP_CACHE/overlays/$2.XXXXXX")
	fi
	shift 2
	rc=0
	trap 'cg_remove "$cg"; [ -z "$upper" ] || rm -rf "$upper"; exit 130' INT TERM HUP
	(
		cg_enter "$cg"
		FP_ROOT_UPPER=$upper exec unshare -C -m -n -u -p --fork "$0" __inner "$root" \
			/bin/bash -c 'cd /src && exec "$@"' bash "$@"
	) &
	# (in the background: a signal must not wait for the run to end)
	wait $! || rc=$?
	cg_remove "$cg"
	[ -z "$upper" ] || rm -rf "$upper"
	exit $rc
	;;
__inner)
	shift
	inner "$@"
	;;
*)
	echo "use: $0 path VERSION | run VERSION CMD... | run-copy VERSION CMD..." >&2
	exit 2
	;;
esac
