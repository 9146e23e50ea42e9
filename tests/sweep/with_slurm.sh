#!/usr/bin/env bash
# with_slurm.sh WORKDIR COMMAND [ARGS...]: starts a private single-node Slurm (munged, slurmctld,
# slurmd; Debian packages munge and slurm-wlm) with every file under WORKDIR, runs COMMAND with
# SLURM_CONF pointing at it, and stops the daemons. Exit status: COMMAND's; 77 when Slurm cannot be
# started here (the reason on stderr), so a test can skip.
#
# It runs as root in its own PID, network and mount namespaces (unshare): the daemons cannot meet a
# Slurm or munge already on the machine (ports, sockets), and when this script ends, or is killed,
# the kernel kills everything left in the namespace. The trap below also stops them in order.
set -u
workdir=${1:?usage: with_slurm.sh WORKDIR COMMAND...}
shift
skip() {
  echo "with_slurm: cannot start Slurm here: $*" >&2
  exit 77
}

if [ "${MHC_SLURM_NAMESPACE:-}" != 1 ]; then
  [ "$(id -u)" -eq 0 ] || skip "needs root (slurmd runs jobs as their owner)"
  for tool in unshare munged slurmctld slurmd sbatch sinfo ip; do
    command -v "$tool" >/dev/null || skip "'$tool' not found (bash .ci/setup installs slurm-wlm and munge)"
  done
  unshare --pid --net --mount --fork --kill-child --mount-proc true 2>/dev/null ||
    skip "cannot create PID/network namespaces (unshare)"
  # --kill-child: if this process dies, the namespace's first process gets SIGKILL, and with it
  # every process in the namespace.
  MHC_SLURM_NAMESPACE=1 exec unshare --pid --net --mount --fork --kill-child --mount-proc bash "$0" "$workdir" "$@"
fi

mkdir -p "$workdir" || skip "cannot create $workdir"
workdir=$(cd "$workdir" && pwd)
# glibc's getaddrinfo(AI_ADDRCONFIG), which the daemons use to bind, ignores loopback addresses: give
# the namespace one more address so that their listening sockets resolve.
ip link set lo up && ip addr add 10.254.254.1/32 dev lo || skip "cannot set up the namespace's loopback"
host=$(hostname -s)
etc=$workdir/etc
mkdir -p "$etc" "$workdir/munge" "$workdir/state" "$workdir/spool" "$workdir/log"
chmod 700 "$workdir/munge"

pids=()
cleanup() {
  status=$?
  command -v scancel >/dev/null && timeout 5 scancel --full --quiet --user=root 2>/dev/null
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# munge: its own key and socket.
dd if=/dev/urandom of="$workdir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$workdir/munge/munge.key"
munged --foreground --force --key-file="$workdir/munge/munge.key" --socket="$workdir/munge/socket" \
  --pid-file="$workdir/munge/munged.pid" --log-file="$workdir/log/munged.log" \
  --seed-file="$workdir/munge/seed" &
pids+=($!)
for _ in $(seq 50); do [ -S "$workdir/munge/socket" ] && break; sleep 0.1; done
[ -S "$workdir/munge/socket" ] || skip "munged did not start: $(tail -3 "$workdir/log/munged.log" 2>/dev/null)"

cpus=$(nproc)
cat >"$etc/slurm.conf" <<EOF
ClusterName=mhcsim-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$workdir/munge/socket
StateSaveLocation=$workdir/state
SlurmdSpoolDir=$workdir/spool
SlurmctldPidFile=$workdir/slurmctld.pid
SlurmdPidFile=$workdir/slurmd.pid
SlurmctldLogFile=$workdir/log/slurmctld.log
SlurmdLogFile=$workdir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SchedulerType=sched/backfill
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$etc/slurm.conf

slurmctld -D -i -f "$SLURM_CONF" >"$workdir/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" >"$workdir/log/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 60); do
  state=$(timeout 2 sinfo -h -n "$host" -o %t 2>/dev/null)
  [ "$state" = idle ] && break
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || break 2; done
  sleep 0.5
done
[ "$state" = idle ] || skip "the node did not become idle in 30 s (state '$state'); see $workdir/log"
echo "with_slurm: single-node Slurm up on $host ($cpus CPUs), files in $workdir" >&2

"$@"
