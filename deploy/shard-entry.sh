#!/usr/bin/env bash
# Runs one shard of a sweep on a cluster worker. The shard number comes from the
# scheduler: Slurm job arrays (task id K runs shard K+1: --array=0-(N-1)) or Kubernetes
# Indexed Jobs (JOB_COMPLETION_INDEX). A retried task resumes from its checkpoints.
#
#   SCENARIO  scenario file (required)
#   OUT       shared results folder, the same for every shard (required)
#   SHARDS    number of shards (required; Kubernetes: the Job's completions)
#   SIM       the sim binary (default: sim on PATH)
#   THREADS   worker threads (default: SLURM_CPUS_PER_TASK, else all cores)
set -euo pipefail
: "${SCENARIO:?set SCENARIO to the scenario file}"
: "${OUT:?set OUT to the shared results folder}"
SIM="${SIM:-sim}"
if [ -n "${JOB_COMPLETION_INDEX:-}" ]; then
    index=$JOB_COMPLETION_INDEX
    count=${SHARDS:?set SHARDS to the number of completions}
elif [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
    # The task id itself: a task re-submitted alone (--array=2) is still shard 3.
    index=$SLURM_ARRAY_TASK_ID
    count=${SHARDS:?set SHARDS to the number of shards (submit.sh does)}
else
    echo "shard-entry.sh: no JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm) set" >&2
    exit 2
fi
threads=()
if [ -n "${THREADS:-${SLURM_CPUS_PER_TASK:-}}" ]; then
    threads=(--threads "${THREADS:-$SLURM_CPUS_PER_TASK}")
fi
exec "$SIM" sweep "$SCENARIO" --shard "$((index + 1))/$count" --out "$OUT" --quiet --resume "${threads[@]}"
