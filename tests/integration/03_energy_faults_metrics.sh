#!/bin/bash
# Live metrics through node_exporter's textfile collector while a job runs,
# and a wall meter that goes corrupt, then stale, mid-run: the node falls
# back to calibrated values, slurmd stays up and says why once.
set -u
cd "$(dirname "$0")/../.."
source tests/cluster/cluster.sh
source tests/integration/tap.sh
source tests/integration/lib.sh
trap 'fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1
EXPORTER_PORT=${FP_EXPORTER_PORT:-9109}

fp_cluster_start_or_fail
prometheus-node-exporter --web.listen-address="127.0.0.1:$EXPORTER_PORT" \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$FP_DIR/metrics" \
	> "$FP_DIR/log/node-exporter.log" 2>&1 &
_fp_started prometheus-node-exporter $!
scrape() { curl -s --max-time 5 "http://127.0.0.1:$EXPORTER_PORT/metrics"; }
_fp_wait_for 20 node_exporter bash -c "curl -s http://127.0.0.1:$EXPORTER_PORT/metrics | grep -q footprint_node_power_watts"

# A job whose load changes (burst, pause, burst) so the calibration sees
# both terms of wall = a*rapl + b*dt; it runs through the whole fault test.
job=$(sbatch --parsable -n1 -J varying --wrap \
	'for i in $(seq 1 12); do timeout 3 sh -c "while :; do :; done"; sleep 2; done; true')
_fp_wait_for 30 "job $job running" bash -c "squeue -h -j $job -o %T | grep -q RUNNING"
wait_polls 3
scrape > "$FP_DIR/scrape1.txt"
check "node_exporter serves our per-job power while the job runs" \
	grep -Eq "^footprint_job_power_watts\{.*job=\"$job\".*user=\"root\"" "$FP_DIR/scrape1.txt"
check "node_exporter reads our file without error" \
	grep -Eq '^node_textfile_scrape_error 0' "$FP_DIR/scrape1.txt"
check "metrics label the node as simulated" \
	grep -Eq '^footprint_node_power_watts\{.*simulated="true"' "$FP_DIR/scrape1.txt"

# Let the calibration learn (30 intervals with a valid wall reading).
_fp_wait_for 60 "calibration" bash -c \
	"grep -q '^footprint_calibration_active{.*} 1' $FP_DIR/metrics/footprint.prom"
check "calibration becomes active after 30 intervals" \
	grep -q '^footprint_calibration_active{.*} 1' "$FP_DIR/metrics/footprint.prom"

slurmd_pid=$(grep '^slurmd:' "$FP_DIR/pids" | cut -d: -f2)
log=$FP_DIR/log/slurmd-$FP_NODE.log
touch "$FP_DIR/sim/sensor.hold"
printf '{"time": 17, "energy_j": [oops' > "$FP_DIR/sim/sensor.json"
wait_polls 4
check "a corrupt feed makes the node fall back to calibrated values" \
	grep -q '^footprint_node_power_watts{.*source="calibrated"' "$FP_DIR/metrics/footprint.prom"
check "the metrics name the sensor fault" \
	grep -q '^footprint_sensor_up{node="fpnode",fault="malformed"} 0' "$FP_DIR/metrics/footprint.prom"
n=$(grep -c "sensor.json.*malformed\|malformed.*sensor.json" "$log")
check_eq "slurmd's log says why once over 4 polls" 1 "$n"

printf '{"time": %s, "energy_j": 1.0}' "$(($(date +%s) - 3600))" > "$FP_DIR/sim/sensor.json"
wait_polls 3
check "a stale feed keeps the calibrated fallback" \
	grep -q '^footprint_sensor_up{node="fpnode",fault="stale"} 0' "$FP_DIR/metrics/footprint.prom"
n=$(grep -c "sensor.json.*stale\|stale.*sensor.json" "$log")
check_eq "the stale feed is logged once" 1 "$n"
check "slurmd stays up through sensor faults" kill -0 "$slurmd_pid"

rm -f "$FP_DIR/sim/sensor.hold"
wait_polls 4
check "the node returns to the wall meter when the feed recovers" \
	grep -q '^footprint_node_power_watts{.*source="wall"' "$FP_DIR/metrics/footprint.prom"
check "the node is still idle/mixed, never drained" \
	bash -c "sinfo -h -n $FP_NODE -o %T | grep -Eqx 'idle|mixed|allocated'"
scancel "$job"
tap_done
