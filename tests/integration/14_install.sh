#!/bin/bash
# Building and installing as an admin would, without a cluster: make on a
# machine without its dependencies says what to run, make deps installs no
# server, make install puts each file where the README says and leaves a
# plugin that runs the installed worker, whatever PREFIX, and writes no /etc.
set -u
cd "$(dirname "$0")/../.."
source tests/integration/tap.sh
# This test runs its own makes: nothing of the caller's make (check's
# BUILD=, SANITIZE=, jobserver) may leak into them.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
FP_BUILD=${FP_BUILD:-build}
SRC=${SLURM_SRC:-$(readlink -f "$FP_BUILD/slurm/root" 2>/dev/null)}
VERSION=$(sed -n 's/^[[:space:]]*Version:[[:space:]]*//p' "$SRC/META" 2>/dev/null | head -n1)
# make exports its command-line variables to recipes: check's SLURM_SRC=,
# BUILD= and SANITIZE= would reach these makes through the environment.
unset SLURM_SRC BUILD SANITIZE TSAN
T=$(mktemp -d /tmp/fp-install.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT INT TERM
mk() { make --no-print-directory SLURM_VERSION="$VERSION" "$@"; }

if [ -z "$VERSION" ]; then
	check "a Slurm source tree to build against (SLURM_SRC or $FP_BUILD/slurm/root)" false
	tap_done
	exit 1
fi

# ---- make before make deps ---------------------------------------------
# Only make's own "*** [...] Error 1" may follow the one line.
one_line_then_stop() { # file, pattern
	[ "$(grep -c "$2" "$1")" = 1 ] && ! grep -q 'error:\|^  CC \|^  AR ' "$1" &&
		[ "$(grep -vc "$2\|^make: \*\*\*" "$1")" = 0 ]
}
mk BUILD="$T/fresh" > "$T/fresh.out" 2>&1
check "make without the Slurm source fails" test $? -ne 0
check "make without the Slurm source says in one line to run make deps or pass SLURM_SRC, before compiling" \
	one_line_then_stop "$T/fresh.out" \
	"^slurm-footprint: Slurm $VERSION headers missing: run \`make deps BUILD=$T/fresh\( SLURM_VERSION=$VERSION\)\?\` (as root) or pass SLURM_SRC=/path/to/slurm-$VERSION$"
check "make without the Slurm source compiles nothing" test ! -e "$T/fresh/lib"

mkdir -p "$T/no-pc"
PKG_CONFIG_LIBDIR=$T/no-pc mk BUILD="$T/fresh" SLURM_SRC="$SRC" > "$T/nopc.out" 2>&1
check "make without the -dev packages pkg-config knows fails" test $? -ne 0
check "make without the -dev packages names them and make deps in one line" \
	one_line_then_stop "$T/nopc.out" \
	'^slurm-footprint: build dependencies missing (libhwloc-dev libjansson-dev libjwt-dev libssl-dev libcurl4-openssl-dev libzstd-dev): run `make deps` (as root)$'

# A compiler that sees /usr/include without libpfm4's and Slurm's headers.
mkdir -p "$T/inc"
for e in /usr/include/*; do
	case "${e##*/}" in perfmon | slurm) ;; *) ln -s "$e" "$T/inc/" ;; esac
done
cc_hidden="cc -nostdinc -isystem $(cc -print-file-name=include) -isystem $T/inc/x86_64-linux-gnu -isystem $T/inc"
mk BUILD="$T/fresh" SLURM_SRC="$SRC" CC="$cc_hidden" > "$T/noh.out" 2>&1
check "make without libpfm4's and Slurm's headers fails" test $? -ne 0
check "make without libpfm4's and Slurm's headers names their packages in one line" \
	one_line_then_stop "$T/noh.out" \
	'^slurm-footprint: build dependencies missing (libpfm4-dev libslurm-dev): run `make deps` (as root)$'
mk BUILD="$T/fresh" SLURM_SRC="$SRC" CC=/nonexistent/cc > "$T/nocc.out" 2>&1
check "make without a compiler names build-essential in one line" \
	one_line_then_stop "$T/nocc.out" \
	'^slurm-footprint: build dependencies missing (build-essential): run `make deps` (as root)$'

# ---- which packages each set installs (apt and dpkg stubbed) --------------
mkdir -p "$T/stub"
cat > "$T/stub/apt-get" <<EOF
#!/bin/sh
[ "\$1" = install ] && echo "\$@" >> "$T/apt.log"
exit 0
EOF
cat > "$T/stub/dpkg-query" <<'EOF'
#!/bin/sh
# nothing is installed; slurm-wlm's version is asked after the install
case "$*" in *Version*) echo "${STUB_SLURM:-}-1" ;; esac
EOF
printf '#!/bin/sh\nexec "$@"\n' > "$T/stub/sudo"
chmod +x "$T/stub/"*
deps_run() { # mode
	: > "$T/apt.log"
	env -u FP_IN_ROOT PATH="$T/stub:$PATH" SLURM_SRC="$SRC" STUB_SLURM="$VERSION" \
		tools/install-deps.sh "$1" "$T/cache" "$VERSION" > "$T/deps-$1.out" 2>&1
}
asks_for() { grep -qw -- "$1" "$T/apt.log"; }
servers="mariadb-server slurm-wlm slurmdbd munge prometheus-node-exporter valgrind"
check "install-deps.sh build runs" deps_run build
check "make deps installs the compiler and the -dev packages" \
	bash -c "grep -qw build-essential '$T/apt.log' && grep -qw libslurm-dev '$T/apt.log' && grep -qw libjwt-dev '$T/apt.log'"
for p in $servers; do
	check "make deps installs no $p" bash -c "! grep -qw -- '$p' '$T/apt.log'"
done
check "install-deps.sh test runs" deps_run test
for p in $servers; do
	check "make deps-test installs $p" asks_for "$p"
done
check "make check and make demo install the test servers (deps-test), make install does not" \
	bash -c "make -n check BUILD='$T/n' SLURM_SRC='$SRC' 2>&1 | grep -q 'install-deps.sh test' &&
		make -n demo BUILD='$T/n' SLURM_SRC='$SRC' 2>&1 | grep -q 'install-deps.sh test' &&
		! make -n install BUILD='$T/n' SLURM_SRC='$SRC' 2>&1 | grep -q 'install-deps.sh \(build\|test\)'"

# ---- make install --------------------------------------------------------
B=$T/build
# The worker path compiled into an installed plugin (a string ending in
# /footprint-worker that starts with /).
worker_of() { strings "$1" | grep '^/.*/footprint-worker$'; }

mk BUILD="$B" SLURM_SRC="$SRC" -j2 > "$T/make.out" 2>&1
check "a plain make builds" test $? -eq 0
check_eq "a plain make's plugin runs the worker of the default PREFIX" \
	/usr/local/libexec/slurm-footprint/footprint-worker "$(worker_of "$B/jobcomp_carbon.so")"

check "make -n install runs nothing" bash -c "make -n install BUILD='$T/nb' PREFIX='$T/np' \
	SLURM_SRC='$SRC' > '$T/dry.out' 2>&1 && test ! -e '$T/nb' && test ! -e '$T/np'"
check "make -n install writes nothing under /etc" bash -c "! grep -q ' /etc' '$T/dry.out'"

D=$T/destdir
mk install BUILD="$B" SLURM_SRC="$SRC" PREFIX=/opt/fp DESTDIR="$D" > "$T/inst1.out" 2>&1
check "make install PREFIX=/opt/fp DESTDIR=... after a plain make installs" test $? -eq 0
check_eq "the installed plugin runs the worker installed under PREFIX=/opt/fp" \
	/opt/fp/libexec/slurm-footprint/footprint-worker \
	"$(worker_of "$D/usr/lib/x86_64-linux-gnu/slurm-wlm/jobcomp_carbon.so")"
check "the worker is installed there" test -x "$D/opt/fp/libexec/slurm-footprint/footprint-worker"
check "fp-simnode is installed in libexec" test -x "$D/opt/fp/libexec/slurm-footprint/fp-simnode"
check "fp-simnode is not installed in bin" test ! -e "$D/opt/fp/bin/fp-simnode"
check "the worker is not installed in bin" test ! -e "$D/opt/fp/bin/footprint-worker"
for f in bin/sfootprint bin/footprint-mail lib/libfootprint.so lib/libfootprint.a \
	share/man/man1/sfootprint.1 share/man/man5/footprint.conf.5 \
	share/man/man5/acct_gather_energy_footprint.5; do
	check "make install installs \$PREFIX/$f" test -e "$D/opt/fp/$f"
done
printf '#include <footprint/footprint.h>\nint main(void) { fp_error_t e; fp_error_clear(&e); return e.code; }\n' > "$T/api.c"
check "a program builds against the installed footprint/footprint.h and libfootprint.so" \
	${CC:-cc} -std=c11 -I"$D/opt/fp/include" $(pkg-config --cflags jansson) -o "$T/api" "$T/api.c" \
	-L"$D/opt/fp/lib" -lfootprint
for f in footprint.conf acct_gather.conf methodology.md model.md trace-format.md sensor-feed.md; do
	check "make install installs $f in share/doc/slurm-footprint" \
		test -s "$D/opt/fp/share/doc/slurm-footprint/$f"
done
check "the installed example footprint.conf is etc/footprint.conf" \
	cmp -s etc/footprint.conf "$D/opt/fp/share/doc/slurm-footprint/footprint.conf"
check "both plugins go to PLUGINDIR" bash -c "test -e '$D/usr/lib/x86_64-linux-gnu/slurm-wlm/acct_gather_energy_footprint.so'"
check "make install creates nothing in /etc" test ! -e "$D/etc"
stray=$(cd "$D" && find . -type f | grep -v '^\./opt/fp/\|^\./usr/lib/x86_64-linux-gnu/slurm-wlm/')
check_eq "make install writes only under PREFIX and PLUGINDIR" "" "$stray"

# Two real installs, one PREFIX after the other, from the same build.
for p in "$T/fp-prefix" "$T/fp-prefix2"; do
	mk install BUILD="$B" SLURM_SRC="$SRC" PREFIX="$p" PLUGINDIR="$p/lib/slurm" > "$T/inst.out" 2>&1
	check "make install PREFIX=${p##*/} installs" test $? -eq 0
	w=$(worker_of "$p/lib/slurm/jobcomp_carbon.so")
	check_eq "the plugin installed with PREFIX=${p##*/} runs that PREFIX's worker" \
		"$p/libexec/slurm-footprint/footprint-worker" "$w"
	check "PREFIX=${p##*/}'s worker is there and runs" test -x "$w"
done
check "the first PREFIX's plugin was left as it was installed" \
	bash -c "strings '$T/fp-prefix/lib/slurm/jobcomp_carbon.so' | grep -q '^$T/fp-prefix/libexec'"
mk BUILD="$B" SLURM_SRC="$SRC" PREFIX="$T/fp-prefix2" > "$T/again.out" 2>&1
check "the same PREFIX again rebuilds nothing" bash -c "! grep -q '  CC ' '$T/again.out'"

# A packaging install by a user who may write nothing but DESTDIR.
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	mkdir -p "$T/d-nobody" && chown nobody "$T/d-nobody"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		make --no-print-directory install SLURM_VERSION="$VERSION" BUILD="$B" \
		SLURM_SRC="$SRC" PREFIX="$T/fp-prefix2" DESTDIR="$T/d-nobody" > "$T/nobody.out" 2>&1
	check "a DESTDIR install runs as a user who may write only DESTDIR" test $? -eq 0
fi

# ---- make install-config ---------------------------------------------------
mk install-config DESTDIR="$T/cfg" > /dev/null 2>&1
check "make install-config installs the example footprint.conf in SYSCONFDIR" \
	cmp -s etc/footprint.conf "$T/cfg/etc/slurm/footprint.conf"
echo "# the admin's own" > "$T/cfg/etc/slurm/footprint.conf"
mk install-config DESTDIR="$T/cfg" > "$T/cfg.out" 2>&1
check "make install-config leaves an existing footprint.conf as it is" \
	grep -qx "# the admin's own" "$T/cfg/etc/slurm/footprint.conf"

tap_done
