# Helpers shared by the energy integration tests: read the poller's metrics
# file and sacct figures.

# prom_value METRIC [LABEL_FILTER] : the value of the first matching sample
prom_value() {
	local metric=$1 filter=${2:-}
	awk -v m="$metric" -v f="$filter" '
		index($0, m "{") == 1 && (f == "" || index($0, f) > 0) {
			print $NF; exit
		}' "$FP_DIR/metrics/footprint.prom"
}

# Node energy (all sources), idle and system joules, as "node idle system".
node_totals() {
	local f=$FP_DIR/metrics/footprint.prom
	awk '
		/^footprint_node_energy_joules_total\{/ { node += $NF }
		/^footprint_node_idle_joules_total\{/ { idle = $NF }
		/^footprint_node_system_joules_total\{/ { sys = $NF }
		END { printf "%.6f %.6f %.6f\n", node, idle, sys }' "$f"
}

# Sum of ConsumedEnergyRaw over a job's step lines (the job line may be
# empty in 22.05 for batch jobs).
job_energy() {
	sacct -n -P -j "$1" -o JobID,ConsumedEnergyRaw |
		awk -F'|' '$1 ~ /\./ && $2 != "" { s += $2 } END { printf "%d\n", s }'
}

# Share of its elapsed time a job's steps had a CPU (sacct TotalCPU over
# ElapsedRaw of the step lines, at most 1): a busy loop on a loaded machine
# gets less than its CPU, and its energy share with it.
job_cpu_share() {
	sacct -n -P -j "$1" -o JobID,TotalCPU,ElapsedRaw |
		awk -F'|' '$1 ~ /\./ {
			n = split($2, a, /[-:]/); s = 0
			for (k = 1; k <= n; k++) s = s * (k == n - 2 && n == 4 ? 24 : 60) + a[k]
			cpu += s; el += $3 }
			END { f = el > 0 ? cpu / el : 0; printf "%.3f\n", (f > 1 ? 1 : f) }'
}

# Waits until at least N steps of a job (default 1) are in sacct, all
# finished and with their energy.
wait_step_energy() { # jobid [nsteps] [seconds]
	_fp_wait_for "${3:-60}" "step energies of job $1" bash -c \
		"sacct -n -P -j $1 -o JobID,ConsumedEnergyRaw,State | awk -F'|' -v want=${2:-1} '\$1 ~ /\\./ && (\$2==\"\" || \$3 ~ /RUNNING|PENDING/){bad=1} \$1 ~ /\\./{n++} END{exit (bad || n < want)}'"
}

# Waits for n more polls of the node poller (metric footprint_poll_cpu_seconds
# changes at every poll; the trace grows by one line per poll; zstd -dcf
# reads both forms, a live .zst up to its last flush).
wait_polls() {
	local n=${1:-2} lines
	lines=$(zstd -dcf "$FP_DIR"/trace/*.jsonl* 2>/dev/null | wc -l)
	_fp_wait_for 30 "$n polls" bash -c \
		"[ \$(zstd -dcf $FP_DIR/trace/*.jsonl* 2>/dev/null | wc -l) -ge $((lines + n)) ]"
}

# Relative difference |a-b|/max(|b|,1e-9) <= tol, with figures printed.
close_to() { # what a b tol
	awk -v w="$1" -v a="$2" -v b="$3" -v t="$4" 'BEGIN {
		d = a - b; if (d < 0) d = -d
		m = b < 0 ? -b : b; if (m < 1e-9) m = 1e-9
		printf "# %s: %.3f vs %.3f (%.2f%%, limit %.2f%%)\n", w, a, b, 100 * d / m, 100 * t
		exit !(d / m <= t)
	}'
}
