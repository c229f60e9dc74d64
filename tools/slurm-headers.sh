#!/bin/sh
# Prepares Slurm's internal headers for out-of-tree plugin builds: the source
# tree (SLURM_SRC, or the cached Debian source package) and a minimal config.h.
set -eu
cache=$1 out=$2 version=$3 src=${4:-}

if [ -z "$src" ]; then
	tarball=$(ls "$cache"/slurm-wlm_"$version"*.orig.tar.* 2>/dev/null | head -n1)
	if [ -z "$tarball" ]; then
		echo "slurm-headers: no Slurm $version source in $cache; run 'make deps' or set SLURM_SRC" >&2
		exit 1
	fi
	src=$(ls -d "$cache"/slurm-*/ 2>/dev/null | head -n1)
	if [ -z "$src" ] || [ ! -f "$src/src/common/slurm_xlator.h" ]; then
		tar -xf "$tarball" -C "$cache"
		src=$(ls -d "$cache"/slurm-*/ | head -n1)
	fi
fi
src=$(cd "$src" && pwd)
if [ ! -f "$src/src/common/slurm_xlator.h" ]; then
	echo "slurm-headers: $src is not a Slurm source tree" >&2
	exit 1
fi
got=$(sed -n 's/^[[:space:]]*Version:[[:space:]]*//p' "$src/META" 2>/dev/null | head -n1)
if [ "$got" != "$version" ]; then
	echo "slurm-headers: $src is Slurm '$got', these plugins need $version" >&2
	exit 1
fi
mkdir -p "$out"
ln -sfn "$src" "$out/root"
printf '#define USE_ALIAS 1\n#define NDEBUG 1\n' > "$out/config.h"
touch "$out/.ready"
