#!/bin/bash
# A real single-node Slurm cluster on loopback for tests and the demo: munged,
# mariadbd, slurmdbd, slurmctld and slurmd, all under one temp folder.
#
# Use: source this file, then
#   fp_cluster_start      # starts everything, waits until the node is idle
#   ... sbatch/srun/sacct with SLURM_CONF exported ...
#   fp_cluster_stop       # stops by PID what it started (also from a trap)
# Settings (environment, before fp_cluster_start):
#   FP_BUILD          folder with our plugins (default: build)
#   FP_ACCT_GATHER    text of acct_gather.conf
#   FP_SLURM_EXTRA    extra slurm.conf lines
#   FP_ENERGY_PLUGIN  AcctGatherEnergyType (default acct_gather_energy/footprint)
#   FP_JOBCOMP_PLUGIN JobCompType (default jobcomp/carbon)
#   FP_SIMNODE=1      drive the node from fp-simnode (no RAPL needed); the
#                     default acct_gather.conf then points the plugin at it
#   FP_SIM_MODEL      fp-simnode's power model arguments; FP_IDLE_WATTS the
#                     matching EnergyFootprintIdleWatts (defaults below: a
#                     node whose idle power per CPU is small next to a busy
#                     CPU's, as on real many-core packages)
#   FP_SIMNODE_ARGS   extra fp-simnode arguments
#   FP_TRACE_COMPRESS EnergyFootprintTraceCompress in the default
#                     acct_gather.conf (zstd: the trace is *.jsonl.zst)
#   FP_TRACE_FORM     EnergyFootprintTraceForm there (plain or compact)
#   FP_GPUS=N         (with FP_SIMNODE=1, one node) N simulated GPUs, NVIDIA
#                     ones unless FP_GPU_KIND says otherwise (below):
#                     fp-simnode --nvidia N answers the tests' NVML library
#                     (BUILD/tests/nvml, NvmlLibrary= in the default
#                     acct_gather.conf) through FP_DIR/sim/nvml.state, given
#                     to slurmd as FP_FAKE_NVML_STATE; Slurm has GRES gpu:N
#                     on the node (gres.conf File= char devices made with
#                     mknod in FP_DIR/dev, as /dev/null), gres/gpu in TRES.
#                     GPU K's load is FP_DIR/sim/gpu-load/K (0..1)
#   FP_GPU_KIND       which simulated GPUs FP_GPUS gives: nvidia (the
#                     default, above) or hwmon: fp-simnode --gpus N, AMD
#                     and Intel hwmon devices in turn (amdgpu for even K,
#                     i915 for odd K) under FP_DIR/sim/gpu-hwmon, read by
#                     the plugin from there (GpuHwmonRoot= in the default
#                     acct_gather.conf, no NVML); gres.conf File= char
#                     devices FP_DIR/dev/dri/renderD<128+K>, as amdgpu's
#                     and i915's render nodes: Slurm's GPU K is the K-th
#                     File, the reader's K-th device by PCI address
#   FP_FOOTPRINT_EXTRA lines added to the default footprint.conf (@DIR@
#                     as in FP_FOOTPRINT_CONF)
#   FP_FOOTPRINT_CONF text of footprint.conf (jobcomp/carbon); the default
#                     has one site (constant intensity, gas heating
#                     displaced), a node type and a fresh signing key;
#                     @DIR@ in it stands for the cluster's folder
#   FP_KEEP=1         keep the temp folder after stop (for debugging)
#   FP_INSTALLED=1    the installed packages' plugins only (PluginDir is
#                     Slurm's own); FP_BUILD then holds links to the
#                     installed tools (tests/deb/check-installed.sh)
#   FP_CLUSTER_WAIT   seconds to wait for another run's cluster to end
#                     (default 3600); it is never stopped while its owner
#                     lives: past the wait, start fails and says so
#   FP_BEFORE_START   a function run once no other test's cluster runs,
#                     before this one is cleaned of leftovers and started
#   FP_NODES=N        (N >= 2) a multi-host cluster: N slurmd, each in its
#                     own network namespace fp-n<i> (own hostname fpn<i>,
#                     address 10.213.0.<10+i> on the bridge fpbr0 whose
#                     10.213.0.1 is slurmctld's), own spool, own conf folder
#                     (its own acct_gather.conf) and, with FP_SIMNODE=1, its
#                     own fp-simnode. slurmctld, slurmdbd, mariadbd and
#                     munged run once, in the root namespace.
#   FP_SIM_MODEL_<i>, FP_IDLE_WATTS_<i>   node i's power model (defaults:
#                     a different model per node)
#   FP_SLURM_USER     SlurmUser of slurmctld and slurmdbd (default root):
#                     another (slurm, Debian's) makes them drop to it, so
#                     jobcomp/carbon and footprint-worker run as it, as on
#                     a production controller; the folders and files they
#                     write (state, logs, spool, keys, metrics) are its
#   FP_NODE_ACCT_EXTRA lines added to each node's acct_gather.conf (@DIR@
#                     as in FP_FOOTPRINT_CONF; %n is left to the plugin)
# After start: FP_DIR (the temp folder), FP_NODE, SLURM_CONF are exported;
# with FP_NODES also FP_NODE_NAMES ("fpn1 fpn2 ...") and FP_NODE_ADDRS.
#
# Multi-host limits: every slurmd shares this machine's CPUs and cgroup
# tree (Debian's Slurm is built with MULTIPLE_SLURMD: cgroups are
# slurm_<node>, no collision), and every fp-simnode follows the same
# /proc/stat: nodes differ by their power models, not by their load.

# Our build (plugins, tools): tests/run.sh passes make's BUILD down.
FP_BUILD=${FP_BUILD:-build}
export FP_BUILD

# sacct without -j lists only jobs since 00:00 today: a test that runs
# across midnight lost every job that ended before it (seen in CI at
# 00:01: test 06 found 144 of its 200 jobs and checked the wrong ones).
# Every sacct of a test, in its subshells too, starts from the test's start.
FP_SACCT_START=${FP_SACCT_START:-$(date -d '-1 minute' +%Y-%m-%dT%H:%M:%S)}
export FP_SACCT_START
sacct() { command sacct -S "$FP_SACCT_START" "$@"; }
export -f sacct
FP_STATE_FILE=${FP_STATE_FILE:-/tmp/fp-cluster.active}
FP_DB_PORT=${FP_DB_PORT:-3306}
FP_NODE=${FP_NODE:-fpnode}
FP_CLUSTER=${FP_CLUSTER:-fpcluster}
FP_SIM_MODEL=${FP_SIM_MODEL:---idle-w 3 --busy-w 20 --dram-idle-w 1 --dram-busy-w 1 --wall-a 1.15 --wall-b 10}
FP_IDLE_WATTS=${FP_IDLE_WATTS:-package=3,dram=1}
FP_NODES=${FP_NODES:-}
FP_CLUSTER_WAIT=${FP_CLUSTER_WAIT:-3600}
FP_BRIDGE=fpbr0
FP_NET=10.213.0

_fp_log() { echo "# cluster: $*" >&2; }

# Kills the PIDs listed in a pids file (name:pid lines), gently then firmly.
_fp_kill_pids() {
	local pidfile=$1 order name pid left i
	[ -f "$pidfile" ] || return 0
	# Stop in reverse start order: slurmd first, munged last.
	order=$(tac "$pidfile")
	while IFS=: read -r name pid; do
		[ -n "$pid" ] || continue
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			_fp_log "$name ($pid) ignored SIGTERM; killing"
			kill -KILL "$pid" 2>/dev/null
		fi
	done <<< "$order"
	# Step daemons our slurmd started outlive it; they carry our spool path.
	left=$(pgrep -x slurmstepd 2>/dev/null)
	for pid in $left; do
		# (one that ended meanwhile has no environ left to read)
		if { tr '\0' ' ' < /proc/$pid/environ; } 2>/dev/null | grep -q "SLURM_CONF=$(dirname "$pidfile")/"; then
			kill -KILL "$pid" 2>/dev/null
		fi
	done
	rm -f "$pidfile"
}

# A slurmstepd killed with SIGKILL (as stop does to what outlives slurmd)
# leaves its cgroup folders behind, and the next cluster reuses both the
# node name and the job ids. A job whose id meets such a folder cannot
# start: under cgroup v1 the stale step's cpuset is not within the new
# job's CPUs, writing the job's cpuset.cpus fails with EBUSY and slurmstepd
# ends the job at once ("Slurmd could not execve job": test 02's job 3 lost
# its srun steps that way in CI, after an earlier run's job 3 was killed).
# Removes the job folders of our node names, innermost first; rmdir leaves
# any cgroup that still holds a process, and nothing is killed.
_fp_cgroups_clean() {
	local n d left= nodes="$FP_NODE ${FP_NODE_NAMES:-}"
	for n in $nodes; do
		for d in /sys/fs/cgroup/*/slurm_"$n" /sys/fs/cgroup/slurm_"$n"; do
			[ -d "$d" ] || continue
			left+=$(find "$d" -mindepth 2 -maxdepth 2 -type d -name 'job_*' -printf ' %f' 2>/dev/null)
			find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	if [ -n "$left" ]; then
		_fp_log "removed leftover cgroup folders:$(tr ' ' '\n' <<< "$left" | sort -u | tr '\n' ' ')"
	fi
	# cgroup v2 keeps jobs under slurmstepd.scope (<node>_slurmstepd.scope
	# with several slurmd on a host): only while no slurmd runs here.
	pgrep -x slurmd > /dev/null && return 0
	for d in $(find /sys/fs/cgroup -maxdepth 4 -type d -name '*slurmstepd.scope' 2>/dev/null); do
		find "$d" -mindepth 1 -depth -type d -path '*/job_*' -exec rmdir {} + 2>/dev/null
	done
	return 0
}

_fp_cleanup_previous() {
	local prev owner end
	[ -f "$FP_STATE_FILE" ] || return 0
	read -r prev owner < "$FP_STATE_FILE"
	# A cluster whose owner (the test or demo that started it) is still
	# alive is in use: wait for it, never kill it, however long it runs
	# (up to FP_CLUSTER_WAIT, then fail). A dead owner's is leftover.
	if [ -n "$owner" ] && [ "$owner" != "$$" ] && kill -0 "$owner" 2>/dev/null; then
		_fp_log "a cluster of process $owner is running; waiting for it"
		end=$((SECONDS + FP_CLUSTER_WAIT))
		while kill -0 "$owner" 2>/dev/null; do
			[ -f "$FP_STATE_FILE" ] || return 0
			if [ $SECONDS -ge $end ]; then
				_fp_log "the cluster of process $owner ($prev) is still running after ${FP_CLUSTER_WAIT}s: not starting another (FP_CLUSTER_WAIT=)"
				return 1
			fi
			sleep 1
		done
		[ -f "$FP_STATE_FILE" ] || return 0
	fi
	if [ -n "$prev" ] && [ -f "$prev/pids" ]; then
		_fp_log "stopping what a previous run left in $prev"
		_fp_kill_pids "$prev/pids"
	fi
	_fp_net_down "$prev"
	[ -n "$prev" ] && [ -d "$prev" ] && [ -z "${FP_KEEP:-}" ] && rm -rf "$prev"
	rm -f "$FP_STATE_FILE"
}

# The multi-host network: namespaces fp-n<i>, veths to the bridge fpbr0.
# Only the namespaces a cluster recorded in its folder (DIR/netns, written
# before each is made) are taken down: a dead run's through its folder.
_fp_net_down() { # DIR
	local ns pid
	[ -n "${1:-}" ] && [ -f "$1/netns" ] || return 0
	for ns in $(grep -xE 'fp-n[0-9]+' "$1/netns"); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	ip link del "$FP_BRIDGE" 2>/dev/null
	rm -f "$1/netns"
	return 0
}

_fp_net_up() {
	local i ns
	ip link add "$FP_BRIDGE" type bridge || return 1
	ip addr add "$FP_NET.1/24" dev "$FP_BRIDGE" || return 1
	ip link set "$FP_BRIDGE" up || return 1
	for i in $(seq 1 "$FP_NODES"); do
		ns=fp-n$i
		echo "$ns" >> "$FP_DIR/netns"
		ip netns add "$ns" || return 1
		ip link add "fpv$i" type veth peer name eth0 netns "$ns" || return 1
		ip link set "fpv$i" master "$FP_BRIDGE" up || return 1
		ip -n "$ns" link set lo up || return 1
		ip -n "$ns" addr add "$FP_NET.$((10 + i))/24" dev eth0 || return 1
		ip -n "$ns" link set eth0 up || return 1
		ip -n "$ns" route add default via "$FP_NET.1" || return 1
		# For `ip netns exec` (tools, debugging): the node's /etc/hosts.
		mkdir -p "/etc/netns/$ns"
		{
			echo "127.0.0.1 localhost"
			echo "$FP_NET.1 fpctl"
			for j in $(seq 1 "$FP_NODES"); do
				echo "$FP_NET.$((10 + j)) fpn$j"
			done
		} > "/etc/netns/$ns/hosts"
	done
}

_fp_wait_for() { # seconds, description, command...
	local secs=$1 what=$2 i
	shift 2
	for i in $(seq 1 $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	_fp_log "timed out after ${secs}s waiting for $what"
	return 1
}

_fp_started() { # name pid
	echo "$1:$2" >> "$FP_DIR/pids"
}

_fp_write_configs() {
	local d=$FP_DIR build ncpus mem
	build=$(cd "${FP_BUILD:-build}" && pwd)
	ncpus=$(nproc)
	mem=$(awk '/MemTotal/ {print int($2/1024/2)}' /proc/meminfo)
	mkdir -p "$d"/{etc,log,run,state,spool,munge,db}
	local ctl_addr=127.0.0.1 node_lines part_nodes gres=
	if [ -n "${FP_GPUS:-}" ]; then
		_fp_write_gres || return 1
		gres=" Gres=gpu:$FP_GPUS"
	fi
	node_lines="NodeName=$FP_NODE NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$ncpus RealMemory=$mem$gres State=UNKNOWN"
	part_nodes=$FP_NODE
	if [ -n "$FP_NODES" ]; then
		ctl_addr=$FP_NET.1
		node_lines=
		for i in $(seq 1 "$FP_NODES"); do
			node_lines+="NodeName=fpn$i NodeHostname=fpn$i NodeAddr=$FP_NET.$((10 + i)) CPUs=$ncpus RealMemory=$mem State=UNKNOWN"$'\n'
		done
		part_nodes="fpn[1-$FP_NODES]"
	fi
	cat > "$d/etc/slurm.conf" <<CONF
ClusterName=$FP_CLUSTER
SlurmctldHost=localhost($ctl_addr)
SlurmUser=${FP_SLURM_USER:-root}
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.socket
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
JobCompLoc=$d/etc/footprint.conf
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd-%n.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd-%n.log
SlurmctldDebug=debug
SlurmdDebug=debug
DebugFlags=Energy
PluginDir=$([ -n "${FP_INSTALLED:-}" ] || echo "$build:")/usr/lib/x86_64-linux-gnu/slurm-wlm
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
JobAcctGatherType=jobacct_gather/cgroup
JobAcctGatherFrequency=task=2,energy=1
AcctGatherNodeFreq=1
AcctGatherEnergyType=${FP_ENERGY_PLUGIN-acct_gather_energy/footprint}
JobCompType=${FP_JOBCOMP_PLUGIN-jobcomp/carbon}
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=6819
AccountingStoragePass=$d/munge/munge.socket
AccountingStoreFlags=job_comment
AccountingStorageTRES=energy${FP_GPUS:+,gres/gpu}
${FP_GPUS:+GresTypes=gpu}
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
KillWait=2
Waittime=0
MinJobAge=2
InactiveLimit=0
SlurmdTimeout=60
MessageTimeout=10
$node_lines
PartitionName=main Nodes=$part_nodes Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
${FP_SLURM_EXTRA:-}
CONF
	cat > "$d/etc/cgroup.conf" <<CONF
CgroupPlugin=autodetect
ConstrainCores=yes
CONF
	if [ -n "${FP_ACCT_GATHER:-}" ]; then
		printf '%s\n' "$FP_ACCT_GATHER" > "$d/etc/acct_gather.conf"
	else
		{
			echo "EnergyFootprintRunDir=$d/run/footprint"
			echo "EnergyFootprintPollInterval=1"
			echo "EnergyFootprintMetrics=$d/metrics/footprint.prom"
			# the tests read the metrics of the poll they waited
			# for (16: of the same poll as the trace)
			echo "EnergyFootprintMetricsInterval=0"
			echo "EnergyFootprintTraceDir=$d/trace"
			if [ -n "${FP_TRACE_COMPRESS:-}" ]; then
				echo "EnergyFootprintTraceCompress=$FP_TRACE_COMPRESS"
			fi
			if [ -n "${FP_TRACE_FORM:-}" ]; then
				echo "EnergyFootprintTraceForm=$FP_TRACE_FORM"
			fi
			if [ -n "${FP_SIMNODE:-}" ]; then
				echo "EnergyFootprintSimulatedNode=$d/sim"
				echo "EnergyFootprintIdleWatts=$FP_IDLE_WATTS"
			fi
			if [ -n "${FP_GPUS:-}" ] && _fp_gpu_nvidia; then
				echo "EnergyFootprintNvmlLibrary=$build/tests/nvml/libnvidia-ml.so.1"
			elif [ -n "${FP_GPUS:-}" ]; then
				echo "EnergyFootprintGpuHwmonRoot=$d/sim/gpu-hwmon"
			fi
		} > "$d/etc/acct_gather.conf"
	fi
	mkdir -p "$d/metrics" "$d/trace" "$d/sim" "$d/keys"
	[ -n "$FP_NODES" ] && _fp_write_node_confs
	"$build/sfootprint" keygen --out "$d/keys/footprint" > /dev/null 2>&1 || return 1
	if [ -n "${FP_FOOTPRINT_CONF:-}" ]; then
		# @DIR@ stands for the cluster's folder (keys, spool).
		printf '%s\n' "${FP_FOOTPRINT_CONF//@DIR@/$d}" > "$d/etc/footprint.conf"
	else
		cat > "$d/etc/footprint.conf" <<CONF
SigningKey=$d/keys/footprint.key
PublicKey=$d/keys/footprint.pub
SpoolDir=$d/spool/footprint
EnergySource=$([ -n "${FP_SIMNODE:-}" ] && echo simulated || echo measured)
RetryInterval=2
WorkerTimeout=60
Mailer=${FP_MAILER:-/usr/bin/mail}
MailWait=20
Metrics=$d/metrics/footprint-controller.prom
Site=home Nodes=$FP_NODE Intensity=56 PUE=1.0 HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=0.8
NodeType=heater Nodes=$FP_NODE Embodied=1100 Lifetime=6 CPUs=$ncpus
Reference=standard-datacenter PUE=1.5 Intensity=site
${FP_FOOTPRINT_EXTRA:+${FP_FOOTPRINT_EXTRA//@DIR@/$d}}
CONF
	fi
	cat > "$d/etc/slurmdbd.conf" <<CONF
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=${FP_SLURM_USER:-root}
PidFile=$d/run/slurmdbd.pid
LogFile=$d/log/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$FP_DB_PORT
StorageUser=slurm
StoragePass=fp-test-pass
StorageLoc=slurm_acct_db
CONF
	chmod 600 "$d/etc/slurmdbd.conf"
	_fp_own_slurm_user
}

# What slurmctld, slurmdbd and footprint-worker write or read alone, given
# to FP_SLURM_USER when it is not root (slurmdbd also wants its conf file
# to be its user's).
_fp_own_slurm_user() {
	local d=$FP_DIR u=${FP_SLURM_USER:-root}
	[ "$u" = root ] && return 0
	id -u "$u" > /dev/null 2>&1 || { _fp_log "FP_SLURM_USER=$u: no such user"; return 1; }
	mkdir -p "$d/spool/footprint"
	chown "$u" "$d/state" "$d/log" "$d/run" "$d/spool/footprint" "$d/metrics" \
		"$d/keys" "$d/keys/footprint.key" "$d/etc/slurmdbd.conf"
}

# FP_GPU_KIND: true for NVIDIA GPUs (the default), false for hwmon ones.
_fp_gpu_nvidia() { [ "${FP_GPU_KIND:-nvidia}" = nvidia ]; }

# FP_GPUS GPUs without devices: Slurm wants a device file per GPU (it
# takes the GPU's number from the name and its major:minor for cgroups);
# char devices like /dev/null in the cluster's folder are enough.
_fp_write_gres() {
	local d=$FP_DIR k
	if [ -n "$FP_NODES" ] || [ -z "${FP_SIMNODE:-}" ] ||
		! [ "$FP_GPUS" -ge 1 ] 2>/dev/null || ! [ "$FP_GPUS" -le 64 ]; then
		_fp_log "FP_GPUS=$FP_GPUS: 1 to 64 simulated GPUs, with FP_SIMNODE=1 on one node"
		return 1
	fi
	case ${FP_GPU_KIND:-nvidia} in
	nvidia) ;;
	hwmon)
		_fp_write_gres_hwmon
		return
		;;
	*)
		_fp_log "FP_GPU_KIND=$FP_GPU_KIND: nvidia or hwmon"
		return 1
		;;
	esac
	if ! [ -f "$FP_BUILD/tests/nvml/libnvidia-ml.so.1" ]; then
		_fp_log "FP_GPUS: $FP_BUILD/tests/nvml/libnvidia-ml.so.1 not built (make unit builds it)"
		return 1
	fi
	mkdir -p "$d/dev"
	for k in $(seq 0 $((FP_GPUS - 1))); do
		mknod "$d/dev/nvidia$k" c 1 3 || return 1
	done
	echo "NodeName=$FP_NODE Name=gpu File=$d/dev/nvidia[0-$((FP_GPUS - 1))]" > "$d/etc/gres.conf"
}

# hwmon GPUs' render nodes, renderD128 on as the kernel numbers them.
# Slurm parses 128 + K from the name, but the GPU number it gives a job
# (SLURM_JOB_GPUS) is the File's position (gres_gpu: GPUs follow PCI
# order, not file names): the K-th File is fp-simnode's hwmon K, at PCI
# 0000:K+1:00.0, the reader's K-th device (hwmon devices by PCI address,
# no NVIDIA before them).
_fp_write_gres_hwmon() {
	local d=$FP_DIR k
	mkdir -p "$d/dev/dri"
	for k in $(seq 0 $((FP_GPUS - 1))); do
		mknod "$d/dev/dri/renderD$((128 + k))" c 1 3 || return 1
	done
	echo "NodeName=$FP_NODE Name=gpu File=$d/dev/dri/renderD[128-$((127 + FP_GPUS))]" > "$d/etc/gres.conf"
}

# Node i's conf folder: slurm.conf and cgroup.conf linked, its own
# acct_gather.conf (the plugin reads it beside SLURM_CONF, no %n there).
_fp_write_node_confs() {
	local d=$FP_DIR i n nd model idle
	for i in $(seq 1 "$FP_NODES"); do
		n=fpn$i
		nd=$d/nodes/$n
		mkdir -p "$nd"/{etc,sim,metrics,trace,run}
		ln -s "$d/etc/slurm.conf" "$nd/etc/slurm.conf"
		ln -s "$d/etc/cgroup.conf" "$nd/etc/cgroup.conf"
		idle=FP_IDLE_WATTS_$i
		idle=${!idle:-package=$((2 + i)),dram=1}
		{
			echo "EnergyFootprintRunDir=$nd/run/footprint"
			echo "EnergyFootprintPollInterval=1"
			echo "EnergyFootprintMetrics=$nd/metrics/footprint.prom"
			echo "EnergyFootprintMetricsInterval=0"
			echo "EnergyFootprintTraceDir=$nd/trace"
			if [ -n "${FP_SIMNODE:-}" ]; then
				echo "EnergyFootprintSimulatedNode=$nd/sim"
				echo "EnergyFootprintIdleWatts=$idle"
			fi
			[ -z "${FP_NODE_ACCT_EXTRA:-}" ] ||
				printf '%s\n' "${FP_NODE_ACCT_EXTRA//@DIR@/$d}"
		} > "$nd/etc/acct_gather.conf"
	done
}

# Node i: its fp-simnode, then its slurmd in namespace fp-n<i> with its
# own hostname (a UTS namespace) and conf folder.
_fp_start_nodes() {
	local d=$FP_DIR i n nd model build
	build=$(cd "${FP_BUILD:-build}" && pwd)
	for i in $(seq 1 "$FP_NODES"); do
		n=fpn$i
		nd=$d/nodes/$n
		if [ -n "${FP_SIMNODE:-}" ]; then
			model=FP_SIM_MODEL_$i
			model=${!model:---idle-w $((2 + i)) --busy-w $((10 + 10 * i)) --dram-idle-w 1 --dram-busy-w 1 --wall-a 1.15 --wall-b 10}
			"$build/fp-simnode" --root "$nd/sim" --interval 0.25 \
				$model ${FP_SIMNODE_ARGS:-} \
				> "$d/log/fp-simnode-$n.log" 2>&1 &
			_fp_started "fp-simnode-$n" $!
			_fp_wait_for 10 "fp-simnode of $n" test -f "$nd/sim/sensor.json" || return 1
		fi
		mkdir -p "$d/spool/$n"
		# nsenter, not `ip netns exec`: that mounts a fresh /sys in which
		# slurmd would find no cgroup hierarchy.
		SLURM_CONF=$nd/etc/slurm.conf nsenter --net="/run/netns/fp-n$i" \
			unshare --uts sh -c "hostname $n && exec slurmd -D -N $n" \
			> "$d/log/slurmd-$n.out" 2>&1 &
		_fp_started "slurmd-$n" $!
	done
}

_fp_start_munge() {
	local d=$FP_DIR
	chmod 755 "$d/munge"
	mungekey -c -k "$d/munge/munge.key" >/dev/null 2>&1 ||
		dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 2>/dev/null
	chmod 600 "$d/munge/munge.key"
	munged -F -f --socket="$d/munge/munge.socket" \
		--key-file="$d/munge/munge.key" --log-file="$d/log/munged.log" \
		--pid-file="$d/run/munged.pid" --seed-file="$d/munge/seed" \
		> /dev/null 2>&1 &
	_fp_started munged $!
	_fp_wait_for 10 munged test -S "$d/munge/munge.socket"
}

_fp_start_mariadb() {
	local d=$FP_DIR
	mariadb-install-db --no-defaults --datadir="$d/db" --user=root \
		--auth-root-authentication-method=socket --skip-test-db \
		> "$d/log/mariadb-install.log" 2>&1 || {
		_fp_log "mariadb-install-db failed (see $d/log/mariadb-install.log)"
		return 1
	}
	mariadbd --no-defaults --datadir="$d/db" --socket="$d/run/mysql.sock" \
		--bind-address=127.0.0.1 --port="$FP_DB_PORT" --user=root \
		--pid-file="$d/run/mariadbd.pid" --log-error="$d/log/mariadbd.log" \
		--innodb-buffer-pool-size=64M --skip-log-bin \
		> /dev/null 2>&1 &
	_fp_started mariadbd $!
	_fp_wait_for 30 mariadbd mariadb --no-defaults -S "$d/run/mysql.sock" -e 'select 1' || return 1
	mariadb --no-defaults -S "$d/run/mysql.sock" <<SQL
CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'fp-test-pass';
CREATE USER 'slurm'@'localhost' IDENTIFIED BY 'fp-test-pass';
GRANT ALL ON *.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON *.* TO 'slurm'@'localhost';
SQL
}

_fp_port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }

fp_cluster_start() {
	local p lock
	# Two tests starting at once would both find no cluster and both
	# start one (seen: mariadbd's port taken a moment after it was found
	# free). Waiting for the other's cluster, checking the ports and
	# claiming the state file is one step under a lock, released before
	# any daemon starts (a daemon would inherit it).
	exec {lock}> "$FP_STATE_FILE.lock"
	if ! flock -w "$FP_CLUSTER_WAIT" "$lock"; then
		exec {lock}>&-
		_fp_log "another test holds $FP_STATE_FILE.lock for ${FP_CLUSTER_WAIT}s"
		return 1
	fi
	if ! _fp_cleanup_previous; then
		exec {lock}>&-
		return 1
	fi
	# (tests plant what a killed cluster leaves here, once no other
	# cluster runs: see tests/integration/13_stale_cgroups.sh)
	if [ -n "${FP_BEFORE_START:-}" ]; then
		"$FP_BEFORE_START"
	fi
	_fp_cgroups_clean
	for p in 6817 6818 6819 "$FP_DB_PORT"; do
		if ! _fp_port_free "$p"; then
			exec {lock}>&-
			_fp_log "port $p on 127.0.0.1 is taken by something this script did not start"
			return 1
		fi
	done
	FP_DIR=$(mktemp -d /tmp/fp-cluster.XXXXXX)
	chmod 755 "$FP_DIR"
	if [ -n "$FP_NODES" ]; then
		if [ "$FP_NODES" -lt 2 ] 2>/dev/null || ! [ "$FP_NODES" -le 200 ] 2>/dev/null; then
			_fp_log "FP_NODES=$FP_NODES: a multi-host cluster has 2 to 200 nodes"
			return 1
		fi
		FP_NODE=fpn1
		FP_NODE_NAMES=$(seq -f 'fpn%g' -s ' ' 1 "$FP_NODES")
		FP_NODE_ADDRS=$(for i in $(seq 1 "$FP_NODES"); do printf '%s ' "$FP_NET.$((10 + i))"; done)
		export FP_NODE_NAMES FP_NODE_ADDRS
	fi
	export FP_DIR FP_NODE
	# Every batch job's output is kept (tests no longer send it to
	# /dev/null): a failed check shows it.
	mkdir -p "$FP_DIR/out"
	export SBATCH_OUTPUT=$FP_DIR/out/%j.out
	echo "$FP_DIR $$" > "$FP_STATE_FILE"
	exec {lock}>&-
	: > "$FP_DIR/pids"
	if [ -n "$FP_NODES" ]; then
		_fp_net_up || { _fp_log "cannot set up the namespaces (ip netns, veth, bridge $FP_BRIDGE): one left by a run whose folder is gone is for an admin to remove (ip netns del fp-nN; ip link del $FP_BRIDGE)"; return 1; }
	fi
	_fp_write_configs || return 1
	export SLURM_CONF=$FP_DIR/etc/slurm.conf
	_fp_start_munge || return 1
	_fp_start_mariadb || return 1
	slurmdbd -D > "$FP_DIR/log/slurmdbd.out" 2>&1 &
	_fp_started slurmdbd $!
	_fp_wait_for 60 slurmdbd bash -c "exec 3<>/dev/tcp/127.0.0.1/6819" || return 1
	slurmctld -D -i > "$FP_DIR/log/slurmctld.out" 2>&1 &
	_fp_started slurmctld $!
	_fp_wait_for 30 slurmctld scontrol ping || return 1
	if [ -n "$FP_NODES" ]; then
		_fp_start_nodes || return 1
		fp_cluster_wait_idle 60 || return 1
		_fp_log "up in $FP_DIR ($FP_NODES nodes: $FP_NODE_NAMES)"
		return 0
	fi
	# fp-simnode's GPUs, and the NVML state slurmd's reader is given
	local gpus=--nvidia nvml=${FP_GPUS:+1}
	_fp_gpu_nvidia || gpus=--gpus nvml=
	if [ -n "${FP_SIMNODE:-}" ]; then
		"$(cd "${FP_BUILD:-build}" && pwd)/fp-simnode" --root "$FP_DIR/sim" \
			--interval 0.25 $FP_SIM_MODEL ${FP_GPUS:+$gpus $FP_GPUS} ${FP_SIMNODE_ARGS:-} \
			> "$FP_DIR/log/fp-simnode.log" 2>&1 &
		_fp_started fp-simnode $!
		_fp_wait_for 10 fp-simnode test -f "$FP_DIR/sim/sensor.json" || return 1
	fi
	${nvml:+env FP_FAKE_NVML_STATE=$FP_DIR/sim/nvml.state} \
		slurmd -D -N "$FP_NODE" > "$FP_DIR/log/slurmd.out" 2>&1 &
	_fp_started slurmd $!
	fp_cluster_wait_idle 60 || return 1
	_fp_log "up in $FP_DIR"
}

# For the tests (with tap.sh): starts the cluster, or fails the test with
# the daemons' logs and exits.
fp_cluster_start_or_fail() { # [what the check says]
	fp_cluster_start && return 0
	fp_cluster_dump_logs
	check "${1:-cluster starts}" false
	tap_done
	exit 1
}

fp_cluster_wait_idle() {
	if [ -n "$FP_NODES" ]; then
		_fp_wait_for "${1:-60}" "nodes $FP_NODE_NAMES idle" \
			bash -c "[ \$(sinfo -h -N -o %T | grep -cx idle) -eq $FP_NODES ]"
		return
	fi
	_fp_wait_for "${1:-60}" "node $FP_NODE idle" \
		bash -c "sinfo -h -n $FP_NODE -o %T | grep -qx idle"
}

# Waits until a job has left the queue (completed, failed or cancelled).
fp_wait_job() { # jobid [seconds]
	_fp_wait_for "${2:-120}" "job $1 to end" \
		bash -c "! squeue -h -j $1 -o %i 2>/dev/null | grep -q ."
}

# Waits until sacct shows a job's record in a final state.
fp_wait_sacct() { # jobid [seconds]
	_fp_wait_for "${2:-60}" "sacct record of job $1" \
		bash -c "sacct -n -X -j $1 -o State 2>/dev/null | grep -Eq 'COMPLETED|FAILED|CANCELLED|TIMEOUT|OUT_OF_ME|NODE_FAIL'"
}

fp_cluster_stop() {
	[ -n "${FP_DIR:-}" ] || return 0
	if [ -f "$FP_DIR/pids" ]; then
		scancel -u root >/dev/null 2>&1 || true
		_fp_kill_pids "$FP_DIR/pids"
	fi
	_fp_cgroups_clean
	_fp_net_down "$FP_DIR"
	if [ -f "$FP_STATE_FILE" ] && [ "$(cut -d' ' -f1 "$FP_STATE_FILE")" = "$FP_DIR" ]; then
		rm -f "$FP_STATE_FILE"
	fi
	if [ -z "${FP_KEEP:-}" ]; then
		rm -rf "$FP_DIR"
	else
		_fp_log "kept $FP_DIR"
	fi
	FP_DIR=
}

# What explains a failed check, on stderr and as TAP comments: for the
# last jobs the controller saw (FP_EXPLAIN_JOBS="id ..." to choose), their
# sacct lines, their output and the daemons' log lines naming them, then
# the daemons' last error lines. Bounded: a few lines per job and log, not
# the whole logs (the folder is gone once the test ends).
fp_cluster_explain() {
	local jobs j f lines n=0
	[ -n "${FP_DIR:-}" ] && [ -d "$FP_DIR/log" ] || return 0
	jobs=${FP_EXPLAIN_JOBS:-$(grep -ho 'JobId=[0-9]*' "$FP_DIR"/log/slurmctld.log 2>/dev/null |
		cut -d= -f2 | sort -n -u | tail -n 3 | tr '\n' ' ')}
	{
		echo "-- why: the last jobs (${jobs:-none}) and the daemons' errors"
		for j in $jobs; do
			echo "-- job $j in sacct"
			timeout 10 sacct -n -P -j "$j" -o JobID,JobName,State,ExitCode,Start,End,ConsumedEnergyRaw 2>&1 | head -n 10
			for f in "$FP_DIR/out/$j.out" "$FP_DIR"/out/"$j"_*.out; do
				[ -s "$f" ] || continue
				echo "-- job $j output ($(basename "$f"), last lines)"
				tail -n 15 "$f"
			done
			for f in "$FP_DIR"/log/slurmctld.log "$FP_DIR"/log/slurmd*.log; do
				[ -f "$f" ] || continue
				lines=$(grep -E "JobId=$j([^0-9]|\$)|StepId=$j\.|[Jj]ob $j([^0-9]|\$)|\[$j\.(batch|extern|[0-9]+)\]" "$f" |
					grep -Ev 'debug[0-9]?: +(cgroup|task/cgroup|jobacct_gather|spank|mpi|switch|job_container|cred)/|debug levels are' |
					tail -n 15)
				[ -n "$lines" ] || continue
				echo "-- job $j in $(basename "$f") (last lines)"
				echo "$lines"
			done
		done
		for f in "$FP_DIR"/log/*.log "$FP_DIR"/log/*.out; do
			[ -f "$f" ] || continue
			lines=$(grep -E 'error:|fatal:|Abort|segfault|Segmentation' "$f" | tail -n 10)
			[ -n "$lines" ] || continue
			echo "-- errors in $(basename "$f") (last lines)"
			echo "$lines"
		done
	} 2>&1 | cut -c1-400 | sed 's/^/# /' >&2
}

# tap.sh calls it for each failed check: explain the first three.
_fp_explained=0
tap_on_failure() {
	_fp_explained=$((_fp_explained + 1))
	[ "$_fp_explained" -le 3 ] && fp_cluster_explain
	return 0
}

# Prints the logs' tail, for failures.
fp_cluster_dump_logs() {
	local f
	for f in "$FP_DIR"/log/*.log; do
		echo "## $f"
		tail -n "${1:-30}" "$f"
	done | sed 's/^/# /' >&2
}

# For fault tests: the PID of one of our daemons, killing one (default
# SIGTERM) and starting slurmdbd or slurmctld again.
fp_daemon_pid() { grep "^$1:" "$FP_DIR/pids" | tail -n1 | cut -d: -f2; }

fp_kill_daemon() { # name [signal]
	local pid i
	pid=$(fp_daemon_pid "$1")
	[ -n "$pid" ] || return 1
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	sed -i "/^$1:$pid\$/d" "$FP_DIR/pids"
}

fp_start_daemon() { # slurmdbd | slurmctld
	case $1 in
	slurmdbd)
		slurmdbd -D >> "$FP_DIR/log/slurmdbd.out" 2>&1 &
		_fp_started slurmdbd $!
		_fp_wait_for 60 slurmdbd bash -c "exec 3<>/dev/tcp/127.0.0.1/6819"
		;;
	slurmctld)
		slurmctld -D -i >> "$FP_DIR/log/slurmctld.out" 2>&1 &
		_fp_started slurmctld $!
		_fp_wait_for 60 slurmctld scontrol ping
		;;
	*) return 1 ;;
	esac
}
