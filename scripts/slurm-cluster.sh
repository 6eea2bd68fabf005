#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (Debian's slurm-wlm and munge, no systemd), for
# the Slurm recipe's integration test (tests/slurm.rs) and for trying the recipe by hand.
#   bash scripts/slurm-cluster.sh start    # munged, slurmctld, slurmd; prints SLURM_CONF=...
#   bash scripts/slurm-cluster.sh stop     # stops what start started
# State, configuration and logs in $SCALESIM_SLURM_DIR (default /tmp/scalesim-slurm).
# Needs root (the daemons run as root, munged as munge) and the two packages
# (`apt-get install slurm-wlm munge`; scripts/test.sh installs them when missing).
set -euo pipefail
dir=${SCALESIM_SLURM_DIR:-/tmp/scalesim-slurm}
conf=$dir/slurm.conf

start() {
    command -v slurmctld >/dev/null && command -v munged >/dev/null || {
        echo "slurm-cluster: slurm-wlm and munge are not installed" >&2; exit 3; }
    [ "$(id -u)" = 0 ] || { echo "slurm-cluster: needs root" >&2; exit 3; }
    mkdir -p "$dir/spool/ctld" "$dir/spool/d" "$dir/log"
    # munged: its socket folder, owned by munge; started only when not running.
    mkdir -p /run/munge && chown munge:munge /run/munge && chmod 0755 /run/munge
    if ! pgrep -x munged >/dev/null; then
        runuser -u munge -- /usr/sbin/munged
        echo started > "$dir/munged.ours"
    fi
    # One node, sized by slurmd itself.
    local node
    node=$(slurmd -C | head -1)
    local name=${node#NodeName=}; name=${name%% *}
    cat > "$conf" <<CONF
ClusterName=scalesim
SlurmctldHost=$name
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
$node State=UNKNOWN
PartitionName=main Nodes=$name Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$conf
    slurmctld -f "$conf"
    slurmd -f "$conf"
    # Ready when the node is idle (or mixed).
    for _ in $(seq 1 60); do
        if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            echo "SLURM_CONF=$conf"
            return 0
        fi
        sleep 1
    done
    echo "slurm-cluster: the node did not come up; logs in $dir/log" >&2
    tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    exit 1
}

stop() {
    local pid
    for d in slurmd slurmctld; do
        if [ -f "$dir/$d.pid" ]; then
            pid=$(cat "$dir/$d.pid")
            kill "$pid" 2>/dev/null || true
            # Gone before the next start (slurmctld saves its state first).
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.2
            done
            rm -f "$dir/$d.pid"
        fi
    done
    if [ -f "$dir/munged.ours" ]; then
        pkill -x munged || true
        rm -f "$dir/munged.ours"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: slurm-cluster.sh start|stop" >&2; exit 2 ;;
esac
