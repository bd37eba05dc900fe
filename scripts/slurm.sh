#!/usr/bin/env bash
# A single-node Slurm cluster on 127.0.0.1 from the distribution's packages
# (slurmctld, slurmd, munge; no systemd, no cgroups, no accounting), for
# recto's cluster tests and for trying `sbatch` arrays on one machine.
#
#   scripts/slurm.sh start [DIR]   # state in DIR (default target/slurm); prints the SLURM_CONF to export
#   scripts/slurm.sh stop  [DIR]   # cancel jobs, stop the daemons
#   scripts/slurm.sh status [DIR]
#
# One node named localhost with all CPUs (`nproc`), partition `debug`.
# Short scheduler and credential intervals, so a requeued task starts in
# seconds rather than minutes. Ports 6817/6818: one cluster per machine.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
B=$(realpath -m "${2:-$here/target/slurm}")
conf=$B/slurm.conf
export SLURM_CONF=$conf

install() {
  local missing=()
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

write_conf() {
  local ncpu
  ncpu=$(nproc)
  cat > "$conf" <<EOF
ClusterName=recto
SlurmctldHost=localhost
SlurmctldPort=6817
SlurmdPort=6818
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$B/run/munge.socket,cred_expire=5
StateSaveLocation=$B/state
SlurmdSpoolDir=$B/spool
SlurmctldPidFile=$B/run/slurmctld.pid
SlurmdPidFile=$B/run/slurmd.pid
SlurmctldLogFile=$B/log/slurmctld.log
SlurmdLogFile=$B/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
MailProg=/bin/true
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$ncpu Sockets=1 CoresPerSocket=$ncpu ThreadsPerCore=1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

wait_for() { # what, command...
  local what=$1; shift
  for _ in $(seq 200); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "slurm.sh: $what did not come up; logs in $B/log" >&2
  return 1
}

# Alive and not a zombie (a container's init may not reap the daemons).
running() {
  [[ -f $B/run/$1.pid ]] || return 1
  local st
  st=$(ps -o stat= -p "$(cat "$B/run/$1.pid" 2>/dev/null)" 2>/dev/null) || return 1
  [[ -n $st && $st != Z* ]]
}

start() {
  install
  if running slurmctld; then
    echo "export SLURM_CONF=$conf"
    return 0
  fi
  mkdir -p "$B"/{munge,run,state,spool,log}
  chmod 755 "$B" "$B/run"
  chmod 700 "$B/munge"
  write_conf
  [[ -f $B/munge/munge.key ]] || mungekey -c -k "$B/munge/munge.key"
  if ! running munged; then
    munged -F --key-file="$B/munge/munge.key" --socket="$B/run/munge.socket" \
      --pid-file="$B/run/munged.pid" --seed-file="$B/munge/munged.seed" \
      > "$B/log/munged.log" 2>&1 &
    wait_for munged test -S "$B/run/munge.socket"
  fi
  slurmctld -D -i -f "$conf" > "$B/log/slurmctld.out" 2>&1 &
  echo $! > "$B/run/slurmctld.pid"
  wait_for slurmctld scontrol ping
  slurmd -D -N localhost -f "$conf" > "$B/log/slurmd.out" 2>&1 &
  echo $! > "$B/run/slurmd.pid"
  wait_for "the node" bash -c '[[ $(sinfo -h -N -o %T) == idle* ]]'
  echo "export SLURM_CONF=$conf"
}

stop() {
  if running slurmctld; then
    scancel --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 50); do [[ -z $(squeue -h 2>/dev/null) ]] && break; sleep 0.1; done
  fi
  for d in slurmd slurmctld munged; do
    if running "$d"; then
      kill -TERM "$(cat "$B/run/$d.pid")" 2>/dev/null || true
      for _ in $(seq 50); do running "$d" || break; sleep 0.1; done
      running "$d" && kill -KILL "$(cat "$B/run/$d.pid")" 2>/dev/null || true
    fi
    rm -f "$B/run/$d.pid"
  done
}

case $cmd in
  start) start ;;
  stop) stop ;;
  status) sinfo && squeue ;;
  *) echo "usage: scripts/slurm.sh start|stop|status [DIR]" >&2; exit 2 ;;
esac
