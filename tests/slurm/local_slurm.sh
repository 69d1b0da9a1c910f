#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for tests/test_slurm.py and CI
# (Debian 12, run as root, no systemd, no cgroups). Adapted from a tested recipe; see
# profiles/slurm/README.md ("Testing the profile on a local SLURM") for what it is for.
#
#   bash tests/slurm/local_slurm.sh up      # install, configure, start, wait until the node is idle
#   bash tests/slurm/local_slurm.sh down    # cancel jobs, stop every daemon started here (by PID),
#                                           # remove the configs and the state folder
#   bash tests/slurm/local_slurm.sh status  # sinfo/squeue, or "down"
#
# Environment: LOCAL_SLURM_DIR (state, logs, fake GPU device nodes; default /tmp/meaningmaps-slurm),
# LOCAL_SLURM_GPUS (fake GPUs on the node; default 8), LOCAL_SLURM_CPUS (CPUs the node claims;
# default 64), LOCAL_SLURM_MEM_MB (memory the node claims; default 512000).
#
# Choices (each one a trap that cost time to find):
# - The configs MUST live in /etc/slurm: the Snakemake job-step plugin drops every SLURM_* variable
#   (SLURM_CONF too) before its nested `srun`, so a config elsewhere fails every job with
#   "srun: fatal: Could not establish a configuration source" (Snakemake only says 'FAILED').
# - No slurmdbd: `sacct` exists but fails ("accounting storage is disabled") and the executor plugin
#   would wait forever on it, so the profile must use `slurm-status-command: squeue`, which needs
#   finished jobs to stay visible: MinJobAge >= 300 (and >= 3 x slurm-init-seconds-before-status-
#   checks, or the plugin silently goes back to sacct). Here MinJobAge=3600, so that the test can
#   read every job of a run back with `scontrol show job` after the run (no sacct without dbd).
# - The node claims more CPUs, memory and GPUs than this machine has (SlurmdParameters=
#   config_overrides), so that the cluster profile's real requests (e.g. 4 GPUs, 32 CPUs and
#   128 GB for rule finetune) are scheduled unchanged. TaskPlugin=task/none binds nothing, so jobs
#   simply share the real cores.
# - Fake GPUs: a gres GPU without File= is dropped (node goes 'inval'), so each is a device node
#   (mknod ... c 1 3, i.e. /dev/null) listed in gres.conf. `--gpus=N` then yields
#   CUDA_VISIBLE_DEVICES=0..N-1 in the job; torch still sees no CUDA and runs on the CPU.
# - Container-safe settings: ProctrackType=proctrack/linuxproc, TaskPlugin=task/none,
#   SlurmUser=root, MailProg=/bin/true.
# - munged is started only when no working munged is there, and then stopped on `down`.
set -euo pipefail
DIR=${LOCAL_SLURM_DIR:-/tmp/meaningmaps-slurm}
GPUS=${LOCAL_SLURM_GPUS:-8}
CPUS=${LOCAL_SLURM_CPUS:-64}
MEM_MB=${LOCAL_SLURM_MEM_MB:-512000}
NODE=$(hostname -s)
PARTITION=debug
say() { echo "[local_slurm] $*"; }

install_packages() {
  local pkgs="munge slurmctld slurmd slurm-client" missing=""
  for p in $pkgs; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

wait_for() {  # wait_for TRIES CMD...: run CMD every 0.5 s until it succeeds
  local n=$1; shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}

up() {
  local t0=$SECONDS
  [ "$(id -u)" = 0 ] || { say "must run as root"; exit 1; }
  if [ -s "$DIR/run/slurmctld.pid" ] && kill -0 "$(cat "$DIR/run/slurmctld.pid")" 2>/dev/null; then
    say "a cluster from $DIR is still running: stopping it first"; down
  fi
  install_packages
  say "packages ready after $((SECONDS - t0))s"

  mkdir -p "$DIR"/{ctld,spool,log,dev,run} /etc/slurm
  local last=$((GPUS - 1))
  for i in $(seq 0 "$last"); do [ -e "$DIR/dev/gpu$i" ] || mknod "$DIR/dev/gpu$i" c 1 3; done

  cat > /etc/slurm/slurm.conf <<EOF
# written by meaningmaps tests/slurm/local_slurm.sh (removed by its 'down')
ClusterName=meaningmaps-ci
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=3600
KillWait=5
SlurmdTimeout=30
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$NODE NodeAddr=127.0.0.1 Sockets=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$MEM_MB Gres=gpu:$GPUS State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  echo "NodeName=$NODE Name=gpu File=$DIR/dev/gpu[0-$last]" > /etc/slurm/gres.conf

  # munge: reuse a working one; otherwise start ours (the package made /etc/munge/munge.key)
  if ! (munge -n | unmunge) >/dev/null 2>&1; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    wait_for 20 sh -c 'munge -n | unmunge'
    cp /run/munge/munged.pid "$DIR/run/munged.pid"   # marks it as ours for `down`
  fi

  /usr/sbin/slurmctld   # daemonizes and writes its PidFile (likewise slurmd)
  wait_for 60 sh -c 'scontrol ping | grep -q UP' || { say "slurmctld did not come up"; tail -20 "$DIR/log/slurmctld.log"; exit 1; }
  /usr/sbin/slurmd
  local st=""
  for _ in $(seq 120); do
    st=$(sinfo -h -N -o %T 2>/dev/null || true)
    [ "$st" = idle ] && break
    sleep 0.5
  done
  if [ "$st" != idle ]; then
    say "node not idle: $st"; sinfo -N -o '%N %T %E' || true; tail -20 "$DIR"/log/*.log || true; exit 1
  fi
  srun -t 1 true
  local cvd
  cvd=$(srun -t 1 --gpus=2 sh -c 'echo $CUDA_VISIBLE_DEVICES')
  [ "$cvd" = "0,1" ] || { say "fake GPUs not usable: CUDA_VISIBLE_DEVICES='$cvd'"; exit 1; }
  say "up after $((SECONDS - t0))s: $(sinfo -h -N -o '%N %T %c CPUs %m MB %G, partition %P')"
}

_stop() {  # _stop PIDFILE: SIGTERM, wait up to 10 s, then SIGKILL
  local pf=$1 pid
  [ -s "$pf" ] || return 0
  pid=$(cat "$pf")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
    say "$pf: pid $pid still alive after 10s, SIGKILL"; kill -9 "$pid" 2>/dev/null || true
  fi
}

down() {
  if [ -f /etc/slurm/slurm.conf ] && grep -q "meaningmaps tests/slurm/local_slurm.sh" /etc/slurm/slurm.conf; then
    timeout 20 scancel --user="$(id -un)" 2>/dev/null || true
  fi
  _stop "$DIR/run/slurmd.pid"
  _stop "$DIR/run/slurmctld.pid"
  # munged only when this script started it (the copy of its pid file in $DIR says so)
  if [ -s "$DIR/run/munged.pid" ] && [ "$(cat "$DIR/run/munged.pid")" = "$(cat /run/munge/munged.pid 2>/dev/null)" ]; then
    _stop /run/munge/munged.pid
  fi
  if [ -f /etc/slurm/slurm.conf ] && grep -q "meaningmaps tests/slurm/local_slurm.sh" /etc/slurm/slurm.conf; then
    rm -f /etc/slurm/slurm.conf /etc/slurm/gres.conf
  fi
  rm -rf "$DIR"
  say "down"
}

status() {
  if [ -s "$DIR/run/slurmctld.pid" ] && kill -0 "$(cat "$DIR/run/slurmctld.pid")" 2>/dev/null; then
    sinfo -N -o '%N %T %c %m %G %P'; squeue
  else
    echo down
  fi
}

case "${1:-}" in
  up|down|status) "$1" ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
