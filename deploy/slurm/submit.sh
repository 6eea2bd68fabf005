#!/usr/bin/env bash
# Submits a sweep to Slurm: a job array of SHARDS tasks (task K runs shard K+1 of SHARDS)
# and a merge job that runs once every task has succeeded.
#
#   deploy/slurm/submit.sh SCENARIO SHARDS OUT              the sweep and its merge
#   deploy/slurm/submit.sh --tasks LIST SCENARIO SHARDS OUT re-runs array tasks LIST (e.g. 2 or
#                                                           0,3) and queues a new merge after them
#   deploy/slurm/submit.sh --merge SCENARIO SHARDS OUT      the merge alone
#
# If a task fails or is cancelled, the merge is cancelled with it (it never waits forever):
# re-run the task with --tasks; the tasks resume from their checkpoints.
#
# Settings (environment): SIM, the sim binary (default: sim on PATH); SCALESIM_CPUS, CPUs
# per task (default 2; sim uses them all); SCALESIM_MEM, memory per task (4G);
# SCALESIM_TIME, time limit per task (04:00:00). Logs: OUT/slurm-logs/.
# The checkout, SCENARIO, its data and OUT must be on a file system every node shares.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mode=all tasks=
case "${1:-}" in
    --merge) mode=merge; shift ;;
    --tasks) mode=tasks; tasks=${2:?--tasks needs a list of array task indices}; shift 2 ;;
esac
if [ $# -ne 3 ]; then
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
scenario=$1 shards=$2 out=$3
case "$shards" in
    '' | *[!0-9]* | 0) echo "submit.sh: SHARDS must be a whole number of at least 1, not '$shards'" >&2; exit 2 ;;
esac
[ -f "$scenario" ] || { echo "submit.sh: no scenario file $scenario" >&2; exit 2; }
SIM=${SIM:-sim}
# The folder `sim` writes is the scenario's `name`: ask sim, which knows the rule.
name=$("$SIM" scenario-name "$scenario")
mkdir -p "$out/slurm-logs"
export SCENARIO=$(realpath "$scenario") SHARDS=$shards OUT=$(realpath "$out") NAME=$name SIM
export SCALESIM_DIR=${here%/deploy/slurm}
logs=$OUT/slurm-logs
task_opts=(--parsable --export=ALL --requeue --open-mode=append
    --cpus-per-task="${SCALESIM_CPUS:-2}" --mem="${SCALESIM_MEM:-4G}"
    --time="${SCALESIM_TIME:-04:00:00}" --output="$logs/sweep-%A_%a.out")
merge_opts=(--parsable --export=ALL --open-mode=append --output="$logs/merge-%j.out")
case $mode in
    merge)
        mid=$(sbatch "${merge_opts[@]}" "$here/merge.sbatch")
        echo "submitted merge $mid of $name ($shards shards) -> $OUT/$name" ;;
    all | tasks)
        array=0-$((shards - 1))
        [ "$mode" = tasks ] && array=$tasks
        jid=$(sbatch "${task_opts[@]}" --array="$array" "$here/sweep.sbatch")
        mid=$(sbatch "${merge_opts[@]}" --dependency=afterok:"$jid" --kill-on-invalid-dep=yes "$here/merge.sbatch")
        echo "submitted sweep array $jid (tasks $array of $shards shards) and merge $mid -> $OUT/$name" ;;
esac
