#!/usr/bin/env bash
# with_slurm.sh WORKDIR COMMAND [ARGS...]: starts a private single-node Slurm (munged, slurmctld,
# slurmd; Debian packages munge and slurm-wlm) with every file under WORKDIR, runs COMMAND with
# SLURM_CONF pointing at it, and stops the daemons. Exit status: COMMAND's; 77 when Slurm cannot be
# started here (the reason on stderr), so a test can skip.
#
# As root it runs in its own PID, network and mount namespaces (unshare): the daemons cannot meet a
# Slurm or munge already on the machine (ports, sockets), and when this script ends, or is killed,
# the kernel kills everything left in the namespace. Where namespaces are refused (a container
# without CAP_SYS_ADMIN; or MHC_SLURM_NO_NAMESPACE=1) the daemons use free ports on the host's
# loopback and die with this script (setpriv --pdeathsig). The trap below stops them in order.
set -u
workdir=${1:?usage: with_slurm.sh WORKDIR COMMAND...}
shift
skip() {
  echo "with_slurm: cannot start Slurm here: $*" >&2
  exit 77
}

if [ "${MHC_SLURM_NAMESPACE:-}" != 1 ]; then
  [ "$(id -u)" -eq 0 ] || skip "needs root (slurmd runs jobs as their owner)"
  for tool in munged slurmctld slurmd sbatch sinfo scancel setpriv; do
    command -v "$tool" >/dev/null || skip "'$tool' not found (bash .ci/setup installs slurm-wlm and munge)"
  done
  if [ "${MHC_SLURM_NO_NAMESPACE:-}" != 1 ] && command -v unshare >/dev/null && command -v ip >/dev/null &&
    unshare --pid --net --mount --fork --kill-child --mount-proc true 2>/dev/null; then
    # --kill-child: if this process dies, the namespace's first process gets SIGKILL, and with it
    # every process in the namespace.
    MHC_SLURM_NAMESPACE=1 exec unshare --pid --net --mount --fork --kill-child --mount-proc bash "$0" "$workdir" "$@"
  fi
  echo "with_slurm: no private namespaces here; the daemons use free loopback ports and die with this script" >&2
  MHC_SLURM_NAMESPACE=0
fi

mkdir -p "$workdir" || skip "cannot create $workdir"
workdir=$(cd "$workdir" && pwd)
if [ "$MHC_SLURM_NAMESPACE" = 1 ]; then
  # glibc's getaddrinfo(AI_ADDRCONFIG), which the daemons use to bind, ignores loopback addresses:
  # give the namespace one more address so that their listening sockets resolve.
  ip link set lo up && ip addr add 10.254.254.1/32 dev lo || skip "cannot set up the namespace's loopback"
  ctld_port=6817 slurmd_port=6818
else
  ctld_port=
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if [ -z "$(ss -Hltn "( sport = :$port or sport = :$((port + 1)) )" 2>/dev/null)" ]; then
      ctld_port=$port slurmd_port=$((port + 1))
      break
    fi
  done
  [ -n "$ctld_port" ] || skip "no free pair of ports found"
fi
host=$(hostname -s)
etc=$workdir/etc
mkdir -p "$etc" "$workdir/munge" "$workdir/state" "$workdir/spool" "$workdir/log"
chmod 700 "$workdir/munge"

pids=()
cleanup() {
  status=$?
  timeout 5 scancel --full --quiet --user=root 2>/dev/null
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
# A daemon in the background that dies with this script, however it ends.
daemon() { setpriv --pdeathsig KILL "$@" & pids+=($!); }

# munge: its own key and socket.
dd if=/dev/urandom of="$workdir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$workdir/munge/munge.key"
daemon munged --foreground --force --key-file="$workdir/munge/munge.key" --socket="$workdir/munge/socket" \
  --pid-file="$workdir/munge/munged.pid" --log-file="$workdir/log/munged.log" --seed-file="$workdir/munge/seed"
for _ in $(seq 50); do [ -S "$workdir/munge/socket" ] && break; sleep 0.1; done
[ -S "$workdir/munge/socket" ] || skip "munged did not start: $(tail -n 3 "$workdir/log/munged.log" 2>/dev/null)"

cat >"$etc/slurm.conf" <<CONF
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
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
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
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$etc/slurm.conf

daemon slurmctld -D -i -f "$SLURM_CONF" >"$workdir/log/slurmctld.out" 2>&1
daemon slurmd -D -f "$SLURM_CONF" -N "$host" >"$workdir/log/slurmd.out" 2>&1
state=
for _ in $(seq 60); do
  state=$(timeout 2 sinfo -h -n "$host" -o %t 2>/dev/null)
  [ "$state" = idle ] && break
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || break 2; done
  sleep 0.5
done
[ "$state" = idle ] || skip "the node did not become idle in 30 s (state '$state'); see $workdir/log"
echo "with_slurm: single-node Slurm up on $host ($(nproc) CPUs), files in $workdir" >&2

"$@"
