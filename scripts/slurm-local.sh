#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on localhost, for the sharding test
# (Tests/RigorCLITests/SlurmShardTests.swift) and for trying examples/slurm/ by hand.
#
#   scripts/slurm-local.sh start DIR   # munged + slurmctld + slurmd, all state under DIR;
#                                      # prints `export SLURM_CONF=DIR/slurm.conf`
#   scripts/slurm-local.sh stop DIR    # stops the three daemons started for DIR
#
# Needs Debian's slurmctld, slurmd, slurm-client and munge (the Makefile's SYSTEM_PACKAGES)
# and root (slurmd runs jobs as their submitting user). Container-friendly settings: no
# cgroups (proctrack/linuxproc, task/none), no accounting, SlurmdUser=root, its own munge key
# and socket, free ports picked at start, so it never touches a system Slurm or munge.
set -euo pipefail

cmd=${1:-}; dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

stop() {
  for name in slurmd slurmctld munged; do
    if [[ -f "$dir/$name.pid" ]]; then
      pid=$(cat "$dir/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
}

if [[ "$cmd" == stop ]]; then stop; exit 0; fi
[[ "$cmd" == start ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

for tool in munged mungekey slurmctld slurmd sbatch sinfo; do
  command -v "$tool" >/dev/null || [[ -x "/usr/sbin/$tool" ]] || { echo "missing $tool: install slurmctld slurmd slurm-client munge (make deps)" >&2; exit 3; }
done
[[ $(id -u) == 0 ]] || { echo "needs root: slurmd must run jobs as the submitting user" >&2; exit 3; }
export PATH="/usr/sbin:$PATH"

# Descriptors inherited from the caller (a test runner's pipes, say) would be held open by the
# daemons for their whole life, and the caller would wait for EOF forever: close them all.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  if [[ "$fd" -gt 2 && "$fd" -ne 255 ]]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
dir=$(cd "$dir" && pwd)
trap 'stop' ERR

# munge: a key of our own and a socket under DIR.
rm -f "$dir/munge/munge.key"
mungekey --create --keyfile="$dir/munge/munge.key" 2>/dev/null \
  || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
  </dev/null >/dev/null 2>&1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
node=$(hostname -s)
cpus=$(nproc)
cat > "$dir/slurm.conf" <<EOF
ClusterName=rigorlocal
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MaxArraySize=10001
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$dir/slurm.conf"
# The daemons log to files; their stdio must not hold the caller's pipes open.
slurmctld -i </dev/null >/dev/null 2>&1
slurmd </dev/null >/dev/null 2>&1
for _ in $(seq 100); do
  if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    echo "export SLURM_CONF=$dir/slurm.conf"
    exit 0
  fi
  sleep 0.2
done
echo "slurm did not come up; logs in $dir (slurmctld.log, slurmd.log, munge/munged.log)" >&2
sinfo >&2 || true
stop
exit 4
