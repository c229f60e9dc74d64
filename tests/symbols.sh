#!/bin/bash
# What the built objects export, TAP: the library only its fp_ names, each
# plugin only the entry points Slurm looks up (the library inside it stays
# hidden: slurmd and slurmctld load other plugins, and our names are none
# of their business), each tool nothing but what it exports on purpose.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
n=0 failed=0

check() { # what, offending symbols (empty: ok)
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1: $(echo $2 | head -c 400)"
		failed=$((failed + 1))
	fi
}

# (less what a sanitizer build adds of its own, ASan's __odr_asan.<name>
# markers of each global, and the C runtime's own: Debian 13's toolchain
# exports crt1's _IO_stdin_used from a program with a dynamic symbol table)
crt='^(_IO_stdin_used|_init|_fini|_start|_edata|_end|__bss_start|__data_start|data_start|__dso_handle|__TMC_END__|__libc_csu_init|__libc_csu_fini)$'
exports() {
	nm -D --defined-only "$1" 2>/dev/null | awk '{ print $NF }' |
		grep -Ev '^__(odr_asan|asan|ubsan|tsan|sanitizer)' |
		grep -Ev "$crt" | sort -u
}

# Slurm's plugin loader asks for these (plugin_load_from_file and each
# interface's symbol list); anything else is ours to hide.
plugin_api='^(plugin_name|plugin_type|plugin_version|init|fini)$'

lib=$BUILD/libfootprint.so
if [ -e "$lib" ]; then
	check "$lib exports only fp_ names ($(exports "$lib" | wc -l) of them)" \
		"$(exports "$lib" | grep -v '^fp_')"
fi
# Each public function of lib/<room>/<file>.c is fp_<file>_<verb> (or
# fp_<file>): a reader finds fp_engine_new in engine.c, fp_engine_push in
# engine_push.c. Listed from each source's object, and together they are
# all the library exports.
if [ -e "$lib" ]; then
	strays="" all=""
	for src in lib/*/*.c; do
		file=$(basename "$src" .c)
		obj=$BUILD/${src%.c}.o
		[ -e "$obj" ] || { strays="$strays $obj:missing"; continue; }
		names=$(nm --defined-only "$obj" | awk '$2 ~ /^[TDRB]$/ { print $3 }' |
			grep -Ev '^__(odr_asan|asan|ubsan|tsan|sanitizer)')
		all="$all $names"
		for s in $(echo "$names" | grep -Ev "^fp_${file}(_|\$)"); do
			strays="$strays $src:$s"
		done
	done
	check "each library function carries its file's name (fp_<file>_*)" "$strays"
	check "$lib exports what the library's files define, nothing more" \
		"$(comm -23 <(exports "$lib") <(echo $all | tr ' ' '\n' | sort -u) | tr '\n' ' ')"
fi
# The tools' own functions carry the tools' prefix (fpt_), not the
# library's: an fp_ name in a tool is the library's, found in lib/.
for t in sfootprint footprint-mail fp-simnode footprint-worker; do
	[ -e "$BUILD/$t" ] && [ -n "${all:-}" ] || continue
	check "$BUILD/$t's own functions are fpt_*, fp_ names are the library's" \
		"$(nm --defined-only "$BUILD/$t" | awk '$2 ~ /^[TDRB]$/ { print $3 }' |
			grep '^fp_' | sort -u | comm -23 - <(echo $all | tr ' ' '\n' | sort -u) | tr '\n' ' ')"
done
for p in "$BUILD"/acct_gather_energy_footprint.so:acct_gather_energy_p_ \
	"$BUILD"/jobcomp_carbon.so:jobcomp_p_; do
	so=${p%%:*} prefix=${p##*:}
	[ -e "$so" ] || { check "$so is built" "missing"; continue; }
	check "$so exports only Slurm's entry points (${prefix}*, plugin_*, init, fini)" \
		"$(exports "$so" | grep -Ev "$plugin_api|^$prefix")"
	check "$so exports its ${prefix}* entry points" \
		"$(exports "$so" | grep -q "^$prefix" || echo none)"
done
# footprint-worker's poll() is the one libslurm's calls reach (it sets
# TCP_QUICKACK on slurmdbd's socket before each wait): exported on purpose.
for t in sfootprint footprint-mail fp-simnode footprint-worker; do
	want='^$'
	[ "$t" = footprint-worker ] && want='^poll$'
	[ -e "$BUILD/$t" ] || { check "$BUILD/$t is built" "missing"; continue; }
	check "$BUILD/$t exports nothing it does not mean to" \
		"$(exports "$BUILD/$t" | grep -Ev "$want")"
done
echo "1..$n"
[ "$failed" -eq 0 ]
