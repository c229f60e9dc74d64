#!/bin/bash
# The Grafana dashboard (contrib/grafana/slurm-footprint.json) against a real
# Prometheus: Debian's, on loopback, scraping node_exporter that reads the
# test cluster's metrics textfile; every panel's query, with the template
# variables set to real values, returns data with the labels it shows.
# The node has two simulated GPUs, the running job holds one of them.
set -u
cd "$(dirname "$0")/../.."
if ! command -v prometheus > /dev/null; then
	echo "1..0 # skipped: prometheus not installed"
	exit 0
fi
source tests/cluster/cluster.sh
source tests/integration/tap.sh
source tests/integration/lib.sh
trap 'fp_cluster_stop' EXIT INT TERM
export FP_SIMNODE=1
# two simulated NVIDIA GPUs as Slurm GRES gpu (see cluster.sh)
export FP_GPUS=2
DASHBOARD=contrib/grafana/slurm-footprint.json
EXPORTER_PORT=${FP_EXPORTER_PORT:-9109}
PROM_PORT=${FP_PROMETHEUS_PORT:-9191}
PROM=http://127.0.0.1:$PROM_PORT
SITE=home # the default footprint.conf's site of the node

# What each panel's query must return, by "panel title/refId": the labels
# every series carries (the ones its legend or table shows). A panel not
# listed here fails: a new panel says what it shows.
EXPECT='{
 "Node power by source/A": ["node", "source"],
 "Node power: jobs, idle CPUs, outside jobs/A": ["node"],
 "Node power: jobs, idle CPUs, outside jobs/B": ["node"],
 "Node power: jobs, idle CPUs, outside jobs/C": ["node"],
 "Node power: jobs, idle CPUs, outside jobs/D": ["node"],
 "Node energy by source/A": ["node", "source", "simulated"],
 "Power per job/A": ["job", "user", "account"],
 "Power per step/A": ["job", "step"],
 "Energy per job/A": ["job", "user", "account"],
 "Energy per job over time/A": ["job"],
 "Wall meter/A": ["node"],
 "Calibration/A": ["node"],
 "Calibration: wall = a x RAPL + b/A": ["node"],
 "Calibration: wall = a x RAPL + b/B": ["node"],
 "Calibration: wall = a x RAPL + b/C": ["node"],
 "Wall meter reading age/A": ["node"],
 "Poller CPU time per poll/A": ["node"],
 "Power per GPU/A": ["node", "gpu", "name"],
 "GPU energy per job/A": ["job", "user", "account"],
 "GPU reads/A": ["node", "gpu", "name"],
 "GPU power: all GPUs, GPUs nobody held/A": ["node"],
 "GPU power: all GPUs, GPUs nobody held/B": ["node"],
 "Grid intensity per site/A": ["site"],
 "Emissions and avoided emissions per site/A": ["site"],
 "Emissions and avoided emissions per site/B": ["site"],
 "Emissions and avoided emissions per site/C": ["site"],
 "Sites over the range/A": ["site"],
 "Sites over the range/B": ["site"],
 "Sites over the range/C": ["site"],
 "Sites over the range/D": ["site"],
 "Intensity series/A": ["site"],
 "Summaries marked incomplete/A": []
}'

# The checker: "model" checks the dashboard is importable as is, "queries"
# runs every panel's query; both print one line per finding, "ok<TAB>what"
# or "fail<TAB>what<TAB>why", which check() turns into TAP.
checker() {
	python3 - "$@" << 'PY'
import json, re, sys, urllib.parse, urllib.request

mode, path = sys.argv[1], sys.argv[2]
dash = json.load(open(path))
DS = "${DS_PROMETHEUS}"


def say(ok, what, why=""):
    print("ok\t%s" % what if ok else "fail\t%s\t%s" % (what, why))


def panels(d):
    for p in d.get("panels", []):
        yield p
        yield from p.get("panels", [])  # a collapsed row holds its panels


if mode == "model":
    inputs = [i for i in dash.get("__inputs", [])
              if i.get("name") == "DS_PROMETHEUS"]
    say(len(inputs) == 1 and inputs[0].get("type") == "datasource"
        and inputs[0].get("pluginId") == "prometheus",
        "the dashboard asks for its Prometheus as input DS_PROMETHEUS",
        "__inputs: %s" % dash.get("__inputs"))
    say(dash.get("id") is None and bool(dash.get("uid"))
        and isinstance(dash.get("schemaVersion"), int) and dash.get("title"),
        "it has a uid, a title, a schemaVersion and no instance id",
        "id %r uid %r" % (dash.get("id"), dash.get("uid")))
    bad = [p.get("title") for p in panels(dash) if p.get("type") != "row"
           and (p.get("datasource", {}).get("uid") != DS
                or any(t.get("datasource", {}).get("uid") != DS
                       for t in p.get("targets", [])))]
    bad += ["variable " + v.get("name") for v in dash["templating"]["list"]
            if v.get("datasource", {}).get("uid") != DS]
    say(not bad, "every panel, query and variable uses ${DS_PROMETHEUS}",
        "not: %s" % bad)
    ids = [p.get("id") for p in panels(dash)]
    say(len(ids) == len(set(ids)) and None not in ids
        and all("gridPos" in p for p in panels(dash)),
        "panel ids are unique and every panel is placed", "ids %s" % ids)
    names = sorted(v.get("name") for v in dash["templating"]["list"])
    say(names == ["job", "node", "site"],
        "the template variables are site, node and job", "got %s" % names)
    sys.exit(0)

# modes queries and expr: path expect.json|"title/refId" site node job range
values = {"site": sys.argv[4], "node": sys.argv[5], "job": sys.argv[6],
          "__range": sys.argv[7], "__rate_interval": "5s",
          "__interval": "1s"}


def get(api, params):
    url = prom + api + "?" + urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(url, timeout=20) as r:
        return json.load(r)


def subst(expr):
    # ${x} and $x, longest names first ($__range before $__rate_interval)
    for k in sorted(values, key=len, reverse=True):
        expr = expr.replace("${%s}" % k, values[k]).replace("$" + k, values[k])
    return expr


if mode == "expr":
    title, ref = sys.argv[3].rsplit("/", 1)
    for p in panels(dash):
        for t in p.get("targets", []):
            if p.get("title") == title and t.get("refId") == ref:
                print(subst(t["expr"]))
                sys.exit(0)
    sys.exit(1)
expect = json.load(open(sys.argv[3]))
prom = sys.argv[8]
# The variables: what Grafana's label_values(metric{...}, label) lists.
for v in dash["templating"]["list"]:
    q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
    m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q.strip())
    if not m:
        say(False, "variable %s" % v["name"], "not label_values(): %s" % q)
        continue
    got = get("/api/v1/label/%s/values" % m.group(2),
              {"match[]": subst(m.group(1))}).get("data", [])
    say(values[v["name"]] in got,
        "variable %s lists %s" % (v["name"], values[v["name"]]),
        "query %s gave %s" % (subst(q), got))

seen = set()
for p in panels(dash):
    if p.get("type") == "row":
        continue
    for t in p.get("targets", []):
        key = "%s/%s" % (p.get("title"), t.get("refId"))
        seen.add(key)
        what = "panel '%s' query %s returns data" % (p.get("title"), t.get("refId"))
        if key not in expect:
            say(False, what, "not in the test's list of expected labels")
            continue
        expr = subst(t.get("expr", ""))
        if "$" in expr:
            say(False, what, "unknown variable left in %s" % expr)
            continue
        try:
            res = get("/api/v1/query", {"query": expr})
        except Exception as e:  # a 400 names the PromQL error
            body = e.read().decode() if hasattr(e, "read") else str(e)
            say(False, what, "%s: %s" % (expr, body[:300]))
            continue
        series = res.get("data", {}).get("result", [])
        if not series:
            say(False, what, "matches nothing: %s" % expr)
            continue
        want = expect[key]
        missing = [s["metric"] for s in series
                   if any(not s["metric"].get(l) for l in want)]
        # the legend's {{label}}s must be among the labels checked
        legend = re.findall(r"\{\{\s*(\w+)\s*\}\}", t.get("legendFormat", ""))
        unchecked = [l for l in legend if l not in want and l != "fault"]
        filtered = [s["metric"] for s in series
                    if ("node" in s["metric"] and s["metric"]["node"] != values["node"])
                    or ("job" in s["metric"] and 'job=~"$job"' in t["expr"]
                        and s["metric"]["job"] != values["job"])]
        say(not missing and not unchecked and not filtered,
            what + " with labels %s" % ",".join(want),
            "%s: missing labels in %s; legend labels not checked %s; "
            "outside the variables %s" % (expr, missing[:3], unchecked,
                                          filtered[:3]))
for key in sorted(set(expect) - seen):
    say(False, "expected panel query %s is in the dashboard" % key, "absent")
PY
}

# Turns the checker's lines into TAP checks.
report() {
	local status what why
	while IFS=$'\t' read -r status what why; do
		[ -n "$status" ] || continue
		[ "$status" = ok ] || echo "# $what: $why"
		check "$what" [ "$status" = ok ]
	done
}

model=$(checker model "$DASHBOARD" 2>&1)
check "the dashboard is JSON the checker reads" test $? -eq 0
report <<< "$model"

fp_cluster_start_or_fail
for p in "$EXPORTER_PORT" "$PROM_PORT"; do
	if ! _fp_port_free "$p"; then
		check "port $p on 127.0.0.1 is free for node_exporter and prometheus" false
		tap_done
		exit 1
	fi
done
prometheus-node-exporter --web.listen-address="127.0.0.1:$EXPORTER_PORT" \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$FP_DIR/metrics" \
	> "$FP_DIR/log/node-exporter.log" 2>&1 &
_fp_started prometheus-node-exporter $!

# honor_labels: our metrics' job label (the Slurm job id) would otherwise be
# renamed exported_job, the target's job label taking its place; site is the
# target label the dashboard's site variable reads.
mkdir -p "$FP_DIR/prometheus"
cat > "$FP_DIR/prometheus/prometheus.yml" << CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: node
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$EXPORTER_PORT']
        labels:
          site: $SITE
CONF
prom_started=$(date +%s)
prometheus --config.file="$FP_DIR/prometheus/prometheus.yml" \
	--storage.tsdb.path="$FP_DIR/prometheus/data" \
	--web.listen-address="127.0.0.1:$PROM_PORT" \
	> "$FP_DIR/log/prometheus.log" 2>&1 &
_fp_started prometheus $!
q() { curl -s --max-time 5 --get "$PROM/api/v1/query" --data-urlencode "query=$1"; }
has() { q "$1" | python3 -c 'import json,sys; sys.exit(not json.load(sys.stdin)["data"]["result"])'; }
no_series() { q "$1" | python3 -c 'import json,sys; sys.exit(bool(json.load(sys.stdin)["data"]["result"]))'; }
check "prometheus starts on 127.0.0.1:$PROM_PORT" \
	_fp_wait_for 60 prometheus curl -sf "$PROM/-/ready"
check "prometheus scrapes node_exporter and reads our metrics" \
	_fp_wait_for 30 "footprint metrics in prometheus" has "footprint_node_power_watts{site=\"$SITE\",node=\"$FP_NODE\"}"
gpus_in_prometheus() {
	[ "$(q "count(footprint_gpu_energy_joules_total{node=\"$FP_NODE\"})" |
		python3 -c 'import json,sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')" = 2 ]
}
check "prometheus has both GPUs of the node" \
	_fp_wait_for 30 "the GPUs in prometheus" gpus_in_prometheus

# Jobs that end before the queries (their energy stays in the range) and
# one that burns a CPU while they run, with an srun step.
short1=$(sbatch --parsable -n1 -J burn5 --wrap 'timeout 5 sh -c "while :; do :; done"; true')
short2=$(sbatch --parsable -n1 -J steps --wrap 'srun -n1 sleep 3; srun -n1 sleep 2')
long=$(sbatch --parsable -n1 -J burn --gres=gpu:1 --wrap 'srun -n1 timeout 600 sh -c "while :; do :; done"; true')
echo 0.6 > "$FP_DIR/sim/gpu-load/0" # the held GPU works
fp_wait_job "$short1" 60
fp_wait_job "$short2" 60
# The controller's file (Metrics=) counts the ended jobs at the site.
check "prometheus has the controller's site totals for both ended jobs" \
	_fp_wait_for 60 "the site totals in prometheus" has "footprint_site_jobs_total{site=\"$SITE\"} >= 2"
check "the running job's steps are in prometheus" \
	_fp_wait_for 60 "job $long's step power in prometheus" has "footprint_step_power_watts{job=\"$long\",step=\"$long.0\"}"
check "the running job's GPU energy is in prometheus" \
	_fp_wait_for 60 "job $long's GPU energy in prometheus" has "footprint_job_gpu_energy_joules_total{job=\"$long\"} > 0"
# rate() over 5 s windows, and the calibration's fields: a few more polls
wait_polls 6
echo "# jobs $short1 $short2 (ended) and $long (running)"

range=$(($(date +%s) - prom_started + 10))s
printf '%s\n' "$EXPECT" > "$FP_DIR/prometheus/expect.json"
checker queries "$DASHBOARD" "$FP_DIR/prometheus/expect.json" \
	"$SITE" "$FP_NODE" "$long" "$range" "$PROM" > "$FP_DIR/queries.txt" 2>&1
check "the checker ran every query" test $? -eq 0
report < "$FP_DIR/queries.txt"
grep -v $'^ok\t\|^fail\t' "$FP_DIR/queries.txt" | sed 's/^/# /'

# With job = All, the energy panel lists every job of the range.
expr=$(checker expr "$DASHBOARD" "Energy per job/A" "$SITE" "$FP_NODE" '.*' "$range")
jobs=$(q "$expr" | python3 -c 'import json,sys; print(" ".join(sorted(s["metric"]["job"] for s in json.load(sys.stdin)["data"]["result"])))')
for j in "$short1" "$short2" "$long"; do
	check "energy per job over the range includes job $j (got: $jobs)" \
		grep -qw "$j" <<< "$jobs"
done

# A wall meter that goes corrupt shows in the sensor panel as down, with
# its fault.
expr=$(checker expr "$DASHBOARD" "Wall meter/A" "$SITE" "$FP_NODE" "$long" "$range")
touch "$FP_DIR/sim/sensor.hold"
printf '{"time": 17, "energy_j": [oops' > "$FP_DIR/sim/sensor.json"
shown_malformed() { # the panel's series at 0 carry fault="malformed"
	q "($expr) == 0" | python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
sys.exit(not r or any(s["metric"].get("fault") != "malformed" for s in r))'
}
check "the sensor panel shows a corrupt wall meter as down, fault malformed" \
	_fp_wait_for 30 "the sensor fault in prometheus" shown_malformed
rm -f "$FP_DIR/sim/sensor.hold"

# The held GPU draws more than the idle one (162 W against 30 W: both
# powers of one interval scale alike with how many of the simulated
# node's ticks it caught, their ratio does not); only jobs that hold a
# GPU have a GPU series, and an ended job's goes with it.
expr=$(checker expr "$DASHBOARD" "Power per GPU/A" "$SITE" "$FP_NODE" "$long" "$range")
watts=$(q "$expr" | python3 -c 'import json,sys
w = {s["metric"]["gpu"]: float(s["value"][1]) for s in json.load(sys.stdin)["data"]["result"]}
print(w.get("0", 0), w.get("1", 0))')
echo "# GPU power (W): $watts"
check "the busy GPU 0 draws more than the idle GPU 1 ($watts)" \
	awk -v a="${watts% *}" -v b="${watts#* }" 'BEGIN { exit !(b > 0 && a > 3 * b) }'
for j in "$short1" "$short2"; do
	check "job $j, which held no GPU, never had a GPU series" \
		no_series "count_over_time(footprint_job_gpu_energy_joules_total{job=\"$j\"}[$range])"
done
scancel "$long"
gone() { ! grep -q "^footprint_job_gpu_energy_joules_total{.*job=\"$long\"" "$FP_DIR"/metrics/*.prom; }
check "the cancelled job's GPU series leaves the metrics file" \
	_fp_wait_for 30 "job $long's GPU series gone" gone
tap_done
